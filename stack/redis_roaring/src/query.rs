//! RBM.QUERY: the counts and a sample of one facet query on the facet index (the layout: sinks/facet_index.py).
//!
//! Every number set a query meets (a value's items at a rank, whether a bucket's field, a SET or a roaring bitmap) is
//! read as a roaring bitmap (a stored one where it is, a bucket's field or a SET into memory), and the facets' ORs,
//! the ANDs per rank and the OR over ranks run there: no temporary keys, no round trips through a script. A query's
//! two result sets (its releases and its videos), when small, are kept as roaring bitmaps beside its cached counts,
//! so a repeat only draws its sample.

use std::collections::HashMap;

use croaring::Bitmap;
use redis_module::{Context, KeyType, RedisError, RedisResult, RedisString, RedisValue};

use crate::docs::{self, Kind};
use crate::layout::{
    check_layout, key_exists, parse_int, rank_set, read_string, u32_at, Rank, ANY_RANK_FACETS, DOC_BUCKET, ITEM_BUCKET,
    OWNER_ARRAYS, TAIL_RANK, VIDEO_BUCKET,
};
use crate::module::{self, call, Found};
use crate::numbers;

type Set = Option<Found>;

/// The tail check takes the matching releases' side while it has at most this many of them per candidate: a release's
/// probe in ti:{kind} costs a fraction of a candidate's key read (ot:{kind}:{item}). Paired at 4M, 16 beat 1 and 64.
const OWNER_PROBES_PER_KEY_READ: u64 = 16;

/// A query's result sets are kept for a repeat (another seed's sample, the playlist request after a preview) only
/// while they take at most this many bytes together: a narrow query's cost little to keep, though computing them may
/// have taken many ranks' ANDs. A broad query's take megabytes, which the allocator had to take fresh while earlier
/// results were still kept (paired at 4M, keeping every result cost 1.72x the Redis time of keeping none, and HTTP
/// p95 with 20 clients was 57 against 41 ms); under load there would be queries/s x TTL of them. A repeat of a broad
/// query computes it again.
const KEEP_RESULT_BYTES: usize = 64 * 1024;

fn count(set: &Set) -> u64 {
    set.as_ref().map_or(0, |set| set.cardinality())
}

fn non_empty(set: Bitmap) -> Set {
    (!set.is_empty()).then_some(Found::Computed(set))
}

fn union(sets: Vec<Set>) -> Set {
    numbers::union_owned(sets.into_iter().flatten().collect()).filter(|set| !set.is_empty())
}

/// How many numbers both sets hold, counted without building their intersection.
fn common(a: &Set, b: &Set) -> u64 {
    match (a, b) {
        (Some(a), Some(b)) => a.and_cardinality(b),
        _ => 0,
    }
}

/// One query's arguments (sinks/facet_index.py query_command_args).
struct Query {
    ns: String,
    hash: String,
    by_master: bool,
    limit: u64,
    state: u64,
    ttl: i64,
    narrow: u64,
    /// (facet, values); every release when the query names none.
    facets: Vec<(String, Vec<String>)>,
}

fn text(arg: &RedisString) -> Result<String, RedisError> {
    Ok(arg.try_as_str()?.to_owned())
}

fn number(arg: &RedisString) -> Result<u64, RedisError> {
    arg.try_as_str()?.parse::<u64>().map_err(|_| RedisError::Str("ERR a query number is not a number"))
}

