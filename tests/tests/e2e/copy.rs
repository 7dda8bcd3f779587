//! COPY on PostgreSQL writes only rows whose keys have no row yet.
//!
//! A full rebuild into the emptied version COPYs the rows it creates; a row it already
//! wrote in an earlier flush (small `--flush-rows`), and every row a later catch-up
//! changes, goes through the upsert. A trigger on the habits tables records, per row
//! written, whether a `COPY` or an `INSERT … ON CONFLICT` wrote it. Both runs must end
//! with every model's rows and digest equal to the same runs on SQLite.

use readmodel_runtime::replay::CACHE_ROWS_VAR;
use readmodel_tests::events::{event_line, stream};
use readmodel_tests::{binary, execute_sql, on_both_backends, query_texts, replay_with_env, Db};

/// (table, key columns) of the habits models: timeline, snapshot, aggregate.
const TABLES: [(&str, &[&str]); 3] = [
    ("habit_checkins", &["event_id"]),
    ("habit_streaks", &["habit_id"]),
    (
        "habit_monthly_completions",
        &["user_id", "habit_id", "month"],
    ),
];

/// Records every row written into the habits tables with the statement that wrote it.
fn log_writes(db: &Db) {
    execute_sql(
        &db.url,
        "CREATE TABLE public.write_log (id bigserial PRIMARY KEY, tbl text NOT NULL, \
         verb text NOT NULL, key text NOT NULL, run int NOT NULL DEFAULT 0)",
    );
    execute_sql(
        &db.url,
        "CREATE FUNCTION public.log_write() RETURNS trigger LANGUAGE plpgsql AS $$
         DECLARE k text := ''; a text;
         BEGIN
           FOREACH a IN ARRAY TG_ARGV LOOP k := k || '|' || (row_to_json(NEW) ->> a); END LOOP;
           INSERT INTO public.write_log (tbl, verb, key)
             VALUES (TG_TABLE_NAME, upper(left(ltrim(current_query()), 4)), k);
           RETURN NEW;
         END $$",
    );
    for (table, key) in TABLES {
        let args: Vec<String> = key.iter().map(|c| format!("'{c}'")).collect();
        execute_sql(
            &db.url,
            &format!(
                "CREATE TRIGGER log_write BEFORE INSERT ON readmodels.{table} \
                 FOR EACH ROW EXECUTE FUNCTION public.log_write({})",
                args.join(", ")
            ),
        );
    }
}

/// Marks the writes logged so far as run `run`'s.
fn close_run(db: &Db, run: i32) {
    execute_sql(
        &db.url,
        &format!("UPDATE public.write_log SET run = {run} WHERE run = 0"),
    );
}

fn count(db: &Db, filter: &str) -> i64 {
    db.count(&format!("public.write_log WHERE {filter}"))
}

/// Every model's checksum, from `list --json`.
fn checksums(db: &Db) -> Vec<(String, String)> {
    let sums = db.every_checksum();
    assert!(sums.len() >= 19, "the registry lost models");
    sums
}

/// The rebuild to the middle of the log, then the catch-up to its head; the checksums
/// after each.
fn rebuild_then_catch_up(db: &Db, postgres_log: bool) -> [Vec<(String, String)>; 2] {
    db.run(&[
        "generate", "--users", "25", "--events", "6000", "--seed", "2026",
    ])
    .ok();
    if postgres_log {
        log_writes(db);
    }
    db.run(&[
        "run",
        "--all",
        "--full",
        "--to",
        "3000",
        "--batch-size",
        "300",
        "--flush-rows",
        "150",
    ])
    .ok();
    if postgres_log {
        close_run(db, 1);
    }
    let rebuilt = checksums(db);
    db.run(&["run", "--all", "--batch-size", "300", "--flush-rows", "150"])
        .ok();
    if postgres_log {
        close_run(db, 2);
    }
    [rebuilt, checksums(db)]
}

