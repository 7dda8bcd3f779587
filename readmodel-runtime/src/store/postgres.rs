//! PostgreSQL: the event log in the connection's search path, read models in schema
//! `readmodels`.

use diesel::{Connection, PgConnection, RunQueryDsl};

use super::url::{password, redact};
use crate::error::StoreError;

pub(super) fn open(raw: &str) -> Result<PgConnection, StoreError> {
    let scrub = |message: String| match password(raw) {
        Some(secret) => message.replace(&secret, "***"),
        None => message,
    };
    let mut conn = PgConnection::establish(raw).map_err(|e| StoreError::Connect {
        target: redact(raw),
        reason: scrub(e.to_string().trim().replace('\n', " ")),
    })?;
    diesel::sql_query("SET client_min_messages = warning")
        .execute(&mut conn)
        .map_err(StoreError::query("configuring the session"))?;
    Ok(conn)
}
