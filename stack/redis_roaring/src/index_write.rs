//! The facet index's writes: RBM.INDEXRELEASES and RBM.INDEXMASTERS diff each record against what is indexed for it
//! and move its items' ranks, owners and filings (the layout: sinks/facet_index.py). They run as module commands
//! rather than Lua scripts: a script spent ~0.3 ms of Redis' one core per release, mostly in the Lua VM, and the
//! catalogue's 19.4M releases must build in under two hours.
//!
//! Keys that most records of a call write (counters, the video, owner and doc hashes, the u32 owner arrays) and the
//! number sets' changes are buffered and written once per call, each hash in one command. A call is atomic, so
//! nobody sees the difference. Buffers are ordered maps: a call writes in the same order wherever it runs, and
//! replicas and the AOF replay the call itself.

use std::collections::{BTreeMap, HashMap, HashSet};

use redis_module::{CallReply, Context, KeyType, RedisError, RedisResult, RedisString, RedisValue};

use crate::buckets;
use crate::docs::{self, Doc, Items, Kind, MasterPayload, Payload, ReleasePayload};
use crate::layout::{
    check_layout, parse_int, rank_set, read_string, u32_at, Rank, ANY_RANK_FACETS, DOC_BUCKET, FORMAT, ITEM_BUCKET,
    OWNER_ARRAYS, TAIL_RANK, VIDEO_BUCKET,
};
use crate::module::{self, call, call_chunked, CHUNK};

/// A facet and one of its values.
type Pair = (String, String);

fn error(text: String) -> RedisError {
    RedisError::String(text)
}

/// A hash's buffered fields: None deletes.
type Fields = BTreeMap<String, Option<Vec<u8>>>;

/// A tail count's changes of one item: field (facet letter, NUL, value) -> (delta, facet, value).
struct TailCounts {
    kind: Kind,
    item: u32,
    deltas: BTreeMap<String, (i64, Pair)>,
}

/// One write call's view of the index: reads go through its buffers, writes wait in them until `finish`.
struct Writer<'a> {
    ctx: &'a Context,
    ns: String,
    counters: BTreeMap<String, (i64, bool)>,
    hashes: BTreeMap<String, Fields>,
    arrays: BTreeMap<String, BTreeMap<u32, u32>>,
    /// Number set -> member -> added (true) or removed; the last change of a member wins.
    pending: BTreeMap<String, BTreeMap<u32, bool>>,
    /// Any-rank set (k:{kind}:a:{f}:{v}) -> its kind and value, and the items filed there or unfiled (true) at a rank.
    any_rank: BTreeMap<String, (Kind, Pair, BTreeMap<u32, bool>)>,
    tail_counts: BTreeMap<String, TailCounts>,
    /// Release counts per facet value (facet -> value -> delta) and the values' folded forms.
    deltas: BTreeMap<String, BTreeMap<String, i64>>,
    folded: HashMap<String, String>,
}

impl<'a> Writer<'a> {
    fn new(ctx: &'a Context, ns: &str) -> Self {
        Writer {
            ctx,
            ns: ns.to_owned(),
            counters: BTreeMap::new(),
            hashes: BTreeMap::new(),
            arrays: BTreeMap::new(),
            pending: BTreeMap::new(),
            any_rank: BTreeMap::new(),
            tail_counts: BTreeMap::new(),
            deltas: BTreeMap::new(),
            folded: HashMap::new(),
        }
    }

    fn key(&self, rest: std::fmt::Arguments) -> String {
        format!("{}:{}", self.ns, rest)
    }

    fn counter(&mut self, k: &str) -> Result<i64, RedisError> {
        if let Some((value, _)) = self.counters.get(k) {
            return Ok(*value);
        }
        let value = read_string(self.ctx, k)?.and_then(|text| parse_int(&text)).unwrap_or(0);
        self.counters.insert(k.to_owned(), (value, false));
        Ok(value)
    }

    fn add_to(&mut self, k: &str, delta: i64) -> Result<i64, RedisError> {
        let value = self.counter(k)? + delta;
        self.counters.insert(k.to_owned(), (value, true));
        Ok(value)
    }

    fn raise_to(&mut self, k: &str, value: i64) -> Result<(), RedisError> {
        if value > self.counter(k)? {
            self.counters.insert(k.to_owned(), (value, true));
        }
        Ok(())
    }

