//! The projections' `replay` binary, built inside this package so end-to-end tests can
//! run it (`CARGO_BIN_EXE_replay-e2e`); identical to `projections/src/bin/replay.rs`.

readmodel_runtime::replay_main!(projections);
