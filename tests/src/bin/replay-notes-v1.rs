//! `replay` for `test.notes` version 1.

use readmodel_tests::notes_model;

notes_model!(1, 1);

fn main() -> std::process::ExitCode {
    readmodel_runtime::cli::main(readmodel_tests::versioned::app())
}
