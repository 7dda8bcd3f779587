//! Parsing `--database-url` and keeping passwords out of every message.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::error::StoreError;

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file holding `event_record`, and the file ATTACHed as `readmodels`.
    Sqlite {
        /// The main file (event log).
        main: PathBuf,
        /// The read-model file, beside it: `NAME.readmodels.db`.
        readmodels: PathBuf,
    },
    /// A PostgreSQL connection string: a `postgres://` URL or libpq keyword/value pairs
    /// (`host=db dbname=app`), passed to libpq as written.
    Postgres(String),
}

/// libpq's connection keywords: a string starting with one of them followed by `=` is a
/// keyword/value connection string, not a file name.
const LIBPQ_KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "require_auth",
    "channel_binding",
    "connect_timeout",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "sslmode",
    "sslnegotiation",
    "requiressl",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "service",
    "target_session_attrs",
    "load_balance_hosts",
];

impl DatabaseUrl {
    /// The embedded default: `readmodel.db` in the working directory.
    pub const DEFAULT: &'static str = "readmodel.db";

    /// Parses `postgres://…`, `postgresql://…`, libpq keyword/value pairs (`host=… dbname=…`),
    /// `sqlite://PATH`, `sqlite:PATH` or a plain path. Text with `=` and spaces that is none
    /// of these is refused rather than taken for a file name (which would put a password
    /// into a file name); messages show it with its passwords replaced by `***`.
    ///
    /// ```
    /// use readmodel_runtime::store::DatabaseUrl;
    /// let url = DatabaseUrl::parse("sqlite://data/app.db").unwrap();
    /// assert_eq!(url.to_string(), "sqlite://data/app.db (read models in data/app.readmodels.db)");
    /// let pg = DatabaseUrl::parse("host=db dbname=app password=s3cret").unwrap();
    /// assert_eq!(pg.to_string(), "host=db dbname=app password=***");
    /// ```
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        let raw = raw.trim();
        if raw.starts_with("postgres://")
            || raw.starts_with("postgresql://")
            || is_keyword_value(raw)
        {
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"));
        let explicit = path.is_some();
        let path = path.unwrap_or(raw);
        let looks_like_pairs =
            !explicit && path.contains('=') && path.contains(char::is_whitespace);
        if path.is_empty() || path.contains("://") || path == ":memory:" || looks_like_pairs {
            return Err(StoreError::UnsupportedUrl(redact(raw)));
        }
        let main = PathBuf::from(path);
        let readmodels = readmodels_path(&main);
        Ok(DatabaseUrl::Sqlite { main, readmodels })
    }
}

/// Whether `raw` starts like libpq keyword/value pairs: a libpq keyword, then `=`.
fn is_keyword_value(raw: &str) -> bool {
    let Some((keyword, _)) = raw.split_once('=') else {
        return false;
    };
    LIBPQ_KEYWORDS.contains(&keyword.trim_end())
}

fn readmodels_path(main: &Path) -> PathBuf {
    let stem = main
        .file_stem()
        .map_or_else(|| "readmodel".into(), |s| s.to_string_lossy().into_owned());
    main.with_file_name(format!("{stem}.readmodels.db"))
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite { main, readmodels } => write!(
                f,
                "sqlite://{} (read models in {})",
                main.display(),
                readmodels.display()
            ),
            DatabaseUrl::Postgres(raw) => f.write_str(&redact(raw)),
        }
    }
}

/// Replaces the passwords of a database URL or keyword/value string (userinfo,
/// `password=` and `sslpassword=` parameters, quoted or not) by `***`.
///
/// ```
/// use readmodel_runtime::store::redact;
/// assert_eq!(redact("postgres://app:s3cret@db/x"), "postgres://app:***@db/x");
/// assert_eq!(redact("postgres://db/x?password=s3cret&sslmode=off"), "postgres://db/x?password=***&sslmode=off");
/// assert_eq!(redact("host=db password = 'a b\\' c' user=app"), "host=db password = *** user=app");
/// ```
pub fn redact(raw: &str) -> String {
    let mut redacted = String::with_capacity(raw.len());
    let mut copied = 0;
    for span in password_spans(raw) {
        redacted.push_str(&raw[copied..span.start]);
        redacted.push_str("***");
        copied = span.end;
    }
    redacted.push_str(&raw[copied..]);
    redacted
}

