//! `replay`: full and selective replay of the LifeOS read models, status, checksums,
//! verification and cutover (see `replay --help`).

readmodel_runtime::replay_main!(projections);