#[test]
fn copy_writes_only_new_rows_and_both_backends_agree() {
    let postgres = Db::new(true);
    let sqlite = Db::new(false);
    let on_postgres = rebuild_then_catch_up(&postgres, true);
    let on_sqlite = rebuild_then_catch_up(&sqlite, false);
    assert_eq!(on_postgres[0], on_sqlite[0], "after the rebuild");
    assert_eq!(on_postgres[1], on_sqlite[1], "after the catch-up");

    for (table, _) in TABLES {
        let this = format!("tbl = '{table}'");
        assert!(
            count(&postgres, &format!("{this} AND run = 1 AND verb = 'COPY'")) > 0,
            "{table}: the rebuild into the emptied version COPYs its new rows"
        );
        assert_eq!(
            count(&postgres, &format!("{this} AND run = 2 AND verb = 'COPY'")),
            0,
            "{table}: a catch-up (the version not emptied) never COPYs"
        );
        assert_eq!(
            count(
                &postgres,
                &format!("{this} AND verb NOT IN ('COPY', 'INSE')")
            ),
            0,
            "{table}: every write is a COPY or an INSERT"
        );
        // A key COPYed twice would have failed the run; a key written before its COPY
        // would mean COPY ran over an existing row.
        let copied_after_a_write = query_texts(
            &postgres.url,
            &format!(
                "SELECT c.key AS value FROM public.write_log c WHERE c.{this} AND c.verb = 'COPY' \
                 AND EXISTS (SELECT 1 FROM public.write_log w WHERE w.tbl = c.tbl \
                 AND w.key = c.key AND w.id < c.id)"
            ),
        );
        assert!(
            copied_after_a_write.is_empty(),
            "{table}: COPY over rows written before: {copied_after_a_write:?}"
        );
    }
    for table in ["habit_streaks", "habit_monthly_completions"] {
        // The cases COPY must leave to the upsert did occur: a row the rebuild COPYed was
        // written again by a later flush of the rebuild, and again by the catch-up.
        for run in [1, 2] {
            let rewritten = count(
                &postgres,
                &format!(
                    "tbl = '{table}' AND run = {run} AND verb = 'INSE' AND key IN \
                     (SELECT key FROM public.write_log WHERE tbl = '{table}' AND verb = 'COPY')"
                ),
            );
            assert!(
                rewritten > 0,
                "{table}: run {run} rewrote no row the rebuild COPYed"
            );
        }
    }
}

/// A person removed and touched again in one batch, long after the row cache dropped
/// their row: the handler deletes the row without reading it, then creates it anew, so
/// the batch never saw the stored row. Only the cache's filter of dropped keys knows the
/// row is still in the table, and must send it through the upsert; taken for new (the
/// filter ignored when the cache picks COPY candidates, `RowCache::has_no_row`), it is
/// COPYed (PostgreSQL) or inserted without `ON CONFLICT` (SQLite) over the stored row and
/// the flush fails on the key: this test fails. Row caches of four rows, batches of two
/// events, a flush after each: the person's row is dropped two turns before the pair
/// arrives, in one batch.
fn a_row_recreated_after_the_cache_dropped_it_is_updated_not_copied(postgres: bool) {
    const MODEL: &str = "relationships.last_contact";
    let person = |n: u32| stream(900 + n);
    let added = |n: u32| {
        let payload = format!(
            r#"{{"person_id":"{}","name":"P{n}","circle":"friends"}}"#,
            person(n)
        );
        event_line(&person(n), 1, "relationships.person_added", 1, &payload)
    };
    let mut lines: Vec<String> = (0..8).map(added).collect();
    let removed = format!(r#"{{"person_id":"{}"}}"#, person(0));
    lines.push(event_line(
        &person(0),
        2,
        "relationships.person_removed",
        1,
        &removed,
    ));
    let logged = format!(
        r#"{{"interaction_id":"{}","person_id":"{}","channel":"call"}}"#,
        stream(999),
        person(0)
    );
    lines.push(event_line(
        &person(0),
        3,
        "relationships.interaction_logged",
        1,
        &logged,
    ));
    let db = Db::new(postgres);
    db.import("people.jsonl", &lines).ok();
    db.run(&["run", "--model", MODEL, "--full"]).ok();
    let expected = db.checksum(MODEL);
    let tiny = [
        "run",
        "--model",
        MODEL,
        "--full",
        "--batch-size",
        "2",
        "--flush-rows",
        "1",
    ];
    replay_with_env(
        &binary("replay-e2e"),
        &db.url,
        &tiny,
        &[(CACHE_ROWS_VAR, "4")],
    )
    .ok();
    assert_eq!(db.checksum(MODEL), expected);
    let row = query_texts(
        &db.url,
        &format!(
            "SELECT name || '/' || interactions AS value \
             FROM readmodels.relationships_last_contact WHERE person_id = '{}'",
            person(0)
        ),
    );
    // Re-created by the interaction: no name, one interaction.
    assert_eq!(row, ["/1"]);
}

on_both_backends!(a_row_recreated_after_the_cache_dropped_it_is_updated_not_copied);
