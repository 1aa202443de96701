//! What the facet index keeps for a release (its doc) and what a write hands it (payloads), free of Redis.
//!
//! A doc is MessagePack `{n, f, m, i}`: its release number, `{facet letter: [values]}`, its master id (text) and
//! `{kind: [item, or [item, rank] when the rank is not 0]}`. Facets are named by a letter each and the decade, which
//! the year gives, is left out: ~65 of a doc's ~215 bytes, repeated by every release. A facet without a letter is
//! stored by its name, and a doc stored with full names, its decade or `[item, 0]` pairs reads the same, so neither
//! a new facet nor an older doc needs a new format. Kind `r` (always `[[n, 0]]`) and kinds without items are not
//! stored.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rmpv::Value;
use serde::Deserialize;

/// What a release owns, by kind: itself (`r`), its videos (`v`), its master (`m`) and its master's videos (`x`);
/// a master owns its own videos (`M`). Owners of an item hold ranks (sinks/facet_index.py).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Release,
    Video,
    Master,
    MasterVideo,
    OwnVideo,
}

impl Kind {
    /// The kinds of a release's items, in the order a write takes ranks.
    pub const OF_RELEASE: [Kind; 4] = [Kind::Release, Kind::Video, Kind::Master, Kind::MasterVideo];

    pub fn letter(self) -> &'static str {
        match self {
            Kind::Release => "r",
            Kind::Video => "v",
            Kind::Master => "m",
            Kind::MasterVideo => "x",
            Kind::OwnVideo => "M",
        }
    }

    fn of_letter(letter: &str) -> Option<Kind> {
        Kind::OF_RELEASE.into_iter().find(|kind| kind.letter() == letter)
    }
}

/// (item, rank) pairs.
pub type Items = Vec<(u32, u32)>;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Doc {
    /// The release number; None for a release not indexed.
    pub n: Option<u32>,
    /// Facet name -> values, ascending; the decade included.
    pub f: BTreeMap<String, Vec<String>>,
    pub m: Option<String>,
    /// Kind -> items; kind r included.
    pub i: BTreeMap<Kind, Items>,
}

const FACET_LETTERS: [(&str, &str); 8] = [
    ("genre", "g"),
    ("style", "s"),
    ("year", "y"),
    ("country", "c"),
    ("label", "l"),
    ("artist", "a"),
    ("format", "f"),
    ("decade", "d"),
];

pub fn facet_letter(name: &str) -> &str {
    FACET_LETTERS.iter().find(|(full, _)| *full == name).map_or(name, |(_, letter)| letter)
}

fn facet_name(letter: &str) -> &str {
    FACET_LETTERS.iter().find(|(_, short)| *short == letter).map_or(letter, |(full, _)| full)
}