    /// A hash field as it stands in this call.
    fn hget(&self, k: &str, field: &str) -> Result<Option<Vec<u8>>, RedisError> {
        if let Some(value) = self.hashes.get(k).and_then(|fields| fields.get(field)) {
            return Ok(value.clone());
        }
        let key = self.ctx.open_key(&module::bytes(self.ctx, k.as_bytes()));
        match key.key_type() {
            KeyType::Empty => Ok(None),
            KeyType::Hash => Ok(key.hash_get(field)?.map(|value| value.as_slice().to_vec())),
            _ => Err(RedisError::WrongType),
        }
    }

    fn hset(&mut self, k: String, field: String, value: Option<Vec<u8>>) {
        self.hashes.entry(k).or_default().insert(field, value);
    }

    /// The u32 at index item of a BITFIELD u32 array, as it stands in this call (0 past its end).
    fn get_u32(&self, k: &str, item: u32) -> Result<u32, RedisError> {
        if let Some(value) = self.arrays.get(k).and_then(|slots| slots.get(&item)) {
            return Ok(*value);
        }
        let key = self.ctx.open_key(&module::bytes(self.ctx, k.as_bytes()));
        Ok(match key.key_type() {
            KeyType::Empty => 0,
            KeyType::String => u32_at(key.read()?.unwrap_or_default(), item),
            _ => return Err(RedisError::WrongType),
        })
    }

    fn set_u32(&mut self, k: String, item: u32, value: u32) {
        self.arrays.entry(k).or_default().insert(item, value);
    }

    fn file_member(&mut self, k: String, item: u32, add: bool) {
        self.pending.entry(k).or_default().insert(item, add);
    }

    // --- Docs, videos, owners ---

    fn doc_key(&self, rid: u32) -> String {
        self.key(format_args!("d:{}", rid / DOC_BUCKET))
    }

    fn read_doc(&self, rid: u32) -> Result<Option<Doc>, RedisError> {
        self.hget(&self.doc_key(rid), &rid.to_string())?
            .map(|bytes| docs::decode_doc(&bytes).map_err(|err| error(format!("ERR release {rid}: {err}"))))
            .transpose()
    }

    fn write_doc(&mut self, rid: u32, doc: Option<&Doc>) {
        self.hset(self.doc_key(rid), rid.to_string(), doc.map(docs::encode_doc));
    }

    fn video_key(&self, n: u32) -> String {
        self.key(format_args!("video:{}", n / VIDEO_BUCKET))
    }

    /// The hash holding a YouTube id's video number: a fixed function of the id, as for small number sets.
    fn vid_key(&self, yt: &str) -> String {
        self.key(format_args!("vid:{}", buckets::bucket_of(yt.as_bytes())))
    }

    /// The number of a YouTube id, handed out on first sight.
    fn video_number(&mut self, yt: &str) -> Result<u32, RedisError> {
        let bucket = self.vid_key(yt);
        if let Some(n) = self.hget(&bucket, yt)?.and_then(|text| parse_int(&text)) {
            return Ok(n as u32);
        }
        let n = self.add_to(&self.key(format_args!("seq:v")), 1)? as u32;
        self.hset(bucket, yt.to_owned(), Some(n.to_string().into_bytes()));
        Ok(n)
    }

    fn master_videos_key(&self, mid: u32) -> String {
        self.key(format_args!("md:{}", mid / ITEM_BUCKET))
    }

    fn master_videos(&self, mid: u32) -> Result<Items, RedisError> {
        match self.hget(&self.master_videos_key(mid), &mid.to_string())? {
            Some(text) => docs::decode_items(&text).map_err(|err| error(format!("ERR master {mid}: {err}"))),
            None => Ok(Items::new()),
        }
    }

    /// Kinds whose owners of the first OWNER_ARRAYS ranks are also kept in u32 arrays; an item whose one owner
    /// holds rank 0 (most videos) is left out of the o:* hashes, its owner being in o0:{kind} already.
    fn in_arrays(kind: Kind) -> bool {
        matches!(kind, Kind::Video | Kind::MasterVideo)
    }

