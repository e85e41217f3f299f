//! Hashing for the host's maps keyed by ids: its own handles and requests,
//! and the call ids providers choose.

use std::{
    collections::HashMap,
    hash::{BuildHasherDefault, Hasher},
};

/// A map keyed by ids (see [`IdHasher`]).
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A hash for ids that keeps runs of ids issued one after another
/// together in the table, and still spreads ids that share their low bits.
///
/// A cascade reports its calls in the order they were made, which for
/// most providers is id order: with a mixing hash (SipHash, Fx) every
/// lookup lands at a random place in the table, and once a cascade's data
/// outgrows the L2 cache (10 000 calls) each one is a miss. Here an id's
/// block of 16 (the id without its low 4 bits) is hashed by a multiply,
/// which places the block, and the id's low 4 bits pick a bucket inside
/// it: the 16 ids of a block fill 16 neighbouring buckets, so a run of
/// ids costs one random access per 16 rather than one each. The block's
/// hash is also folded into the low 4 bits, so ids that are all multiples
/// of 16, 64 or 4096 (counters in steps, pointer-like ids) still spread
/// over the table. The top 7 bits, which hashbrown keeps as each entry's
/// tag, come from the whole id, so the tags within a block differ.
///
/// This is not a keyed hash: it is for ids from the host itself and from
/// providers, code running in this process, not for input an attacker
/// chooses.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    #[inline]
    fn finish(&self) -> u64 {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        const TAG_BITS: u64 = 0xFE00_0000_0000_0000;
        let id = self.0;
        // The multiply's high half depends on every bit of the block.
        let block = (id >> 4).wrapping_mul(K) >> 32;
        let low = (block & !15) | ((id ^ block) & 15);
        low | (id.wrapping_mul(K) & TAG_BITS)
    }

    #[inline]
    fn write_u64(&mut self, id: u64) {
        self.0 = self.0.rotate_left(32) ^ id;
    }

    #[inline]
    fn write_u32(&mut self, id: u32) {
        self.write_u64(u64::from(id));
    }

    fn write(&mut self, bytes: &[u8]) {
        // Every key here hashes through `write_u32`/`write_u64`; this only
        // keeps any other key type correct (equal keys, equal hashes).
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn bucket(key: impl Hash, buckets: u64) -> u64 {
        BuildHasherDefault::<IdHasher>::default().hash_one(key) & (buckets - 1)
    }

    fn distinct_buckets(keys: impl Iterator<Item = u64>, buckets: u64) -> usize {
        let mut seen: Vec<u64> = keys.map(|k| bucket(k, buckets)).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }

    #[test]
    fn ids_in_sequence_land_in_neighbouring_buckets() {
        for start in [0_u64, 64, 1 << 20, 7 << 40] {
            let mut buckets: Vec<u64> = (start..start + 16).map(|id| bucket(id, 1 << 14)).collect();
            buckets.sort_unstable();
            assert_eq!(
                buckets[15] - buckets[0],
                15,
                "the 16 ids of the block at {start} fill 16 neighbouring buckets"
            );
        }
    }

    #[test]
    fn ids_sharing_their_low_bits_still_spread() {
        for step in [1_u64, 8, 16, 64, 4096, 1 << 16, 1 << 32] {
            let keys = (1..=4096_u64).map(|i| i * step);
            let distinct = distinct_buckets(keys, 8192);
            assert!(
                distinct >= 4096 / 2,
                "step {step}: {distinct} distinct buckets of 4096 ids"
            );
        }
    }

    #[test]
    fn a_provider_and_a_call_hash_as_one_id() {
        // Two providers' call 1 must not share a bucket.
        assert_ne!(
            bucket((0_u32, 1_u64), 1 << 10),
            bucket((1_u32, 1_u64), 1 << 10)
        );
    }
}
