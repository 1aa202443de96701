//! A Redis module storing number sets (facet index items: release and video numbers) as roaring bitmaps.
//!
//! A plain Redis bitmap spans the whole number space, so its memory and every BITOP/BITCOUNT grow with the
//! catalogue; a roaring bitmap keeps one container per 64K-number block that has members (a sorted u16 array, a
//! bitset or runs), so AND/OR/count cost what the sets hold. Commands (all take decimal numbers 0..=u32::MAX):
//!
//! - `RBM.ADD key n [n ...]`, `RBM.REM key n [n ...]`: how many changed; removing the last number deletes the key
//! - `RBM.CARD key`; `RBM.ANDCARD key key`: cardinality of a set / of two sets' intersection
//! - `RBM.AND dest key [key ...]`, `RBM.OR dest key [key ...]`: store at dest (an empty result deletes it; callers
//!   EXPIRE temporary results), reply its cardinality; missing keys are empty sets
//! - `RBM.MISMEMBER key n [n ...]`: 0/1 per number
//! - `RBM.NEXT key offset`: the first number >= offset; `RBM.SELECT key rank`: the rank-th (from 0); -1 if none
//! - `RBM.MEMBERS key`, `RBM.TOBITMAP key`, `RBM.FROMBITMAP dest src`: to a list / to and from a plain bitmap
//! - `RBM.ORBYTES key bytes`: OR a set in the portable roaring format into key (what AOF rewrites emit)
//! - `RBM.PACK key [key ...]`: packs number sets for queries, each in one buffer (`packed.rs`); how many were packed
//! - `RBM.BUCKET name`: the bucket of a small number set's name (`buckets.rs`)
//! - `RBM.TAILMERGE key bytes`, `RBM.TAILITEMS key`: add to / list the `ownertail` value at key, the items each
//!   release owns in the tail (`tail_items.rs`); the first is what AOF rewrites emit
//! - `RBM.INDEXRELEASES ns id payload [id payload ...]`, `RBM.INDEXMASTERS ns ...`: the facet index's writes
//!   (`index_write.rs`; its docs and payloads: `docs.rs`); `RBM.CHECKLAYOUT ns`: refuses an index of an older layout
//!   (`layout.rs`); `RBM.QUERY ns ...`: a facet query's counts and sample (`query.rs`)
//!
//! Values persist in RDB files (and so in the AOF's RDB preamble): number sets in the portable roaring format, loaded
//! packed.

pub mod buckets;
pub mod docs;
pub mod numbers;
pub mod packed;
pub mod tail_items;

// The module glue installs Redis' allocator as the global one, which only works inside redis-server.
#[cfg(not(test))]
mod alloc;
#[cfg(not(test))]
mod index_write;
#[cfg(not(test))]
mod layout;
#[cfg(not(test))]
mod module;
#[cfg(not(test))]
mod query;