/// The decade of a doc's year values (sinks/facets.py derives it so), or None.
fn decade_of(years: Option<&Vec<String>>) -> Option<String> {
    match years.map(Vec::as_slice) {
        Some([year]) => year.parse::<i64>().ok().map(|year| (year.div_euclid(10) * 10).to_string()),
        _ => None,
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        Value::Integer(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(value: &Value) -> Result<u32, String> {
    value.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| format!("not a number: {value}"))
}

/// Map entries; Lua's MessagePack writes an empty table as an empty array.
fn entries(value: &Value) -> Result<&[(Value, Value)], String> {
    match value {
        Value::Map(entries) => Ok(entries),
        Value::Array(list) if list.is_empty() => Ok(&[]),
        Value::Nil => Ok(&[]),
        _ => Err(format!("not a map: {value}")),
    }
}

fn array(value: &Value) -> Result<&[Value], String> {
    value.as_array().map(Vec::as_slice).ok_or_else(|| format!("not an array: {value}"))
}

fn held_item(entry: &Value) -> Result<(u32, u32), String> {
    match entry {
        Value::Array(pair) if pair.len() == 2 => Ok((number(&pair[0])?, number(&pair[1])?)),
        _ => Ok((number(entry)?, 0)),
    }
}

/// A stored doc.
pub fn decode_doc(mut bytes: &[u8]) -> Result<Doc, String> {
    let value = rmpv::decode::read_value(&mut bytes).map_err(|err| format!("doc: {err}"))?;
    let mut doc = Doc::default();
    for (name, field) in entries(&value)? {
        match name.as_str() {
            Some("n") => doc.n = Some(number(field)?),
            Some("m") => doc.m = text(field),
            Some("f") => {
                for (facet, values) in entries(field)? {
                    let facet = text(facet).ok_or("doc: a facet name is not text")?;
                    let values = array(values)?.iter().filter_map(text).collect();
                    doc.f.insert(facet_name(&facet).to_owned(), values);
                }
            }
            Some("i") => {
                for (kind, list) in entries(field)? {
                    let Some(kind) = kind.as_str().and_then(Kind::of_letter) else { continue };
                    doc.i.insert(kind, array(list)?.iter().map(held_item).collect::<Result<_, _>>()?);
                }
            }
            _ => {}
        }
    }
    if let Some(decade) = decade_of(doc.f.get("year")) {
        doc.f.entry("decade".to_owned()).or_insert_with(|| vec![decade]);
    }
    if let Some(n) = doc.n {
        doc.i.entry(Kind::Release).or_insert_with(|| vec![(n, 0)]);
    }
    Ok(doc)
}

/// A MessagePack reader over a stored doc that skips what it is not asked for: it allocates nothing but the text of a
/// master id written as a number.
struct DocReader<'a>(&'a [u8]);

const TRUNCATED: &str = "doc: truncated";

impl<'a> DocReader<'a> {
    fn marker(&self) -> Result<rmp::Marker, String> {
        self.0.first().map(|&b| rmp::Marker::from_u8(b)).ok_or_else(|| TRUNCATED.to_owned())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(TRUNCATED)?;
        self.0 = rest;
        Ok(head)
    }

    fn length(&mut self, bytes: usize) -> Result<usize, String> {
        Ok(self.take(bytes)?.iter().fold(0, |n, &b| n << 8 | usize::from(b)))
    }

    /// The entries of a map (an empty array or nil too: Lua's empty table), or the items of an array.
    fn len_of(&mut self, map: bool) -> Result<usize, String> {
        use rmp::Marker::*;
        let marker = self.marker()?;
        self.take(1)?;
        match (map, marker) {
            (true, FixMap(n)) | (false, FixArray(n)) => Ok(n.into()),
            (true, Map16) | (false, Array16) => self.length(2),
            (true, Map32) | (false, Array32) => self.length(4),
            (true, FixArray(0) | Null) => Ok(0),
            _ => Err(format!("doc: not {}: {marker:?}", if map { "a map" } else { "an array" })),
        }
    }

    /// A string's bytes, or an integer's as decimal text (as decode_doc's `text` reads a value); None for another type.
    fn text(&mut self) -> Result<Option<Cow<'a, [u8]>>, String> {
        use rmp::Marker::*;
        let len = match self.marker()? {
            FixStr(n) => {
                self.take(1)?;
                n.into()
            }
            Str8 | Str16 | Str32 => {
                let width = 1 << (self.take(1)?[0] - 0xd9);
                self.length(width)?
            }
            FixPos(_) | U8 | U16 | U32 | U64 => return Ok(Some(self.number()?.to_string().into_bytes().into())),
            FixNeg(_) | I8 | I16 | I32 | I64 => {
                let n: i64 = rmp::decode::read_int(&mut self.0).map_err(|err| format!("doc: not a number: {err}"))?;
                return Ok(Some(n.to_string().into_bytes().into()));
            }
            _ => return self.skip().map(|()| None),
        };
        Ok(Some(self.take(len)?.into()))
    }

    fn number(&mut self) -> Result<u64, String> {
        rmp::decode::read_int(&mut self.0).map_err(|err| format!("doc: not a number: {err}"))
    }

    fn skip(&mut self) -> Result<(), String> {
        use rmp::Marker::*;
        let marker = self.marker()?;
        self.take(1)?;
        let (len, values) = match marker {
            FixPos(_) | FixNeg(_) | Null | True | False => (0, 0),
            U8 | I8 => (1, 0),
            U16 | I16 | FixExt1 => (2, 0),
            FixExt2 => (3, 0),
            U32 | I32 | F32 => (4, 0),
            FixExt4 => (5, 0),
            U64 | I64 | F64 => (8, 0),
            FixExt8 => (9, 0),
            FixExt16 => (17, 0),
            FixStr(n) => (n.into(), 0),
            Str8 | Bin8 => (self.length(1)?, 0),
            Str16 | Bin16 => (self.length(2)?, 0),
            Str32 | Bin32 => (self.length(4)?, 0),
            Ext8 => (self.length(1)? + 1, 0),
            Ext16 => (self.length(2)? + 1, 0),
            Ext32 => (self.length(4)? + 1, 0),
            FixArray(n) => (0, n.into()),
            Array16 => (0, self.length(2)?),
            Array32 => (0, self.length(4)?),
            FixMap(n) => (0, 2 * usize::from(n)),
            Map16 => (0, 2 * self.length(2)?),
            Map32 => (0, 2 * self.length(4)?),
            Reserved => return Err("doc: a reserved MessagePack marker".to_owned()),
        };
        self.take(len)?;
        (0..values).try_for_each(|_| self.skip())
    }
}