impl Query {
    /// ns hash unique limit state seeded ttl active_key narrow [facet n value... ...]. `seeded` is not read: the
    /// arguments keep the Lua query script's positions, so that bench/query_ab.py can hand both the same ones.
    fn parse(ctx: &Context, args: &[RedisString]) -> Result<Query, RedisError> {
        if args.len() < 10 {
            return Err(RedisError::WrongArity);
        }
        let mut ns = text(&args[1])?;
        // The active version is read here, atomic with the query: a reindex switch (and the old version's drop right
        // after) never meets a query half way.
        let active = text(&args[8])?;
        if !active.is_empty() {
            if let Some(version) = read_string(ctx, &active)? {
                ns = String::from_utf8_lossy(&version).into_owned();
            }
        }
        let mut facets = Vec::new();
        let mut at = 10;
        while at < args.len() {
            let n = number(args.get(at + 1).ok_or(RedisError::WrongArity)?)? as usize;
            let values = args.get(at + 2..at + 2 + n).ok_or(RedisError::WrongArity)?;
            // No indexed value holds a NUL (the writes refuse one), and the module API takes field names as C
            // strings: such a value matches nothing and is never looked up.
            let values: Vec<String> = values.iter().map(text).collect::<Result<_, _>>()?;
            let facet = text(&args[at])?;
            let known = values.into_iter().filter(|value| !value.contains('\0') && !facet.contains('\0')).collect();
            facets.push((facet, known));
            at += 2 + n;
        }
        if facets.is_empty() {
            facets.push(("*".to_owned(), vec!["*".to_owned()]));
        }
        Ok(Query {
            ns,
            hash: text(&args[2])?,
            by_master: args[3].as_slice() == b"master",
            limit: number(&args[4])?,
            state: number(&args[5])?,
            ttl: number(&args[7])? as i64,
            narrow: number(&args[9])?,
            facets,
        })
    }
}

struct Reader<'a> {
    ctx: &'a Context,
    q: Query,
}

