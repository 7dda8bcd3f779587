//! A model's code fingerprint: which code its rows are a function of, besides the log.
//!
//! `#[derive(ReadModel)]`, `#[handlers]` and `#[derive(DomainEvent)]` each digest their
//! declaration when they expand (SHA-256 of its tokens in a normal form: formatting and
//! comments do not count; see the macros crate's `fingerprint` module). The model's
//! contract combines, at compile time, in this order:
//!
//! 1. its declaration: the `#[read_model(..)]` attribute, the struct's name and fields
//!    with their types and attributes;
//! 2. its `#[handlers]` block, every function and constant in it;
//! 3. each consumed event's declaration, in `events = [..]` order: its fields and types,
//!    its `#[event(..)]` (type string, schema version, the upcast it names) and serde
//!    attributes.
//!
//! The fingerprint is the first 8 bytes of SHA-256 over `readmodel fingerprint 1\n`
//! followed by each part's digest and a newline, as 16 lowercase hex digits.
//!
//! It cannot see code outside these declarations: a function the handlers call in another
//! module, the body of an upcast function, a dependency's behaviour. `replay verify`
//! (rebuild and compare with the live rows) covers those.

use std::fmt;

/// A model's code fingerprint: 16 lowercase hex digits (see the module's documentation).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 16]);

const DOMAIN: &[u8] = b"readmodel fingerprint 1\n";
const HEX: &[u8; 16] = b"0123456789abcdef";

impl Fingerprint {
    /// The fingerprint of `parts` (the digests of a model's declaration, handlers and
    /// events, in that order). A `const fn`: the derive computes it at compile time.
    pub const fn of(parts: &[&str]) -> Self {
        let mut hash = Sha256::new().update(DOMAIN);
        let mut i = 0;
        while i < parts.len() {
            hash = hash.update(parts[i].as_bytes()).update(b"\n");
            i += 1;
        }
        let digest = hash.finish();
        let mut hex = [0u8; 16];
        let mut j = 0;
        while j < 8 {
            hex[2 * j] = HEX[(digest[j] >> 4) as usize];
            hex[2 * j + 1] = HEX[(digest[j] & 0x0f) as usize];
            j += 1;
        }
        Fingerprint(hex)
    }

    /// The 16 hex digits.
    pub fn as_str(&self) -> &str {
        // Only hex digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.as_str())
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// SHA-256 (FIPS 180-4) as `const fn`s, for fingerprints computed at compile time.
#[derive(Clone, Copy)]
struct Sha256 {
    state: [u32; 8],
    block: [u8; 64],
    filled: usize,
    length: u64,
}

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

impl Sha256 {
    const fn new() -> Self {
        Sha256 {
            state: [
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                0x5be0cd19,
            ],
            block: [0; 64],
            filled: 0,
            length: 0,
        }
    }

    const fn update(mut self, bytes: &[u8]) -> Self {
        let mut i = 0;
        while i < bytes.len() {
            self = self.push(bytes[i]);
            i += 1;
        }
        self.length += bytes.len() as u64;
        self
    }

    const fn push(mut self, byte: u8) -> Self {
        self.block[self.filled] = byte;
        self.filled += 1;
        if self.filled == 64 {
            self.state = compress(self.state, &self.block);
            self.filled = 0;
        }
        self
    }

    const fn finish(mut self) -> [u8; 32] {
        let bits = self.length.wrapping_mul(8).to_be_bytes();
        self = self.push(0x80);
        while self.filled != 56 {
            self = self.push(0);
        }
        let mut i = 0;
        while i < 8 {
            self = self.push(bits[i]);
            i += 1;
        }
        let mut out = [0u8; 32];
        let mut word = 0;
        while word < 8 {
            let bytes = self.state[word].to_be_bytes();
            let mut b = 0;
            while b < 4 {
                out[4 * word + b] = bytes[b];
                b += 1;
            }
            word += 1;
        }
        out
    }
}

const fn compress(state: [u32; 8], block: &[u8; 64]) -> [u32; 8] {
    let mut w = [0u32; 64];
    let mut t = 0;
    while t < 16 {
        let i = 4 * t;
        w[t] = u32::from_be_bytes([block[i], block[i + 1], block[i + 2], block[i + 3]]);
        t += 1;
    }
    while t < 64 {
        let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
        let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16]
            .wrapping_add(s0)
            .wrapping_add(w[t - 7])
            .wrapping_add(s1);
        t += 1;
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = state;
    t = 0;
    while t < 64 {
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let choice = (e & f) ^ (!e & g);
        let t1 = h
            .wrapping_add(s1)
            .wrapping_add(choice)
            .wrapping_add(K[t])
            .wrapping_add(w[t]);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let majority = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(majority);
        h = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
        t += 1;
    }
    [
        state[0].wrapping_add(a),
        state[1].wrapping_add(b),
        state[2].wrapping_add(c),
        state[3].wrapping_add(d),
        state[4].wrapping_add(e),
        state[5].wrapping_add(f),
        state[6].wrapping_add(g),
        state[7].wrapping_add(h),
    ]
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256 as Reference};

    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The const SHA-256 agrees with the `sha2` crate on lengths around every padding
    /// boundary (55, 56, 63, 64 bytes…) and across several blocks.
    #[test]
    fn the_const_sha256_is_sha256() {
        for length in (0..200).chain([1000, 4096]) {
            let bytes: Vec<u8> = (0..length).map(|i| (i * 31 % 251) as u8).collect();
            let ours = Sha256::new().update(&bytes).finish();
            assert_eq!(
                hex(&ours),
                hex(&Reference::digest(&bytes)),
                "length {length}"
            );
        }
        // Updates in pieces give the digest of the whole.
        let whole = Sha256::new().update(b"abcdefgh").finish();
        let pieces = Sha256::new()
            .update(b"abc")
            .update(b"")
            .update(b"defgh")
            .finish();
        assert_eq!(whole, pieces);
    }

    /// The documented construction, recomputed with the reference implementation.
    #[test]
    fn a_fingerprint_is_the_documented_prefix() {
        let parts = ["declaration", "handlers", "event"];
        let text = "readmodel fingerprint 1\ndeclaration\nhandlers\nevent\n";
        let expected = &hex(&Reference::digest(text.as_bytes()))[..16];
        assert_eq!(Fingerprint::of(&parts).as_str(), expected);
        const AT_COMPILE_TIME: Fingerprint = Fingerprint::of(&["declaration", "handlers", "event"]);
        assert_eq!(AT_COMPILE_TIME, Fingerprint::of(&parts));
        assert_eq!(AT_COMPILE_TIME.to_string().len(), 16);
    }

    #[test]
    fn every_part_and_its_place_count() {
        let base = Fingerprint::of(&["a", "b", "c"]);
        assert_ne!(base, Fingerprint::of(&["a", "b", "d"]));
        assert_ne!(base, Fingerprint::of(&["b", "a", "c"]));
        assert_ne!(base, Fingerprint::of(&["a", "bc"]));
    }
}
