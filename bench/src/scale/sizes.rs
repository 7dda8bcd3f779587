//! `--scale` sizes: `1M,10M`, `250k`, `10000000`, `2.5M`; and how each size's log is
//! generated.

use std::fmt;

use readmodel_runtime::GenerateSpec;

/// Events in one generation of a log whose size is a multiple of it.
pub const GENERATION: u64 = 1_000_000;

/// Why a `--scale` list was refused; one line naming the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SizeError {
    /// The token is not a positive number of events.
    NotASize(String),
    /// The token names a size given before.
    Repeated {
        /// The token as given.
        token: String,
        /// Its number of events.
        events: u64,
    },
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeError::NotASize(token) => write!(
                f,
                "--scale: {token:?} is not a size (expected e.g. 1M, 250k, 10000000)"
            ),
            SizeError::Repeated { token, events } => write!(
                f,
                "--scale: {token:?} repeats a size given before ({events} events)"
            ),
        }
    }
}

impl std::error::Error for SizeError {}

/// Parses a comma list of sizes (`k` = 1,000, `M` = 1,000,000; a fraction must give
/// whole events), smallest first.
pub fn parse_sizes(list: &str) -> Result<Vec<u64>, SizeError> {
    let mut sizes: Vec<u64> = Vec::new();
    for token in list.split(',').map(str::trim) {
        let events = parse_size(token).ok_or_else(|| SizeError::NotASize(token.to_owned()))?;
        if sizes.contains(&events) {
            return Err(SizeError::Repeated {
                token: token.to_owned(),
                events,
            });
        }
        sizes.push(events);
    }
    sizes.sort_unstable();
    Ok(sizes)
}

fn parse_size(token: &str) -> Option<u64> {
    let (number, unit) = match token.as_bytes().last()? {
        b'k' | b'K' => (&token[..token.len() - 1], 1_000),
        b'M' => (&token[..token.len() - 1], 1_000_000),
        _ => (token, 1),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (number.contains('.') && !digits(fraction)) {
        return None;
    }
    let mut events = whole.parse::<u64>().ok()?.checked_mul(unit)?;
    if !fraction.is_empty() {
        let scale = 10u64.checked_pow(u32::try_from(fraction.len()).ok()?)?;
        let part = fraction.parse::<u64>().ok()?.checked_mul(unit)?;
        if part % scale != 0 {
            return None;
        }
        events = events.checked_add(part / scale)?;
    }
    (events > 0).then_some(events)
}

/// `10M`, `250k`, or the plain number.
pub fn show_size(events: u64) -> String {
    if events % 1_000_000 == 0 {
        format!("{}M", events / 1_000_000)
    } else if events % 1_000 == 0 {
        format!("{}k", events / 1_000)
    } else {
        events.to_string()
    }
}

/// The generations appended, in order, for a log of `events`: as docs/PERFORMANCE.md
/// builds 10M, one generation of [`GENERATION`] events per million with seeds 1, 2, …
/// (so a smaller multiple's log is a prefix of a larger one's); one generation of
/// `events` with seed 1 otherwise.
pub fn generations(events: u64, users: u32) -> Vec<GenerateSpec> {
    if events % GENERATION == 0 {
        (1..=events / GENERATION)
            .map(|seed| GenerateSpec {
                users,
                events: GENERATION,
                seed,
            })
            .collect()
    } else {
        vec![GenerateSpec {
            users,
            events,
            seed: 1,
        }]
    }
}