/// The byte ranges of every password in `raw`, in order: a URL's userinfo password, and
/// the values of `password` / `sslpassword` parameters (URL query or keyword/value pairs,
/// single-quoted values with their quotes).
fn password_spans(raw: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    if let Some(scheme_end) = raw.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = raw[rest_start..]
            .find(['/', '?'])
            .map_or(raw.len(), |i| rest_start + i);
        if let Some(at) = raw[rest_start..authority_end].rfind('@') {
            let userinfo = &raw[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                spans.push(rest_start + colon + 1..rest_start + at);
            }
        }
    }
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        let at_boundary = i == 0 || matches!(bytes[i - 1], b'?' | b'&' | b' ' | b'\t' | b'\n');
        let keyword = ["sslpassword", "password"]
            .into_iter()
            .find(|k| raw[i..].starts_with(k));
        match keyword.filter(|_| at_boundary) {
            Some(keyword) => match parameter_value(raw, i + keyword.len()) {
                Some(value) => {
                    i = value.end.max(i + 1);
                    spans.push(value);
                }
                None => i += keyword.len(),
            },
            None => i += raw[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    spans.sort_by_key(|s| s.start);
    spans.dedup_by(|b, a| b.start < a.end);
    spans
}

/// The value of a parameter whose keyword ends at `after`: `= value`, `=value`,
/// `= 'quoted \' value'`; `None` when no `=` follows.
fn parameter_value(raw: &str, after: usize) -> Option<Range<usize>> {
    let rest = &raw[after..];
    let eq = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    if !rest[eq..].starts_with('=') {
        return None;
    }
    let value = rest[eq + 1..].trim_start_matches([' ', '\t']);
    let start = raw.len() - value.len();
    let len = match value.strip_prefix('\'') {
        Some(quoted) => {
            let mut escaped = false;
            let close = quoted.char_indices().find(|&(_, c)| {
                let closes = c == '\'' && !escaped;
                escaped = c == '\\' && !escaped;
                closes
            });
            close.map_or(value.len(), |(j, _)| j + 2)
        }
        None => value.find(['&', ' ', '\t', '\n']).unwrap_or(value.len()),
    };
    Some(start..start + len)
}

/// Every form in which a URL's passwords (userinfo and `password=` parameters) could be
/// echoed by a driver: as written, unquoted, and percent-decoded.
pub(crate) fn passwords(raw: &str) -> Vec<String> {
    let mut found: Vec<String> = password_spans(raw)
        .into_iter()
        .map(|span| raw[span].to_owned())
        .collect();
    let unquoted: Vec<String> = found
        .iter()
        .filter_map(|p| p.strip_prefix('\'').map(|q| q.trim_end_matches('\'')))
        .map(|p| p.replace("\\'", "'").replace("\\\\", "\\"))
        .collect();
    found.extend(unquoted);
    let decoded: Vec<String> = found.iter().map(|p| percent_decode(p)).collect();
    found.extend(decoded);
    found.retain(|p| !p.is_empty());
    found.sort_by_key(|p| std::cmp::Reverse(p.len()));
    found.dedup();
    found
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Replaces every form of the URL's passwords in `message` by `***`.
pub(crate) fn scrub(raw: &str, message: &str) -> String {
    passwords(raw)
        .iter()
        .fold(message.to_owned(), |text, secret| {
            text.replace(secret.as_str(), "***")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_are_sqlite_files_with_a_readmodels_sibling() {
        let url = DatabaseUrl::parse("/tmp/x/app.db").expect("valid");
        assert_eq!(
            url,
            DatabaseUrl::Sqlite {
                main: "/tmp/x/app.db".into(),
                readmodels: "/tmp/x/app.readmodels.db".into()
            }
        );
    }

    #[test]
    fn passwords_never_survive_redaction() {
        let raw = "postgresql://u:p%40ss@h:5432/d?host=/tmp&password=other";
        assert_eq!(
            redact(raw),
            "postgresql://u:***@h:5432/d?host=/tmp&password=***"
        );
        assert_eq!(
            scrub(raw, "auth failed for p%40ss / p@ss / other"),
            "auth failed for *** / *** / ***"
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
    }

    #[test]
    fn keyword_value_strings_are_postgres_and_never_file_names() {
        let raw = "host=/run/pg port=5433 dbname=app password=S3cret";
        assert_eq!(
            DatabaseUrl::parse(raw).expect("valid"),
            DatabaseUrl::Postgres(raw.to_owned())
        );
        assert_eq!(
            DatabaseUrl::parse(raw).expect("valid").to_string(),
            "host=/run/pg port=5433 dbname=app password=***"
        );
        let quoted = "dbname = app password = 'S3 \\'cret' user=me";
        assert_eq!(redact(quoted), "dbname = app password = *** user=me");
        assert!(passwords(quoted).contains(&"S3 'cret".to_owned()));
        assert_eq!(redact("host=h sslpassword=k3y"), "host=h sslpassword=***");
        // Pairs that are not libpq's are refused, the password hidden.
        let error = DatabaseUrl::parse("server=db secret=1 password=S3cret")
            .expect_err("refused")
            .to_string();
        assert!(!error.contains("S3cret"), "{error}");
        assert!(error.contains("password=***"), "{error}");
        // A file name with `=` but no space, or given as sqlite:, is still a file.
        assert!(matches!(
            DatabaseUrl::parse("runs/a=b.db"),
            Ok(DatabaseUrl::Sqlite { .. })
        ));
        assert!(matches!(
            DatabaseUrl::parse("sqlite:my db=1.db"),
            Ok(DatabaseUrl::Sqlite { .. })
        ));
    }
}
