//! Compile-time rules of #[derive(ReadModel)] and #[handlers]: each failing case shows its error under the offending token.
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
    t.pass("ui/pass/*.rs");
}