    /// The o:* hash of an item and the item's owners by rank below the tail (0 = free rank).
    fn owners_of(&self, kind: Kind, item: u32) -> Result<(String, Vec<u32>), RedisError> {
        let bucket = self.key(format_args!("o:{}:{}", kind.letter(), item / ITEM_BUCKET));
        if let Some(raw) = self.hget(&bucket, &item.to_string())? {
            let owners = docs::decode_owners(&raw).map_err(|err| error(format!("ERR item {item}: {err}")))?;
            return Ok((bucket, owners));
        }
        let first = if Self::in_arrays(kind) {
            self.get_u32(&self.key(format_args!("o0:{}", kind.letter())), item)?
        } else {
            0
        };
        Ok((bucket, if first != 0 { vec![first] } else { vec![] }))
    }

    fn store_owners(&mut self, bucket: String, kind: Kind, item: u32, owners: &[u32]) {
        let kept = owners.len() > 1 || (owners.len() == 1 && !Self::in_arrays(kind));
        self.hset(bucket, item.to_string(), kept.then(|| docs::encode_owners(owners)));
    }

    fn set_owner_slot(&mut self, kind: Kind, item: u32, rank: u32, owner: u32) {
        if rank < OWNER_ARRAYS && Self::in_arrays(kind) {
            self.set_u32(self.key(format_args!("o{rank}:{}", kind.letter())), item, owner);
        }
    }

    fn tail_key(&self, kind: Kind, item: u32) -> RedisString {
        module::bytes(self.ctx, self.key(format_args!("ot:{}:{item}", kind.letter())).as_bytes())
    }

    /// owners: the item's owners below the tail when the caller has them already.
    fn has_owners(&self, kind: Kind, item: u32, owners: Option<&[u32]>) -> Result<bool, RedisError> {
        let below = match owners {
            Some(owners) => owners.iter().any(|&o| o != 0),
            None => self.owners_of(kind, item)?.1.iter().any(|&o| o != 0),
        };
        Ok(below || self.ctx.open_key(&self.tail_key(kind, item)).key_type() != KeyType::Empty)
    }

    /// ti:{kind} holds the items each release owns in the tail, and tr:{kind} every release owning any: a query meets
    /// the matching releases with the tail in one intersection and looks up their items.
    fn link_tail_owner(&mut self, kind: Kind, owner: u32, item: u32, add: bool) -> Result<(), RedisError> {
        if kind == Kind::OwnVideo {
            return Ok(()); // masters owning their videos: no query looks for them
        }
        let items = module::bytes(self.ctx, self.key(format_args!("ti:{}", kind.letter())).as_bytes());
        if module::link_tail_item(self.ctx, &items, owner, item, add)? {
            self.file_member(self.key(format_args!("tr:{}", kind.letter())), owner, add);
        }
        Ok(())
    }

    /// The video's number and title go once neither a release nor a master holds it.
    fn forget_video_if_unused(&mut self, item: u32) -> Result<(), RedisError> {
        if self.has_owners(Kind::Video, item, None)? || self.has_owners(Kind::OwnVideo, item, None)? {
            return Ok(());
        }
        let videos = self.video_key(item);
        if let Some(meta) = self.hget(&videos, &item.to_string())? {
            let yt = String::from_utf8_lossy(meta.split(|&b| b == b'\t').next().unwrap_or_default()).into_owned();
            self.hset(self.vid_key(&yt), yt, None);
        }
        self.hset(videos, item.to_string(), None);
        Ok(())
    }

    /// Gives owner the lowest free rank of item (kind r: a release is its own item, rank 0), or the tail.
    fn take_rank(&mut self, kind: Kind, item: u32, owner: u32) -> Result<u32, RedisError> {
        if kind == Kind::Release {
            return Ok(0);
        }
        let (bucket, mut owners) = self.owners_of(kind, item)?;
        if kind == Kind::Video && !self.has_owners(kind, item, Some(&owners))? {
            self.add_to(&self.key(format_args!("count:v")), 1)?;
        }
        let free = owners.iter().position(|&o| o == 0).unwrap_or(owners.len()) as u32;
        let rank = free.min(TAIL_RANK);
        if rank == TAIL_RANK {
            module::add_numbers(self.ctx, &self.tail_key(kind, item), &[owner])?;
            self.link_tail_owner(kind, owner, item, true)?;
        } else {
            if rank as usize == owners.len() {
                owners.push(owner);
            } else {
                owners[rank as usize] = owner;
            }
            self.store_owners(bucket, kind, item, &owners);
            self.set_owner_slot(kind, item, rank, owner);
        }
        self.raise_to(&self.key(format_args!("layers:{}", kind.letter())), i64::from(rank) + 1)?;
        Ok(rank)
    }