impl Reader<'_> {
    fn key(&self, rest: std::fmt::Arguments) -> String {
        format!("{}:{}", self.q.ns, rest)
    }

    fn numbers(&self, name: &str) -> Result<Set, RedisError> {
        module::find_numbers(self.ctx, &self.q.ns, name)
    }

    fn facet_keys(&self, kind: Kind, rank: Rank, facet: &str, values: &[String]) -> Vec<String> {
        values.iter().map(|value| rank_set(&self.q.ns, kind, rank, facet, value)).collect()
    }

    /// The items of a kind whose owner at rank has one of a facet's values.
    fn facet_items(&self, kind: Kind, rank: Rank, facet: &str, values: &[String]) -> Result<Set, RedisError> {
        module::union_of(self.ctx, &self.q.ns, &self.facet_keys(kind, rank, facet, values))
    }

    /// Items of a kind whose owner at one rank (or the tail's candidates) matches every facet.
    fn matching_at(&self, kind: Kind, rank: Rank) -> Result<Set, RedisError> {
        let (first, second, rest) = match self.q.facets.as_slice() {
            [] => return Ok(None),
            [(facet, values)] => return self.facet_items(kind, rank, facet, values),
            [first, second, rest @ ..] => (first, second, rest),
        };
        // The first two facets meet where their sets are: neither is copied first.
        let (a, b) =
            (self.facet_keys(kind, rank, &first.0, &first.1), self.facet_keys(kind, rank, &second.0, &second.1));
        let ns = &self.q.ns;
        let mut out = module::with_sets(self.ctx, ns, &a, |a| {
            module::with_sets(self.ctx, ns, &b, |b| numbers::and_of_unions(a, b))
        })??;
        if out.is_empty() {
            return Ok(None);
        }
        for (facet, values) in rest {
            if !module::and_union_of(self.ctx, &self.q.ns, &self.facet_keys(kind, rank, facet, values), &mut out)? {
                return Ok(None);
            }
        }
        Ok(Some(Found::Computed(out)))
    }

    /// An index of a kind with a tail must file it per value: one built before filed rank TAIL_RANK like the others.
    fn check_tail_layout(&self, kind: Kind) -> Result<(), RedisError> {
        if key_exists(self.ctx, &rank_set(&self.q.ns, kind, Rank::At(TAIL_RANK), "*", "*")) {
            return Err(RedisError::String(format!(
                "INDEX_FORMAT index {} was built before owners past rank {TAIL_RANK} were filed per value: rebuild it \
                 with `dataget reindex`",
                self.q.ns
            )));
        }
        Ok(())
    }

    /// f of the item's owners in the tail (a roaring bitmap, None when it has none).
    fn with_tail_owners<T>(
        &self,
        kind: Kind,
        item: u32,
        f: impl FnOnce(Option<&Bitmap>) -> T,
    ) -> Result<T, RedisError> {
        let key = module::bytes(self.ctx, self.key(format_args!("ot:{}:{item}", kind.letter())).as_bytes());
        module::with_set(self.ctx, &key, f)
    }

    /// Items with an owner at rank TAIL_RANK or above that matches every facet. Those owners are filed per value, not
    /// per rank (a famous master's thousands of releases would cost a pass per rank): the items with such owners
    /// having a value of every facet are candidates; each candidate's tail owners are looked up among the matching
    /// releases.
    fn matching_tail(&self, kind: Kind, rel: &Set, found: &Set) -> Result<Set, RedisError> {
        self.check_tail_layout(kind)?;
        let (Some(cand), Some(rel)) = (self.matching_at(kind, Rank::Tail)?, rel) else { return Ok(None) };
        // Candidates already found at a lower rank need no check (with a broad query, most).
        let mut items = cand.into_bitmap();
        if let Some(found) = found {
            items.andnot_inplace(found);
        }
        if items.is_empty() {
            return Ok(None);
        }
        let Some(owners) = self.numbers(&self.key(format_args!("tr:{}", kind.letter())))? else { return Ok(None) };
        let owning = owners.and(rel);
        // The matching releases owning something in the tail give their tail items (a probe each in ti:{kind}), or
        // each candidate's tail owners (a key read each) meet the matching releases: the cheaper side is taken.
        if owning.cardinality() <= items.cardinality() * OWNER_PROBES_PER_KEY_READ {
            let key = module::bytes(self.ctx, self.key(format_args!("ti:{}", kind.letter())).as_bytes());
            let owned = module::with_tail_items(self.ctx, &key, |tail| {
                let mut owned = Vec::new();
                if let Some(tail) = tail {
                    tail.gather(owning.iter(), &mut owned);
                }
                numbers::of_gathered(owned)
            })?;
            items.and_inplace(&owned);
            return Ok(non_empty(items));
        }
        let mut out = Bitmap::new();
        for item in items.iter() {
            if self.with_tail_owners(kind, item, |owners| owners.is_some_and(|owners| owners.intersect(rel)))? {
                out.add(item);
            }
        }
        Ok(non_empty(out))
    }

    /// Items of a kind with an owner (at any rank) matching every facet: rank by rank, each owner is one release;
    /// `rel` (the matching releases) checks the tail's candidates. With one facet, an item matches when any of its
    /// owners has one of the values, whatever its rank: the values' any-rank sets where the index files them, else one
    /// union of every rank's sets and the tail's.
    fn matching_items(&self, kind: Kind, rel: &Set) -> Result<Set, RedisError> {
        if let [(facet, values)] = self.q.facets.as_slice() {
            if kind != Kind::Release && ANY_RANK_FACETS.contains(&facet.as_str()) {
                return self.facet_items(kind, Rank::Any, facet, values);
            }
        }
        let layers = read_string(self.ctx, &self.key(format_args!("layers:{}", kind.letter())))?
            .and_then(|text| parse_int(&text))
            .unwrap_or(i64::from(kind == Kind::Release)) as u32;
        let below = (0..layers.min(TAIL_RANK)).map(Rank::At);
        if let [(facet, values)] = self.q.facets.as_slice() {
            let mut keys: Vec<String> = below.flat_map(|rank| self.facet_keys(kind, rank, facet, values)).collect();
            if layers > TAIL_RANK {
                self.check_tail_layout(kind)?;
                keys.extend(self.facet_keys(kind, Rank::Tail, facet, values));
            }
            return module::union_of(self.ctx, &self.q.ns, &keys);
        }
        let mut found = Vec::new();
        for rank in below {
            found.push(self.matching_at(kind, rank)?);
        }
        let below = union(found);
        if layers <= TAIL_RANK {
            return Ok(below);
        }
        let tail = self.matching_tail(kind, rel, &below)?;
        Ok(union(vec![below, tail]))
    }

    /// The query's facets, those matching the fewest releases first (at most: the sum of the sizes of their values'
    /// sets, read where they are). Each owner rank meets the first two facets' sets and ANDs the others into that:
    /// narrow facets first keep each step small, whatever order the arguments name the facets in (sorted by name:
    /// `country` before `label`).
    fn narrowest_first(&mut self) -> Result<(), RedisError> {
        if self.q.facets.len() < 2 {
            return Ok(());
        }
        let mut sized = Vec::with_capacity(self.q.facets.len());
        for (facet, values) in std::mem::take(&mut self.q.facets) {
            let keys = self.facet_keys(Kind::Release, Rank::At(0), &facet, &values);
            let size: u64 =
                module::with_sets(self.ctx, &self.q.ns, &keys, |sets| sets.iter().map(|set| set.cardinality()).sum())?;
            sized.push((size, facet, values));
        }
        sized.sort_by_key(|(size, ..)| *size);
        self.q.facets = sized.into_iter().map(|(_, facet, values)| (facet, values)).collect();
        Ok(())
    }

    /// A release's stored doc (docs::doc_items reads what a count needs of it), or None.
    fn doc_bytes(&self, rid: u32) -> Result<Option<RedisString>, RedisError> {
        let bucket = module::bytes(self.ctx, self.key(format_args!("d:{}", rid / DOC_BUCKET)).as_bytes());
        self.ctx.open_key(&bucket).hash_get(&rid.to_string())
    }

    /// The u32s of an array (rid, o0:*, o1:*) at the given indexes.
    fn u32s(&self, array: &str, indexes: &[u32]) -> Result<Vec<u32>, RedisError> {
        let key = self.ctx.open_key(&module::bytes(self.ctx, array.as_bytes()));
        let bytes = match key.key_type() {
            KeyType::String => key.read()?.unwrap_or_default(),
            _ => &[],
        };
        Ok(indexes.iter().map(|&n| u32_at(bytes, n)).collect())
    }

    /// Counts (releases, then the videos) of a narrow query, read off its few matching releases' docs: its videos are
    /// those the docs list (with unique=master, their masters' own too), where a pass over every owner rank and the
    /// tail costs far more whatever the query matches. Exact like that pass: a doc lists what its release is filed
    /// under.
    fn counts_from_docs(&self, rel: &Bitmap) -> Result<(u64, Set), RedisError> {
        let kinds: &[Kind] = if self.q.by_master { &[Kind::Video, Kind::MasterVideo] } else { &[Kind::Video] };
        let (mut items, mut masters, mut groups) = (Vec::new(), std::collections::HashSet::new(), 0);
        let numbers: Vec<u32> = rel.iter().collect();
        for rid in self.u32s(&self.key(format_args!("rid")), &numbers)? {
            let raw = self.doc_bytes(rid)?;
            let master = match &raw {
                Some(raw) => docs::doc_items(raw.as_slice(), kinds, &mut items).map_err(RedisError::String)?,
                None => None,
            };
            // unique=master: a master counts once, a release without one as itself.
            match master {
                Some(m) if masters.contains(m.as_ref()) => {}
                m => {
                    groups += 1;
                    masters.extend(m.map(std::borrow::Cow::into_owned));
                }
            }
        }
        Ok((if self.q.by_master { groups } else { rel.cardinality() }, non_empty(numbers::of_gathered(items))))
    }

    /// The query's releases and videos, counted.
    fn compute(&self) -> Result<(u64, u64, Set, Set), RedisError> {
        check_layout(self.ctx, &self.q.ns)?;
        let rel = self.matching_items(Kind::Release, &None)?;
        let (releases, vid) = match &rel {
            // A video matches through a matching release: none, so no video either.
            None => (0, None),
            Some(matched) if matched.cardinality() <= self.q.narrow => self.counts_from_docs(matched)?,
            Some(matched) if self.q.by_master => {
                // Each master counts once, a release without one counts as itself; the masters' own videos count too.
                let nom = self.facet_items(Kind::Release, Rank::At(0), "*", &["nom".to_owned()])?;
                let releases = count(&self.matching_items(Kind::Master, &rel)?) + common(&rel, &nom);
                let parts =
                    vec![self.matching_items(Kind::Video, &rel)?, self.matching_items(Kind::MasterVideo, &rel)?];
                (releases, union(parts))
            }
            Some(matched) => (matched.cardinality(), self.matching_items(Kind::Video, &rel)?),
        };
        Ok((releases, count(&vid), rel, vid))
    }

    fn result_key(&self, gen: &str, which: &str) -> RedisString {
        module::bytes(self.ctx, self.key(format_args!("tmp:{gen}:{}:{which}", self.q.hash)).as_bytes())
    }

    /// The cached counts of this query at this generation, or None.
    fn cached(&self, cache: &str) -> Result<Option<(u64, u64)>, RedisError> {
        let hash = self.ctx.open_key(&module::bytes(self.ctx, cache.as_bytes()));
        if hash.key_type() != KeyType::Hash {
            return Ok(None);
        }
        let parse = |value: RedisString| parse_int(value.as_slice()).unwrap_or(0) as u64;
        Ok(match (hash.hash_get("r")?, hash.hash_get("v")?) {
            (Some(releases), Some(videos)) => Some((parse(releases), parse(videos))),
            _ => None,
        })
    }

    /// Keeps the counts for ttl seconds and the result sets (moved, not copied) a little longer, where a repeat's
    /// sample reads them, when the sets take at most KEEP_RESULT_BYTES; a bigger result is not kept at all. Not
    /// data: kept out of the AOF and replicas (nothing here is replicated).
    fn cache(&self, gen: &str, cache: &str, result: (u64, u64, Set, Set)) -> Result<(), RedisError> {
        let (releases, videos, rel, vid) = result;
        if !numbers::fit_in(&[rel.as_deref(), vid.as_deref()], KEEP_RESULT_BYTES) {
            return Ok(());
        }
        let ttl = std::time::Duration::from_secs(self.q.ttl.max(1) as u64);
        for (which, set) in [("rel", rel), ("vid", vid)] {
            if let Some(set) = set {
                let key = self.result_key(gen, which);
                module::store(self.ctx, &key, set.into_bitmap())?;
                self.ctx.open_key_writable(&key).set_expire(ttl + std::time::Duration::from_secs(5))?;
            }
        }
        let (r, v) = (releases.to_string(), videos.to_string());
        call(self.ctx, "HSET", &[cache.as_bytes(), b"r", r.as_bytes(), b"v", v.as_bytes()], |_| ())?;
        self.ctx.open_key_writable(&module::bytes(self.ctx, cache.as_bytes())).set_expire(ttl)?;
        Ok(())
    }

    /// The release number of each video's first matching owner (by rank): its own owners, then with unique=master
    /// its master's (the videos it owns itself); videos without one are left out. Most videos have one or two owners,
    /// so the owners of the first ranks are tried from their u32 arrays, and only the rest look up all their owners
    /// (those of the tail last).
    fn first_matching_owners(&self, items: &[u32], rel: &Bitmap) -> Result<HashMap<u32, u32>, RedisError> {
        let mut found = HashMap::new();
        let mut todo: Vec<u32> = items.to_vec();
        let kinds: &[Kind] = if self.q.by_master { &[Kind::Video, Kind::MasterVideo] } else { &[Kind::Video] };
        for &kind in kinds {
            for rank in 0..OWNER_ARRAYS {
                let owners = self.u32s(&self.key(format_args!("o{rank}:{}", kind.letter())), &todo)?;
                // 0 (no owner at the rank) is no release's number.
                for (&item, owner) in todo.iter().zip(owners) {
                    if owner != 0 && rel.contains(owner) {
                        found.insert(item, owner);
                    }
                }
                todo.retain(|item| !found.contains_key(item));
            }
            for &item in &todo {
                let bucket = self.key(format_args!("o:{}:{}", kind.letter(), item / ITEM_BUCKET));
                let hash = self.ctx.open_key(&module::bytes(self.ctx, bucket.as_bytes()));
                let Some(raw) = hash.hash_get(&item.to_string())? else { continue };
                let owners = docs::decode_owners(raw.as_slice()).map_err(RedisError::String)?;
                if let Some(&owner) = owners.iter().find(|&&owner| owner != 0 && rel.contains(owner)) {
                    found.insert(item, owner);
                }
            }
            todo.retain(|item| !found.contains_key(item));
            for &item in &todo {
                let first =
                    self.with_tail_owners(kind, item, |owners| owners.and_then(|o| numbers::first_common(o, rel)))?;
                if let Some(owner) = first {
                    found.insert(item, owner);
                }
            }
            todo.retain(|item| !found.contains_key(item));
        }
        Ok(found)
    }

    /// `want` videos drawn uniformly from the result (numbers::drawn_ranks).
    fn draw(&self, vid: &Bitmap, want: u64) -> Vec<u32> {
        let ranks = numbers::drawn_ranks(self.q.state, vid.cardinality(), want);
        ranks.into_iter().filter_map(|rank| vid.select(rank as u32)).collect()
    }

    fn sample(&self, rel: Option<&Bitmap>, vid: Option<&Bitmap>, videos: u64) -> Result<Vec<RedisValue>, RedisError> {
        let want = self.q.limit.min(videos);
        let (Some(vid), true) = (vid, want > 0) else { return Ok(vec![]) };
        let picked = self.draw(vid, want);
        let owner = match rel {
            Some(rel) => self.first_matching_owners(&picked, rel)?,
            None => HashMap::new(),
        };
        let owners: Vec<u32> = picked.iter().map(|v| owner.get(v).copied().unwrap_or(0)).collect();
        let rids = self.u32s(&self.key(format_args!("rid")), &owners)?;
        let mut out = Vec::with_capacity(picked.len() * 3);
        for ((&v, rid), has_owner) in picked.iter().zip(rids).zip(owners.iter().map(|&o| o != 0)) {
            let bucket = module::bytes(self.ctx, self.key(format_args!("video:{}", v / VIDEO_BUCKET)).as_bytes());
            let meta = self.ctx.open_key(&bucket).hash_get(&v.to_string())?;
            let meta = meta.as_ref().map_or(&[][..], RedisString::as_slice);
            let tab = meta.iter().position(|&b| b == b'\t').unwrap_or(meta.len());
            out.push(RedisValue::StringBuffer(meta[..tab].to_vec()));
            out.push(RedisValue::StringBuffer(meta.get(tab + 1..).unwrap_or_default().to_vec()));
            out.push(RedisValue::Integer(if has_owner { i64::from(rid) } else { 0 }));
        }
        Ok(out)
    }
}

