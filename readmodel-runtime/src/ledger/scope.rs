//! Which part of a model a run covers, stored as text in `replay_checkpoints.scope` and
//! `replay_runs.scope`.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// The part of a model version a run rebuilds or catches up.
///
/// Stored and shown as `all`, `user:<uuid>`, `range:<from>-<to>[:user:<uuid>]` or
/// `partition:<index>/<of>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole model: the model version's own checkpoint.
    All,
    /// One user's rows.
    User(Uuid),
    /// The rows of events `from..=to`, of one user with `user`.
    Range {
        /// First event id.
        from: i64,
        /// Last event id.
        to: i64,
        /// Only this user's events and rows.
        user: Option<Uuid>,
    },
    /// The rows of the users whose partition (see `replay::partition`) is `index` of
    /// `of`: the checkpoint of one worker's share of a partitioned model.
    Partition {
        /// The partition, `0..of`.
        index: u32,
        /// How many partitions the model is split into.
        of: u32,
    },
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("all"),
            Scope::User(user) => write!(f, "user:{user}"),
            Scope::Range { from, to, user } => {
                write!(f, "range:{from}-{to}")?;
                match user {
                    Some(user) => write!(f, ":user:{user}"),
                    None => Ok(()),
                }
            }
            Scope::Partition { index, of } => write!(f, "partition:{index}/{of}"),
        }
    }
}

/// Stored scope text that is none of the three forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}: expected all, user:<uuid>, range:<from>-<to>[:user:<uuid>] or partition:<index>/<of>")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(text: &str) -> Result<Self, UnknownScope> {
        let unknown = || UnknownScope(text.to_owned());
        if text == "all" {
            return Ok(Scope::All);
        }
        if let Some(user) = text.strip_prefix("user:") {
            return user.parse().map(Scope::User).map_err(|_| unknown());
        }
        if let Some(partition) = text.strip_prefix("partition:") {
            let (index, of) = partition.split_once('/').ok_or_else(unknown)?;
            let (index, of) = (
                index.parse().map_err(|_| unknown())?,
                of.parse().map_err(|_| unknown())?,
            );
            if index >= of {
                return Err(unknown());
            }
            return Ok(Scope::Partition { index, of });
        }
        let range = text.strip_prefix("range:").ok_or_else(unknown)?;
        let (bounds, user) = match range.split_once(":user:") {
            Some((bounds, user)) => (bounds, Some(user.parse().map_err(|_| unknown())?)),
            None => (range, None),
        };
        let (from, to) = bounds.split_once('-').ok_or_else(unknown)?;
        Ok(Scope::Range {
            from: from.parse().map_err(|_| unknown())?,
            to: to.parse().map_err(|_| unknown())?,
            user,
        })
    }
}

impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_reads_back_from_its_stored_text() {
        let user = Uuid::from_u128(7);
        let scopes = [
            (Scope::All, "all".to_owned()),
            (Scope::User(user), format!("user:{user}")),
            (
                Scope::Range {
                    from: 3,
                    to: 9,
                    user: None,
                },
                "range:3-9".to_owned(),
            ),
            (
                Scope::Range {
                    from: 3,
                    to: 9,
                    user: Some(user),
                },
                format!("range:3-9:user:{user}"),
            ),
            (
                Scope::Partition { index: 3, of: 16 },
                "partition:3/16".to_owned(),
            ),
        ];
        for (scope, text) in scopes {
            assert_eq!(scope.to_string(), text);
            assert_eq!(text.parse::<Scope>(), Ok(scope));
        }
        assert!("range:3".parse::<Scope>().is_err());
        assert!("users".parse::<Scope>().is_err());
        assert!("partition:16/16".parse::<Scope>().is_err());
        assert!("partition:3".parse::<Scope>().is_err());
    }
}
