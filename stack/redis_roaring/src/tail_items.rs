//! The items each release owns in the tail (as an owner at rank TAIL_RANK or above), for one kind: the value of a
//! `ti:{kind}` key (the module's `ownertail` type).
//!
//! A multi-facet query checks the tail's candidates by looking up the matching releases that own tail items, thousands
//! for a broad query. A key of its own per release cost a lookup in the whole keyspace (~2-3 µs among millions of
//! keys) and ~100 bytes. A hash map of owners cost a probe and ~60 bytes an owner, but at 4M releases its table and
//! per-owner arrays missed the caches: ~200 ns a matching owner, 29% of a broad two-facet query. Owners are kept sorted
//! in flat arrays instead (8 bytes an owner and 4 an item: 16 MiB for the three kinds at 4M, where the map took 54),
//! walked in ascending order as a roaring bitmap yields the matching ones, so what a query reads next lies ahead of
//! what it read. Writes go to a small map of changed owners, merged into the arrays once it holds a share of them.

use rustc_hash::FxHashMap;

/// Changed owners kept aside before they are merged into the sorted arrays: at least this many, so that a merge (a
/// pass over every owner) is paid once per that many changes, and at most a 64th of the owners, so that the map stays
/// small enough for the caches a query's probes go through.
const MERGE_AT_LEAST: usize = 4096;
const MERGE_SHARE: usize = 64;

/// Owner (release number) -> the items it owns in the tail, sorted, never empty.
#[derive(Clone, Debug, Default)]
pub struct TailItems {
    /// Owners, ascending; owner i's items are items[starts[i]..starts[i + 1]] (starts has one more entry).
    owners: Vec<u32>,
    starts: Vec<u32>,
    items: Vec<u32>,
    /// Owners changed since the last merge, with all their items now (none: it owns none any more). Fx: a query probes
    /// it once per matching owner; the std hasher (SipHash) guards against hash flooding, which release numbers the
    /// index assigns itself cannot cause.
    changed: FxHashMap<u32, Box<[u32]>>,
    /// Owners with at least one item.
    len: usize,
}

impl PartialEq for TailItems {
    fn eq(&self, other: &Self) -> bool {
        self.sorted() == other.sorted()
    }
}

impl Eq for TailItems {}

impl TailItems {
    /// The items of the arrays' owner at index at.
    fn items_at(&self, at: usize) -> &[u32] {
        &self.items[self.starts[at] as usize..self.starts[at + 1] as usize]
    }

    /// Owner's items in the sorted arrays.
    fn merged(&self, owner: u32) -> &[u32] {
        self.owners.binary_search(&owner).map_or(&[], |at| self.items_at(at))
    }

    /// The items owner owns in the tail (none when it owns none).
    pub fn items(&self, owner: u32) -> &[u32] {
        match self.changed.get(&owner) {
            Some(items) => items,
            None => self.merged(owner),
        }
    }

    /// Replaces owner's items (sorted) and merges the changed owners when they are many.
    fn set(&mut self, owner: u32, items: Box<[u32]>) {
        self.changed.insert(owner, items);
        if self.changed.len() >= MERGE_AT_LEAST.max(self.owners.len() / MERGE_SHARE) {
            self.merge();
        }
    }

    /// Adds item to owner's; returns whether owner had none before.
    pub fn add(&mut self, owner: u32, item: u32) -> bool {
        let items = self.items(owner);
        let Err(at) = items.binary_search(&item) else { return false };
        let first = items.is_empty();
        let grown = [&items[..at], &[item], &items[at..]].concat().into_boxed_slice();
        self.set(owner, grown);
        self.len += usize::from(first);
        first
    }

    /// Removes item from owner's; returns whether that was owner's last.
    pub fn remove(&mut self, owner: u32, item: u32) -> bool {
        let items = self.items(owner);
        let Ok(at) = items.binary_search(&item) else { return false };
        let shrunk = [&items[..at], &items[at + 1..]].concat().into_boxed_slice();
        let last = shrunk.is_empty();
        self.set(owner, shrunk);
        self.len -= usize::from(last);
        last
    }

    /// Folds the changed owners into the sorted arrays.
    pub fn merge(&mut self) {
        if self.changed.is_empty() {
            return;
        }
        let mut changed: Vec<(u32, Box<[u32]>)> = std::mem::take(&mut self.changed).into_iter().collect();
        changed.sort_unstable_by_key(|&(owner, _)| owner);
        let mut merged = TailItems::default();
        let mut changed = changed.into_iter().peekable();
        for (at, &owner) in self.owners.iter().enumerate() {
            while let Some((first, items)) = changed.next_if(|(first, _)| *first < owner) {
                merged.push(first, &items);
            }
            match changed.next_if(|(first, _)| *first == owner) {
                Some((_, items)) => merged.push(owner, &items),
                None => merged.push(owner, self.items_at(at)),
            }
        }
        changed.for_each(|(owner, items)| merged.push(owner, &items));
        merged.owners.shrink_to_fit();
        merged.starts.shrink_to_fit();
        merged.items.shrink_to_fit();
        merged.len = merged.owners.len();
        *self = merged;
    }

