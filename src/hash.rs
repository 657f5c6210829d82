//! Hashing helpers shared by the compiled policy index and the request context: a
//! fast non-cryptographic hasher and the hashes under which keys are stored. Lowest
//! layer: imports nothing of the crate.

use std::hash::Hasher;

/// A small, fast, non-cryptographic hasher (rustc's Fx) for the compile-time resource
/// index: keys come from trusted policies, lookups from requests.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    /// The hash of `bytes` from a fresh hasher.
    pub fn hash_bytes(bytes: &[u8]) -> u64 {
        let mut h = FxHasher::default();
        h.write(bytes);
        h.finish()
    }
}

/// FNV-1a over ASCII-lowercased bytes: a case-insensitive hash without allocation.
pub fn ci_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The hash under which a lowercased context key is stored (compiled conditions
/// precompute it).
pub fn key_hash(lower: &str) -> u64 {
    FxHasher::hash_bytes(lower.as_bytes())
}