/// What a narrow query's counts read off a stored doc, without its facets: the items of `kinds` (not kind r) it lists,
/// pushed onto `items`, and its master id as `decode_doc` reads it. A fraction of decode_doc's cost, which builds
/// every facet's values.
pub fn doc_items<'a>(bytes: &'a [u8], kinds: &[Kind], items: &mut Vec<u32>) -> Result<Option<Cow<'a, [u8]>>, String> {
    let mut rd = DocReader(bytes);
    let mut master = None;
    for _ in 0..rd.len_of(true)? {
        match rd.text()?.as_deref() {
            Some(b"m") => master = rd.text()?,
            Some(b"i") => {
                for _ in 0..rd.len_of(true)? {
                    let kind = rd.text()?;
                    let wanted = kind
                        .as_deref()
                        .and_then(|letter| std::str::from_utf8(letter).ok())
                        .and_then(Kind::of_letter)
                        .is_some_and(|kind| kinds.contains(&kind));
                    if !wanted {
                        rd.skip()?;
                        continue;
                    }
                    for _ in 0..rd.len_of(false)? {
                        // An item is its number, or [number, rank] when the rank is not 0.
                        let ranked = matches!(rd.marker()?, rmp::Marker::FixArray(2));
                        if ranked {
                            rd.take(1)?;
                        }
                        items.push(u32::try_from(rd.number()?).map_err(|_| "doc: an item past u32")?);
                        if ranked {
                            rd.skip()?;
                        }
                    }
                }
            }
            _ => rd.skip()?,
        }
    }
    Ok(master)
}

pub fn encode_doc(doc: &Doc) -> Vec<u8> {
    let derived = decade_of(doc.f.get("year"));
    let facets = doc
        .f
        .iter()
        .filter(|(name, values)| {
            !(name.as_str() == "decade" && values.len() == 1 && Some(&values[0]) == derived.as_ref())
        })
        .map(|(name, values)| {
            (Value::from(facet_letter(name)), Value::Array(values.iter().map(|v| Value::from(v.as_str())).collect()))
        })
        .collect();
    let items = doc
        .i
        .iter()
        .filter(|(kind, list)| **kind != Kind::Release && !list.is_empty())
        .map(|(kind, list)| {
            let entries = list
                .iter()
                .map(|&(item, rank)| match rank {
                    0 => Value::from(item),
                    _ => Value::Array(vec![Value::from(item), Value::from(rank)]),
                })
                .collect();
            (Value::from(kind.letter()), Value::Array(entries))
        })
        .collect();
    let mut map =
        vec![(Value::from("n"), doc.n.map_or(Value::Nil, Value::from)), (Value::from("f"), Value::Map(facets))];
    if let Some(m) = &doc.m {
        map.push((Value::from("m"), Value::from(m.as_str())));
    }
    map.push((Value::from("i"), Value::Map(items)));
    let mut out = Vec::with_capacity(256);
    rmpv::encode::write_value(&mut out, &Value::Map(map)).expect("writing to a Vec");
    out
}

/// What a write indexes for a release: `{"f": {facet: {value: folded}}, "v": [[YouTube id, title]], "m": master
/// id | null}` (sinks/facet_index.py release_payload).
#[derive(Debug, Deserialize, PartialEq)]
pub struct ReleasePayload {
    pub f: BTreeMap<String, BTreeMap<String, String>>,
    pub v: Vec<(String, String)>,
    pub m: Option<u32>,
}

/// A master's own videos: `{"v": [[YouTube id, title]]}`.
#[derive(Debug, Deserialize, PartialEq)]
pub struct MasterPayload {
    pub v: Vec<(String, String)>,
}