    /// Appends owner (above every owner so far) with its items to the arrays; an owner without items is left out.
    fn push(&mut self, owner: u32, items: &[u32]) {
        if items.is_empty() {
            return;
        }
        if self.starts.is_empty() {
            self.starts.push(0);
        }
        self.owners.push(owner);
        self.items.extend_from_slice(items);
        self.starts.push(self.items.len() as u32);
    }

    /// Appends to `out` the items of each owner in `owners`, which must come in ascending order: the sorted arrays are
    /// walked forward from one owner to the next.
    pub fn gather(&self, owners: impl Iterator<Item = u32>, out: &mut Vec<u32>) {
        let mut at = 0;
        for owner in owners {
            if let Some(items) = self.changed.get(&owner) {
                out.extend_from_slice(items);
                continue;
            }
            at = gallop(&self.owners, at, owner);
            if self.owners.get(at) == Some(&owner) {
                out.extend_from_slice(self.items_at(at));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Owners with their items, by owner.
    pub fn sorted(&self) -> Vec<(u32, &[u32])> {
        let mut out: Vec<(u32, &[u32])> = (0..self.owners.len())
            .filter(|at| !self.changed.contains_key(&self.owners[*at]))
            .map(|at| (self.owners[at], self.items_at(at)))
            .chain(
                self.changed.iter().filter(|(_, items)| !items.is_empty()).map(|(&owner, items)| (owner, &items[..])),
            )
            .collect();
        out.sort_unstable_by_key(|&(owner, _)| owner);
        out
    }

    /// Bytes on the heap: the arrays, and the changed owners' table slots (an entry and a control byte each) and item
    /// arrays (an allocation is at least 8 bytes).
    pub fn heap_bytes(&self) -> usize {
        let slot = std::mem::size_of::<(u32, Box<[u32]>)>() + 1;
        (self.owners.capacity() + self.starts.capacity() + self.items.capacity()) * 4
            + self.changed.capacity() * slot
            + self.changed.values().map(|items| (items.len() * 4).max(8)).sum::<usize>()
    }

    /// Owners in chunks of at most `owners` each, every chunk as little-endian u32s: owner, count, items..., by owner.
    /// What RDB files and AOF rewrites keep; merge_bytes reads it back.
    pub fn to_chunks(&self, owners: usize) -> Vec<Vec<u8>> {
        self.sorted()
            .chunks(owners.max(1))
            .map(|chunk| {
                let mut out = Vec::new();
                for (owner, items) in chunk {
                    out.extend_from_slice(&owner.to_le_bytes());
                    out.extend_from_slice(&(items.len() as u32).to_le_bytes());
                    items.iter().for_each(|item| out.extend_from_slice(&item.to_le_bytes()));
                }
                out
            })
            .collect()
    }

    /// Adds the owners and items of bytes written by to_chunks; an error (and nothing added) when they are not that.
    pub fn merge_bytes(&mut self, bytes: &[u8]) -> Result<(), &'static str> {
        if !bytes.len().is_multiple_of(4) {
            return Err("ERR tail items: not a whole number of u32s");
        }
        let words: Vec<u32> = bytes.chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect();
        let mut entries = Vec::new();
        let mut at = 0;
        while at < words.len() {
            let (owner, count) = (words[at], *words.get(at + 1).ok_or("ERR tail items: an owner without a count")?);
            let items = words.get(at + 2..at + 2 + count as usize).ok_or("ERR tail items: fewer items than counted")?;
            if items.is_empty() {
                return Err("ERR tail items: an owner without items");
            }
            entries.push((owner, items));
            at += 2 + count as usize;
        }
        for (owner, items) in entries {
            items.iter().for_each(|&item| {
                self.add(owner, item);
            });
        }
        Ok(())
    }
}

/// The first index at or after `from` whose owner is at least `owner` (owners.len() when none), given that those
/// before `from` are below it: steps of doubling length from `from`, then a binary search within the last step, so
/// that a walk from one owner to a nearby one reads nearby memory.
fn gallop(owners: &[u32], from: usize, owner: u32) -> usize {
    let (mut low, mut step) = (from, 1);
    while low + step <= owners.len() && owners[low + step - 1] < owner {
        low += step;
        step *= 2;
    }
    let high = (low + step).min(owners.len());
    low + owners[low..high].partition_point(|&o| o < owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_and_removes_say_when_an_owner_comes_and_goes() {
        let mut tail = TailItems::default();
        assert!(tail.add(7, 30));
        assert!(!tail.add(7, 10));
        assert!(!tail.add(7, 30), "already there");
        assert!(tail.add(9, 10));
        assert_eq!(tail.items(7), &[10, 30]);
        assert_eq!(tail.items(8), &[] as &[u32]);
        assert!(!tail.remove(7, 10));
        assert!(!tail.remove(7, 99), "not there");
        assert!(tail.remove(7, 30));
        assert!(!tail.remove(7, 30));
        assert_eq!(tail.sorted(), vec![(9, &[10][..])]);
        assert!(tail.remove(9, 10));
        assert!(tail.is_empty());
    }

    #[test]
    fn chunks_merge_back_into_the_same_items() {
        let mut tail = TailItems::default();
        for owner in 0..1000u32 {
            for item in 0..(owner % 5 + 1) {
                tail.add(owner * 3, item * 7 + owner);
            }
        }
        let chunks = tail.to_chunks(64);
        assert_eq!(chunks.len(), 16);
        let mut back = TailItems::default();
        chunks.iter().try_for_each(|chunk| back.merge_bytes(chunk)).unwrap();
        assert_eq!(back, tail);
        assert!(tail.heap_bytes() >= 1000 * 8);
    }

    /// Owners 0, 3, 6, ... with one to five items each, and every third one's last item removed again.
    fn filled(owners: u32) -> TailItems {
        let mut tail = TailItems::default();
        for owner in 0..owners {
            for item in 0..(owner % 5 + 1) {
                tail.add(owner * 3, item * 7 + owner);
            }
            if owner % 3 == 0 {
                tail.remove(owner * 3, (owner % 5) * 7 + owner);
            }
        }
        tail
    }

    #[test]
    fn changed_owners_are_merged_into_the_arrays_once_they_are_many() {
        let tail = filled(MERGE_AT_LEAST as u32 * 3);
        assert!(tail.changed.len() < MERGE_AT_LEAST, "merged on the way");
        assert!(!tail.owners.is_empty());
        let mut merged = tail.clone();
        merged.merge();
        assert!(merged.changed.is_empty());
        assert_eq!(merged, tail);
        assert_eq!(merged.items(9), &[3, 10, 17]);
        assert_eq!(merged.items(0), &[] as &[u32], "its only item removed");
        assert_eq!(merged.sorted().len(), tail.sorted().len());
        assert!(merged.heap_bytes() < tail.heap_bytes());
        let mut emptied = merged.clone();
        for (owner, items) in merged.sorted() {
            items.iter().for_each(|&item| {
                emptied.remove(owner, item);
            });
        }
        assert!(emptied.is_empty());
        emptied.merge();
        assert!(emptied.owners.is_empty() && emptied.sorted().is_empty());
    }

    #[test]
    fn gather_reads_merged_and_changed_owners_alike() {
        let mut tail = filled(MERGE_AT_LEAST as u32 + 500);
        tail.merge();
        tail.add(1, 5); // a new owner, among the merged ones
        tail.remove(9, 10); // a merged owner changed
        tail.remove(4500 * 3, 4500); // a merged owner's only item gone
        tail.add(u32::MAX, 1);
        assert!(!tail.changed.is_empty());
        let owners = [0, 1, 2, 9, 12, 4500 * 3, 4501 * 3, 5000 * 3, u32::MAX];
        let mut gathered = Vec::new();
        tail.gather(owners.iter().copied(), &mut gathered);
        let expected: Vec<u32> = owners.iter().flat_map(|&owner| tail.items(owner).to_vec()).collect();
        assert_eq!(gathered, expected);
        assert_eq!(&gathered[..3], &[5, 3, 17], "owner 1's, then owner 9's without 10");
    }

    #[test]
    fn gallop_finds_the_first_owner_not_below() {
        let owners: Vec<u32> = (0..300).map(|n| n * 2 + 1).collect();
        for from in [0, 1, 7, 100, 299, 300] {
            for owner in (owners.get(from).map_or(600, |&o| o)..=610).step_by(3) {
                assert_eq!(gallop(&owners, from, owner), owners.partition_point(|&o| o < owner), "{from} {owner}");
            }
        }
        assert_eq!(gallop(&[], 0, 5), 0);
    }

    #[test]
    fn malformed_bytes_are_refused_whole() {
        let mut tail = TailItems::default();
        let good = [1u32, 1, 5].iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>();
        for bad in [&good[..5], &[good.as_slice(), &2u32.to_le_bytes()].concat(), &[1, 0, 0, 0, 0, 0, 0, 0]] {
            assert!(tail.merge_bytes(bad).is_err());
        }
        assert!(tail.is_empty());
        let counted_more = [1u32, 1, 5, 2, 3, 6].iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>();
        assert!(tail.merge_bytes(&counted_more).is_err());
        assert!(tail.is_empty());
        tail.merge_bytes(&good).unwrap();
        assert_eq!(tail.items(1), &[5]);
    }
}
