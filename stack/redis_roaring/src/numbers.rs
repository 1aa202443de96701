//! Number-set operations on roaring bitmaps (CRoaring, through the `croaring` crate), free of Redis: what the
//! commands compute, testable with `cargo test`.

use std::borrow::Borrow;

use croaring::{Bitmap, Portable};

/// Bytes a container costs beyond its values: its key, type and pointer in the bitmap's arrays, its own header and
/// the allocation headers of both.
const CONTAINER_OVERHEAD: usize = 40;

/// A member number from a command argument: decimal, 0 ..= u32::MAX (numbers in the index are dense, from 1).
pub fn parse_number(arg: &[u8]) -> Result<u32, &'static str> {
    std::str::from_utf8(arg)
        .ok()
        .and_then(|text| text.parse::<u32>().ok())
        .ok_or("ERR number is not an integer in 0..4294967295")
}

/// Adds the numbers, returns how many were not there yet.
pub fn add_all(set: &mut Bitmap, numbers: &[u32]) -> u64 {
    let before = set.cardinality();
    set.add_many(numbers);
    set.cardinality() - before
}

/// Removes the numbers, returns how many were there.
pub fn remove_all(set: &mut Bitmap, numbers: &[u32]) -> u64 {
    let before = set.cardinality();
    set.remove_many(numbers);
    before - set.cardinality()
}

/// The intersection of the sets (a missing key is an empty set). Roaring intersects container by container, so the
/// cost follows the containers the sets share, not the number space; starting from the smallest set keeps every
/// step as small as the result so far.
pub fn and_all(sets: &[Option<&Bitmap>]) -> Bitmap {
    let Some(mut present) = sets.iter().copied().collect::<Option<Vec<&Bitmap>>>() else {
        return Bitmap::new();
    };
    present.sort_by_key(|set| set.cardinality());
    let Some((smallest, rest)) = present.split_first() else {
        return Bitmap::new();
    };
    let mut result = (*smallest).clone();
    for set in rest {
        if result.is_empty() {
            break;
        }
        result.and_inplace(set);
    }
    result
}

/// The union of the sets (a missing key adds nothing).
pub fn or_all(sets: &[Option<&Bitmap>]) -> Bitmap {
    let present: Vec<&Bitmap> = sets.iter().flatten().copied().collect();
    union(&present)
}

/// The union of the sets, ORed into a new set one at a time, smallest first: every step exact. Not CRoaring's unions
/// of many sets (`fast_or`, `fast_or_heap`), which are lazy: they make each block of over 1,024 numbers an 8 KB bitset
/// and at the end each one of fewer than 4,096 an array again, and most sets a query ORs are sparse (owner ranks past
/// the first, a label's or an artist's), so those conversions cost more than the union (paired at 4M, the heap union
/// took 1.04-1.17x this one's time).
pub fn union(sets: &[&Bitmap]) -> Bitmap {
    match sets {
        [] => Bitmap::new(),
        [one] => (*one).clone(),
        _ => {
            let mut sorted = sets.to_vec();
            sorted.sort_by_key(|set| set.cardinality());
            sorted[2..].iter().fold(sorted[0].or(sorted[1]), |out, set| out.or(set))
        }
    }
}

/// Whether at least half of the set's blocks are bitsets (over 4,096 numbers each).
fn mostly_bitsets(set: &Bitmap) -> bool {
    let stats = set.statistics();
    stats.n_bitset_containers * 2 >= stats.n_containers
}

/// The set of numbers gathered in any order, with repeats: sorted and deduplicated first, since a roaring bitmap takes
/// sorted numbers by appending, where scattered ones would cost a search each.
pub fn of_gathered(mut numbers: Vec<u32>) -> Bitmap {
    numbers.sort_unstable();
    numbers.dedup();
    Bitmap::of(&numbers)
}

/// A set that is either the caller's own, to change in place, or one held elsewhere, only to read.
pub trait MaybeOwned: Borrow<Bitmap> + From<Bitmap> + Sized {
    /// The set as a bitmap of its own when it is one, else itself back.
    fn owned(self) -> Result<Bitmap, Self>;
}

