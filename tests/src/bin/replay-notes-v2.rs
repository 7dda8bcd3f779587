//! `replay` for `test.notes` version 2 (scores words double).

use readmodel_tests::notes_model;

notes_model!(2, 2);

fn main() -> std::process::ExitCode {
    readmodel_runtime::cli::main(readmodel_tests::versioned::app())
}
