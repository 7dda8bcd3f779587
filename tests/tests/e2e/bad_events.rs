//! Bad events in the log, on both backends: strict by default, parked on request, listed
//! and retried.

use readmodel_tests::events::{check_in_payload, event_line, stream, HABIT};
use readmodel_tests::{execute_sql, on_both_backends, Db};

const CHECKINS: &str = "habits.checkins";
const STREAKS: &str = "habits.streaks";

on_both_backends!(bad_events_are_parked_on_request_listed_and_retried_after_a_fix);

fn bad_events_are_parked_on_request_listed_and_retried_after_a_fix(postgres: bool) {
    let db = Db::seeded(postgres, "5", "800", "3");
    let s = stream(1);
    db.import_unchecked(
        "bad.jsonl",
        &[
            event_line(
                &s,
                1,
                "habits.checked_in",
                2,
                &format!(r#"{{"habit_id":"{HABIT}"}}"#),
            ),
            event_line(
                &s,
                2,
                "habits.checked_in",
                2,
                &check_in_payload(HABIT, "2026-03-03"),
            ),
        ],
    )
    .ok();
    let head = db.head();
    let bad = head - 1;
    let checkpoint = db.checkpoint(CHECKINS);
    let before = db.checksum(CHECKINS);

    // Strict by default: stops at the bad event, naming id, type and reason.
    let line = db
        .run(&["run", "--model", CHECKINS])
        .error_line()
        .to_owned();
    assert!(
        line.contains(&format!("event {bad} (habits.checked_in")),
        "{line}"
    );
    assert!(line.contains("missing field `day`"), "{line}");
    assert_eq!(db.checkpoint(CHECKINS), checkpoint);
    assert_eq!(db.checksum(CHECKINS), before);

    // Parked on request: the run goes on past it.
    let report = db
        .run(&[
            "--json",
            "run",
            "--model",
            CHECKINS,
            "--on-bad-event",
            "park",
        ])
        .json();
    assert_eq!(report[0]["status"], "succeeded", "{report}");
    assert_eq!(db.checkpoint(CHECKINS), Some(head));
    let row = |id: i64| {
        db.count(&format!(
            "readmodels.habit_checkins WHERE model_version = 1 AND event_id = {id}"
        ))
    };
    assert_eq!((row(bad), row(head)), (0, 1));

    let letters = db
        .run(&["--json", "dead-letters", "--model", CHECKINS])
        .json();
    let letters = letters.as_array().expect("array");
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["event_id"], bad);
    assert_eq!(letters[0]["event_type"], "habits.checked_in");
    assert_eq!(letters[0]["model"], CHECKINS);
    let reason = letters[0]["reason"].as_str().expect("reason");
    assert!(reason.contains("missing field `day`"), "{reason}");
    let text = db.run(&["dead-letters"]).ok().to_owned();
    assert!(text.contains(&bad.to_string()) && text.contains("missing field"));
    // Other habits models that were not asked to park still stop at it.
    assert!(db
        .run(&["run", "--model", STREAKS])
        .error_line()
        .contains(&format!("event {bad} ")));

    // Fix the event in place (the log is otherwise immutable), then retry.
    execute_sql(
        &db.url,
        &format!(
            "UPDATE event_record SET payload = '{}' WHERE id = {bad}",
            check_in_payload(HABIT, "2026-03-02")
        ),
    );
    let retried = db
        .run(&["dead-letters", "--model", CHECKINS, "--retry"])
        .ok()
        .to_owned();
    assert!(retried.contains("1 parked event(s) now apply"), "{retried}");
    let letters = db
        .run(&["--json", "dead-letters", "--model", CHECKINS])
        .json();
    assert_eq!(letters, serde_json::json!([]));
    assert_eq!((row(bad), row(head)), (1, 1));
    let repaired = db.checksum(CHECKINS);
    db.run(&["run", "--model", CHECKINS, "--full"]).ok();
    assert_eq!(db.checksum(CHECKINS), repaired);
    assert_eq!(db.checkpoint(CHECKINS), Some(head));
}
