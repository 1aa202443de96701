//! The Redis glue: the `roaringbm` and `ownertail` key types (RDB save/load, AOF rewrite, MEMORY USAGE, COPY) and the
//! RBM.* commands.

use std::ffi::CString;
use std::os::raw::{c_int, c_void};

use croaring::Bitmap;
use redis_module::key::{RedisKey, RedisKeyWritable};
use redis_module::native_types::RedisType;
use redis_module::{
    raw, redis_module, CallOptionsBuilder, CallReply, CallResult, Context, KeyType, RedisError, RedisResult,
    RedisString, RedisValue, Status,
};

use crate::packed::{Numbers, Packed};
use crate::tail_items::TailItems;
use crate::{alloc, buckets, index_write, layout, numbers, query};

/// RDB encoding version of both types: 1 = one string buffer (Stored::to_bytes).
const ENCODING_VERSION: i32 = 1;

/// What a key type of the module keeps: its bytes in RDB files, the commands an AOF rewrite emits, its heap size.
trait Stored: Clone + Sized {
    fn to_bytes(&self) -> Vec<u8>;
    /// None for bytes to_bytes did not write.
    fn from_bytes(bytes: &[u8]) -> Option<Self>;
    /// The command that adds bytes to a key, and the value as its bytes arguments.
    fn aof_commands(&self) -> (&'static str, Vec<Vec<u8>>);
    fn heap_bytes(&self) -> usize;
}

impl Stored for Numbers {
    fn to_bytes(&self) -> Vec<u8> {
        numbers::to_bytes(self)
    }

    /// Loaded packed: a set read from a file is not being written (packing it took 8.6 s instead of 8.4 to load a
    /// 4M-release index, and its queries 0.94× the CPU).
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        numbers::from_bytes(bytes).ok().map(|set| Numbers::Packed(Packed::of(&set)))
    }

    /// One RBM.ORBYTES per key: the set in the portable format, far shorter than its numbers as text.
    fn aof_commands(&self) -> (&'static str, Vec<Vec<u8>>) {
        ("RBM.ORBYTES", vec![self.to_bytes()])
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Numbers::Live(set) => numbers::heap_bytes(set),
            Numbers::Packed(packed) => packed.heap_bytes(),
        }
    }
}

/// Owners per RBM.TAILMERGE an AOF rewrite emits: commands of ~100 KB, where one would hold a kind's millions.
const TAIL_AOF_OWNERS: usize = 8192;

impl Stored for TailItems {
    fn to_bytes(&self) -> Vec<u8> {
        self.to_chunks(usize::MAX).concat()
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let mut tail = TailItems::default();
        tail.merge_bytes(bytes).ok()?;
        tail.merge();
        Some(tail)
    }

    fn aof_commands(&self) -> (&'static str, Vec<Vec<u8>>) {
        ("RBM.TAILMERGE", self.to_chunks(TAIL_AOF_OWNERS))
    }

    fn heap_bytes(&self) -> usize {
        TailItems::heap_bytes(self)
    }
}

const fn methods<T: Stored>() -> raw::RedisModuleTypeMethods {
    raw::RedisModuleTypeMethods {
        version: raw::REDISMODULE_TYPE_METHOD_VERSION as u64,
        rdb_load: Some(rdb_load::<T>),
        rdb_save: Some(rdb_save::<T>),
        aof_rewrite: Some(aof_rewrite::<T>),
        mem_usage: Some(mem_usage::<T>),
        digest: None,
        free: Some(free::<T>),
        aux_load: None,
        aux_save: None,
        aux_save2: None,
        aux_save_triggers: 0,
        free_effort: None,
        unlink: None,
        copy: Some(copy::<T>),
        defrag: None,
        copy2: None,
        free_effort2: None,
        mem_usage2: None,
        unlink2: None,
    }
}

static ROARING_TYPE: RedisType = RedisType::new("roaringbm", ENCODING_VERSION, methods::<Numbers>());

/// The items each release owns in the tail, for one kind (tail_items.rs).
static TAIL_TYPE: RedisType = RedisType::new("ownertail", ENCODING_VERSION, methods::<TailItems>());

unsafe extern "C" fn free<T: Stored>(value: *mut c_void) {
    drop(Box::from_raw(value.cast::<T>()));
}

