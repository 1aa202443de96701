//! What the facet index's writes and queries agree on: the layout's constants, its format and the checks that refuse
//! an index of an older layout, and how its counters and u32 arrays are read (the layout: sinks/facet_index.py).

use redis_module::{Context, KeyType, RedisError, RedisResult, RedisString, RedisValue};

use crate::docs::Kind;
use crate::module;

/// Owners at this rank and above share a tail filed per value (k:{kind}:t:{f}:{v}) instead of a rank each: a video or
/// master of a famous album has thousands of owners, and a query would spend a pass per rank (1M releases plus ten
/// masters of 300-2,000 releases: one genre 36 ms, with the tail 1.3 ms). Changing it changes the index format.
pub(crate) const TAIL_RANK: u32 = 8;
/// The rank name of the tail's sets, k:{kind}:t:{f}:{v}.
const TAIL: &str = "t";
/// The rank name of the sets filing an item under a value when any of its owners (at any rank or in the tail) has it:
/// k:{kind}:a:{f}:{v}, kinds v, m and x, for ANY_RANK_FACETS only. A one-facet query then reads one set per value
/// instead of ORing every rank's and the tail's.
const ANY_RANK: &str = "a";
/// Facets filed under any rank too: every release ('*') and those of few values, each covering a large share of the
/// catalogue, whose one-facet queries are broad. Other facets' values (styles, years, labels, artists) would cost as
/// much again in memory for queries that match less.
pub(crate) const ANY_RANK_FACETS: [&str; 5] = ["*", "genre", "decade", "format", "country"];
/// Ranks whose owners are also kept in u32 arrays o{rank}:{kind} (most videos have one or two owners): a query's
/// sample finds most owners there.
pub(crate) const OWNER_ARRAYS: u32 = 2;
/// Release ids per d:* hash, which stays a listpack: 200k releases of the discogs profile took 434 bytes a doc as a
/// JSON STRING key each, 239 so.
pub(crate) const DOC_BUCKET: u32 = 64;
/// Video numbers per video:* hash, small enough for a listpack (a few bytes a field; one hash of every video pays ~60
/// bytes a field in its hash table).
pub(crate) const VIDEO_BUCKET: u32 = 128;
/// Items per o:* hash and master ids per md:* hash.
pub(crate) const ITEM_BUCKET: u32 = 128;
/// A rank of owners: a number, the tail (filed per value, as rank TAIL), or any rank (ANY_RANK).
#[derive(Clone, Copy)]
pub(crate) enum Rank {
    At(u32),
    Tail,
    Any,
}

impl std::fmt::Display for Rank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rank::At(rank) => write!(f, "{rank}"),
            Rank::Tail => f.write_str(TAIL),
            Rank::Any => f.write_str(ANY_RANK),
        }
    }
}

/// The name of the set filing a kind's items whose owner at `rank` has a facet's value: {ns}:k:{kind}:{rank}:{f}:{v}.
pub(crate) fn rank_set(ns: &str, kind: Kind, rank: Rank, facet: &str, value: &str) -> String {
    format!("{ns}:k:{}:{rank}:{facet}:{value}", kind.letter())
}

/// The layout these commands write, kept in {ns}:format by an index's first write. Changing the layout changes it.
pub(crate) const FORMAT: &str = "7";
/// Refuses an index of an older layout, with what to do; returns whether the index has its format written. An index
/// holding releases or videos without a format (videos in two single hashes, docs in a STRING key each), or whose
/// every-release or every-video key is a plain bitmap, was built by an older version.
pub(crate) fn check_layout(ctx: &Context, ns: &str) -> Result<bool, RedisError> {
    let format = read_string(ctx, &format!("{ns}:format"))?;
    let format = format.as_deref();
    let started = || key_exists(ctx, &format!("{ns}:seq:r")) || key_exists(ctx, &format!("{ns}:seq:v"));
    if format != Some(FORMAT.as_bytes()) && (format.is_some() || started()) {
        let had = format.map_or("1".into(), String::from_utf8_lossy);
        return Err(RedisError::String(format!(
            "INDEX_FORMAT index {ns} has format {had}, an older layout than {FORMAT}: rebuild it with `dataget reindex`"
        )));
    }
    for kind in [Kind::Release, Kind::Video] {
        let every = module::bytes(ctx, rank_set(ns, kind, Rank::At(0), "*", "*").as_bytes());
        if ctx.open_key(&every).key_type() == KeyType::String {
            return Err(RedisError::String(format!(
                "INDEX_FORMAT index {ns} keeps its number sets as plain bitmaps, an older layout: rebuild it with \
                 `dataget reindex`"
            )));
        }
    }
    Ok(format.is_some())
}

pub(crate) fn read_string(ctx: &Context, name: &str) -> Result<Option<Vec<u8>>, RedisError> {
    let key = ctx.open_key(&module::bytes(ctx, name.as_bytes()));
    match key.key_type() {
        KeyType::Empty => Ok(None),
        KeyType::String => Ok(key.read()?.map(<[u8]>::to_vec)),
        _ => Err(RedisError::WrongType),
    }
}

pub(crate) fn key_exists(ctx: &Context, name: &str) -> bool {
    ctx.open_key(&module::bytes(ctx, name.as_bytes())).key_type() != KeyType::Empty
}

/// The u32 at index n of a BITFIELD u32 array (big-endian, as BITFIELD keeps it); 0 past its end.
pub(crate) fn u32_at(array: &[u8], n: u32) -> u32 {
    let at = n as usize * 4;
    array.get(at..at + 4).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

pub(crate) fn parse_int(text: &[u8]) -> Option<i64> {
    std::str::from_utf8(text).ok()?.trim().parse::<f64>().ok().map(|n| n as i64)
}

/// RBM.CHECKLAYOUT ns: an error naming what to do when the index at ns has an older layout; else 1 when it has its
/// format written, 0 before its first write (queries and facet counts check with it).
pub fn checklayout(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() != 2 {
        return Err(RedisError::WrongArity);
    }
    Ok(RedisValue::Integer(i64::from(check_layout(ctx, args[1].try_as_str()?)?)))
}
