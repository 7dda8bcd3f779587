//! `import` names the line and the field of whatever refuses a file, its own checks and
//! the database's constraints alike, and refuses a file the same way on both backends;
//! event types no code declares are refused unless explicitly allowed.

use readmodel_tests::events::{check_in_payload, event_line, stream, HABIT};
use readmodel_tests::{on_both_backends, Db, Run};

on_both_backends!(
    every_refusal_names_the_line_and_the_field,
    a_byte_order_mark_and_crlf_line_ends_are_accepted,
    undeclared_event_types_are_refused_unless_allowed,
);

fn check_in(s: u32, version: i64, day: &str) -> String {
    event_line(
        &stream(s),
        version,
        "habits.checked_in",
        2,
        &check_in_payload(HABIT, day),
    )
}

fn import_bytes(db: &Db, name: &str, bytes: &[u8], flags: &[&str]) -> Run {
    let path = db.scratch().join(name);
    std::fs::write(&path, bytes).expect("write the file");
    let path = path.display().to_string();
    let mut args = vec!["import", "--file", &path];
    args.extend_from_slice(flags);
    db.run(&args)
}

/// Each bad file is refused with exactly this line (`F` the file's path) and leaves the
/// log as it was; the same on both backends, including a `\u0000` that PostgreSQL could
/// not store and SQLite could.
fn every_refusal_names_the_line_and_the_field(postgres: bool) {
    let db = Db::seeded(postgres, "2", "100", "51");
    let s = 1;
    db.import(
        "first.jsonl",
        &[check_in(s, 1, "2026-03-01"), check_in(s, 2, "2026-03-02")],
    )
    .ok();
    let before = db.log_length();
    let good = |v| check_in(s, v, "2026-03-03");
    let cases: Vec<(&str, Vec<String>, String)> = vec![
        (
            "a (stream_id, event_version) already in the log, at line 4 of 5",
            vec![good(3), good(4), good(5), check_in(s, 2, "2026-03-09"), good(6)],
            format!("F:4: stream {} version 2 is already in the log (", stream(s)),
        ),
        (
            "the same (stream_id, event_version) twice in the file",
            vec![good(3), good(4), good(3)],
            format!("F:3: stream {} version 3 is also at line 1 ((stream_id, event_version) is unique in the log); nothing was imported", stream(s)),
        ),
        (
            "U+0000 in a payload string",
            vec![good(3), check_in(s, 4, r"2026-03-04\u0000")],
            "F:2: payload.day contains the character U+0000 (\\u0000), which PostgreSQL cannot store; no backend accepts it; nothing was imported".to_owned(),
        ),
        (
            "U+0000 in the event type",
            vec![good(3).replace("habits.checked_in", r"habits.checked_in\u0000")],
            "F:1: event_type contains the character U+0000".to_owned(),
        ),
        (
            "a timestamp out of range",
            vec![good(3), good(4).replace("2026-03-01T07:30:00Z", "2026-02-30T07:30:00Z")],
            "F:2: invalid occurred_at: \"2026-02-30T07:30:00Z\" is not an RFC 3339 timestamp like 2026-03-01T07:30:00Z (input is out of range); nothing was imported".to_owned(),
        ),
        (
            "a payload date out of range",
            vec![good(3), check_in(s, 4, "2026-02-30")],
            "F:2: event type habits.checked_in does not decode: payload does not match: field `day`: input is out of range; nothing was imported (fix the line, or import it anyway with --unchecked)".to_owned(),
        ),
        (
            "an unknown field",
            vec![good(3).replace("\"payload\"", "\"body\"")],
            "F:1: unknown field `body` (the fields are".to_owned(),
        ),
        (
            "JSON cut short",
            vec![good(3), good(4)[..40].to_owned()],
            "F:2: invalid JSON at column 40: EOF while parsing a string; nothing was imported".to_owned(),
        ),
    ];
    // Every case is tried, and every one that goes wrong is reported.
    let mut wrong = Vec::new();
    for (what, lines, expected) in cases {
        let run = db.import("bad.jsonl", &lines);
        let path = db.scratch().join("bad.jsonl").display().to_string();
        let stderr = run.stderr.trim_end().replace(&path, "F");
        if run.code != Some(1)
            || !stderr.starts_with(&format!("error: {expected}"))
            || !stderr.contains("; nothing was imported")
            || stderr.lines().count() != 1
        {
            wrong.push(format!("{what}: exit {:?}: {stderr}", run.code));
        }
        if db.log_length() != before {
            wrong.push(format!("{what}: events were imported"));
        }
    }
    // U+0000 where no decoder looks (a type no model reads, imported explicitly): SQLite
    // would store it and PostgreSQL refuse it; both refuse it before writing.
    for (line, field) in [
        (
            event_line(
                &stream(2),
                1,
                "billing.note_added",
                1,
                r#"{"note":"a\u0000b"}"#,
            ),
            "payload.note",
        ),
        (
            event_line(&stream(2), 1, r"billing.note\u0000", 1, "{}"),
            "event_type",
        ),
    ] {
        let run = db.import_with("nul.jsonl", &[line], &["--allow-unknown-types"]);
        let expected = format!(":1: {field} contains the character U+0000 (\\u0000), which PostgreSQL cannot store; no backend accepts it; nothing was imported");
        if run.code != Some(1) || !run.stderr.trim_end().ends_with(&expected) {
            wrong.push(format!(
                "U+0000 in {field}, allowed type: exit {:?}: {}",
                run.code, run.stderr
            ));
        }
        if db.log_length() != before {
            wrong.push(format!("U+0000 in {field}: events were imported"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    let mut bytes = format!("{}\n", good(3)).into_bytes();
    bytes.extend_from_slice(b"{\"stream_id\": \"\xff\"}\n");
    let run = import_bytes(&db, "latin1.jsonl", &bytes, &[]);
    assert!(
        run.error_line()
            .contains("latin1.jsonl:2: not UTF-8 text (invalid byte at byte 16 of the line)"),
        "{}",
        run.stderr
    );
    assert_eq!(db.log_length(), before);
}

/// A UTF-8 byte order mark before the first line (as some editors write) and Windows
/// line ends are part of the text file, not of the events.
fn a_byte_order_mark_and_crlf_line_ends_are_accepted(postgres: bool) {
    let db = Db::new(postgres);
    let text = format!(
        "\u{feff}{}\r\n{}\r\n",
        check_in(2, 1, "2026-03-01"),
        check_in(2, 2, "2026-03-02")
    );
    let run = import_bytes(&db, "bom.jsonl", text.as_bytes(), &[]);
    assert!(run.ok().contains("imported 2 events"), "{}", run.stdout);
    assert_eq!(db.log_length(), 2);
    // Only before the first line: elsewhere it is a character no JSON value starts with.
    let text = format!(
        "{}\n\u{feff}{}\n",
        check_in(2, 3, "2026-03-03"),
        check_in(2, 4, "2026-03-04")
    );
    let run = import_bytes(&db, "mid.jsonl", text.as_bytes(), &[]);
    assert!(
        run.error_line()
            .contains("mid.jsonl:2: invalid JSON at column 1"),
        "{}",
        run.stderr
    );
    assert_eq!(db.log_length(), 2);
}

/// A type no `DomainEvent` of the binary declares is refused, naming the line, the type
/// and the nearest declared type when it looks like a typo of it; `--allow-unknown-types`
/// imports it and counts it. Declared types no model consumes import as before.
fn undeclared_event_types_are_refused_unless_allowed(postgres: bool) {
    let db = Db::new(postgres);
    let typo = event_line(
        &stream(3),
        1,
        "habits.checkd_in",
        2,
        &check_in_payload(HABIT, "2026-03-01"),
    );
    let foreign = event_line(&stream(3), 2, "billing.invoice_sent", 1, r#"{"amount":3}"#);
    let run = db.import("typo.jsonl", &[check_in(3, 3, "2026-03-01"), typo.clone()]);
    let path = db.scratch().join("typo.jsonl").display().to_string();
    assert_eq!(
        run.error_line(),
        format!("error: {path}:2: event type \"habits.checkd_in\" is declared by no event type of this binary (did you mean \"habits.checked_in\"?); nothing was imported (events of types other services own: --allow-unknown-types)")
    );
    let run = db.import("foreign.jsonl", std::slice::from_ref(&foreign));
    let line = run.error_line();
    assert!(line.contains(":1: event type \"billing.invoice_sent\" is declared by no event type of this binary; nothing"), "{line}");
    assert_eq!(db.log_length(), 0);

    let path = db.scratch().join("both.jsonl");
    std::fs::write(&path, format!("{typo}\n{foreign}\n")).expect("write");
    let path = path.display().to_string();
    let json = db
        .run(&["--json", "import", "--file", &path, "--allow-unknown-types"])
        .json();
    assert_eq!(json["imported"], 2, "{json}");
    assert_eq!(json["undeclared"], 2, "{json}");
    assert_eq!(json["unconsumed"], 2, "{json}");
    assert_eq!(db.log_length(), 2);
}
