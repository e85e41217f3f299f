//! Maps keyed by ids a provider hands out itself, in sequence (calls,
//! far parties): the SDK's call table and [`crate::parties`] keep their
//! records in one.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map from ids allocated in sequence and never reused (calls, remote
/// parties) to their records.
pub type SeqMap<K, V> = HashMap<K, V, BuildHasherDefault<SeqHasher>>;

/// Hashes an id to itself in the low bits, where hashbrown takes the bucket
/// from, so neighbouring ids sit in neighbouring buckets: a cascade reaches
/// its calls and parties in id order and so walks memory in order, where a
/// mixing hash scattered them and at 10 000 parties missed the cache on
/// every lookup. The top 7 bits, from which hashbrown takes each entry's
/// control tag, are mixed so that the tags of neighbouring ids still differ.
///
/// Safe only for ids the map's owner allocates itself: nobody else chooses them, so
/// nobody can pick keys that pile into one bucket (which a keyed hash such
/// as SipHash exists to prevent), and a run of live sequential ids falls
/// into distinct buckets.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeqHasher(u64);

impl Hasher for SeqHasher {
    fn finish(&self) -> u64 {
        const TAG_BITS: u64 = 0xFE00_0000_0000_0000;
        self.0 ^ (self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) & TAG_BITS)
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Ids hash through `write_u64`; this only keeps any other key type
        // correct (equal keys, equal hashes), not fast.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }
}
