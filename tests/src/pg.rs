//! A throwaway PostgreSQL server for end-to-end tests.
//!
//! Each test process starts its own server on first use. It listens only on a private unix
//! socket, so parallel test processes never collide on a port and no network is needed.
//! The Rust test harness never runs static destructors, so a detached watchdog shell stops the
//! server and deletes its files once the test process is gone, however it ended.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use diesel::{Connection, PgConnection, RunQueryDsl};

/// PostgreSQL refuses to run as root, so under root the server runs as this existing OS user.
const ROOT_RUNS_AS: &str = "postgres";

/// Polls the test process and, once it is gone, kills the server and removes its files.
/// Arguments: $1 pid, $2 pg_ctl, $3 data dir, $4 temp root, $5 OS user ("" = current user).
const WATCHDOG: &str = r#"
while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
if [ -n "$5" ]; then runuser -u "$5" -- "$2" stop -m immediate -D "$3"
else "$2" stop -m immediate -D "$3"; fi
rm -rf "$4"
"#;

/// A PostgreSQL server started for this test process.
pub struct PgServer {
    socket_dir: PathBuf,
    /// One shared admin connection serialises `CREATE DATABASE`, which can fail when several
    /// run concurrently against the same template.
    admin: Mutex<PgConnection>,
    /// Runs the server's tools (`pg_ctl`).
    ctl: Ctl,
    /// Held, never waited on: the watchdog must outlive this process to do its job.
    _watchdog: Child,
}

/// The server's tools, run in its directory as the server's OS user.
struct Ctl {
    bin: PathBuf,
    root: PathBuf,
    run_as: Option<&'static str>,
}

impl Ctl {
    /// Runs tool `name` with `args` (paths relative to the server's directory).
    fn tool(&self, name: &str, args: &str) -> Result<String, String> {
        let mut cmd = match self.run_as {
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--"]).arg(self.bin.join(name));
                cmd
            }
            None => Command::new(self.bin.join(name)),
        };
        // PostgreSQL tools resolve their own path via getcwd(), which fails if the
        // inherited cwd (e.g. /root) is not readable by the server's OS user.
        cmd.args(args.split_whitespace())
            .current_dir(&self.root)
            .stdin(Stdio::null());
        run_capture(&mut cmd, name)
    }
}

/// A PostgreSQL server of the caller's own, apart from the one the other tests share: for
/// a test that stops and restarts it. It is stopped when dropped (and by its watchdog
/// when the test process ends).
///
/// # Panics
///
/// Panics with the reason if the server cannot be started.
pub fn private_server() -> PgServer {
    PgServer::start()
        .unwrap_or_else(|why| panic!("a private PostgreSQL server could not be started: {why}"))
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = self.ctl.tool("pg_ctl", "stop -m immediate -D data");
    }
}

/// The start result is cached, errors included, so every test that needs the server reports
/// the same actionable message instead of a generic "poisoned" panic or a second start attempt.
static SERVER: LazyLock<Result<PgServer, String>> = LazyLock::new(PgServer::start);
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The per-process server, started on first use.
///
/// # Panics
///
/// Panics with the reason (missing binaries, `initdb` output, server log tail, ...) if the
/// server cannot be started; tests needing PostgreSQL must never pass without it.
pub fn server() -> &'static PgServer {
    match &*SERVER {
        Ok(server) => server,
        Err(why) => panic!("the test PostgreSQL server could not be started: {why}"),
    }
}