/// What a payload names: facets, values and YouTube ids become parts of key and field names, which the module API
/// takes as C strings, so none may hold a NUL byte.
pub trait Payload: serde::de::DeserializeOwned {
    fn names(&self) -> Vec<&str>;
}

impl Payload for ReleasePayload {
    fn names(&self) -> Vec<&str> {
        let facets = self.f.iter().flat_map(|(f, values)| std::iter::once(f).chain(values.keys()));
        facets.chain(self.v.iter().map(|(yt, _)| yt)).map(String::as_str).collect()
    }
}

impl Payload for MasterPayload {
    fn names(&self) -> Vec<&str> {
        self.v.iter().map(|(yt, _)| yt.as_str()).collect()
    }
}

/// A payload; empty text removes the record (None).
pub fn parse_payload<T: Payload>(id: &str, text: &[u8]) -> Result<Option<T>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let payload: T = serde_json::from_slice(text).map_err(|err| format!("payload of {id}: {err}"))?;
    if let Some(name) = payload.names().into_iter().find(|name| name.contains('\0')) {
        return Err(format!("payload of {id}: {name:?} holds a NUL character"));
    }
    Ok(Some(payload))
}

/// An item's owners by rank, 0 = free, as JSON.
pub fn decode_owners(text: &[u8]) -> Result<Vec<u32>, String> {
    serde_json::from_slice(text).map_err(|err| format!("owners: {err}"))
}

pub fn encode_owners(owners: &[u32]) -> Vec<u8> {
    serde_json::to_vec(owners).expect("numbers")
}

/// A master's own videos as JSON `[[video number, rank]]`.
pub fn decode_items(text: &[u8]) -> Result<Items, String> {
    serde_json::from_slice(text).map_err(|err| format!("master videos: {err}"))
}