    fn free_rank(&mut self, kind: Kind, item: u32, rank: u32, owner: u32) -> Result<(), RedisError> {
        if kind == Kind::Release {
            return Ok(());
        }
        let (bucket, mut owners) = self.owners_of(kind, item)?;
        if rank >= TAIL_RANK {
            module::remove_numbers(self.ctx, &self.tail_key(kind, item), &[owner])?;
            self.link_tail_owner(kind, owner, item, false)?;
        } else {
            if let Some(slot) = owners.get_mut(rank as usize) {
                *slot = 0;
            }
            self.set_owner_slot(kind, item, rank, 0);
            while owners.last() == Some(&0) {
                owners.pop();
            }
            self.store_owners(bucket, kind, item, &owners);
        }
        if !self.has_owners(kind, item, Some(&owners))? {
            if kind == Kind::Video {
                self.add_to(&self.key(format_args!("count:v")), -1)?;
            }
            if matches!(kind, Kind::Video | Kind::OwnVideo) {
                self.forget_video_if_unused(item)?;
            }
        }
        Ok(())
    }

    // --- Filing ---

    /// Owners in the tail are filed per value only: k:{kind}:t:{f}:{v} holds the items with at least one such owner
    /// having the value, and tc:{kind}:{item} counts those owners per value. The counts' changes are summed over
    /// the call: a batch of a famous master's releases changes a dozen counts of the same items per release.
    fn count_tail(&mut self, kind: Kind, item: u32, pair: &Pair, delta: i64) {
        let counts = self.key(format_args!("tc:{}:{item}", kind.letter()));
        let t = self.tail_counts.entry(counts).or_insert_with(|| TailCounts { kind, item, deltas: BTreeMap::new() });
        let field = format!("{}\0{}", docs::facet_letter(&pair.0), pair.1);
        t.deltas.entry(field).or_insert_with(|| (0, pair.clone())).0 += delta;
    }

    /// An item of kind v, m or x filed or unfiled at a rank under a value of ANY_RANK_FACETS is filed under any
    /// rank as its rank sets say once the call has written them (flush_any_rank).
    fn note_any_rank(&mut self, kind: Kind, item: u32, pair: &Pair, add: bool) {
        if !matches!(kind, Kind::Video | Kind::Master | Kind::MasterVideo)
            || !ANY_RANK_FACETS.contains(&pair.0.as_str())
        {
            return;
        }
        let k = rank_set(&self.ns, kind, Rank::Any, &pair.0, &pair.1);
        let (.., items) = self.any_rank.entry(k).or_insert_with(|| (kind, pair.clone(), BTreeMap::new()));
        *items.entry(item).or_insert(false) |= !add;
    }

    fn file(&mut self, kind: Kind, rank: u32, item: u32, pairs: &[Pair], add: bool) {
        for pair in pairs {
            self.note_any_rank(kind, item, pair, add);
            if rank >= TAIL_RANK {
                self.count_tail(kind, item, pair, if add { 1 } else { -1 });
            } else {
                self.file_member(rank_set(&self.ns, kind, Rank::At(rank), &pair.0, &pair.1), item, add);
            }
        }
    }

    /// Moves owner's items of one kind from old to wanted, and their filing from old_pairs to new_pairs. Returns
    /// the new items and whether anything changed.
    fn sync(
        &mut self,
        owner: u32,
        kind: Kind,
        old: &Items,
        wanted: &[u32],
        old_pairs: &[Pair],
        new_pairs: &[Pair],
    ) -> Result<(Items, bool), RedisError> {
        let want: HashSet<u32> = wanted.iter().copied().collect();
        let (mut kept, mut out, mut changed) = (HashSet::new(), Items::new(), false);
        // Only items kept need the diff (a new release keeps none).
        let (gone, came) =
            if old.is_empty() { (vec![], vec![]) } else { (minus(old_pairs, new_pairs), minus(new_pairs, old_pairs)) };
        for &(item, rank) in old {
            if want.contains(&item) {
                kept.insert(item);
                out.push((item, rank));
                self.file(kind, rank, item, &gone, false);
                self.file(kind, rank, item, &came, true);
                changed = changed || !gone.is_empty() || !came.is_empty();
            } else {
                changed = true;
                self.file(kind, rank, item, old_pairs, false);
                self.free_rank(kind, item, rank, owner)?;
            }
        }
        for &item in wanted {
            if kept.insert(item) {
                changed = true;
                let rank = self.take_rank(kind, item, owner)?;
                out.push((item, rank));
                self.file(kind, rank, item, new_pairs, true);
            }
        }
        Ok((out, changed))
    }

