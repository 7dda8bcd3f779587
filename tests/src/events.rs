//! Hand-written events for `replay import`, and deterministic pseudo-random numbers.

/// The user of hand-written events.
pub const USER: &str = "0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
/// The habit of hand-written check-ins.
pub const HABIT: &str = "6f0c2a52-7d1b-4a53-9a4e-0a4b8f1a0c01";

/// One event line for `replay import`.
pub fn event_line(
    stream: &str,
    version: i64,
    event_type: &str,
    schema: i32,
    payload: &str,
) -> String {
    format!(
        r#"{{"stream_id":"{stream}","event_version":{version},"event_type":"{event_type}","schema_version":{schema},"user_id":"{USER}","occurred_at":"2026-03-01T07:30:00Z","payload":{payload}}}"#
    )
}

/// The payload of a `habits.checked_in` event.
pub fn check_in_payload(habit: &str, day: &str) -> String {
    format!(r#"{{"habit_id":"{habit}","day":"{day}"}}"#)
}

/// A stream id no generated event uses (`n` tells test streams apart).
pub fn stream(n: u32) -> String {
    format!("7e57{n:04x}-0000-4000-8000-000000000000")
}

/// SplitMix64: deterministic pseudo-random numbers from a fixed seed.
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}