impl PgServer {
    /// Creates a new, empty database with a unique name and returns its connection URL, e.g.
    /// `postgres://postgres@localhost/t_123_0?host=/tmp/readmodel-pg-.../sock`, which
    /// `PgConnection::establish` accepts.
    ///
    /// # Panics
    ///
    /// Panics if the database cannot be created, since the test cannot be set up.
    pub fn fresh_database(&self) -> String {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let name = format!("t_{}_{id}", std::process::id());
        let mut admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut *admin)
            .unwrap_or_else(|e| panic!("creating test database {name} failed: {e}"));
        url(&self.socket_dir, &name)
    }

    /// The socket directory.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// Stops the server (`pg_ctl stop -m fast`: clients are disconnected) and waits until
    /// it is down. Only for a [`private_server`]: the shared one serves other tests.
    ///
    /// # Panics
    ///
    /// Panics with `pg_ctl`'s output if it fails.
    pub fn stop(&self) {
        self.ctl
            .tool("pg_ctl", "stop -w -m fast -D data")
            .unwrap_or_else(|why| panic!("stopping PostgreSQL: {why}"));
    }

    /// Starts the server [`PgServer::stop`] stopped and waits until it accepts
    /// connections (the admin connection of [`PgServer::fresh_database`] is gone).
    ///
    /// # Panics
    ///
    /// Panics with `pg_ctl`'s output if it fails.
    pub fn start_again(&self) {
        self.ctl
            .tool("pg_ctl", "start -w -t 60 -D data -l server.log")
            .unwrap_or_else(|why| panic!("starting PostgreSQL again: {why}"));
    }

    fn start() -> Result<Self, String> {
        let bin = find_bin_dir()?;
        let owner = if run_capture(Command::new("id").arg("-u"), "id -u")? == "0" {
            Some(user_ids(ROOT_RUNS_AS)?)
        } else {
            None
        };
        let root = make_dir_tree(owner)?;
        let run_as = owner.map(|_| ROOT_RUNS_AS);
        let [data, socket_dir, log] = ["data", "sock", "server.log"].map(|name| root.join(name));
        // Armed before anything can be left behind, so even a failed start is cleaned up.
        let watchdog = Command::new("sh")
            .args(["-c", WATCHDOG, "readmodel-pg-watchdog"])
            .arg(std::process::id().to_string())
            .args([&bin.join("pg_ctl"), &data, &root])
            .arg(run_as.unwrap_or(""))
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Own process group: a Ctrl-C aimed at the test run must not kill the watchdog.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("could not spawn the cleanup watchdog (sh): {e}"))?;
        // Paths in `args` are relative to `root`, the tools' working directory.
        let ctl = Ctl { bin, root, run_as };
        let tool = |name: &str, args: &str| ctl.tool(name, args);
        tool(
            "initdb",
            "-D data -U postgres --auth=trust --locale=C --encoding=UTF8 --no-sync",
        )?;
        let quoted_socket = socket_dir.to_string_lossy().replace('\'', "''");
        let conf = format!(
            "\n# readmodel test server\nlisten_addresses = ''\n\
             unix_socket_directories = '{quoted_socket}'\nfsync = off\n\
             synchronous_commit = off\nfull_page_writes = off\nmax_connections = 100\n"
        );
        let conf_path = data.join("postgresql.conf");
        // Appending keeps the file's owner, so the server can still read it.
        fs::OpenOptions::new()
            .append(true)
            .open(&conf_path)
            .and_then(|mut file| file.write_all(conf.as_bytes()))
            .map_err(|e| format!("appending to {}: {e}", conf_path.display()))?;
        if let Err(why) = tool("pg_ctl", "start -w -t 60 -D data -l server.log") {
            let tail = log_tail(&log, 20);
            return Err(format!("{why}\nlast lines of {}:\n{tail}", log.display()));
        }
        let admin_url = url(&socket_dir, "postgres");
        let admin = PgConnection::establish(&admin_url)
            .map_err(|e| format!("connecting to {admin_url}: {e}\n{}", log_tail(&log, 20)))?;
        Ok(Self {
            socket_dir,
            admin: Mutex::new(admin),
            ctl,
            _watchdog: watchdog,
        })
    }
}

const NOT_FOUND: &str = "PostgreSQL server binaries not found: install postgresql-15 \
     (apt-get install postgresql) or set READMODEL_PG_BIN to the directory holding initdb and pg_ctl";