unsafe extern "C" fn mem_usage<T: Stored>(value: *const c_void) -> usize {
    (*value.cast::<T>()).heap_bytes()
}

unsafe extern "C" fn copy<T: Stored>(
    _from: *mut raw::RedisModuleString,
    _to: *mut raw::RedisModuleString,
    value: *const c_void,
) -> *mut c_void {
    Box::into_raw(Box::new((*value.cast::<T>()).clone())).cast()
}

unsafe extern "C" fn rdb_save<T: Stored>(rdb: *mut raw::RedisModuleIO, value: *mut c_void) {
    raw::save_slice(rdb, &(*value.cast::<T>()).to_bytes());
}

unsafe extern "C" fn rdb_load<T: Stored>(rdb: *mut raw::RedisModuleIO, encver: c_int) -> *mut c_void {
    if encver != ENCODING_VERSION {
        return std::ptr::null_mut();
    }
    // A null value makes Redis refuse the file rather than load a wrong value.
    match raw::load_string_buffer(rdb).ok().and_then(|buf| T::from_bytes(buf.as_ref())) {
        Some(value) => Box::into_raw(Box::new(value)).cast(),
        None => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn aof_rewrite<T: Stored>(
    aof: *mut raw::RedisModuleIO,
    key: *mut raw::RedisModuleString,
    value: *mut c_void,
) {
    let (command, chunks) = (*value.cast::<T>()).aof_commands();
    let cmd = CString::new(command).expect("no NUL");
    let fmt = CString::new("sb").expect("no NUL");
    for bytes in chunks {
        raw::RedisModule_EmitAOF.expect("EmitAOF")(aof, cmd.as_ptr(), fmt.as_ptr(), key, bytes.as_ptr(), bytes.len());
    }
}

/// f of the tail items at key (None when missing); another type is WRONGTYPE.
pub(crate) fn with_tail_items<T>(
    ctx: &Context,
    key: &RedisString,
    f: impl FnOnce(Option<&TailItems>) -> T,
) -> Result<T, RedisError> {
    let opened = ctx.open_key(key);
    let tail = opened.get_value::<TailItems>(&TAIL_TYPE).map_err(|_| RedisError::WrongType)?;
    Ok(f(tail))
}

/// Adds (or removes) item to owner's tail items at key; returns whether owner came (or went) with it. The last item
/// removed deletes the key.
pub(crate) fn link_tail_item(
    ctx: &Context,
    key: &RedisString,
    owner: u32,
    item: u32,
    add: bool,
) -> Result<bool, RedisError> {
    let opened = ctx.open_key_writable(key);
    let tail = opened.get_value::<TailItems>(&TAIL_TYPE).map_err(|_| RedisError::WrongType)?;
    match (tail, add) {
        (Some(tail), true) => Ok(tail.add(owner, item)),
        (None, true) => {
            let mut tail = TailItems::default();
            tail.add(owner, item);
            opened.set_value(&TAIL_TYPE, tail)?;
            Ok(true)
        }
        (Some(tail), false) => {
            let gone = tail.remove(owner, item);
            if tail.is_empty() {
                opened.delete()?;
            }
            Ok(gone)
        }
        (None, false) => Ok(false),
    }
}

/// RBM.TAILMERGE key bytes: adds owners' tail items in the form an AOF rewrite emits them (tail_items.rs to_chunks);
/// malformed bytes change nothing.
fn tailmerge(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let [_, key, bytes] = args.as_slice() else { return Err(RedisError::WrongArity) };
    let opened = ctx.open_key_writable(key);
    match opened.get_value::<TailItems>(&TAIL_TYPE).map_err(|_| RedisError::WrongType)? {
        Some(tail) => tail.merge_bytes(bytes.as_slice()).map_err(RedisError::Str)?,
        None => {
            let mut tail = TailItems::default();
            tail.merge_bytes(bytes.as_slice()).map_err(RedisError::Str)?;
            if tail.is_empty() {
                return Ok(RedisValue::SimpleStringStatic("OK"));
            }
            opened.set_value(&TAIL_TYPE, tail)?;
        }
    }
    ctx.replicate_verbatim();
    Ok(RedisValue::SimpleStringStatic("OK"))
}

/// RBM.TAILITEMS key: [[owner, item, ...], ...] by owner.
fn tailitems(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let [_, key] = args.as_slice() else { return Err(RedisError::WrongArity) };
    with_tail_items(ctx, key, |tail| {
        let owners = tail.map(TailItems::sorted).unwrap_or_default();
        let entry = |(owner, items): (u32, &[u32])| {
            let numbers = std::iter::once(owner).chain(items.iter().copied());
            RedisValue::Array(numbers.map(|n| RedisValue::Integer(i64::from(n))).collect())
        };
        RedisValue::Array(owners.into_iter().map(entry).collect())
    })
}

fn parse_numbers(args: &[RedisString]) -> Result<Vec<u32>, RedisError> {
    args.iter().map(|arg| numbers::parse_number(arg.as_slice()).map_err(RedisError::Str)).collect()
}

fn number_reply(found: Option<u32>) -> RedisValue {
    RedisValue::Integer(found.map_or(-1, i64::from))
}

fn count_reply(n: u64) -> RedisValue {
    RedisValue::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A Redis string of any bytes (the crate's create_string refuses a NUL byte, and a packed number set holds many).
pub(crate) fn bytes(ctx: &Context, value: &[u8]) -> RedisString {
    RedisString::create_from_slice(ctx.ctx, value)
}

/// Reads the set at key (None when missing) and passes it to f; another type is WRONGTYPE.
pub(crate) fn with_set<T>(
    ctx: &Context,
    key: &RedisString,
    f: impl FnOnce(Option<&Bitmap>) -> T,
) -> Result<T, RedisError> {
    let opened = ctx.open_key(key);
    Ok(f(stored(&opened)?))
}

/// The set at an open key (None when missing); another type is WRONGTYPE.
fn stored(key: &RedisKey) -> Result<Option<&Bitmap>, RedisError> {
    Ok(key.get_value::<Numbers>(&ROARING_TYPE).map_err(|_| RedisError::WrongType)?.map(|set| &**set))
}

/// The set at a key open for writing, to write (None when missing); another type is WRONGTYPE.
fn stored_mut<'a>(key: &RedisKeyWritable) -> Result<Option<&'a mut Bitmap>, RedisError> {
    Ok(key.get_value::<Numbers>(&ROARING_TYPE).map_err(|_| RedisError::WrongType)?.map(Numbers::live))
}

/// Replaces whatever is at key by set; an empty set deletes the key (as SINTERSTORE does).
pub(crate) fn store(ctx: &Context, key: &RedisString, set: Bitmap) -> Result<(), RedisError> {
    let opened = ctx.open_key_writable(key);
    if !opened.is_empty() {
        opened.delete()?;
    }
    if !set.is_empty() {
        opened.set_value(&ROARING_TYPE, Numbers::Live(set))?;
    }
    Ok(())
}

/// Adds numbers to the set at key (created when missing); returns how many were new.
pub(crate) fn add_numbers(ctx: &Context, key: &RedisString, nums: &[u32]) -> Result<u64, RedisError> {
    let key = ctx.open_key_writable(key);
    match stored_mut(&key)? {
        Some(set) => Ok(numbers::add_all(set, nums)),
        None => {
            let mut set = Bitmap::new();
            let added = numbers::add_all(&mut set, nums);
            key.set_value(&ROARING_TYPE, Numbers::Live(set))?;
            Ok(added)
        }
    }
}

/// Removes numbers from the set at key; returns how many were there. The last one removed deletes the key.
pub(crate) fn remove_numbers(ctx: &Context, key: &RedisString, nums: &[u32]) -> Result<u64, RedisError> {
    let key = ctx.open_key_writable(key);
    let Some(set) = stored_mut(&key)? else {
        return Ok(0);
    };
    let removed = numbers::remove_all(set, nums);
    if set.is_empty() {
        key.delete()?;
    }
    Ok(removed)
}

/// RBM.ADD key n [n ...]: adds numbers, replies how many were new.
fn add(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let added = add_numbers(ctx, &args[1], &parse_numbers(&args[2..])?)?;
    if added > 0 {
        ctx.replicate_verbatim();
    }
    Ok(count_reply(added))
}

/// RBM.REM key n [n ...]: removes numbers, replies how many were there; the last one removed deletes the key.
fn rem(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let removed = remove_numbers(ctx, &args[1], &parse_numbers(&args[2..])?)?;
    if removed > 0 {
        ctx.replicate_verbatim();
    }
    Ok(count_reply(removed))
}

/// RBM.CARD key: how many numbers (0 for a missing key).
fn card(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() != 2 {
        return Err(RedisError::WrongArity);
    }
    with_set(ctx, &args[1], |set| count_reply(set.map_or(0, Bitmap::cardinality)))
}

/// RBM.AND / RBM.OR / RBM.ANDNOT dest key [key ...]: stores the intersection / union / the first set minus the
/// others at dest, replies its cardinality.
fn combine(ctx: &Context, args: &[RedisString], op: fn(&[Option<&Bitmap>]) -> Bitmap) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let keys: Vec<_> = args[2..].iter().map(|name| ctx.open_key(name)).collect();
    let sets = keys.iter().map(stored).collect::<Result<Vec<_>, _>>()?;
    let result = op(&sets);
    drop(keys);
    let count = result.cardinality();
    store(ctx, &args[1], result)?;
    ctx.replicate_verbatim();
    Ok(count_reply(count))
}

fn and(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    combine(ctx, &args, numbers::and_all)
}

fn or(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    combine(ctx, &args, numbers::or_all)
}

fn andnot(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    combine(ctx, &args, numbers::and_not_all)
}

/// RBM.ANDCARD key key: the cardinality of the intersection of two sets, without storing it.
fn andcard(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() != 3 {
        return Err(RedisError::WrongArity);
    }
    let (a, b) = (ctx.open_key(&args[1]), ctx.open_key(&args[2]));
    Ok(count_reply(match (stored(&a)?, stored(&b)?) {
        (Some(a), Some(b)) => a.and_cardinality(b),
        _ => 0,
    }))
}

/// RBM.FIRSTIN set key [key ...]: per key, the smallest number it shares with set, -1 when none (or a key is
/// missing). One call checks many small sets against one large one without copying either.
fn firstin(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    with_set(ctx, &args[1], |set| {
        args[2..]
            .iter()
            .map(|name| {
                with_set(ctx, name, |other| match (set, other) {
                    (Some(set), Some(other)) => number_reply(numbers::first_common(set, other)),
                    _ => number_reply(None),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(RedisValue::Array)
    })?
}

/// RBM.MISMEMBER key n [n ...]: 1 or 0 per number, in order.
fn mismember(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let nums = parse_numbers(&args[2..])?;
    with_set(ctx, &args[1], |set| {
        let found = set.map_or_else(|| vec![false; nums.len()], |set| numbers::contains_each(set, &nums));
        RedisValue::Array(found.into_iter().map(|hit| RedisValue::Integer(i64::from(hit))).collect())
    })
}

/// RBM.NEXT key offset: the smallest number >= offset, -1 if none (BITPOS key 1 offset -1 BIT).
fn next(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() != 3 {
        return Err(RedisError::WrongArity);
    }
    let offset = numbers::parse_number(args[2].as_slice()).map_err(RedisError::Str)?;
    with_set(ctx, &args[1], |set| number_reply(set.and_then(|set| numbers::next_at(set, offset))))
}

/// RBM.SELECT key rank: the rank-th smallest number (from 0), -1 past the end.
fn select(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() != 3 {
        return Err(RedisError::WrongArity);
    }
    let rank = numbers::parse_number(args[2].as_slice()).map_err(RedisError::Str)?;
    with_set(ctx, &args[1], |set| number_reply(set.and_then(|set| set.select(rank))))
}

/// RBM.MEMBERS key: every number, ascending (for tests and small sets).
fn members(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() != 2 {
        return Err(RedisError::WrongArity);
    }
    with_set(ctx, &args[1], |set| {
        RedisValue::Array(set.iter().flat_map(|set| set.iter()).map(|n| RedisValue::Integer(i64::from(n))).collect())
    })
}

/// RBM.TOBITMAP key: the set as a plain Redis bitmap string (bit n as SETBIT n sets it).
fn tobitmap(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() != 2 {
        return Err(RedisError::WrongArity);
    }
    with_set(ctx, &args[1], |set| RedisValue::StringBuffer(set.map(numbers::to_redis_bitmap).unwrap_or_default()))
}

/// RBM.FROMBITMAP dest src: stores the set of a plain bitmap (a STRING key) at dest, replies its cardinality.
fn frombitmap(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() != 3 {
        return Err(RedisError::WrongArity);
    }
    let src = ctx.open_key(&args[2]);
    let set = match src.key_type() {
        KeyType::Empty => Bitmap::new(),
        KeyType::String => numbers::from_redis_bitmap(src.read()?.unwrap_or_default()),
        _ => return Err(RedisError::WrongType),
    };
    drop(src);
    let count = set.cardinality();
    store(ctx, &args[1], set)?;
    ctx.replicate_verbatim();
    Ok(count_reply(count))
}

/// RBM.ORBYTES key bytes: ORs a set in the portable roaring format into key (what AOF rewrites emit).
fn orbytes(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() != 3 {
        return Err(RedisError::WrongArity);
    }
    let incoming = numbers::from_bytes(args[2].as_slice()).map_err(RedisError::Str)?;
    let key = ctx.open_key_writable(&args[1]);
    let count = match stored_mut(&key)? {
        Some(set) => {
            set.or_inplace(&incoming);
            set.cardinality()
        }
        None if incoming.is_empty() => return Ok(RedisValue::Integer(0)),
        None => {
            let count = incoming.cardinality();
            key.set_value(&ROARING_TYPE, Numbers::Live(incoming))?;
            count
        }
    };
    ctx.replicate_verbatim();
    Ok(count_reply(count))
}

/// RBM.PACK key [key ...]: packs the roaring sets among the keys (packed.rs), for queries once a bulk build is done;
/// other keys are left as they are. Replies how many were packed.
fn pack(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() < 2 {
        return Err(RedisError::WrongArity);
    }
    let mut packed = 0;
    for name in &args[1..] {
        let key = ctx.open_key_writable(name);
        if let Ok(Some(set)) = key.get_value::<Numbers>(&ROARING_TYPE) {
            packed += u64::from(set.pack());
        }
    }
    if packed > 0 {
        ctx.replicate_verbatim();
    }
    Ok(count_reply(packed))
}

/// RBM.BUCKET name: the bucket of a small number set's field (or of any name hashed the same way).
fn bucket(_ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    if args.len() != 2 {
        return Err(RedisError::WrongArity);
    }
    Ok(RedisValue::Integer(i64::from(buckets::bucket_of(args[1].as_slice()))))
}

/// Runs a Redis command on byte arguments and hands its reply to f (its error reply as an error).
pub(crate) fn call<T>(
    ctx: &Context,
    command: &str,
    args: &[&[u8]],
    f: impl FnOnce(&CallReply) -> T,
) -> Result<T, RedisError> {
    let reply: CallResult = ctx.call_ext(command, &CallOptionsBuilder::new().build(), args);
    match &reply {
        Ok(reply) => Ok(f(reply)),
        Err(err) => Err(RedisError::String(err.to_utf8_string().unwrap_or_else(|| format!("ERR {command} failed")))),
    }
}

/// Groups of arguments (`per` each: a field and its value, a number, ...) per command, at most.
pub(crate) const CHUNK: usize = 4000;

/// A command on key and a flat list of arguments, in calls of at most CHUNK groups of `per` arguments.
pub(crate) fn call_chunked(
    ctx: &Context,
    command: &str,
    key: &[u8],
    args: &[Vec<u8>],
    per: usize,
) -> Result<(), RedisError> {
    for part in args.chunks(CHUNK * per) {
        let all: Vec<&[u8]> = std::iter::once(key).chain(part.iter().map(Vec::as_slice)).collect();
        call(ctx, command, &all, |_| ())?;
    }
    Ok(())
}

/// A command on key and numbers, in calls of at most CHUNK numbers.
fn call_numbers(ctx: &Context, command: &str, key: &[u8], numbers: &[u32]) -> Result<(), RedisError> {
    let text: Vec<Vec<u8>> = numbers.iter().map(|n| n.to_string().into_bytes()).collect();
    call_chunked(ctx, command, key, &text, 1)
}

/// The numbers of the SET at name (none when missing), read in place with RM_ScanKey: a command call (SMEMBERS)
/// would build a reply and parse it again, several times the cost for the few members these sets have. Another type
/// is WRONGTYPE, as SMEMBERS says.
pub(crate) fn set_members(ctx: &Context, name: &[u8]) -> Result<Vec<u32>, RedisError> {
    unsafe extern "C" fn collect(
        _key: *mut raw::RedisModuleKey,
        member: *mut raw::RedisModuleString,
        _value: *mut raw::RedisModuleString,
        out: *mut c_void,
    ) {
        let mut n: i64 = 0;
        if raw::string_to_longlong(member, &mut n) == Status::Ok {
            if let Ok(n) = u32::try_from(n) {
                (*out.cast::<Vec<u32>>()).push(n);
            }
        }
    }
    let name = bytes(ctx, name);
    let mut out: Vec<u32> = Vec::new();
    // SAFETY: the key is opened and closed here, the cursor created and destroyed here, and `collect` only runs
    // within RM_ScanKey, while `out` lives.
    unsafe {
        let key = raw::open_key(ctx.ctx, name.inner, raw::KeyMode::READ);
        if key.is_null() {
            return Ok(out);
        }
        let kind = raw::RedisModule_KeyType.unwrap()(key) as isize;
        if kind == raw::REDISMODULE_KEYTYPE_SET {
            let cursor = raw::RedisModule_ScanCursorCreate.unwrap()();
            let scan = raw::RedisModule_ScanKey.unwrap();
            while scan(key, cursor, Some(collect), (&mut out as *mut Vec<u32>).cast()) != 0 {}
            raw::RedisModule_ScanCursorDestroy.unwrap()(cursor);
        }
        raw::RedisModule_CloseKey.unwrap()(key);
        if kind != raw::REDISMODULE_KEYTYPE_SET && kind != raw::REDISMODULE_KEYTYPE_EMPTY {
            return Err(RedisError::WrongType);
        }
    }
    Ok(out)
}

/// f of the number sets at names (under namespace ns), wherever each lives, the empty ones left out: roaring bitmaps
/// as they are, without a copy; the others read into roaring bitmaps.
pub(crate) fn with_sets<T>(
    ctx: &Context,
    ns: &str,
    names: &[String],
    f: impl FnOnce(&[&Bitmap]) -> T,
) -> Result<T, RedisError> {
    let keys: Vec<_> = names.iter().map(|name| ctx.open_key(&bytes(ctx, name.as_bytes()))).collect();
    let mut loaded = Vec::new();
    for (key, name) in keys.iter().zip(names) {
        if key.key_type() != KeyType::Module {
            loaded.extend(read_numbers(ctx, ns, name, key)?);
        }
    }
    let mut sets: Vec<&Bitmap> = loaded.iter().collect();
    for key in keys.iter().filter(|key| key.key_type() == KeyType::Module) {
        sets.extend(stored(key)?);
    }
    sets.retain(|set| !set.is_empty());
    Ok(f(&sets))
}

/// A number set a query holds: one it computed, or a roaring bitmap where it is stored, its key open while the query
/// holds it. A query of one broad value then counts and samples that value's set (megabytes at millions of releases)
/// without copying it.
pub(crate) enum Found {
    Computed(Bitmap),
    Stored(RedisKey),
}

impl std::ops::Deref for Found {
    type Target = Bitmap;

    fn deref(&self) -> &Bitmap {
        match self {
            Found::Computed(set) => set,
            // A key is held only once its bitmap was read (find_numbers), and a query writes none of the sets.
            Found::Stored(key) => stored(key).ok().flatten().expect("a stored set, read when it was found"),
        }
    }
}

impl std::borrow::Borrow<Bitmap> for Found {
    fn borrow(&self) -> &Bitmap {
        self
    }
}

impl From<Bitmap> for Found {
    fn from(set: Bitmap) -> Found {
        Found::Computed(set)
    }
}

impl numbers::MaybeOwned for Found {
    fn owned(self) -> Result<Bitmap, Found> {
        match self {
            Found::Computed(set) => Ok(set),
            stored => Err(stored),
        }
    }
}

impl Found {
    /// The set as a bitmap of its own: a stored one is copied.
    pub(crate) fn into_bitmap(self) -> Bitmap {
        numbers::MaybeOwned::owned(self).unwrap_or_else(|stored| Bitmap::clone(&stored))
    }
}

/// The number set at name (under namespace ns) wherever it lives, as `load_numbers` reads it, except that a roaring
/// bitmap is held where it is stored; None when empty.
pub(crate) fn find_numbers(ctx: &Context, ns: &str, name: &str) -> Result<Option<Found>, RedisError> {
    let key = ctx.open_key(&bytes(ctx, name.as_bytes()));
    if key.key_type() != KeyType::Module {
        return Ok(read_numbers(ctx, ns, name, &key)?.map(Found::Computed));
    }
    let held = stored(&key)?.is_some_and(|set| !set.is_empty());
    Ok(held.then_some(Found::Stored(key)))
}

/// The union of the number sets at names (under namespace ns), wherever each lives; None when empty. One name's set is
/// held where it is stored.
pub(crate) fn union_of(ctx: &Context, ns: &str, names: &[String]) -> Result<Option<Found>, RedisError> {
    if let [name] = names {
        return find_numbers(ctx, ns, name);
    }
    with_sets(ctx, ns, names, |sets| match sets {
        [] => None,
        _ => Some(Found::Computed(numbers::union(sets))),
    })
}

/// Keeps in `out` only the numbers in the union of the number sets at names (under namespace ns), read where they are.
/// Returns whether `out` still holds any.
pub(crate) fn and_union_of(ctx: &Context, ns: &str, names: &[String], out: &mut Bitmap) -> Result<bool, RedisError> {
    with_sets(ctx, ns, names, |sets| {
        numbers::and_union_inplace(out, sets);
        !out.is_empty()
    })
}

/// The number set at name (under namespace ns) wherever it lives: a roaring bitmap, a SET or its bucket's field; None
/// when empty. Another type is an index of an older layout.
pub(crate) fn load_numbers(ctx: &Context, ns: &str, name: &str) -> Result<Option<Bitmap>, RedisError> {
    read_numbers(ctx, ns, name, &ctx.open_key(&bytes(ctx, name.as_bytes())))
}

/// `load_numbers` of a key already opened.
fn read_numbers(ctx: &Context, ns: &str, name: &str, opened: &RedisKey) -> Result<Option<Bitmap>, RedisError> {
    let set = match opened.key_type() {
        KeyType::Module => stored(opened)?.cloned(),
        KeyType::Set => Some(Bitmap::of(&set_members(ctx, name.as_bytes())?)),
        KeyType::Empty => {
            let field = &name[ns.len() + 1..];
            let bucket = bytes(ctx, format!("{ns}:sb:{}", buckets::bucket_of(field.as_bytes())).as_bytes());
            let packed = ctx.open_key(&bucket).hash_get(field)?;
            packed.map(|packed| Bitmap::of(&buckets::unpack(packed.as_slice())))
        }
        _ => {
            return Err(RedisError::String(format!(
                "INDEX_FORMAT index {ns} holds {name} as a {}, an older layout: rebuild it with `dataget reindex`",
                format!("{:?}", opened.key_type()).to_lowercase()
            )))
        }
    };
    Ok(set.filter(|set| !set.is_empty()))
}

/// Adds and removes numbers of a set in its own key (a SET or a roaring bitmap; a missing key becomes a SET). A SET
/// reaching ROARING_MIN members becomes a roaring bitmap for good (until its last member goes). Returns whether the
/// key still exists.
fn write_own_key(ctx: &Context, key: &RedisString, rems: &[u32], adds: &[u32]) -> Result<bool, RedisError> {
    let opened = ctx.open_key_writable(key);
    match opened.key_type() {
        KeyType::Set | KeyType::Empty => drop(opened),
        KeyType::Module => {
            let Some(set) = stored_mut(&opened)? else { return Err(RedisError::WrongType) };
            numbers::add_all(set, adds);
            numbers::remove_all(set, rems);
            if !set.is_empty() {
                return Ok(true);
            }
            opened.delete()?;
            return Ok(false);
        }
        _ => return Err(RedisError::WrongType),
    }
    let name = key.as_slice();
    call_numbers(ctx, "SREM", name, rems)?;
    call_numbers(ctx, "SADD", name, adds)?;
    let size = call(ctx, "SCARD", &[name], |reply| match reply {
        CallReply::I64(n) => usize::try_from(n.to_i64()).unwrap_or(0),
        _ => 0,
    })?;
    if !adds.is_empty() && size >= buckets::ROARING_MIN {
        let members = set_members(ctx, name)?;
        store(ctx, key, Bitmap::of(&members))?;
    }
    Ok(size > 0)
}

/// Removes rems from and adds adds to the number set at key (under namespace ns), wherever it lives: its own key when
/// it has one, else its field in its bucket, which it leaves for a key of its own at BUCKET_MAX numbers (buckets.rs).
pub(crate) fn file_numbers(
    ctx: &Context,
    ns: &[u8],
    name: &[u8],
    rems: &[u32],
    adds: &[u32],
) -> Result<(), RedisError> {
    let field = std::str::from_utf8(&name[ns.len() + 1..]).map_err(|_| RedisError::Str("ERR key is not UTF-8"))?;
    let bucket = bytes(ctx, &[ns, b":sb:", buckets::bucket_of(field.as_bytes()).to_string().as_bytes()].concat());
    let key = bytes(ctx, name);
    // The bucket through the key API: a hash field costs a fraction of an HGET or HSET by RM_Call. (What it
    // returns is how many fields changed, which the crate passes on as a Status.)
    let set_field = |value: Option<&[u8]>| {
        let hash = ctx.open_key_writable(&bucket);
        match value {
            Some(value) => hash.hash_set(field, bytes(ctx, value)),
            None => hash.hash_del(field),
        };
    };
    if ctx.open_key(&key).key_type() != KeyType::Empty {
        if !write_own_key(ctx, &key, rems, adds)? {
            set_field(None);
        }
        return Ok(());
    }
    let packed = ctx.open_key(&bucket).hash_get(field)?;
    let packed = packed.as_ref().map(RedisString::as_slice);
    let numbers = buckets::merged(packed.unwrap_or_default(), rems, adds);
    if numbers.len() >= buckets::BUCKET_MAX {
        set_field(Some(b""));
        write_own_key(ctx, &key, &[], &numbers)?;
    } else if !numbers.is_empty() {
        set_field(Some(&buckets::pack(&numbers)));
    } else if packed.is_some() {
        set_field(None);
    }
    Ok(())
}

fn init(_ctx: &Context, _args: &[RedisString]) -> Status {
    alloc::use_redis_allocator();
    Status::Ok
}

redis_module! {
    name: "roaring",
    version: 7, // sinks/facet_index.py ROARING_MODULE_VERSION: the index checks it
    allocator: (redis_module::alloc::RedisAlloc, redis_module::alloc::RedisAlloc),
    data_types: [ROARING_TYPE, TAIL_TYPE],
    init: init,
    commands: [
        ["rbm.add", add, "write deny-oom", 1, 1, 1],
        ["rbm.rem", rem, "write", 1, 1, 1],
        ["rbm.card", card, "readonly fast", 1, 1, 1],
        ["rbm.and", and, "write deny-oom", 1, -1, 1],
        ["rbm.or", or, "write deny-oom", 1, -1, 1],
        ["rbm.andnot", andnot, "write deny-oom", 1, -1, 1],
        ["rbm.andcard", andcard, "readonly", 1, 2, 1],
        ["rbm.firstin", firstin, "readonly", 1, -1, 1],
        ["rbm.mismember", mismember, "readonly fast", 1, 1, 1],
        ["rbm.next", next, "readonly fast", 1, 1, 1],
        ["rbm.select", select, "readonly fast", 1, 1, 1],
        ["rbm.members", members, "readonly", 1, 1, 1],
        ["rbm.tobitmap", tobitmap, "readonly", 1, 1, 1],
        ["rbm.frombitmap", frombitmap, "write deny-oom", 1, 2, 1],
        ["rbm.orbytes", orbytes, "write deny-oom", 1, 1, 1],
        ["rbm.pack", pack, "write", 1, -1, 1],
        ["rbm.bucket", bucket, "readonly fast", 0, 0, 0],
        ["rbm.tailmerge", tailmerge, "write deny-oom", 1, 1, 1],
        ["rbm.tailitems", tailitems, "readonly", 1, 1, 1],
        ["rbm.indexreleases", index_write::index_releases, "write deny-oom", 0, 0, 0],
        ["rbm.indexmasters", index_write::index_masters, "write deny-oom", 0, 0, 0],
        ["rbm.checklayout", layout::checklayout, "readonly", 0, 0, 0],
        ["rbm.query", query::query, "write", 0, 0, 0],
    ],
}
