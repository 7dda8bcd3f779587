use super::*;
use crate::contract::{Kind, RebuildStrategy};
use crate::ddl::migration;
use crate::Fingerprint;

const fn column(
    name: &'static str,
    pg: &'static str,
    sqlite: &'static str,
    nullable: bool,
) -> Column {
    Column {
        name,
        pg_type: pg,
        sqlite_type: sqlite,
        nullable,
        sorts_as_text: false,
    }
}

const V1_COLUMNS: &[Column] = &[
    column("model_version", "INTEGER", "INTEGER", false),
    column("user_id", "UUID", "TEXT", false),
    column("score", "BIGINT", "INTEGER", false),
];

const V1: Contract = Contract {
    name: "test.notes",
    domain: "test",
    version: 1,
    kind: Kind::Aggregate,
    consumed_events: &["test.note_written"],
    replay_start_version: 0,
    idempotency_key: &["model_version", "user_id"],
    rebuild_strategy: RebuildStrategy::Partial,
    schema: "readmodels",
    table: "test_notes",
    columns: V1_COLUMNS,
    fingerprint: Fingerprint::of(&[]),
};

/// What `new-migration` wrote for v1, on `backend`.
fn migrations_of(contract: &Contract, backend: Backend) -> Existing {
    Existing::read([migration(&[contract], backend).0.as_str()])
}

fn plan_on(
    contract: &'static Contract,
    backend: Backend,
    defaults: &Defaults,
) -> Result<Option<Step>, EvolveError> {
    plan(
        contract,
        backend,
        &migrations_of(&V1, backend),
        "migrations/x",
        defaults,
    )
}

#[test]
fn a_version_bump_alone_needs_nothing() {
    static V2: Contract = Contract { version: 2, ..V1 };
    for backend in Backend::ALL {
        assert_eq!(
            plan_on(&V2, backend, &Defaults::new()),
            Ok(None),
            "{backend}"
        );
    }
}

#[test]
fn a_new_table_is_created() {
    static OTHER: Contract = Contract {
        table: "test_other",
        ..V1
    };
    assert_eq!(
        plan_on(&OTHER, Backend::Postgres, &Defaults::new()),
        Ok(Some(Step::Create))
    );
}

#[test]
fn a_new_nullable_column_is_added() {
    static V3: Contract = Contract {
        version: 3,
        columns: &[
            column("model_version", "INTEGER", "INTEGER", false),
            column("user_id", "UUID", "TEXT", false),
            column("longest", "BIGINT", "INTEGER", true),
            column("score", "BIGINT", "INTEGER", false),
        ],
        ..V1
    };
    let step = plan_on(&V3, Backend::Postgres, &Defaults::new()).expect("a step");
    let Some(step @ Step::AddColumns { .. }) = step else {
        panic!("expected added columns, got {step:?}");
    };
    assert_eq!(
        step_sql(&V3, &step, Backend::Postgres, &Defaults::new()),
        (
            "-- test.notes (aggregate), version 3: generated from the model's contract; the table exists, new column(s): longest.\n\
             ALTER TABLE readmodels.test_notes ADD COLUMN longest BIGINT;\n"
                .to_owned(),
            "ALTER TABLE readmodels.test_notes DROP COLUMN longest;\n".to_owned()
        )
    );
    let sqlite = plan_on(&V3, Backend::Sqlite, &Defaults::new())
        .expect("a step")
        .expect("some");
    assert!(step_sql(&V3, &sqlite, Backend::Sqlite, &Defaults::new())
        .0
        .contains("ALTER TABLE readmodels.test_notes ADD COLUMN longest INTEGER;\n"));
}

