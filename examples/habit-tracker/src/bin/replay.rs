//! `replay` for the habit tracker's read models (see `tracker-replay --help`). Named
//! `tracker-replay` only because the workspace's `projections` crate has a `replay` binary
//! too, and two binaries of one workspace cannot share an output file.

fn main() -> std::process::ExitCode {
    // Naming the crate links it, and with it the registry entries of its models.
    readmodel_runtime::cli::main(habit_tracker::app())
}
