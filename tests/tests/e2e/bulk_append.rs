//! A large append on PostgreSQL (`generate`, `import`) leaves the log vacuumed and
//! analysed, so the first replay does not pay for setting every page's hint bits; a small
//! one leaves it to autovacuum.

use readmodel_tests::{query_texts, Db};

/// `last_vacuum` and `last_analyze` of `event_record`, as "vacuumed analysed" flags.
fn maintenance(db: &Db) -> String {
    let rows = query_texts(
        &db.url,
        "SELECT concat_ws(' ', (last_vacuum IS NOT NULL)::text, (last_analyze IS NOT NULL)::text) \
         AS value FROM pg_stat_user_tables WHERE relname = 'event_record'",
    );
    rows.into_iter()
        .next()
        .expect("event_record has statistics")
}

#[test]
fn a_large_append_vacuums_and_analyses_the_log_and_a_small_one_does_not() {
    let db = Db::new(true);
    db.run(&[
        "generate", "--users", "5", "--events", "2000", "--seed", "7",
    ])
    .ok();
    assert_eq!(maintenance(&db), "false false", "after 2,000 events");
    db.run(&[
        "generate", "--users", "40", "--events", "100000", "--seed", "8",
    ])
    .ok();
    assert_eq!(maintenance(&db), "true true", "after 100,000 events");
    assert_eq!(db.count("event_record"), 102_000);
}
