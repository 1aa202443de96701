//! The items each release owns in the tail (as an owner at rank TAIL_RANK or above), for one kind: the value of a
//! `ti:{kind}` key (the module's `ownertail` type).
//!
//! A multi-facet query checks the tail's candidates by looking up the matching releases that own tail items, thousands
//! for a broad query. A key of its own per release cost a lookup in the whole keyspace (~2-3 µs among millions of
//! keys) and ~100 bytes; an entry of this map costs a hash probe and ~40 bytes.

use rustc_hash::FxHashMap;

/// Owner (release number) -> the items it owns in the tail, sorted, never empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TailItems {
    // Fx: a query probes it once per matching release that owns tail items, thousands of times; the std hasher
    // (SipHash) guards against hash flooding, which release numbers the index assigns itself cannot cause.
    owners: FxHashMap<u32, Box<[u32]>>,
}

impl TailItems {
    /// Adds item to owner's; returns whether owner had none before.
    pub fn add(&mut self, owner: u32, item: u32) -> bool {
        match self.owners.get_mut(&owner) {
            None => {
                self.owners.insert(owner, Box::new([item]));
                true
            }
            Some(items) => {
                if let Err(at) = items.binary_search(&item) {
                    let mut grown = Vec::with_capacity(items.len() + 1);
                    grown.extend_from_slice(&items[..at]);
                    grown.push(item);
                    grown.extend_from_slice(&items[at..]);
                    *items = grown.into_boxed_slice();
                }
                false
            }
        }
    }

    /// Removes item from owner's; returns whether that was owner's last.
    pub fn remove(&mut self, owner: u32, item: u32) -> bool {
        let Some(items) = self.owners.get_mut(&owner) else { return false };
        let Ok(at) = items.binary_search(&item) else { return false };
        if items.len() == 1 {
            self.owners.remove(&owner);
            return true;
        }
        let mut shrunk = items.to_vec();
        shrunk.remove(at);
        *items = shrunk.into_boxed_slice();
        false
    }

    /// The items owner owns in the tail (none when it owns none).
    pub fn items(&self, owner: u32) -> &[u32] {
        self.owners.get(&owner).map_or(&[], |items| items)
    }

    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// Owners with their items, by owner.
    pub fn sorted(&self) -> Vec<(u32, &[u32])> {
        let mut out: Vec<(u32, &[u32])> = self.owners.iter().map(|(&owner, items)| (owner, &items[..])).collect();
        out.sort_unstable_by_key(|&(owner, _)| owner);
        out
    }

    /// Bytes on the heap: the table's slots (an entry and a control byte each) and the item arrays (an allocation
    /// is at least 8 bytes).
    pub fn heap_bytes(&self) -> usize {
        let slot = std::mem::size_of::<(u32, Box<[u32]>)>() + 1;
        self.owners.capacity() * slot + self.owners.values().map(|items| (items.len() * 4).max(8)).sum::<usize>()
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
