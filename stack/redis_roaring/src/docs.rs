//! What the facet index keeps for a release (its doc) and what a write hands it (payloads), free of Redis.
//!
//! A doc is MessagePack `{n, f, m, i}`: its release number, `{facet letter: [values]}`, its master id (text) and
//! `{kind: [item, or [item, rank] when the rank is not 0]}`. Facets are named by a letter each and the decade, which
//! the year gives, is left out: ~65 of a doc's ~215 bytes, repeated by every release. A facet without a letter is
//! stored by its name, and a doc stored with full names, its decade or `[item, 0]` pairs reads the same, so neither
//! a new facet nor an older doc needs a new format. Kind `r` (always `[[n, 0]]`) and kinds without items are not
//! stored.

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