fn find_bin_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("READMODEL_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
            Ok(dir)
        } else {
            Err(format!(
                "READMODEL_PG_BIN={} holds no initdb and pg_ctl",
                dir.display()
            ))
        };
    }
    let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .collect();
    versioned.sort();
    if let Some((_, bin)) = versioned.pop() {
        return Ok(bin);
    }
    // PATH entries are often symlinks (e.g. /usr/local/bin/initdb); pg_ctl sits by the target.
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("initdb"))
        .find(|exe| exe.is_file())
        .and_then(|exe| fs::canonicalize(exe).ok()?.parent().map(Path::to_path_buf))
        .ok_or_else(|| NOT_FOUND.to_owned())
}

fn user_ids(user: &str) -> Result<(u32, u32), String> {
    let id = |flag: &str| -> Result<u32, String> {
        let out = run_capture(Command::new("id").args([flag, user]), "id").map_err(|e| {
            format!("running as root needs an OS user '{user}' to run PostgreSQL: {e}")
        })?;
        out.parse()
            .map_err(|e| format!("bad output {out:?} from id {flag} {user}: {e}"))
    };
    Ok((id("-u")?, id("-g")?))
}

/// Creates the unique temp root (and its socket dir) owned by whoever runs the server.
fn make_dir_tree(owner: Option<(u32, u32)>) -> Result<PathBuf, String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "readmodel-pg-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let root = std::env::temp_dir().join(name);
    for (dir, mode) in [(root.clone(), 0o755), (root.join("sock"), 0o700)] {
        fs::create_dir(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(mode))
            .map_err(|e| format!("chmod {}: {e}", dir.display()))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", dir.display()))?;
        }
    }
    Ok(root)
}

/// Runs a command to completion; on failure the error carries its whole output.
fn run_capture(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("could not run {what} ({cmd:?}): {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        return Ok(stdout.trim().to_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(format!(
        "{what} failed ({}): {cmd:?}\n{stdout}{stderr}",
        out.status
    ))
}

fn log_tail(log: &Path, lines: usize) -> String {
    let text = fs::read_to_string(log).unwrap_or_else(|e| format!("(log unreadable: {e})"));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A libpq URL; the socket directory goes in `host` and must be percent-encoded there.
fn url(socket_dir: &Path, database: &str) -> String {
    let host: String = OsStr::as_bytes(socket_dir.as_os_str())
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("postgres://postgres@localhost/{database}?host={host}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Text};

    #[test]
    fn fresh_databases_are_distinct_and_usable() {
        let (url_a, url_b) = (server().fresh_database(), server().fresh_database());
        assert_ne!(url_a, url_b);
        let mut a = PgConnection::establish(&url_a).expect("connect to first database");
        let mut b = PgConnection::establish(&url_b).expect("connect to second database");
        for conn in [&mut a, &mut b] {
            let one: i64 = sql::<BigInt>("SELECT 1::bigint")
                .get_result(conn)
                .expect("SELECT 1");
            assert_eq!(one, 1);
        }
        diesel::sql_query("CREATE TABLE t (x int)")
            .execute(&mut a)
            .expect("create in a");
        diesel::sql_query("INSERT INTO t VALUES (1), (2)")
            .execute(&mut a)
            .expect("insert in a");
        // Would fail with "relation already exists" if both URLs pointed at one database.
        diesel::sql_query("CREATE TABLE t (x int)")
            .execute(&mut b)
            .expect("create in b");
        let count = |conn: &mut PgConnection| -> i64 {
            sql::<BigInt>("SELECT count(*) FROM t")
                .get_result(conn)
                .expect("count rows")
        };
        assert_eq!((count(&mut a), count(&mut b)), (2, 0));
        let name = |conn: &mut PgConnection| -> String {
            sql::<Text>("SELECT current_database()")
                .get_result(conn)
                .expect("current_database")
        };
        assert_ne!(name(&mut a), name(&mut b));
        assert!(server().socket_dir().join(".s.PGSQL.5432").exists());
    }
}
