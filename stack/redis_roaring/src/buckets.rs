//! Small number sets kept as fields of bucket hashes, free of Redis: the bucket a name falls in and the packed form
//! of a set's numbers (what RBM.BUCKET and the index's writes compute, testable with `cargo test`).
//!
//! A facet index's number set (`{ns}:k:*`, `tr:*`, `mr:*`) of fewer than BUCKET_MAX numbers has no key of its own:
//! it is the field `k:*` (its key without the namespace) of the hash `{ns}:sb:{bucket_of(field)}`, holding its
//! numbers as little-endian u32s in ascending order. Most sets are an artist's or a label's one to three releases or
//! videos, and a key of its own costs ~100 bytes before its first number, a listpack field ~10. A set reaching
//! BUCKET_MAX numbers moves to its own key (a SET, a roaring bitmap from ROARING_MIN numbers on) and its field holds
//! `""` until that key empties.

use sha1_smol::Sha1;

/// Numbers from which a set leaves its bucket for a key of its own.
pub const BUCKET_MAX: usize = 16;

/// Numbers from which a set's own key is a roaring bitmap rather than a SET: Redis keeps a SET of up to
/// set-max-intset-entries (512) numbers as an intset, ~5 bytes a member, and past that as a hash table, ~45.
/// MEMORY USAGE of 511 random numbers: intset 2.6 KB, roaring 1.3 KB in a space of 250k numbers and 11 KB in one of
/// 20M; of 1,024, a hash-table SET 41-49 KB, roaring 2.3-14 KB. And a query ANDs and ORs roaring bitmaps in the
/// module but copies a SET's members into Lua.
pub const ROARING_MIN: usize = 512;

/// One of 131,072 buckets, the first 17 bits of the name's SHA-1: a fixed function, so a name keeps its bucket
/// whatever the index's size (~200 fields a bucket at the full catalogue's ~25M small sets, each a listpack).
pub fn bucket_of(name: &[u8]) -> u32 {
    let digest = Sha1::from(name).digest().bytes();
    (u32::from(digest[0]) << 16 | u32::from(digest[1]) << 8 | u32::from(digest[2])) >> 7
}

/// The numbers of a packed field (a trailing partial number, which no writer makes, is ignored).
pub fn unpack(packed: &[u8]) -> Vec<u32> {
    packed.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

pub fn pack(numbers: &[u32]) -> Vec<u8> {
    numbers.iter().flat_map(|n| n.to_le_bytes()).collect()
}

/// The numbers of a packed field after removing `rems` and adding `adds`, ascending and distinct.
pub fn merged(packed: &[u8], rems: &[u32], adds: &[u32]) -> Vec<u32> {
    let mut numbers = unpack(packed);
    numbers.retain(|n| !rems.contains(n));
    numbers.extend_from_slice(adds);
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_is_the_first_17_bits_of_sha1() {
        // SHA-1("abc") = a9993e36...: 0xa9993 (first 20 bits) / 8 = 86322.
        assert_eq!(bucket_of(b"abc"), 0xa9993 / 8);
        // SHA-1("") = da39a3ee...
        assert_eq!(bucket_of(b""), 0xda39a / 8);
        assert!((0..1000).all(|n| bucket_of(format!("k:v:0:label:{n}").as_bytes()) < 131_072));
    }

    #[test]
    fn pack_round_trip_is_little_endian() {
        assert_eq!(pack(&[1, 256]), vec![1, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(unpack(&pack(&[7, u32::MAX, 0])), vec![7, u32::MAX, 0]);
        assert_eq!(unpack(b""), Vec::<u32>::new());
    }

    #[test]
    fn merged_removes_then_adds_sorted_and_distinct() {
        let packed = pack(&[3, 9, 12]);
        assert_eq!(merged(&packed, &[9], &[1, 12, 20]), vec![1, 3, 12, 20]);
        assert_eq!(merged(&packed, &[3, 9, 12], &[]), Vec::<u32>::new());
        assert_eq!(merged(b"", &[5], &[5]), vec![5]);
    }
}