#[test]
fn a_new_user_column_brings_the_user_index() {
    static WITHOUT_USER: Contract = Contract {
        idempotency_key: &["model_version", "score"],
        columns: &[
            column("model_version", "INTEGER", "INTEGER", false),
            column("score", "BIGINT", "INTEGER", false),
        ],
        ..V1
    };
    static WITH_USER: Contract = Contract {
        version: 2,
        columns: &[
            column("model_version", "INTEGER", "INTEGER", false),
            column("score", "BIGINT", "INTEGER", false),
            column("user_id", "UUID", "TEXT", true),
        ],
        ..WITHOUT_USER
    };
    let existing = migrations_of(&WITHOUT_USER, Backend::Sqlite);
    let step = plan(
        &WITH_USER,
        Backend::Sqlite,
        &existing,
        "m",
        &Defaults::new(),
    )
    .expect("a step")
    .expect("some");
    assert_eq!(
        step_sql(&WITH_USER, &step, Backend::Sqlite, &Defaults::new()),
        (
            "-- test.notes (aggregate), version 2: generated from the model's contract; the table exists, new column(s): user_id.\n\
             ALTER TABLE readmodels.test_notes ADD COLUMN user_id TEXT;\n\
             CREATE INDEX readmodels.test_notes_user ON test_notes (user_id, model_version);\n"
                .to_owned(),
            "DROP INDEX IF EXISTS readmodels.test_notes_user;\nALTER TABLE readmodels.test_notes DROP COLUMN user_id;\n"
                .to_owned()
        )
    );
}

#[test]
fn a_new_not_null_column_asks_for_a_default_and_uses_it() {
    static V3: Contract = Contract {
        version: 3,
        columns: &[
            column("model_version", "INTEGER", "INTEGER", false),
            column("user_id", "UUID", "TEXT", false),
            column("score", "BIGINT", "INTEGER", false),
            column("words", "BIGINT", "INTEGER", false),
        ],
        ..V1
    };
    let refused = plan_on(&V3, Backend::Sqlite, &Defaults::new()).expect_err("a refusal");
    assert_eq!(
        refused.to_string(),
        "readmodels.test_notes gains column words (INTEGER NOT NULL) for test.notes v3, and the rows older versions already have in it need a value: give one with `--default words=VALUE` (a number, a 'quoted string', TRUE or FALSE), or make the field an Option"
    );
    let defaults: Defaults = [parse_default("words=0").expect("valid")]
        .into_iter()
        .collect();
    let step = plan_on(&V3, Backend::Postgres, &defaults)
        .expect("a step")
        .expect("some");
    assert!(step_sql(&V3, &step, Backend::Postgres, &defaults)
        .0
        .contains(
            "ALTER TABLE readmodels.test_notes ADD COLUMN words BIGINT NOT NULL DEFAULT 0;\n"
        ));
}

#[test]
fn a_changed_key_is_refused_with_the_safe_way() {
    static V4: Contract = Contract {
        version: 4,
        idempotency_key: &["model_version", "user_id", "score"],
        ..V1
    };
    for backend in Backend::ALL {
        let refused = plan_on(&V4, backend, &Defaults::new()).expect_err("a refusal");
        assert_eq!(
            refused.to_string(),
            "cannot migrate readmodels.test_notes in place for test.notes v4: the struct declares the key (model_version, user_id, score) but the migrations in migrations/x give the table a unique index on (model_version, user_id); rows of older versions are keyed the old way, so build this version in a new table: bump `version` if you have not and declare a table of its own (e.g. `table = readmodels.test_notes_v4`), then run new-migration again"
        );
    }
}

