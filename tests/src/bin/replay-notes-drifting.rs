//! `replay` for a `test.notes` whose handler is not deterministic (see `drift.rs`).

use readmodel_tests::drifting_notes_model;

drifting_notes_model!();

fn main() -> std::process::ExitCode {
    readmodel_runtime::cli::main(readmodel_tests::versioned::app())
}