    /// Writes the summed tail counts; an item whose count of a value turns from 0 or to 0 is filed or unfiled under
    /// it.
    fn flush_tail(&mut self) -> Result<(), RedisError> {
        for (counts, t) in std::mem::take(&mut self.tail_counts) {
            let changed: Vec<(&String, &(i64, Pair))> = t.deltas.iter().filter(|(_, (delta, _))| *delta != 0).collect();
            let (mut sets, mut dels): (Vec<Vec<u8>>, Vec<Vec<u8>>) = (vec![], vec![]);
            for part in changed.chunks(CHUNK) {
                let mut args: Vec<&[u8]> = vec![counts.as_bytes()];
                args.extend(part.iter().map(|(field, _)| field.as_bytes()));
                let before: Vec<i64> = call(self.ctx, "HMGET", &args, |reply| match reply {
                    CallReply::Array(items) => items
                        .iter()
                        .map(|item| match item {
                            Ok(CallReply::String(text)) => parse_int(text.as_bytes()).unwrap_or(0),
                            _ => 0,
                        })
                        .collect(),
                    _ => vec![],
                })?;
                for ((field, (delta, pair)), before) in part.iter().zip(before) {
                    let after = before + delta;
                    if after > 0 {
                        sets.push(field.as_bytes().to_vec());
                        sets.push(after.to_string().into_bytes());
                    } else {
                        dels.push(field.as_bytes().to_vec());
                    }
                    if (before > 0) != (after > 0) {
                        let k = rank_set(&self.ns, t.kind, Rank::Tail, &pair.0, &pair.1);
                        self.file_member(k, t.item, after > 0);
                    }
                }
            }
            call_chunked(self.ctx, "HSET", counts.as_bytes(), &sets, 2)?;
            call_chunked(self.ctx, "HDEL", counts.as_bytes(), &dels, 1)?;
        }
        Ok(())
    }

    /// Files the call's changes, each number set's at once, wherever it lives (module::file_numbers).
    fn flush(&mut self) -> Result<(), RedisError> {
        self.flush_tail()?;
        for (k, members) in std::mem::take(&mut self.pending) {
            let (adds, rems): (Vec<_>, Vec<_>) = members.into_iter().partition(|&(_, add)| add);
            let (adds, rems): (Vec<u32>, Vec<u32>) =
                (adds.into_iter().map(|(n, _)| n).collect(), rems.into_iter().map(|(n, _)| n).collect());
            module::file_numbers(self.ctx, self.ns.as_bytes(), k.as_bytes(), &rems, &adds)?;
        }
        self.flush_any_rank()
    }

    /// Files the call's any-rank changes: an item is in a value's any-rank set when one of the value's rank sets (the
    /// tail's included) holds it. One only filed in this call is (a build files nothing else); one unfiled somewhere
    /// is looked up in them.
    fn flush_any_rank(&mut self) -> Result<(), RedisError> {
        for (k, (kind, pair, items)) in std::mem::take(&mut self.any_rank) {
            let (unfiled, filed): (Vec<(u32, bool)>, _) = items.into_iter().partition(|&(_, unfiled)| unfiled);
            let mut adds: Vec<u32> = filed.into_iter().map(|(item, _)| item).collect();
            let rems = if unfiled.is_empty() {
                Vec::new()
            } else {
                let ranks: Vec<String> = (0..TAIL_RANK)
                    .map(Rank::At)
                    .chain([Rank::Tail])
                    .map(|rank| rank_set(&self.ns, kind, rank, &pair.0, &pair.1))
                    .collect();
                let (kept, gone): (Vec<u32>, Vec<u32>) = module::with_sets(self.ctx, &self.ns, &ranks, |sets| {
                    unfiled
                        .into_iter()
                        .map(|(item, _)| item)
                        .partition(|&item| sets.iter().any(|set| set.contains(item)))
                })?;
                adds.extend(kept);
                gone
            };
            module::file_numbers(self.ctx, self.ns.as_bytes(), k.as_bytes(), &rems, &adds)?;
        }
        Ok(())
    }

