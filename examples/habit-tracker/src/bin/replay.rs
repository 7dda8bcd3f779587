//! `replay` for the habit tracker's read models (see `replay --help`).

fn main() -> std::process::ExitCode {
    // Naming the crate links it, and with it the registry entries of its models.
    readmodel_runtime::cli::main(habit_tracker::app())
}
