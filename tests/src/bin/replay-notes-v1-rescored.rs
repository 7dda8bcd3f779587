//! `replay` for `test.notes` version 1 whose handler was changed without a version bump:
//! it scores words triple, so its rows differ from `replay-notes-v1`'s. A catch-up of
//! rows built by `replay-notes-v1` must be refused.

use readmodel_tests::notes_model;

notes_model!(1, 3);

fn main() -> std::process::ExitCode {
    readmodel_runtime::cli::main(readmodel_tests::versioned::app())
}