impl MaybeOwned for Bitmap {
    fn owned(self) -> Result<Bitmap, Self> {
        Ok(self)
    }
}

/// The union of owned sets, None when there is none: a single one is taken rather than copied. When the biggest is
/// owned and mostly bitsets (a broad query's first owner rank), the others are ORed into it in place: a bitset block
/// takes a sparse block's numbers as bits without allocating, where `union` rebuilds the sparse sets' arrays at each
/// step and copies the bitsets once more (paired at 4M, 3-8% off the mix's cold queries, 13-17% off the broadest).
/// Otherwise they are merged as `union` does: ORed into sparse blocks in place, they would grow one reallocation after
/// another (paired at 4M, 3-13% more per cold query).
pub fn union_owned<S: MaybeOwned>(mut sets: Vec<S>) -> Option<S> {
    if sets.len() <= 1 {
        return sets.pop();
    }
    let biggest = (0..sets.len()).max_by_key(|&at| sets[at].borrow().cardinality())?;
    if mostly_bitsets(sets[biggest].borrow()) {
        match sets.swap_remove(biggest).owned() {
            Ok(mut big) => {
                sets.iter().for_each(|set| big.or_inplace(set.borrow()));
                return Some(S::from(big));
            }
            Err(held) => sets.push(held),
        }
    }
    Some(S::from(union(&sets.iter().map(Borrow::borrow).collect::<Vec<_>>())))
}

/// `set` AND the union of `sets`, neither changed. When `set` is the smaller side it is ANDed with each of them and
/// those parts ORed (each AND costs about the smaller of its two sets); else the union is built and ANDed once.
pub fn and_union(set: &Bitmap, sets: &[&Bitmap]) -> Bitmap {
    match sets {
        [] => Bitmap::new(),
        [one] => set.and(one),
        _ if set.cardinality() * sets.len() as u64 <= total(sets) => {
            let parts: Vec<Bitmap> = sets.iter().map(|other| set.and(other)).collect();
            union(&parts.iter().collect::<Vec<_>>())
        }
        _ => set.and(&union(sets)),
    }
}

/// `set` AND the union of `sets`, as `and_union`; against one set, in place (no new blocks to allocate).
pub fn and_union_inplace(set: &mut Bitmap, sets: &[&Bitmap]) {
    match sets {
        [one] => set.and_inplace(one),
        _ => *set = and_union(set, sets),
    }
}

/// The union of `a` AND the union of `b`: the smaller side's union (a single set is not copied) meets the other's
/// sets as `and_union` does.
pub fn and_of_unions(a: &[&Bitmap], b: &[&Bitmap]) -> Bitmap {
    let (small, big) = if total(a) <= total(b) { (a, b) } else { (b, a) };
    match small {
        [] => Bitmap::new(),
        [one] => and_union(one, big),
        _ => and_union(&union(small), big),
    }
}

fn total(sets: &[&Bitmap]) -> u64 {
    sets.iter().map(|set| set.cardinality()).sum()
}

/// The first set minus every other one (a missing key is an empty set).
pub fn and_not_all(sets: &[Option<&Bitmap>]) -> Bitmap {
    let Some((Some(first), rest)) = sets.split_first() else {
        return Bitmap::new();
    };
    let mut result = (*first).clone();
    for set in rest.iter().flatten() {
        if result.is_empty() {
            break;
        }
        result.andnot_inplace(set);
    }
    result
}

/// The smallest number in both sets. Most sets checked share nothing, which CRoaring's intersect test finds block by
/// block (stopping at a first shared number); only then is the smaller set walked in ascending order to the first
/// number the other holds.
pub fn first_common(a: &Bitmap, b: &Bitmap) -> Option<u32> {
    if !a.intersect(b) {
        return None;
    }
    let (walked, other) = if a.cardinality() <= b.cardinality() { (a, b) } else { (b, a) };
    walked.iter().find(|&n| other.contains(n))
}

/// Membership of each number, in order.
pub fn contains_each(set: &Bitmap, numbers: &[u32]) -> Vec<bool> {
    numbers.iter().map(|&n| set.contains(n)).collect()
}

