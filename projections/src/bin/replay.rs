//! `replay`: full and selective replay of the LifeOS read models, status, checksums,
//! verification and cutover (see `replay --help`).

fn main() -> std::process::ExitCode {
    readmodel_runtime::cli::main(projections::app())
}
