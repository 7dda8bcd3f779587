//! Unit tests' database: a new SQLite log and read-model file in a temporary directory,
//! migrated with the runtime's own migrations.

use diesel_migrations::{embed_migrations, EmbeddedMigrations};

use super::{DatabaseUrl, Migrations, Store};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A migrated SQLite store, its URL, and the directory that holds it (deleted on drop).
pub(crate) fn sqlite() -> (Store, DatabaseUrl, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("log.db");
    let url = DatabaseUrl::parse(path.to_str().expect("a UTF-8 path")).expect("a URL");
    let migrations = Migrations {
        postgres: &POSTGRES,
        sqlite: &SQLITE,
    };
    let store = Store::open(&url, &migrations).expect("a new database");
    (store, url, dir)
}
