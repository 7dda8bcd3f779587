use super::*;

fn column(name: &str, sql_type: &str, nullable: bool) -> ExistingColumn {
    ExistingColumn {
        name: name.to_owned(),
        sql_type: sql_type.to_owned(),
        nullable,
        has_default: false,
    }
}

#[test]
fn reads_what_new_migration_writes_on_both_backends() {
    let postgres = "-- header; with a semicolon\nCREATE SCHEMA IF NOT EXISTS readmodels;\n\
        CREATE TABLE readmodels.notes (\n    model_version INTEGER NOT NULL,\n    user_id UUID NOT NULL,\n    score DOUBLE PRECISION,\n    day DATE NOT NULL\n);\n\
        CREATE UNIQUE INDEX notes_key ON readmodels.notes (model_version, user_id);\n\
        CREATE INDEX notes_user ON readmodels.notes (user_id, model_version);\n";
    let sqlite =
        "CREATE TABLE readmodels.notes (model_version INTEGER NOT NULL, user_id TEXT NOT NULL);\n\
        CREATE UNIQUE INDEX readmodels.notes_key ON notes (model_version, user_id);";
    let pg = Existing::read([postgres]);
    let table = &pg.tables["notes"];
    assert_eq!(
        table.columns,
        vec![
            column("model_version", "INTEGER", false),
            column("user_id", "UUID", false),
            column("score", "DOUBLE PRECISION", true),
            column("day", "DATE", false),
        ]
    );
    assert_eq!(table.indexes.len(), 2);
    assert!(table.indexes[0].unique && table.indexes[0].columns == ["model_version", "user_id"]);
    assert_eq!(table.indexes[1].name, "notes_user");
    assert_eq!(table.unreadable, None);
    let lite = Existing::read([sqlite]);
    assert_eq!(lite.tables["notes"].indexes[0].name, "notes_key");
    assert!(lite.tables["notes"].indexes[0].unique);
}

#[test]
fn later_scripts_change_what_earlier_ones_created() {
    let first = "CREATE TABLE readmodels.t (a BIGINT NOT NULL, \"b\" TEXT DEFAULT 'x;y');";
    let second = "ALTER TABLE readmodels.t ADD COLUMN c INT8 NOT NULL DEFAULT 0;\n\
        ALTER TABLE readmodels.t DROP COLUMN b;\nCREATE TABLE readmodels.gone (a TEXT);\n\
        DROP TABLE IF EXISTS readmodels.gone;";
    let existing = Existing::read([first, second]);
    assert_eq!(existing.tables.keys().collect::<Vec<_>>(), ["t"]);
    let columns = &existing.tables["t"].columns;
    assert_eq!(columns.len(), 2);
    assert_eq!(columns[1].name, "c");
    assert_eq!(columns[1].sql_type, "BIGINT");
    assert!(columns[1].has_default && !columns[1].nullable);
}

#[test]
fn statements_it_cannot_read_make_the_table_unreadable() {
    let scripts = [
        "CREATE TABLE readmodels.t (a BIGINT NOT NULL);",
        "ALTER TABLE readmodels.t RENAME COLUMN a TO b;",
        "CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN DROP TABLE x; END $body$ LANGUAGE plpgsql;",
        "INSERT INTO readmodels.t VALUES (1); /* data; not shape */",
    ];
    let existing = Existing::read(scripts);
    assert_eq!(
        existing.tables["t"].unreadable.as_deref(),
        Some("ALTER TABLE readmodels.t RENAME COLUMN a TO b")
    );
    assert_eq!(existing.tables["t"].columns.len(), 1);
}

#[test]
fn tables_outside_readmodels_are_not_tracked() {
    let existing =
        Existing::read(["CREATE TABLE event_record (id BIGINT); CREATE TABLE public.x (a INT);"]);
    assert!(existing.tables.is_empty());
}
