//! Parsing `--database-url` and keeping passwords out of every message.

use std::fmt;
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
    /// A PostgreSQL connection URL (libpq syntax).
    Postgres(String),
}

impl DatabaseUrl {
    /// The embedded default: `readmodel.db` in the working directory.
    pub const DEFAULT: &'static str = "readmodel.db";

    /// Parses `postgres://…`, `postgresql://…`, `sqlite://PATH`, `sqlite:PATH` or a plain path.
    ///
    /// ```
    /// use readmodel_runtime::store::DatabaseUrl;
    /// let url = DatabaseUrl::parse("sqlite://data/app.db").unwrap();
    /// assert_eq!(url.to_string(), "sqlite://data/app.db (read models in data/app.readmodels.db)");
    /// ```
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() || path.contains("://") || path == ":memory:" {
            return Err(StoreError::UnsupportedUrl(redact(raw)));
        }
        let main = PathBuf::from(path);
        let readmodels = readmodels_path(&main);
        Ok(DatabaseUrl::Sqlite { main, readmodels })
    }
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

/// Replaces the password of a database URL (userinfo or `password=` parameter) by `***`.
///
/// ```
/// use readmodel_runtime::store::redact;
/// assert_eq!(redact("postgres://app:s3cret@db/x"), "postgres://app:***@db/x");
/// assert_eq!(redact("postgres://db/x?password=s3cret&sslmode=off"), "postgres://db/x?password=***&sslmode=off");
/// ```
pub fn redact(raw: &str) -> String {
    let mut out = raw.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest_start + colon + 1..rest_start + at, "***");
            }
        }
    }
    let mut redacted = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(i) = rest.find("password=") {
        let value_start = i + "password=".len();
        redacted.push_str(&rest[..value_start]);
        redacted.push_str("***");
        let value_end = rest[value_start..]
            .find(['&', ' '])
            .map_or(rest.len(), |j| value_start + j);
        rest = &rest[value_end..];
    }
    redacted.push_str(rest);
    redacted
}

/// Every form in which a URL's passwords (userinfo and `password=` parameters) could be
/// echoed by a driver: as written and percent-decoded.
pub(crate) fn passwords(raw: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(start) = raw.find("://") {
        let rest = &raw[start + 3..];
        let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
        if let Some(userinfo) = authority.rfind('@').map(|at| &authority[..at]) {
            if let Some(colon) = userinfo.find(':') {
                found.push(userinfo[colon + 1..].to_owned());
            }
        }
    }
    let mut rest = raw;
    while let Some(i) = rest.find("password=") {
        let value = &rest[i + "password=".len()..];
        let end = value.find(['&', ' ']).unwrap_or(value.len());
        found.push(value[..end].to_owned());
        rest = &value[end..];
    }
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
}