/// RBM.QUERY ns hash unique limit state seeded ttl active_key narrow [facet n value... ...]: the releases and videos
/// matching every facet (any of a facet's values), exactly, and a sample of up to limit videos, each with the release
/// id of its first matching owner, and the generation that answered (as the generation script names it, version@gen:
/// a seeded answer's ETag without a second call): [releases, videos, [YouTube id, title, release id, ...], generation].
pub fn query(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let mut reader = Reader { ctx, q: Query::parse(ctx, &args)? };
    let gen = read_string(ctx, &reader.key(format_args!("gen")))?
        .map_or_else(|| "0".to_owned(), |gen| String::from_utf8_lossy(&gen).into_owned());
    let cache = reader.key(format_args!("q:{gen}:{}", reader.q.hash));
    let (releases, videos, sample) = match reader.cached(&cache)? {
        Some((releases, videos)) => {
            let (rel, vid) = (reader.result_key(&gen, "rel"), reader.result_key(&gen, "vid"));
            let sample = module::with_set(ctx, &rel, |rel| {
                module::with_set(ctx, &vid, |vid| reader.sample(rel, vid, videos))
            })???;
            (releases, videos, sample)
        }
        // Not kept, or a new query: computed, its sample drawn before the sets are kept or dropped.
        None => {
            reader.narrowest_first()?;
            let (releases, videos, rel, vid) = reader.compute()?;
            let sample = reader.sample(rel.as_deref(), vid.as_deref(), videos)?;
            reader.cache(&gen, &cache, (releases, videos, rel, vid))?;
            (releases, videos, sample)
        }
    };
    Ok(RedisValue::Array(vec![
        RedisValue::Integer(releases as i64),
        RedisValue::Integer(videos as i64),
        RedisValue::Array(sample),
        RedisValue::BulkString(format!("{}@{gen}", reader.q.ns)),
    ]))
}
