//! Compile-time rules of #[read_model]: each failing case shows its error under the offending token.
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
    t.pass("ui/pass/*.rs");
}
