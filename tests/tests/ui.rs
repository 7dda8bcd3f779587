//! Compile-time rules of #[derive(ReadModel)] and #[handlers]: each failing case shows its error under the offending token.
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
    t.pass("ui/pass/*.rs");
}

/// The missing handler's error is its one sentence at the block, without trait-bound notes
/// (trybuild holds the output to the committed `.stderr`; this holds the `.stderr` short).
#[test]
fn a_missing_handler_is_reported_in_at_most_six_lines() {
    let stderr = include_str!("../ui/event_without_handler.stderr");
    let lines = stderr.lines().count();
    assert!(lines <= 6, "{lines} lines:\n{stderr}");
    assert!(stderr.contains("lists event `Closed` in `events = [...]` but has no handler for it"));
}
