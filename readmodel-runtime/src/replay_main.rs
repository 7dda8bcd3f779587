//! The two macros that make an application's `replay` binary: [`app!`](crate::app) in the
//! crate that declares the read models, [`replay_main!`](crate::replay_main) in
//! `src/bin/replay.rs`.
//!
//! Models register themselves at start-up (`inventory`), but only from crates the binary
//! actually links: a `src/bin/replay.rs` that never names the models' crate links none of
//! them, and would list no model and replay nothing. `replay_main!` names the crates, so
//! their models cannot be lost, and the CLI refuses `list`, `run` and `status` with one
//! line when the registry is empty anyway.

/// Declares the `replay` application of the crate that holds the read models: its
/// read-model migrations (diesel_cli layout, one directory per backend, paths relative to
/// the crate's `Cargo.toml`), optionally a synthetic event generator for
/// `replay generate`, and what `replay --help` and `--version` call it.
///
/// ```
/// // src/lib.rs of the crate that declares the models
/// readmodel_runtime::app! {
///     migrations: { postgres: "migrations/postgres", sqlite: "migrations/sqlite" },
/// }
/// # fn main() {
/// #     let app = __readmodel_app();
/// #     assert!(app.generator.is_none());
/// #     assert_eq!(app.name, "readmodel-runtime");
/// #     let _: readmodel_runtime::Migrations = MIGRATIONS;
/// # }
/// ```
///
/// With every key, in this order (`generator`: `fn(&GenerateSpec) -> Box<dyn Iterator<Item
/// = NewEvent>>`; `name` and `description` default to the crate's package name and
/// description):
///
/// ```
/// # fn events(_: &readmodel_runtime::GenerateSpec) -> Box<dyn Iterator<Item = readmodel_runtime::NewEvent>> { Box::new(std::iter::empty()) }
/// readmodel_runtime::app! {
///     migrations: { postgres: "migrations/postgres", sqlite: "migrations/sqlite" },
///     generator: crate::events,
///     name: "tracker",
///     description: "Replays the habit tracker's events into its read models.",
/// }
/// # fn main() {
/// #     let app = __readmodel_app();
/// #     assert!(app.generator.is_some());
/// #     assert_eq!((app.name, app.description), ("tracker", "Replays the habit tracker's events into its read models."));
/// # }
/// ```
///
/// It defines `pub const MIGRATIONS` (the embedded migrations, for `Store::open` in the
/// application) and a hidden `pub fn __readmodel_app()` that
/// [`replay_main!`](crate::replay_main) calls.
///
/// Migrations already embedded as a [`Migrations`](crate::Migrations) constant can be
/// named instead: `migrations: crate::MIGRATIONS`.
#[macro_export]
macro_rules! app {
    (
        migrations: $migrations:path
        $(, generator: $generator:path)?
        $(, name: $name:literal)?
        $(, description: $description:literal)? $(,)?
    ) => {
        /// This crate's `replay` application (used by `readmodel_runtime::replay_main!`).
        #[doc(hidden)]
        pub fn __readmodel_app() -> $crate::App {
            #[allow(unused_mut, unused_assignments)]
            let mut generator: ::core::option::Option<$crate::Generator> =
                ::core::option::Option::None;
            $(generator = ::core::option::Option::Some($generator);)?
            #[allow(unused_mut, unused_assignments)]
            let mut name: &'static str = ::core::env!("CARGO_PKG_NAME");
            $(name = $name;)?
            #[allow(unused_mut, unused_assignments)]
            let mut description: &'static str = ::core::env!("CARGO_PKG_DESCRIPTION");
            $(description = $description;)?
            $crate::App {
                migrations: $migrations,
                generator,
                name,
                description,
                version: ::core::env!("CARGO_PKG_VERSION"),
            }
        }
    };
    (
        migrations: { postgres: $postgres:literal, sqlite: $sqlite:literal $(,)? }
        $(, generator: $generator:path)?
        $(, name: $name:literal)?
        $(, description: $description:literal)? $(,)?
    ) => {
        /// This crate's read-model migrations, embedded from its diesel_cli directories
        /// (for `Store::open` and `Store::migrate` in the application itself).
        pub const MIGRATIONS: $crate::Migrations = {
            // `embed_migrations!` names `diesel_migrations::…` in what it expands to.
            use $crate::__private::diesel_migrations;
            const POSTGRES: diesel_migrations::EmbeddedMigrations =
                diesel_migrations::embed_migrations!($postgres);
            const SQLITE: diesel_migrations::EmbeddedMigrations =
                diesel_migrations::embed_migrations!($sqlite);
            $crate::Migrations {
                postgres: &POSTGRES,
                sqlite: &SQLITE,
            }
        };

        $crate::app! {
            migrations: MIGRATIONS
            $(, generator: $generator)?
            $(, name: $name)?
            $(, description: $description)?
        }
    };
}

/// Generates `fn main` for the `replay` binary of the read models in the named crates.
///
/// The first crate must declare the application with [`app!`](crate::app) (its
/// migrations); crates named after it are linked for the models they declare.
///
/// ```text
/// // src/bin/replay.rs
/// readmodel_runtime::replay_main!(my_models);
/// ```
#[cfg(feature = "cli")]
#[macro_export]
macro_rules! replay_main {
    ($app:ident $(, $models:ident)* $(,)?) => {
        // Naming a crate is what makes the binary link it, and with it its models.
        $(#[allow(unused_extern_crates)] extern crate $models as _;)*

        fn main() -> ::std::process::ExitCode {
            $crate::cli::main($app::__readmodel_app())
        }
    };
}

/// Without the `cli` feature there is no command line to generate: one error that says
/// which feature to turn on.
#[cfg(not(feature = "cli"))]
#[macro_export]
macro_rules! replay_main {
    ($($anything:tt)*) => {
        ::core::compile_error!(
            "replay_main! needs readmodel-runtime's `cli` feature (a default feature): \
             depend on readmodel-runtime without `default-features = false`, or add \
             `features = [\"cli\"]`"
        );
    };
}