#[test]
fn a_changed_type_is_refused_where_the_backend_sees_it() {
    static NARROWER: Contract = Contract {
        version: 2,
        columns: &[
            column("model_version", "INTEGER", "INTEGER", false),
            column("user_id", "UUID", "TEXT", false),
            column("score", "INTEGER", "INTEGER", false),
        ],
        ..V1
    };
    let refused = plan_on(&NARROWER, Backend::Postgres, &Defaults::new()).expect_err("a refusal");
    assert!(
        refused.to_string().starts_with("cannot migrate readmodels.test_notes in place for test.notes v2: column score is BIGINT NOT NULL in the migrations in migrations/x and INTEGER NOT NULL in the struct;"),
        "{refused}"
    );
    // SQLite stores both as INTEGER.
    assert_eq!(
        plan_on(&NARROWER, Backend::Sqlite, &Defaults::new()),
        Ok(None)
    );
    static NULLABLE: Contract = Contract {
        columns: &[
            column("model_version", "INTEGER", "INTEGER", false),
            column("user_id", "UUID", "TEXT", false),
            column("score", "BIGINT", "INTEGER", true),
        ],
        ..V1
    };
    let refused = plan_on(&NULLABLE, Backend::Sqlite, &Defaults::new()).expect_err("a refusal");
    assert!(refused.to_string().contains("column score is INTEGER NOT NULL in the migrations in migrations/x and INTEGER in the struct"), "{refused}");
}

#[test]
fn a_removed_column_is_kept_when_nullable_and_refused_when_not() {
    static WITHOUT_SCORE: Contract = Contract {
        version: 2,
        columns: &[
            column("model_version", "INTEGER", "INTEGER", false),
            column("user_id", "UUID", "TEXT", false),
        ],
        ..V1
    };
    let refused =
        plan_on(&WITHOUT_SCORE, Backend::Postgres, &Defaults::new()).expect_err("a refusal");
    assert!(refused.to_string().contains("column score (BIGINT NOT NULL, in the migrations in migrations/x) is no longer in the struct"), "{refused}");
    let nullable_score = Existing::read([
        "CREATE TABLE readmodels.test_notes (model_version INTEGER NOT NULL, user_id UUID NOT NULL, score BIGINT);\n\
         CREATE UNIQUE INDEX test_notes_key ON readmodels.test_notes (model_version, user_id);\n\
         CREATE INDEX test_notes_user ON readmodels.test_notes (user_id, model_version);",
    ]);
    let kept = plan(
        &WITHOUT_SCORE,
        Backend::Postgres,
        &nullable_score,
        "m",
        &Defaults::new(),
    );
    assert_eq!(kept, Ok(None));
}

#[test]
fn a_table_changed_by_hand_is_not_guessed() {
    let existing = Existing::read([
        migration(&[&V1], Backend::Postgres).0.as_str(),
        "ALTER TABLE readmodels.test_notes ALTER COLUMN score TYPE NUMERIC;",
    ]);
    static V2: Contract = Contract { version: 2, ..V1 };
    let refused = plan(
        &V2,
        Backend::Postgres,
        &existing,
        "migrations/postgres",
        &Defaults::new(),
    )
    .expect_err("a refusal");
    assert_eq!(
        refused.to_string(),
        "cannot tell what the migrations in migrations/postgres make of readmodels.test_notes: `ALTER TABLE readmodels.test_notes ALTER COLUMN score TYPE NUMERIC` is not a statement new-migration reads; write this migration by hand"
    );
}

#[test]
fn defaults_are_literals() {
    assert_eq!(
        parse_default("words=0"),
        Ok(("words".to_owned(), "0".to_owned()))
    );
    assert_eq!(
        parse_default("title='it''s'"),
        Ok(("title".to_owned(), "'it''s'".to_owned()))
    );
    assert_eq!(
        parse_default("done=TRUE"),
        Ok(("done".to_owned(), "TRUE".to_owned()))
    );
    assert_eq!(
        parse_default("ratio=-1.5"),
        Ok(("ratio".to_owned(), "-1.5".to_owned()))
    );
    for bad in [
        "words",
        "=0",
        "words=",
        "words=now()",
        "t='a'b'",
        "Words=1",
        "w=1.2.3",
        "w=-",
    ] {
        assert_eq!(
            parse_default(bad),
            Err(EvolveError::InvalidDefault(bad.to_owned())),
            "{bad}"
        );
    }
}