    /// Release counts per value (cnt:{f}) and the values' folded forms for prefix search (lex:{f}); fold:{f} keeps a
    /// folded form only when it is not the value in lower case (sinks/facets.py fold of an ASCII value), so most
    /// values need none. An index built before keeps every value's.
    fn write_counts(&mut self) -> Result<(), RedisError> {
        for (f, values) in std::mem::take(&mut self.deltas) {
            let (cnt, lex, fold) = (
                self.key(format_args!("cnt:{f}")),
                self.key(format_args!("lex:{f}")),
                self.key(format_args!("fold:{f}")),
            );
            for (value, delta) in values {
                if delta == 0 {
                    continue;
                }
                let v = value.as_bytes();
                let count =
                    call(
                        self.ctx,
                        "ZINCRBY",
                        &[cnt.as_bytes(), delta.to_string().as_bytes(), v],
                        |reply| match reply {
                            CallReply::String(text) => parse_int(text.as_bytes()),
                            CallReply::Double(d) => Some(d.to_double() as i64),
                            _ => None,
                        },
                    )?
                    .unwrap_or(-1);
                let lower = value.to_ascii_lowercase();
                if count > 0 && count == delta {
                    let folded = self.folded.get(&value).cloned().unwrap_or_else(|| lower.clone());
                    if folded != lower {
                        call(self.ctx, "HSET", &[fold.as_bytes(), v, folded.as_bytes()], |_| ())?;
                    }
                    call(self.ctx, "ZADD", &[lex.as_bytes(), b"0", format!("{folded}\0{value}").as_bytes()], |_| ())?;
                } else if count == 0 {
                    let kept = self.hget(&fold, &value)?;
                    call(self.ctx, "ZREM", &[cnt.as_bytes(), v], |_| ())?;
                    let folded = kept.clone().unwrap_or_else(|| lower.into_bytes());
                    call(self.ctx, "ZREM", &[lex.as_bytes(), &[folded.as_slice(), b"\0", v].concat()], |_| ())?;
                    if kept.is_some() {
                        call(self.ctx, "HDEL", &[fold.as_bytes(), v], |_| ())?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Counts delta for the values of list that are not in other (old and new values of one facet).
    fn count_missing(&mut self, f: &str, list: &[String], other: Option<&Vec<String>>, delta: i64) {
        for value in list {
            if !other.is_some_and(|other| other.contains(value)) {
                *self.deltas.entry(f.to_owned()).or_default().entry(value.clone()).or_default() += delta;
            }
        }
    }

    fn value_diff(&mut self, old: &Doc, new: &Doc) {
        for (f, values) in &old.f {
            self.count_missing(f, values, new.f.get(f), -1);
        }
        for (f, values) in &new.f {
            self.count_missing(f, values, old.f.get(f), 1);
        }
    }

    /// Writes what the buffers hold: counters, hashes and u32 arrays, each key in one command (or a few).
    fn write_buffered(&mut self) -> Result<(), RedisError> {
        for (k, (value, dirty)) in std::mem::take(&mut self.counters) {
            if dirty {
                call(self.ctx, "SET", &[k.as_bytes(), value.to_string().as_bytes()], |_| ())?;
            }
        }
        for (k, fields) in std::mem::take(&mut self.hashes) {
            let (mut sets, mut dels) = (vec![], vec![]);
            for (field, value) in fields {
                match value {
                    Some(value) => {
                        sets.push(field.into_bytes());
                        sets.push(value);
                    }
                    None => dels.push(field.into_bytes()),
                }
            }
            call_chunked(self.ctx, "HSET", k.as_bytes(), &sets, 2)?;
            call_chunked(self.ctx, "HDEL", k.as_bytes(), &dels, 1)?;
        }
        for (k, slots) in std::mem::take(&mut self.arrays) {
            let mut args = Vec::with_capacity(slots.len() * 4);
            for (item, value) in slots {
                args.extend([b"SET".to_vec(), b"u32".to_vec(), (u64::from(item) * 32).to_string().into_bytes()]);
                args.push(value.to_string().into_bytes());
            }
            call_chunked(self.ctx, "BITFIELD", k.as_bytes(), &args, 4)?;
        }
        Ok(())
    }

    /// Ends a call: files, counts and writes what it buffered; bumps the generation when anything changed.
    fn finish(mut self, changes: i64) -> RedisResult {
        self.flush()?;
        self.write_counts()?;
        self.write_buffered()?;
        if changes > 0 {
            call(self.ctx, "INCR", &[self.key(format_args!("gen")).as_bytes()], |_| ())?;
        }
        // Deterministic on the same data: replicas and the AOF replay the call rather than its many writes.
        self.ctx.replicate_verbatim();
        Ok(RedisValue::Integer(changes))
    }

    // --- Releases and masters ---

    /// The pairs an item of this kind is filed under: the release's values, ('*', '*') = every release, and for the
    /// release itself ('*', 'nom') = has no master (unique=master counts those one by one).
    fn filed_under(doc: &Doc, kind: Kind) -> Vec<Pair> {
        if doc.n.is_none() {
            return vec![];
        }
        let mut out: Vec<Pair> =
            doc.f.iter().flat_map(|(f, values)| values.iter().map(move |v| (f.clone(), v.clone()))).collect();
        out.push(("*".into(), "*".into()));
        if kind == Kind::Release && doc.m.is_none() {
            out.push(("*".into(), "nom".into()));
        }
        out
    }

    /// Indexes, moves or removes (payload None) one release, diffed against what was indexed for it before.
    /// Returns whether anything changed.
    fn apply_release(&mut self, rid: u32, payload: Option<ReleasePayload>) -> Result<bool, RedisError> {
        let old = self.read_doc(rid)?;
        if old.is_none() && payload.is_none() {
            return Ok(false);
        }
        let old = old.unwrap_or_default();
        let mut new = Doc::default();
        let mut wanted: BTreeMap<Kind, Vec<u32>> = Kind::OF_RELEASE.iter().map(|&kind| (kind, vec![])).collect();
        if let Some(p) = payload {
            let n = match old.n {
                Some(n) => n,
                None => self.add_to(&self.key(format_args!("seq:r")), 1)? as u32,
            };
            new.n = Some(n);
            for (f, values) in p.f {
                new.f.insert(f, values.keys().cloned().collect());
                self.folded.extend(values);
            }
            for (yt, title) in p.v {
                let video = self.video_number(&yt)?;
                self.hset(self.video_key(video), video.to_string(), Some(format!("{yt}\t{title}").into_bytes()));
                wanted.get_mut(&Kind::Video).expect("a kind").push(video);
            }
            wanted.insert(Kind::Release, vec![n]);
            if let Some(mid) = p.m {
                new.m = Some(mid.to_string());
                wanted.insert(Kind::Master, vec![mid]);
                wanted.insert(Kind::MasterVideo, self.master_videos(mid)?.into_iter().map(|(item, _)| item).collect());
                self.raise_to(&self.key(format_args!("seq:m")), i64::from(mid))?;
            }
        }
        let n = new.n.or(old.n).ok_or_else(|| error(format!("ERR release {rid}: its doc has no number")))?;
        let mut changed = old.n.is_none() || new.n.is_none() || old.m != new.m;
        // Kinds other than r share one filing (r adds '*:nom').
        let (old_r, new_r) = (Self::filed_under(&old, Kind::Release), Self::filed_under(&new, Kind::Release));
        let (old_v, new_v) = (Self::filed_under(&old, Kind::Video), Self::filed_under(&new, Kind::Video));
        for kind in Kind::OF_RELEASE {
            let (old_pairs, new_pairs) = if kind == Kind::Release { (&old_r, &new_r) } else { (&old_v, &new_v) };
            let held = old.i.get(&kind).cloned().unwrap_or_default();
            let (items, c) = self.sync(n, kind, &held, &wanted[&kind], old_pairs, new_pairs)?;
            new.i.insert(kind, items);
            changed = changed || c;
        }
        if !changed {
            return Ok(false);
        }
        self.value_diff(&old, &new);
        if old.m != new.m {
            for (mid, add) in [(&old.m, false), (&new.m, true)] {
                if let Some(mid) = mid {
                    self.file_member(self.key(format_args!("mr:{mid}")), rid, add);
                }
            }
        }
        if new.n.is_some() {
            if old.n.is_none() {
                self.add_to(&self.key(format_args!("count:r")), 1)?;
                self.set_u32(self.key(format_args!("rid")), n, rid);
            }
            self.write_doc(rid, Some(&new));
        } else {
            self.add_to(&self.key(format_args!("count:r")), -1)?;
            self.write_doc(rid, None);
        }
        Ok(true)
    }

    /// Indexes, updates or removes (payload None) a master's own videos; they count for its releases in
    /// unique=master queries (kind x items of those releases). Returns whether anything changed.
    fn apply_master(&mut self, mid: u32, payload: Option<MasterPayload>) -> Result<bool, RedisError> {
        let old = self.master_videos(mid)?;
        let mut wanted = vec![];
        for (yt, title) in payload.map(|p| p.v).unwrap_or_default() {
            let video = self.video_number(&yt)?;
            let videos = self.video_key(video);
            // A release's title for the video wins over the master's.
            if self.hget(&videos, &video.to_string())?.is_none() {
                self.hset(videos, video.to_string(), Some(format!("{yt}\t{title}").into_bytes()));
            }
            wanted.push(video);
        }
        let (new, changed) = self.sync(mid, Kind::OwnVideo, &old, &wanted, &[], &[])?;
        if !changed {
            return Ok(false);
        }
        let stored = (!new.is_empty()).then(|| docs::encode_items(&new));
        self.hset(self.master_videos_key(mid), mid.to_string(), stored);
        let releases = module::load_numbers(self.ctx, &self.ns, &self.key(format_args!("mr:{mid}")))?;
        for rid in releases.iter().flat_map(|set| set.iter()) {
            let Some(mut doc) = self.read_doc(rid)? else { continue };
            let pairs = Self::filed_under(&doc, Kind::MasterVideo);
            let held = doc.i.get(&Kind::MasterVideo).cloned().unwrap_or_default();
            let n = doc.n.ok_or_else(|| error(format!("ERR release {rid}: its doc has no number")))?;
            let (items, _) = self.sync(n, Kind::MasterVideo, &held, &wanted, &pairs, &pairs)?;
            doc.i.insert(Kind::MasterVideo, items);
            self.write_doc(rid, Some(&doc));
        }
        Ok(true)
    }
}

/// The pairs of a that are not in b.
fn minus(a: &[Pair], b: &[Pair]) -> Vec<Pair> {
    let seen: HashSet<&Pair> = b.iter().collect();
    a.iter().filter(|pair| !seen.contains(pair)).cloned().collect()
}

/// The (id, payload) pairs after the namespace, every payload parsed before anything is written.
fn parse_records<T: Payload>(args: &[RedisString]) -> Result<Vec<(u32, Option<T>)>, RedisError> {
    if !args.len().is_multiple_of(2) {
        return Err(RedisError::WrongArity);
    }
    args.chunks(2)
        .map(|pair| {
            let id = String::from_utf8_lossy(pair[0].as_slice()).into_owned();
            let number = id.parse::<u32>().map_err(|_| error(format!("ERR record id {id:?} is not a number")))?;
            let payload = docs::parse_payload(&id, pair[1].as_slice()).map_err(|err| error(format!("ERR {err}")))?;
            Ok((number, payload))
        })
        .collect()
}

/// Checks the layout, marks a new index's format, and runs apply on each record.
fn index_records<T: Payload>(
    ctx: &Context,
    args: &[RedisString],
    apply: impl Fn(&mut Writer<'_>, u32, Option<T>) -> Result<bool, RedisError>,
) -> RedisResult {
    if args.len() < 2 {
        return Err(RedisError::WrongArity);
    }
    let ns = args[1].try_as_str()?;
    let records = parse_records::<T>(&args[2..])?;
    if !check_layout(ctx, ns)? {
        call(ctx, "SET", &[format!("{ns}:format").as_bytes(), FORMAT.as_bytes()], |_| ())?;
    }
    let mut writer = Writer::new(ctx, ns);
    let mut changes = 0;
    for (id, payload) in records {
        if apply(&mut writer, id, payload)? {
            changes += 1;
        }
    }
    writer.finish(changes)
}

/// RBM.INDEXRELEASES ns id payload [id payload ...]: indexes, moves or removes releases (payload '' removes; JSON
/// as docs::ReleasePayload), each diffed against what was indexed for it before, so replays are no-ops. Replies
/// how many changed.
pub fn index_releases(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    index_records(ctx, &args, |writer, id, payload: Option<ReleasePayload>| writer.apply_release(id, payload))
}

/// RBM.INDEXMASTERS ns id payload [id payload ...]: the same for masters' own videos (docs::MasterPayload).
pub fn index_masters(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    index_records(ctx, &args, |writer, id, payload: Option<MasterPayload>| writer.apply_master(id, payload))
}