/// The smallest member >= offset (BITPOS key 1 offset in bits, for a plain bitmap).
pub fn next_at(set: &Bitmap, offset: u32) -> Option<u32> {
    let mut members = set.iter();
    members.reset_at_or_after(offset);
    members.next()
}

/// Redis' bit order: number n is bit 7 - n % 8 of byte n / 8 (as SETBIT, BITPOS and BITFIELD u1 see it).
pub fn to_redis_bitmap(set: &Bitmap) -> Vec<u8> {
    let Some(max) = set.maximum() else {
        return Vec::new();
    };
    let mut bytes = vec![0u8; max as usize / 8 + 1];
    for n in set.iter() {
        bytes[n as usize / 8] |= 0x80 >> (n % 8);
    }
    bytes
}

/// The numbers of a plain Redis bitmap (STRING set with SETBIT or BITOP).
pub fn from_redis_bitmap(bytes: &[u8]) -> Bitmap {
    let mut numbers = Vec::new();
    for (at, &byte) in bytes.iter().enumerate().filter(|(_, &byte)| byte != 0) {
        let base = u32::try_from(at * 8).expect("a Redis string holds at most 512 MB, 2^32 bits");
        numbers.extend((0..8).filter(|bit| byte & (0x80 >> bit) != 0).map(|bit| base + bit));
    }
    Bitmap::of(&numbers)
}

/// The portable roaring format (the one every roaring implementation reads): RDB values and AOF rewrites.
pub fn to_bytes(set: &Bitmap) -> Vec<u8> {
    set.serialize::<Portable>()
}

/// Reads the portable format, validating it (a corrupt payload is an error, never a malformed set).
pub fn from_bytes(bytes: &[u8]) -> Result<Bitmap, &'static str> {
    Bitmap::try_deserialize::<Portable>(bytes).ok_or("ERR not a serialized roaring bitmap")
}

/// Heap bytes of a set (for MEMORY USAGE): containers' headers and stores.
pub fn heap_bytes(set: &Bitmap) -> usize {
    let stats = set.statistics();
    let stores = stats.n_bytes_array_containers + stats.n_bytes_bitset_containers + stats.n_bytes_run_containers;
    std::mem::size_of::<Bitmap>() + stats.n_containers as usize * CONTAINER_OVERHEAD + stores as usize
}

/// Whether the sets take at most `budget` bytes of heap together (`heap_bytes`).
pub fn fit_in(sets: &[Option<&Bitmap>], budget: usize) -> bool {
    sets.iter().flatten().map(|set| heap_bytes(set)).sum::<usize>() <= budget
}

