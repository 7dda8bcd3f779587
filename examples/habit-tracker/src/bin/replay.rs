//! `replay` for the habit tracker's read models (see `tracker-replay --help`). Named
//! `tracker-replay` only because the workspace's `projections` crate has a `replay` binary
//! too, and two binaries of one workspace cannot share an output file.

readmodel_runtime::replay_main!(habit_tracker);