pub fn encode_items(items: &Items) -> Vec<u8> {
    serde_json::to_vec(items).expect("numbers")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Doc {
        let mut doc = Doc { n: Some(7), m: Some("18080".into()), ..Doc::default() };
        doc.f.insert("genre".into(), vec!["Jazz".into(), "Rock".into()]);
        doc.f.insert("year".into(), vec!["1999".into()]);
        doc.f.insert("decade".into(), vec!["1990".into()]);
        doc.f.insert("mood".into(), vec!["calm".into()]);
        doc.i.insert(Kind::Release, vec![(7, 0)]);
        doc.i.insert(Kind::Video, vec![(3, 0), (9, 2)]);
        doc.i.insert(Kind::Master, vec![]);
        doc
    }

    #[test]
    fn a_doc_round_trips_with_letters_and_without_what_it_derives() {
        let bytes = encode_doc(&doc());
        let stored = rmpv::decode::read_value(&mut bytes.as_slice()).unwrap();
        let text = stored.to_string();
        assert!(text.contains("\"g\": [\"Jazz\", \"Rock\"]") && text.contains("\"mood\""), "{text}");
        assert!(!text.contains("\"d\"") && !text.contains("\"r\"") && !text.contains("\"m\": []"), "{text}");
        assert!(text.contains("\"v\": [3, [9, 2]]"), "{text}");
        let mut expected = doc();
        expected.i.remove(&Kind::Master);
        assert_eq!(decode_doc(&bytes).unwrap(), expected);
    }

    #[test]
    fn a_decade_other_than_the_years_is_kept() {
        let mut odd = doc();
        odd.f.insert("decade".into(), vec!["1980".into()]);
        assert_eq!(decode_doc(&encode_doc(&odd)).unwrap().f["decade"], vec!["1980".to_owned()]);
    }

    #[test]
    fn an_older_doc_reads_the_same() {
        // Full names, the decade, [item, 0] pairs, kind r and an empty kind written as an empty array, as Lua did.
        let older = Value::Map(vec![
            (Value::from("n"), Value::from(7)),
            (
                Value::from("f"),
                Value::Map(vec![
                    (Value::from("genre"), Value::Array(vec![Value::from("Jazz")])),
                    (Value::from("decade"), Value::Array(vec![Value::from("1990")])),
                ]),
            ),
            (
                Value::from("i"),
                Value::Map(vec![
                    (Value::from("r"), Value::Array(vec![Value::Array(vec![Value::from(7), Value::from(0)])])),
                    (Value::from("v"), Value::Array(vec![Value::Array(vec![Value::from(3), Value::from(0)])])),
                    (Value::from("x"), Value::Array(vec![])),
                ]),
            ),
        ]);
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &older).unwrap();
        let doc = decode_doc(&bytes).unwrap();
        assert_eq!(doc.f["decade"], vec!["1990".to_owned()]);
        assert_eq!(doc.i[&Kind::Video], vec![(3, 0)]);
        assert_eq!(doc.i[&Kind::Release], vec![(7, 0)]);
        assert_eq!(doc.i[&Kind::MasterVideo], vec![]);
        items_as_decoded(&bytes, &[Kind::Video, Kind::MasterVideo]);
    }

    /// doc_items against decode_doc: the same items of the asked kinds, in order, and the same master.
    fn items_as_decoded(bytes: &[u8], kinds: &[Kind]) {
        let doc = decode_doc(bytes).unwrap();
        let mut items = Vec::new();
        let master = doc_items(bytes, kinds, &mut items).unwrap();
        let expected: Vec<u32> =
            kinds.iter().flat_map(|kind| doc.i.get(kind).into_iter().flatten()).map(|i| i.0).collect();
        assert_eq!(items, expected);
        assert_eq!(master.map(|m| String::from_utf8(m.into_owned()).unwrap()), doc.m);
    }

    #[test]
    fn a_docs_items_read_without_its_facets_are_those_it_decodes_to() {
        let mut full = doc();
        full.i.insert(Kind::MasterVideo, vec![(11, 0), (70_000, 9)]);
        full.f.insert("label".into(), vec!["x".repeat(300)]);
        for kinds in [&[Kind::Video][..], &[Kind::Video, Kind::MasterVideo], &[Kind::MasterVideo]] {
            items_as_decoded(&encode_doc(&full), kinds);
            items_as_decoded(&encode_doc(&Doc { n: Some(1), ..Doc::default() }), kinds);
        }
        // A master id written as a number reads as its text, as decode_doc reads it.
        let numbered = Value::Map(vec![
            (Value::from("m"), Value::from(18080)),
            (Value::from("i"), Value::Map(vec![(Value::from("v"), Value::Array(vec![Value::from(4)]))])),
        ]);
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &numbered).unwrap();
        items_as_decoded(&bytes, &[Kind::Video]);
        let whole = encode_doc(&full);
        let err = doc_items(&whole[..whole.len() - 1], &[Kind::Video, Kind::MasterVideo], &mut Vec::new());
        assert_eq!(err.unwrap_err(), TRUNCATED);
    }

    #[test]
    fn payloads_parse_or_say_what_is_wrong() {
        let p: ReleasePayload =
            parse_payload("5", br#"{"f": {"genre": {"Rock": "rock"}}, "v": [["abc", "t"]], "m": null}"#)
                .unwrap()
                .unwrap();
        assert_eq!((p.v, p.m, p.f["genre"]["Rock"].as_str()), (vec![("abc".into(), "t".into())], None, "rock"));
        assert_eq!(parse_payload::<ReleasePayload>("5", b"").unwrap(), None);
        let err = parse_payload::<ReleasePayload>("5", br#"{"f": {}, "v": [], "m": "x"}"#).unwrap_err();
        assert!(err.starts_with("payload of 5: "), "{err}");
        let err = parse_payload::<ReleasePayload>("5", br#"{"f": {"genre": {"a\u0000b": "a"}}, "v": [], "m": 1}"#);
        assert!(err.unwrap_err().contains("NUL"));
        let err = parse_payload::<MasterPayload>("6", br#"{"v": [["x\u0000", "t"]]}"#).unwrap_err();
        assert!(err.starts_with("payload of 6: ") && err.contains("NUL"), "{err}");
    }

    #[test]
    fn owners_and_items_are_json_numbers() {
        assert_eq!(encode_owners(&[12, 0, 34]), b"[12,0,34]");
        assert_eq!(decode_owners(b"[12,0,34]").unwrap(), vec![12, 0, 34]);
        assert_eq!(encode_items(&vec![(5, 0), (7, 1)]), b"[[5,0],[7,1]]");
        assert_eq!(decode_items(b"[[5,0],[7,1]]").unwrap(), vec![(5, 0), (7, 1)]);
    }
}