/// `want` distinct ranks of a set of `size` numbers, drawn uniformly by a partial shuffle (its swaps kept in a map)
/// with a Park-Miller generator from `state` (1..2^31-2): a query seed gives the same sample every time. Computed in
/// doubles exactly as the Lua query script did, so a seed draws what it drew there.
pub fn drawn_ranks(mut state: u64, size: u64, want: u64) -> Vec<u64> {
    let mut swapped = std::collections::HashMap::new();
    (0..want.min(size))
        .map(|j| {
            state = state * 48271 % 2_147_483_647;
            let r = j + (state as f64 / 2_147_483_647.0 * (size - j) as f64).floor() as u64;
            let rank = *swapped.get(&r).unwrap_or(&r);
            swapped.insert(r, *swapped.get(&j).unwrap_or(&j));
            rank
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn set(numbers: &[u32]) -> Bitmap {
        Bitmap::of(numbers)
    }

    /// A deterministic spread of numbers over [0, space): multiplicative hashing of 0..count.
    fn spread(count: u32, space: u32, salt: u32) -> Vec<u32> {
        (0..count).map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(salt)) % space).collect()
    }

    #[test]
    fn parse_number_takes_u32_decimals_only() {
        assert_eq!(parse_number(b"0"), Ok(0));
        assert_eq!(parse_number(b"4294967295"), Ok(u32::MAX));
        for bad in [&b"-1"[..], b"4294967296", b"1.5", b"", b"x", b" 1"] {
            assert!(parse_number(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn add_and_remove_count_changes() {
        let mut s = Bitmap::new();
        assert_eq!(add_all(&mut s, &[5, 7, 5, 70_000]), 3);
        assert_eq!(add_all(&mut s, &[7, 8]), 1);
        assert_eq!(remove_all(&mut s, &[7, 9, 7]), 1);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![5, 8, 70_000]);
    }

    #[test]
    fn and_or_match_sets_across_containers() {
        let a = spread(50_000, 3_000_000, 1);
        let b = spread(200_000, 3_000_000, 7);
        let c: Vec<u32> = (100_000..400_000).collect();
        let (ra, rb, rc) = (set(&a), set(&b), set(&c));
        let (sa, sb, sc): (BTreeSet<u32>, BTreeSet<u32>, BTreeSet<u32>) =
            (a.into_iter().collect(), b.into_iter().collect(), c.into_iter().collect());
        let and: BTreeSet<u32> = sa.intersection(&sb).copied().filter(|n| sc.contains(n)).collect();
        let or: BTreeSet<u32> = sa.union(&sb).copied().chain(sc.iter().copied()).collect();
        let got_and = and_all(&[Some(&ra), Some(&rb), Some(&rc)]);
        let got_or = or_all(&[Some(&ra), Some(&rb), Some(&rc)]);
        assert_eq!(got_and.iter().collect::<BTreeSet<_>>(), and);
        assert_eq!(got_or.iter().collect::<BTreeSet<_>>(), or);
        assert_eq!(got_and.cardinality(), and.len() as u64);
        // Any order of the keys, and a set given twice, give the same answers.
        assert_eq!(and_all(&[Some(&rc), Some(&ra), Some(&rb), Some(&ra)]), got_and);
        assert_eq!(or_all(&[Some(&rc), Some(&rb), Some(&ra), Some(&rc)]), got_or);
        assert_eq!(and_all(&[Some(&rb)]), rb);
    }

    #[test]
    fn and_of_unions_matches_sets_whichever_side_is_smaller() {
        let reference = |sets: &[&Bitmap]| sets.iter().flat_map(|set| set.iter()).collect::<BTreeSet<u32>>();
        // Sparse and dense sets over many blocks: the parts path (a small side) and the union path (a big one).
        let sparse: Vec<Bitmap> = (0..6).map(|salt| set(&spread(3_000, 6_000_000, salt))).collect();
        let dense: Vec<Bitmap> = (0..3u32)
            .map(|salt| {
                let mut numbers = spread(1_000_000, 6_000_000, 11 + salt);
                numbers.extend(salt * 1_500_000..salt * 1_500_000 + 1_000_000);
                set(&numbers)
            })
            .collect();
        let (sparse, dense): (Vec<&Bitmap>, Vec<&Bitmap>) = (sparse.iter().collect(), dense.iter().collect());
        for (a, b) in [
            (&sparse[..], &dense[..]),
            (&dense[..], &sparse[..]),
            (&dense[..1], &dense[1..]),
            (&sparse[..1], &dense[..1]),
        ] {
            let want: BTreeSet<u32> = reference(a).intersection(&reference(b)).copied().collect();
            assert!(!want.is_empty());
            assert_eq!(and_of_unions(a, b).iter().collect::<BTreeSet<_>>(), want);
            assert_eq!(union(a).iter().collect::<BTreeSet<_>>(), reference(a));
        }
        assert!(and_of_unions(&[], &dense).is_empty());
        assert!(and_union(dense[0], &[]).is_empty());
        let owned: Vec<Bitmap> = sparse.iter().map(|set| (*set).clone()).collect();
        assert_eq!(union_owned(owned).map(|set| set.iter().collect::<BTreeSet<_>>()), Some(reference(&sparse)));
        assert_eq!(union_owned(Vec::<Bitmap>::new()), None);
        assert_eq!(union_owned(vec![(*sparse[0]).clone()]).as_ref(), Some(sparse[0]));
    }

    /// A set held elsewhere: union_owned may read it, never change it.
    struct Held(Bitmap);

    impl Borrow<Bitmap> for Held {
        fn borrow(&self) -> &Bitmap {
            &self.0
        }
    }

    impl From<Bitmap> for Held {
        fn from(set: Bitmap) -> Held {
            Held(set)
        }
    }

    impl MaybeOwned for Held {
        fn owned(self) -> Result<Bitmap, Held> {
            Err(self)
        }
    }

    #[test]
    fn union_owned_merges_into_a_dense_biggest_only_when_owned() {
        let small: Vec<Bitmap> = (0..3).map(|salt| set(&spread(2_000, 6_000_000, salt))).collect();
        let dense = set(&spread(3_000_000, 6_000_000, 9));
        let sparse = set(&(0..200_000).chain(spread(50_000, 6_000_000, 5)).collect::<Vec<_>>());
        assert!(mostly_bitsets(&dense) && !mostly_bitsets(&sparse));
        for big in [&dense, &sparse] {
            for others in [1, 3] {
                let want: BTreeSet<u32> = small[..others].iter().chain([big]).flat_map(|set| set.iter()).collect();
                let mut owned: Vec<Bitmap> = small[..others].to_vec();
                owned.insert(others / 2, big.clone());
                let got = union_owned(owned).expect("a union");
                assert_eq!(got.iter().collect::<BTreeSet<_>>(), want);
                assert_eq!(got.cardinality(), want.len() as u64);
                let held: Vec<Held> = small[..others].iter().chain([big]).map(|set| Held(set.clone())).collect();
                assert_eq!(union_owned(held).map(|set| set.0.iter().collect::<BTreeSet<_>>()), Some(want));
            }
        }
        let mut cut = dense.clone();
        and_union_inplace(&mut cut, &[&small[0]]);
        assert_eq!(cut, dense.and(&small[0]));
        let mut cut = dense.clone();
        and_union_inplace(&mut cut, &[&small[0], &small[1]]);
        assert_eq!(cut, and_union(&dense, &[&small[0], &small[1]]));
    }

    #[test]
    fn fit_in_weighs_the_sets_blocks() {
        let sparse = set(&spread(1_000, 60_000, 3)); // one array block: ~2 KB
        let dense = set(&(0..(20 << 16)).step_by(2).collect::<Vec<u32>>()); // 20 bitset blocks of 8 KB
        assert!(fit_in(&[Some(&sparse), None], 4 * 1024));
        assert!(!fit_in(&[Some(&sparse), Some(&sparse)], 4 * 1024));
        assert!(!fit_in(&[Some(&sparse), Some(&dense)], 64 * 1024));
        assert!(fit_in(&[None, None], 0));
    }

    #[test]
    fn missing_keys_are_empty_sets() {
        let a = set(&[1, 2, 3]);
        assert!(and_all(&[Some(&a), None]).is_empty());
        assert_eq!(or_all(&[None, Some(&a), None]), a);
        assert!(or_all(&[None]).is_empty());
    }

    #[test]
    fn and_not_removes_every_later_set() {
        let a = set(&[1, 2, 70_000, 140_000, 200_000]);
        let b = set(&[2, 140_000]);
        let c = set(&[200_000, 9]);
        assert_eq!(and_not_all(&[Some(&a), Some(&b), None, Some(&c)]).to_vec(), vec![1, 70_000]);
        assert!(and_not_all(&[None, Some(&a)]).is_empty());
    }

    #[test]
    fn first_common_is_the_smallest_shared_number_whichever_set_is_smaller() {
        let big = set(&spread(50_000, 3_000_000, 7));
        let shared: Vec<u32> = big.iter().skip(1_000).step_by(5_000).collect();
        let outside = (0..).find(|&n| !big.contains(n)).expect("a number outside");
        let small = set(&[shared[3], shared[1], outside, 3_000_000]);
        assert_eq!(first_common(&small, &big), Some(shared[1]));
        assert_eq!(first_common(&big, &small), Some(shared[1]));
        assert_eq!(first_common(&set(&[5, 6]), &Bitmap::new()), None);
        let disjoint = set(&(0..100).map(|n| n * 7 + 3_000_001).collect::<Vec<u32>>());
        assert_eq!(first_common(&disjoint, &big), None);
    }

    #[test]
    fn contains_each_keeps_order() {
        let s = set(&[3, 100_000]);
        assert_eq!(contains_each(&s, &[100_000, 4, 3, 3]), vec![true, false, true, true]);
    }

    #[test]
    fn next_at_finds_first_member_at_or_after() {
        let s = set(&[10, 65_535, 65_536, 1_000_000]);
        assert_eq!(next_at(&s, 0), Some(10));
        assert_eq!(next_at(&s, 10), Some(10));
        assert_eq!(next_at(&s, 11), Some(65_535));
        assert_eq!(next_at(&s, 65_536), Some(65_536));
        assert_eq!(next_at(&s, 65_537), Some(1_000_000));
        assert_eq!(next_at(&s, 1_000_001), None);
        assert_eq!(next_at(&Bitmap::new(), 0), None);
        assert_eq!(next_at(&set(&[u32::MAX]), u32::MAX), Some(u32::MAX));
    }

    #[test]
    fn redis_bitmap_round_trip_uses_msb_first() {
        let s = set(&[0, 9, 15, 70_001]);
        let bytes = to_redis_bitmap(&s);
        assert_eq!(bytes.len(), 70_001 / 8 + 1);
        assert_eq!(&bytes[..2], &[0b1000_0000, 0b0100_0001]);
        assert_eq!(from_redis_bitmap(&bytes), s);
        assert!(to_redis_bitmap(&Bitmap::new()).is_empty());
        assert!(from_redis_bitmap(&[0, 0, 0]).is_empty());
    }

    #[test]
    fn serialized_round_trip_and_corrupt_input() {
        let mut s = set(&spread(100_000, 20_000_000, 3));
        s.add_range(5_000_000..5_200_000);
        s.run_optimize();
        let bytes = to_bytes(&s);
        assert_eq!(from_bytes(&bytes), Ok(s));
        assert!(from_bytes(&bytes[..bytes.len() / 2]).is_err());
        assert!(from_bytes(b"not roaring").is_err());
    }

    /// RDB and AOF files written by the module's roaring-rs build (ENCODING_VERSION 1) load unchanged: both crates
    /// write the portable format byte for byte, arrays, bitsets and runs alike.
    #[test]
    fn portable_bytes_match_roaring_rs() {
        let mut numbers = spread(100_000, 20_000_000, 5);
        numbers.extend(spread(40_000, 65_536, 9)); // one 64K block dense enough for a bitset container
        let mut ours = set(&numbers);
        let mut theirs: roaring::RoaringBitmap = numbers.iter().copied().collect();
        assert_eq!(to_bytes(&ours), serialized(&theirs));
        ours.add_range(5_000_000..5_200_000);
        theirs.insert_range(5_000_000..5_200_000);
        ours.run_optimize();
        theirs.optimize();
        let bytes = serialized(&theirs);
        assert_eq!(to_bytes(&ours), bytes);
        assert_eq!(from_bytes(&bytes), Ok(ours));
    }

    fn serialized(set: &roaring::RoaringBitmap) -> Vec<u8> {
        let mut out = Vec::new();
        set.serialize_into(&mut out).expect("writing to a Vec cannot fail");
        out
    }

    #[test]
    fn heap_bytes_follow_containers() {
        let sparse = set(&[1, 2, 3]);
        let dense: Bitmap = (0..65_536).step_by(2).collect();
        assert!(heap_bytes(&sparse) < 200);
        assert!(heap_bytes(&dense) >= 8192); // a bitset container
        assert!(heap_bytes(&Bitmap::new()) < heap_bytes(&sparse));
    }

    #[test]
    fn drawn_ranks_are_distinct_reproducible_and_cover_the_set() {
        let ranks = drawn_ranks(12345, 1000, 50);
        assert_eq!(ranks.len(), 50);
        assert_eq!(ranks.iter().collect::<std::collections::HashSet<_>>().len(), 50);
        assert!(ranks.iter().all(|&r| r < 1000));
        assert_eq!(ranks, drawn_ranks(12345, 1000, 50));
        assert_ne!(ranks, drawn_ranks(54321, 1000, 50));
        let mut all = drawn_ranks(7, 20, 50);
        all.sort_unstable();
        assert_eq!(all, (0..20).collect::<Vec<_>>());
        // The first draw as Lua computed it: state 1 -> 48271, floor(48271 / (2^31 - 1) * 1000) = 0.
        assert_eq!(drawn_ranks(1, 1000, 1), vec![0]);
    }
}
