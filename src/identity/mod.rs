//! Identity resolution, first cut: one `customer_id` per person across sources.
//!
//! ## Method
//! Every identifier on an order, event or ticket becomes a node: the source's member key
//! (`source` + `customer_key`), the normalized email, the normalized phone, or a customer id
//! given by a canonical input. Identifiers seen on the same record are joined with union-find,
//! so two member keys that share an email or a phone become one customer. Components are never
//! merged when each already holds a different given id. A component's id is its given id; else
//! the id its identifiers had after the previous load (when a load joins two customers, the one
//! holding the earliest-seen identifier keeps its id and the other is recorded in
//! `customer_merges`); else a new `C` + 9-digit number, assigned in order of first sighting.
//! Ids are deterministic for the same loads, stable across loads, and never derived from an
//! email or phone.
//!
//! Normalization happens at ingest ([`normalize_email`], [`normalize_phone`]): emails trimmed and
//! lower-cased (they need `x@y.z`); phones to E.164 with the source's default region (the
//! `phonenumber` crate), masked or invalid numbers dropped. The lake stores the normalized forms.
//!
//! ## Example
//! ```
//! use custlens::identity::{normalize_email, normalize_phone};
//! assert_eq!(normalize_email(" Jane.Doe@Example.COM "), Some("jane.doe@example.com".into()));
//! let cn = custlens::identity::phone_region("CN");
//! assert_eq!(normalize_phone("+86 139-2513-0165", None), Some("+8613925130165".into()));
//! assert_eq!(normalize_phone("'13925130165", cn), Some("+8613925130165".into()));
//! assert_eq!(normalize_phone("13925130165", None), None); // no country code, no region
//! assert_eq!(normalize_phone("1******6198", cn), None); // masked
//! ```

use crate::lake::records::{Customer, EventId, Identity, Sym, Text};
use crate::lake::store::{Rows, SpillRow};
use crate::lake::Lake;

// FxHash: identity hashes millions of short keys; SipHash's DoS resistance buys nothing in a batch job.
type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;
type HashSet<K> = rustc_hash::FxHashSet<K>;

/// Normalizes an email for matching; None when it is not an address.
pub fn normalize_email(s: &str) -> Option<String> {
    let e = s.trim().trim_matches(['<', '>', '"', '\'']).to_lowercase();
    let (local, domain) = e.split_once('@')?;
    let ok = !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !e.contains(char::is_whitespace);
    ok.then_some(e)
}

/// A phone region (ISO 3166-1 alpha-2, e.g. `CN`, `US`) for numbers written without a country code.
pub type PhoneRegion = phonenumber::country::Id;

/// Parses a region code such as `CN`; None when it is not one.
pub fn phone_region(code: &str) -> Option<PhoneRegion> {
    code.trim().to_ascii_uppercase().parse().ok()
}

/// Normalizes a phone to E.164 (`+8613925130165`); None when masked, not a valid number for its
/// country, or written without a country code when no `region` is given.
///
/// ## Method
/// Masked numbers (`138****9060`, `1******6198`) and numbers with letters are refused outright.
/// Spreadsheet guards (`'`, `="…"`, tabs) are dropped, then the `phonenumber` crate (Google's
/// libphonenumber metadata) parses the number in `region` and checks it is a valid number of its
/// country; `00` and `+` international prefixes are understood. An E.164 string is returned as
/// is without parsing (the lake stores phones in E.164).
pub fn normalize_phone(s: &str, region: Option<PhoneRegion>) -> Option<String> {
    let t = unguarded(s);
    if t.is_empty() || t.contains(['*', '#']) || t.chars().any(|c| c.is_alphabetic()) {
        return None;
    }
    if let Some(quick) = quick_phone(t, region) {
        return Some(quick);
    }
    let n = phonenumber::parse(region, t).ok()?;
    // E.164 is `+`, the country code and the national number (with its leading zeros), which is
    // what `n.format().mode(Mode::E164)` prints; written directly because that formatter first
    // matches the country's display patterns (regular expressions) it does not use for E.164.
    phonenumber::is_valid(&n).then(|| format!("+{}{}", n.code().value(), n.national()))
}

/// The E.164 form of the phone forms that need no parsing, None for any other (which may still be
/// valid: [`normalize_phone`] then parses it). `s` is a cell as read.
///
/// ## Method
/// Three forms cover nearly every phone of real exports: E.164 itself (`+` and 8 to 15 digits, kept
/// as is, as the lake stores it); North American numbers in Shopify's `+1 (212) 205-0310` and the
/// other usual groupings, checked as the crate's validator checks them (the first of country code
/// 1's 25 regions whose leading digits match, or that has none and where the number is valid;
/// test `quick_nanp_is_the_crates_answer`, every area code); and the 11 digits of a Chinese mobile
/// number, the only phone in Taobao, Tmall, JD, Pinduoduo and Douyin exports. The latter is valid exactly when the crate's
/// own metadata says so: its general and mobile patterns for CN, with the crate's semantics (a
/// possible length, a match from the first digit), compiled once here rather than looked up in
/// `phonenumber`'s regex cache, a global mutex the conversion threads queue on. For 11 digits
/// starting `13`–`19` (every CN mobile range) neither CN's international prefix
/// (`00|1(?:[12]\d|79)\d\d00`) nor its national prefix for parsing (`(1(?:[12]\d|79)\d\d)|0`) can
/// apply except at `179`, which the mobile pattern excludes, so the national number is the 11
/// digits, as the full parse finds (test `quick_cn_mobile_is_the_crates_answer`, every 4-digit
/// prefix of the 1 range).
///
/// ## Example
/// ```
/// use custlens::identity::{phone_region, quick_phone};
/// let cn = phone_region("CN");
/// assert_eq!(quick_phone("'13925130165", cn), Some("+8613925130165".into()));
/// assert_eq!(quick_phone("+12125550100", None), Some("+12125550100".into()));
/// assert_eq!(quick_phone("12925130165", cn), None); // no CN mobile range: left to the full parse
/// assert_eq!(quick_phone("+1 (212) 205-0310", None), Some("+12122050310".into()));
/// assert_eq!(quick_phone("+44 20 7946 0958", None), None); // not a quick form: parsed in full
/// ```
pub fn quick_phone(s: &str, region: Option<PhoneRegion>) -> Option<String> {
    let t = unguarded(s);
    if is_e164(t) {
        return Some(t.to_string());
    }
    if let Some(national) = nanp_digits(t) {
        return QUICK.with(|q| q.nanp_valid(&national)).then(|| format!("+1{national}"));
    }
    if region != Some(PhoneRegion::CN) || t.len() != 11 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let b = t.as_bytes();
    if b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
        return None;
    }
    if !QUICK.with(|q| q.cn.is_match(t)) {
        return None;
    }
    let mut e164 = String::with_capacity(14);
    e164.push_str("+86");
    e164.push_str(t);
    Some(e164)
}

/// A phone cell without surrounding space and spreadsheet guards (`'`, `="…"`, tabs).
fn unguarded(s: &str) -> &str {
    s.trim().trim_start_matches(['\'', '=', '"', '\t']).trim_end_matches('"').trim()
}

/// The ten national digits of a North American number written `+1` and the usual groups
/// (`+1 (212) 205-0310`, `+1 212-205-0310`, `+1.212.205.0310`), whose area code does not start
/// with 0 or 1 (so no national prefix can be read into it); None for any other form.
fn nanp_digits(t: &str) -> Option<String> {
    let rest = t.strip_prefix("+1")?;
    static SHAPE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let shape = SHAPE.get_or_init(|| {
        regex::Regex::new(r"^[ .-]?(?:\([2-9]\d\d\)|[2-9]\d\d)[ .-]?\d{3}[ .-]?\d{4}$").expect("a valid pattern")
    });
    shape.is_match(rest).then(|| rest.chars().filter(char::is_ascii_digit).collect())
}

thread_local! {
    // A copy per thread: a `Regex` shared between threads takes its search cache from a pool
    // that only its first thread reaches without a lock.
    static QUICK: Quick = quick_patterns().clone();
}

/// A descriptor of the `phonenumber` metadata: its pattern (anchored at the start) and possible lengths.
type Desc = (regex::Regex, Vec<u16>);

/// The crate's `Descriptor::is_match`: a possible length (when listed) and a match starting at
/// the first digit (the crate's leftmost match starts there exactly when an anchored one exists).
fn desc_match((re, lengths): &Desc, t: &str) -> bool {
    (lengths.is_empty() || lengths.contains(&(t.len() as u16))) && re.is_match(t)
}

fn compile(pattern: &str) -> regex::Regex {
    // Compiled as the crate compiles its metadata patterns (whitespace in them ignored).
    regex::RegexBuilder::new(&format!("^(?:{pattern}\n)"))
        .ignore_whitespace(true)
        .build()
        .expect("the crate's own pattern compiles")
}

fn desc(d: &phonenumber::metadata::Descriptor) -> Desc {
    (compile(d.national_number().as_str()), d.possible_length().to_vec())
}

/// A region's patterns as the crate's validator reads them: `number_type` is not `Unknown` when
/// the general pattern and one of the kinds' (premium rate … fixed line, mobile) match.
#[derive(Clone)]
struct Region {
    leading_digits: Option<regex::Regex>,
    general: Desc,
    kinds: Vec<Desc>,
}

impl Region {
    fn new(meta: &phonenumber::Metadata) -> Region {
        let d = meta.descriptors();
        let kinds = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ];
        Region {
            leading_digits: meta.leading_digits().map(|p| compile(p.as_str())),
            general: desc(d.general()),
            kinds: kinds.into_iter().flatten().map(desc).collect(),
        }
    }

    fn valid(&self, t: &str) -> bool {
        desc_match(&self.general, t) && self.kinds.iter().any(|k| desc_match(k, t))
    }
}

/// The patterns of the quick paths.
#[derive(Clone)]
struct Quick {
    /// CN's general and mobile patterns.
    cn: CnMobile,
    /// The regions of country code 1 in the crate's order.
    nanp: Vec<Region>,
}

#[derive(Clone)]
struct CnMobile {
    general: Desc,
    mobile: Desc,
}

impl CnMobile {
    fn is_match(&self, t: &str) -> bool {
        desc_match(&self.general, t) && desc_match(&self.mobile, t)
    }
}

impl Quick {
    /// The crate's `is_valid` for a +1 number: the region is the first whose leading digits
    /// match, or, for one without leading digits, the first where the number is valid
    /// (`validator::source_for`); the number is valid when it is valid there.
    fn nanp_valid(&self, national: &str) -> bool {
        for r in &self.nanp {
            match &r.leading_digits {
                Some(lead) if lead.is_match(national) => return r.valid(national),
                Some(_) => {}
                None if r.valid(national) => return true,
                None => {}
            }
        }
        false
    }
}

fn quick_patterns() -> &'static Quick {
    static QUICK: std::sync::OnceLock<Quick> = std::sync::OnceLock::new();
    QUICK.get_or_init(|| {
        let db = &*phonenumber::metadata::DATABASE;
        let cn = db.by_id("CN").expect("the phonenumber metadata has CN").descriptors();
        let nanp = db.region(&1u16).unwrap_or_default();
        Quick {
            cn: CnMobile { general: desc(cn.general()), mobile: desc(cn.mobile().expect("CN has mobile numbers")) },
            nanp: nanp.iter().filter_map(|id| db.by_id(*id)).map(Region::new).collect(),
        }
    })
}

/// `+` and 8 to 15 digits, not starting with 0: already E.164.
fn is_e164(t: &str) -> bool {
    t.strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0'))
}

/// An identifier, owned: what records and the stored `identities` are read into before it is
/// interned ([`Keys`] stores it encoded).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Given(Text),
    /// A member key of a source (sources are few: interned).
    Member(Sym, Text),
    Email(Text),
    Phone(Text),
    /// An order (or another record) with no usable identifier of its own: a customer of its own,
    /// or, for a ticket, the customer of its order.
    Order(Text),
}

impl Key {
    /// Appends the key's encoding to `out`: a tag byte (the variant), a member key's source (its
    /// 4-byte [`Sym::id`]), then the text. Decoded by [`KeyRef::decode`].
    fn encode(&self, out: &mut Vec<u8>) {
        let (tag, source, text) = match self {
            Key::Given(t) => (0, None, t),
            Key::Member(src, t) => (1, Some(src), t),
            Key::Email(t) => (2, None, t),
            Key::Phone(t) => (3, None, t),
            Key::Order(t) => (4, None, t),
        };
        out.push(tag);
        if let Some(src) = source {
            out.extend_from_slice(&src.id().to_le_bytes());
        }
        out.extend_from_slice(text.as_bytes());
    }

    fn encoded(&self) -> Box<[u8]> {
        let mut out = Vec::with_capacity(5 + 24);
        self.encode(&mut out);
        out.into()
    }
}

/// An interned key, borrowed from [`Keys`]. Ordered as the variants are listed, then by source
/// name and text (the order in which a component's keys are numbered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum KeyRef<'a> {
    Given(&'a str),
    Member(Sym, &'a str),
    Email(&'a str),
    Phone(&'a str),
    Order(&'a str),
}

impl<'a> KeyRef<'a> {
    /// The key [`Key::encode`] wrote into `b`.
    fn decode(b: &'a [u8]) -> KeyRef<'a> {
        let text = |b: &'a [u8]| {
            // Encoded from a `&str` (`Key::encode`); checked all the same, as the bytes were in a
            // file (a spilled lake's keys), and an empty text is the worst a bad byte can give.
            std::str::from_utf8(b).unwrap_or_default()
        };
        match b.split_first() {
            Some((0, t)) => KeyRef::Given(text(t)),
            Some((1, rest)) if rest.len() >= 4 => {
                let (src, t) = rest.split_at(4);
                KeyRef::Member(Sym::from_id(u32::from_le_bytes([src[0], src[1], src[2], src[3]])), text(t))
            }
            Some((2, t)) => KeyRef::Email(text(t)),
            Some((3, t)) => KeyRef::Phone(text(t)),
            Some((_, t)) => KeyRef::Order(text(t)),
            None => KeyRef::Order(""),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            KeyRef::Given(_) => "customer_id",
            KeyRef::Member(..) => "member_id",
            KeyRef::Email(_) => "email",
            KeyRef::Phone(_) => "phone",
            KeyRef::Order(_) => "record",
        }
    }

    fn text(&self) -> Text {
        match *self {
            KeyRef::Given(k) | KeyRef::Email(k) | KeyRef::Phone(k) | KeyRef::Order(k) => k.into(),
            KeyRef::Member(src, k) => compact_str::format_compact!("{src}:{k}"),
        }
    }
}

/// Names (sources, channels) interned for one resolution, so that the set of them per identifier
/// and per customer is a few small ids, not a B-tree of strings (hundreds of bytes each, at 10M
/// orders gigabytes).
#[derive(Default, Clone)]
struct Names {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }

    /// The names of a set, sorted.
    fn sorted(&self, set: &IdSet) -> Vec<&str> {
        let mut v: Vec<&str> = set.ids().map(|i| self.names[i as usize].as_str()).collect();
        v.sort_unstable();
        v
    }
}

/// Keys interned for one resolution: a key's id is its number; the keys are stored encoded
/// ([`Key::encode`]) back to back in `bytes`, key `i` ending at `ends[i]`; `index` holds the ids,
/// found by the hashes of their encodings.
///
/// With a spilled lake `bytes` and `ends` are spilled too ([`Rows::empty_like`]): a list of 5M
/// customers carries 12.5M keys, ~560 MB of memory as `Key`s (32 bytes, and a heap string per
/// email of over 24 bytes), ~360 MB encoded, in pages the kernel writes back and evicts.
struct Keys {
    bytes: Rows<u8>,
    ends: Rows<u64>,
    /// Per key, the high 32 bits of its hash ([`key_hash`]) above its id: a probe compares those
    /// before it reads a key's bytes, and growth rehashes from them, so neither reads the arrays
    /// (spilled: a random page read each; with ids alone, interning 5M customers' keys in a
    /// 600 MB limit took six minutes instead of one).
    index: hashbrown::HashTable<u64>,
    /// The key being interned, encoded (reused: no allocation per key).
    scratch: Vec<u8>,
}

/// Key `i`'s encoding in the arrays of [`Keys`].
fn encoded_at<'a>(bytes: &'a [u8], ends: &[u64], i: usize) -> &'a [u8] {
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &bytes[start..ends[i] as usize]
}

fn key_hash(encoded: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(encoded)
}

/// The hash a key's slot in [`Keys::index`] is found by, from the 32 bits of its hash the index
/// keeps (spread over 64 bits: the table takes its slot from the low bits and a tag from the high).
fn slot_hash(high: u64) -> u64 {
    high.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl Keys {
    /// No keys, stored like `like` (spilled to its folder, or in memory).
    fn new<T>(like: &Rows<T>) -> std::io::Result<Keys> {
        Ok(Keys { bytes: like.empty_like()?, ends: like.empty_like()?, index: Default::default(), scratch: Vec::new() })
    }

    /// The encoding of key `i`.
    fn encoded(&self, i: usize) -> &[u8] {
        encoded_at(&self.bytes, &self.ends, i)
    }

    /// Key `i`.
    fn key(&self, i: usize) -> KeyRef<'_> {
        KeyRef::decode(self.encoded(i))
    }

    /// The key's id, and whether it is new.
    fn intern(&mut self, k: &Key) -> (usize, bool) {
        self.scratch.clear();
        k.encode(&mut self.scratch);
        let Keys { bytes, ends, index, scratch } = self;
        let h = key_hash(scratch);
        let same = |&e: &u64| e >> 32 == h >> 32 && encoded_at(bytes, ends, (e as u32) as usize) == &scratch[..];
        match index.entry(slot_hash(h >> 32), same, |&e| slot_hash(e >> 32)) {
            hashbrown::hash_table::Entry::Occupied(e) => ((*e.get() as u32) as usize, false),
            hashbrown::hash_table::Entry::Vacant(v) => {
                let i = ends.len();
                v.insert((h >> 32 << 32) | i as u64);
                bytes.extend_from_slice(scratch);
                ends.push(bytes.len() as u64);
                (i, true)
            }
        }
    }

    fn get(&self, k: &Key) -> Option<usize> {
        let encoded = k.encoded();
        let h = key_hash(&encoded);
        let same = |&e: &u64| e >> 32 == h >> 32 && self.encoded((e as u32) as usize) == &encoded[..];
        self.index.find(slot_hash(h >> 32), same).map(|&e| (e as u32) as usize)
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Room for `n` more keys in the index, and for `most` keys in the arrays.
    fn reserve(&mut self, n: usize, most: usize) -> std::io::Result<()> {
        // Keys encode to ~24 bytes (a member key of 13 digits: 18; an email: ~28).
        const KEY_BYTES: usize = 24;
        self.index.reserve(n, |&e| slot_hash(e >> 32));
        self.ends.try_reserve(most)?;
        self.bytes.try_reserve(most * KEY_BYTES)
    }
}

/// Union-find over interned keys, refusing to join two different given ids.
///
/// Every array is indexed by key id. A key interned only to count placeholders (a member key
/// when `[identity] keys` leaves member ids out) is not `live`: no record uses it as a node, and
/// it belongs to no customer. With a spilled lake the arrays are spilled too ([`Graph::new`]):
/// ~22 bytes per key, and the keys themselves ([`Keys`]), are the kernel's to evict; only the
/// keys' hash index stays in memory.
struct Graph {
    keys: Keys,
    /// Union-find parents (key ids: 4 bytes, not 8, at millions of keys).
    parent: Rows<u32>,
    /// Per key: the `Given` key its component holds ([`NO_GIVEN`]: none).
    given: Rows<u32>,
    first_seen: Rows<i64>,
    /// The sources each key was seen in: ids of `source_sets`, sets of ids of `names`.
    sources: Rows<u32>,
    source_sets: Sets,
    names: Names,
    /// Shared placeholder values: nodes that link nothing.
    shared: Rows<bool>,
    live: Rows<bool>,
}

impl Graph {
    /// An empty graph, stored like `like` (spilled to its folder, or in memory).
    fn new<T>(like: &Rows<T>) -> std::io::Result<Graph> {
        Ok(Graph {
            keys: Keys::new(like)?,
            parent: like.empty_like()?,
            given: like.empty_like()?,
            first_seen: like.empty_like()?,
            sources: like.empty_like()?,
            source_sets: Sets::default(),
            names: Names::default(),
            shared: like.empty_like()?,
            live: like.empty_like()?,
        })
    }

    /// Makes room for `n` more keys at once in the index (10M orders carry millions: growing the
    /// index by doubling rehashes every key again each time), and for `most` in the arrays: their
    /// room is only address space (or file blocks) until used, and growing one past its room
    /// copies it (briefly both copies: hundreds of MB at a customer list's ~2.5 keys per record).
    fn reserve(&mut self, n: usize, most: usize) -> std::io::Result<()> {
        self.keys.reserve(n, most)?;
        self.parent.try_reserve(most)?;
        self.given.try_reserve(most)?;
        self.first_seen.try_reserve(most)?;
        self.sources.try_reserve(most)?;
        self.shared.try_reserve(most)?;
        self.live.try_reserve(most)
    }

    fn intern(&mut self, k: Key) -> usize {
        let given = matches!(k, Key::Given(_));
        let (i, new) = self.keys.intern(&k);
        if new {
            self.given.push(if given { i as u32 } else { NO_GIVEN });
            self.parent.push(i as u32);
            self.first_seen.push(i64::MAX);
            self.sources.push(Sets::EMPTY);
            self.shared.push(false);
            self.live.push(false);
        }
        i
    }

    /// Marks key `i` as seen on a record of `source` at `ts`.
    fn see(&mut self, i: usize, ts: i64, source: &str) {
        self.live[i] = true;
        self.first_seen[i] = self.first_seen[i].min(ts);
        let name = self.names.id(source);
        self.sources[i] = self.source_sets.with(self.sources[i], name);
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] as usize != i {
            self.parent[i] = self.parent[self.parent[i] as usize];
            i = self.parent[i] as usize;
        }
        i
    }

    /// The sources key `i` was seen in (ids of `names`).
    fn sources_of(&self, i: usize) -> &IdSet {
        &self.source_sets.sets[self.sources[i] as usize]
    }

    /// The `Given` key of a root's component.
    fn given_of(&self, root: usize) -> Option<usize> {
        let g = self.given[root];
        (g != NO_GIVEN).then_some(g as usize)
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if let (Some(x), Some(y)) = (self.given_of(ra), self.given_of(rb)) {
            if x != y {
                return;
            }
        }
        let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[child] = root as u32;
        if self.given[root] == NO_GIVEN {
            self.given[root] = self.given[child];
        }
    }
}

/// `Graph::given` of a component without a `Given` key.
const NO_GIVEN: u32 = u32::MAX;

/// The identifiers of one record.
#[derive(Clone, Copy)]
struct RecordKeys<'a> {
    source: &'a str,
    ts: i64,
    given: Option<&'a str>,
    customer_key: Option<&'a str>,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    /// The record's own key when nothing else can link it (its order id, or the event's id).
    fallback: Option<Fallback<'a>>,
}

/// A record's own key: text, or an event id (held as its digest, printed when needed).
#[derive(Clone, Copy)]
enum Fallback<'a> {
    Text(&'a str),
    Event(&'a EventId),
}

impl Fallback<'_> {
    fn to_text(self) -> Text {
        match self {
            Fallback::Text(s) => s.into(),
            Fallback::Event(id) => id.with_str(|s| Text::from(s)),
        }
    }
}

/// Identifier kinds that link records (`[identity] keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Email,
    Phone,
    MemberId,
}

/// `[identity]` settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// An email or phone seen with more than this many distinct identifiers of one kind (member
    /// keys of one source; phones for an email, emails for a phone) is a shared placeholder — a
    /// store's default phone, a shop's catch-all address — and links nobody. Default 5.
    pub max_keys_per_identifier: usize,
    /// Which identifiers link records. Default all: email, phone, member_id.
    pub keys: Vec<KeyKind>,
    /// Emails or phones that never link anyone (normalized before comparing), e.g. a store's phone.
    pub blocklist: Vec<String>,
    /// Region (ISO 3166-1 alpha-2, e.g. `CN`) for phones written without a country code, unless a
    /// source's mapping or `[[sources]] phone_region` says otherwise. Default none: such phones
    /// cannot be put in E.164 and are not used (a warning says how many per file).
    pub default_phone_region: Option<String>,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            max_keys_per_identifier: 5,
            keys: vec![KeyKind::Email, KeyKind::Phone, KeyKind::MemberId],
            blocklist: Vec::new(),
            default_phone_region: None,
        }
    }
}

impl IdentityConfig {
    /// The default phone region, if set and valid (checked by [`IdentityConfig::check`]).
    pub fn region(&self) -> Option<PhoneRegion> {
        self.default_phone_region.as_deref().and_then(phone_region)
    }

    /// Rejects an unknown `default_phone_region`, naming the key.
    pub fn check(&self) -> Result<(), String> {
        match &self.default_phone_region {
            Some(r) if phone_region(r).is_none() => {
                Err(format!("`{r}` is not an ISO 3166-1 alpha-2 region code, e.g. CN, US, GB"))
            }
            _ => Ok(()),
        }
    }

    fn links(&self, k: KeyKind) -> bool {
        self.keys.contains(&k)
    }

    /// Blocklisted values as keys (both readings: an entry may be an email or a phone).
    fn blocked(&self) -> HashSet<Key> {
        let mut out = HashSet::default();
        for v in &self.blocklist {
            out.extend(normalize_email(v).map(|e| Key::Email(e.into())));
            out.extend(normalize_phone(v, self.region()).map(|p| Key::Phone(p.into())));
        }
        out
    }
}

/// A distinct identifier tuple's keys, interned: member key, normalized email and phone.
#[derive(Clone, Copy)]
struct TupleKeys {
    /// Member key, email, phone: key ids, or [`NO_KEY`]. 12 bytes where `Option`s took 24.
    ids: [u32; 3],
}

impl TupleKeys {
    fn new(member: Option<usize>, email: Option<usize>, phone: Option<usize>) -> TupleKeys {
        let id = |k: Option<usize>| k.map_or(NO_KEY, |k| k as u32);
        TupleKeys { ids: [id(member), id(email), id(phone)] }
    }

    fn get(&self, i: usize) -> Option<u32> {
        (self.ids[i] != NO_KEY).then_some(self.ids[i])
    }

    fn member(&self) -> Option<u32> {
        self.get(0)
    }

    fn email(&self) -> Option<u32> {
        self.get(1)
    }

    fn phone(&self) -> Option<u32> {
        self.get(2)
    }
}

/// Interns a tuple's member key and normalized email and phone.
fn tuple_keys(g: &mut Graph, r: &RecordKeys, region: Option<PhoneRegion>) -> TupleKeys {
    let member = r.customer_key.map(str::trim).filter(|k| !k.is_empty());
    TupleKeys::new(
        member.map(|k| g.intern(Key::Member(r.source.into(), k.into()))),
        r.email.and_then(normalize_email).map(|e| g.intern(Key::Email(e.into()))),
        r.phone.and_then(|p| normalize_phone(p, region)).map(|p| g.intern(Key::Phone(p.into()))),
    )
}

/// Marks as shared (`g.shared`) the emails and phones seen with more than `max` distinct
/// identifiers of one kind: member keys of one source, emails (for a phone) or phones (for an
/// email). One person has one member key per source and few addresses, so only placeholders
/// exceed it. Returns how many values are shared.
///
/// ## Method
/// A value's distinct identifiers of a kind are at most the number of distinct tuples it is in, so
/// only values in more than `max` tuples can be shared: those are found first, counting tuples
/// per key (a byte each, saturating). Their pairs are then counted as sorted, deduplicated
/// (value, kind, other) triples of key ids rather than a map of sets per value (~12 bytes per
/// pair instead of a few hundred per value). A customer list, each value in one tuple, builds no
/// triple at all, where counting every pair took ~30 bytes per customer (150 MB at 5M).
fn mark_shared(g: &mut Graph, tuples: &[TupleKeys], sources: &[u32], max: usize) -> std::io::Result<usize> {
    // Kinds: a member key counts per source (the source's name id); emails and phones per kind.
    const EMAIL: u32 = u32::MAX;
    const PHONE: u32 = u32::MAX - 1;
    // Tuples per email or phone, up to 255 ("255 or more"); stored like the graph (spilled with a
    // spilled lake).
    let mut count: Rows<u8> = g.parent.empty_like()?.extended(g.keys.len(), std::iter::repeat_n(0, g.keys.len()))?;
    for t in tuples {
        for v in [t.email(), t.phone()].into_iter().flatten() {
            count[v as usize] = count[v as usize].saturating_add(1);
        }
    }
    let candidate = |v: u32| count[v as usize] as usize > max || count[v as usize] == u8::MAX;
    let values = |t: &TupleKeys| [t.email(), t.phone()].into_iter().flatten().filter(|&v| candidate(v));
    // Reserved exactly: a doubling vector of 100M+ bytes is briefly 1.5x its size.
    let pairs = |t: &TupleKeys| {
        let n = t.ids.iter().filter(|&&k| k != NO_KEY).count();
        values(t).count() * n.saturating_sub(1)
    };
    let mut triples: Vec<(u32, u32, u32)> = Vec::with_capacity(tuples.iter().map(pairs).sum());
    for (t, &source) in tuples.iter().zip(sources) {
        let others = |a: Option<u32>, a_kind: u32, b: Option<u32>, b_kind: u32| {
            [(a, a_kind), (b, b_kind)].into_iter().filter_map(|(o, kind)| o.map(|o| (kind, o)))
        };
        if let Some(e) = t.email().filter(|&e| candidate(e)) {
            triples.extend(others(t.member(), source, t.phone(), PHONE).map(|(k, o)| (e, k, o)));
        }
        if let Some(p) = t.phone().filter(|&p| candidate(p)) {
            triples.extend(others(t.member(), source, t.email(), EMAIL).map(|(k, o)| (p, k, o)));
        }
    }
    drop(count);
    rayon::slice::ParallelSliceMut::par_sort_unstable(triples.as_mut_slice());
    triples.dedup();
    let mut n = 0;
    for run in triples.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let value = run[0].0 as usize;
        if run.len() > max && !g.shared[value] {
            g.shared[value] = true;
            n += 1;
        }
    }
    Ok(n)
}

/// Identifier tuple of a record: (source, given id, member key, email, phone).
type Ident<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// A record's identifier tuple.
fn ident<'a>(r: &RecordKeys<'a>) -> Ident<'a> {
    (r.source, r.given, r.customer_key, r.email, r.phone)
}

/// The distinct identifier tuples of the records (each at its first record, with the earliest
/// time of all its records), and each record's tuple. A million orders of 100k customers carry
/// ~100k tuples: normalizing, counting and linking them once is what makes resolution fast.
///
/// ## Method
/// In parallel and with the result of one pass in record order: the records' tuple hashes are
/// computed in parallel; the tuples are split by hash into partitions, each found distinct by a
/// thread of its own (a tuple lives in one partition, so no two threads see it); the partitions'
/// tuples are numbered by their first record (a merge of the partitions, each in that order
/// already), and each record looks its number up. The records are read a block at a time, every
/// partition taking its records of the block in parallel: each record is read once, near the
/// others read then (a spilled lake's orders are read from disk once, in order, not once per
/// partition).
///
/// Over a spilled lake every array here is spilled too ([`Rows::empty_like`]), each written and
/// read mostly in order: a customer list is a tuple per record, ~160 bytes each (its copied
/// identifiers ~90, its numbers ~70: 800 MB for 5M customers) that would otherwise be anonymous
/// memory; only the partitions' indexes (~8 bytes a tuple) stay there.
fn distinct_identifiers(records: &Records) -> std::io::Result<(Rows<Tuple>, Rows<u32>)> {
    use rayon::prelude::*;
    use std::hash::BuildHasher;
    let like = &records.lake.orders;
    let n = records.len();
    let hashes = par_map_into(like.empty_like()?, n, |i| rustc_hash::FxBuildHasher.hash_one(ident(&records.get(i))))?;
    // Partitions small enough that each one's arena and index stay in cache while it is built.
    let parts = 8 * rayon::current_num_threads().max(1);
    // Bits of the hash other than those hashbrown places and tags entries by.
    let part_of = |h: u64| ((h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % parts as u64) as usize;
    // Each partition's records of a block, in record order (so no thread scans every hash to
    // find its own).
    const BLOCK: usize = 1 << 16;
    let mut members: Vec<Vec<u32>> = vec![Vec::with_capacity(BLOCK / parts + BLOCK / parts / 4); parts];
    let mut found: Vec<DistinctPart> = (0..parts)
        .map(|_| {
            let (tuples, of_record, arena) = (like.empty_like()?, like.empty_like()?, like.empty_like()?);
            Ok(DistinctPart { tuples, of_record, arena, ..Default::default() })
        })
        .collect::<std::io::Result<_>>()?;
    for start in (0..n).step_by(BLOCK) {
        members.iter_mut().for_each(Vec::clear);
        for (i, &h) in hashes.iter().enumerate().skip(start).take(BLOCK) {
            members[part_of(h)].push(i as u32);
        }
        found.par_iter_mut().zip(&members).for_each(|(part, mine)| part.add(records, &hashes, mine));
    }
    drop(members);
    for part in &mut found {
        (part.index, part.arena) = Default::default();
    }
    // Number the tuples by their first record: merge the partitions, each in that order already;
    // `number[p]` is partition `p`'s tuples' numbers, in its order.
    let total = found.iter().map(|f| f.tuples.len()).sum();
    let mut distinct: Rows<Tuple> = like.empty_like()?;
    distinct.try_reserve(total)?;
    let mut number: Vec<Rows<u32>> =
        found.iter().map(|f| like.empty_like()?.extended(f.tuples.len(), [])).collect::<std::io::Result<_>>()?;
    let mut heads: std::collections::BinaryHeap<std::cmp::Reverse<(u32, usize)>> = found
        .iter()
        .enumerate()
        .filter_map(|(p, f)| f.tuples.first().map(|t| std::cmp::Reverse((t.first, p))))
        .collect();
    while let Some(std::cmp::Reverse((first, p))) = heads.pop() {
        let l = number[p].len();
        number[p].push(distinct.len() as u32);
        distinct.push(Tuple { first, ts: found[p].tuples[l].ts });
        if let Some(t) = found[p].tuples.get(l + 1) {
            heads.push(std::cmp::Reverse((t.first, p)));
        }
    }
    for part in &mut found {
        part.tuples = Default::default();
    }
    // Each partition's records are in record order: take their tuples in turn.
    let mut next = vec![0usize; parts];
    let of_record = like.empty_like()?.extended(
        n,
        hashes.iter().map(|&h| {
            let p = part_of(h);
            let local = found[p].of_record[next[p]];
            next[p] += 1;
            number[p][local as usize]
        }),
    )?;
    Ok((distinct, of_record))
}

/// `f(i)` for `i` in `0..n`, appended to `out`: computed in parallel a block at a time (a spilled
/// `out` is never whole in memory as well).
fn par_map_into<U: Copy + Send>(
    mut out: Rows<U>,
    n: usize,
    f: impl Fn(usize) -> U + Sync + Send,
) -> std::io::Result<Rows<U>> {
    use rayon::prelude::*;
    const BLOCK: usize = 1 << 20;
    out.try_reserve(n)?;
    let mut block = Vec::with_capacity(BLOCK.min(n));
    for start in (0..n).step_by(BLOCK) {
        (start..(start + BLOCK).min(n)).into_par_iter().with_min_len(1 << 14).map(&f).collect_into_vec(&mut block);
        out.extend_from_slice(&block);
    }
    Ok(out)
}

/// A distinct identifier tuple: its first record, and the earliest time of its records. 16 bytes
/// (its identifiers are read from its records when needed), where a copy of the record's
/// identifiers took 112: 480 MB for a list of 5M customers.
#[derive(Clone, Copy)]
struct Tuple {
    first: u32,
    ts: i64,
}

/// The distinct tuples of the records of one hash partition.
#[derive(Default)]
struct DistinctPart {
    tuples: Rows<PartTuple>,
    /// The partition's records' tuples (local numbers), in record order.
    of_record: Rows<u32>,
    /// The tuples by hash (local numbers).
    index: hashbrown::HashTable<u32>,
    /// The tuples' fields ([`store_ident`]).
    arena: Rows<u8>,
    /// A tuple being stored (reused).
    scratch: Vec<u8>,
}

/// A tuple found in a partition: its first record, earliest time, hash and place in the
/// partition's arena.
struct PartTuple {
    first: u32,
    ts: i64,
    hash: u64,
    at: u64,
}

// Numbers only: nothing on the heap to move when spilled.
impl SpillRow for Tuple {}
impl SpillRow for PartTuple {}
impl SpillRow for TupleKeys {}
impl SpillRow for GroupContact {}

impl DistinctPart {
    /// Adds the records `mine` (indices, in record order, after those added before).
    ///
    /// A tuple found is copied into the partition's arena, and later records are compared with
    /// that copy: a few megabytes per partition, instead of the first record's row somewhere in
    /// gigabytes of orders (a cache and TLB miss per record at 10M orders).
    fn add(&mut self, records: &Records, hashes: &[u64], mine: &[u32]) {
        let DistinctPart { tuples, of_record, index, arena, scratch } = self;
        for &i in mine {
            let (i, h) = (i as usize, hashes[i as usize]);
            let r = records.get(i);
            let id = ident(&r);
            let same = |&l: &u32| {
                let t = &tuples[l as usize];
                t.hash == h && stored_ident_is(&arena[t.at as usize..], &id)
            };
            let local = match index.find(h, same).copied() {
                Some(l) => {
                    let t = &mut tuples[l as usize];
                    t.ts = t.ts.min(r.ts);
                    l
                }
                None => {
                    let l = tuples.len() as u32;
                    tuples.push(PartTuple { first: i as u32, ts: r.ts, hash: h, at: arena.len() as u64 });
                    scratch.clear();
                    store_ident(scratch, &id);
                    arena.extend_from_slice(scratch);
                    index.insert_unique(h, l, |&l| tuples[l as usize].hash);
                    l
                }
            };
            of_record.push(local);
        }
    }
}

/// The fields of an identifier tuple, in order.
fn ident_fields<'a>(id: &Ident<'a>) -> [Option<&'a str>; 5] {
    [Some(id.0), id.1, id.2, id.3, id.4]
}

/// Appends a tuple to an arena: per field a 4-byte length (`u32::MAX`: none) and its bytes.
fn store_ident(arena: &mut Vec<u8>, id: &Ident) {
    for f in ident_fields(id) {
        let len = f.map_or(u32::MAX, |s| s.len() as u32);
        arena.extend_from_slice(&len.to_le_bytes());
        arena.extend_from_slice(f.unwrap_or_default().as_bytes());
    }
}

/// Whether the tuple stored at the start of `stored` (by [`store_ident`]) is `id`.
fn stored_ident_is(stored: &[u8], id: &Ident) -> bool {
    let mut at = 0;
    for f in ident_fields(id) {
        let Some(len) = stored.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])) else {
            return false;
        };
        at += 4;
        match f {
            None if len == u32::MAX => {}
            Some(s) if len as usize == s.len() => {
                if stored.get(at..at + s.len()) != Some(s.as_bytes()) {
                    return false;
                }
                at += s.len();
            }
            _ => return false,
        }
    }
    true
}

/// A tuple's keys as nodes: linkable ones (given id, member key, email, phone as `[identity]
/// keys` allows) and shared placeholder values, which get a node but link nothing.
fn tuple_nodes(
    g: &mut Graph,
    r: &RecordKeys,
    keys: &TupleKeys,
    given_ids: &HashSet<String>,
    cfg: &IdentityConfig,
) -> (Vec<usize>, Vec<usize>) {
    let mut nodes = Vec::with_capacity(4);
    if let Some(id) = r.given.filter(|id| given_ids.contains(*id)) {
        nodes.push(g.intern(Key::Given(id.into())));
    }
    let linked = |key: Option<u32>, kind| key.filter(|_| cfg.links(kind)).map(|k| k as usize);
    nodes.extend(linked(keys.member(), KeyKind::MemberId));
    nodes.extend(linked(keys.email(), KeyKind::Email));
    nodes.extend(linked(keys.phone(), KeyKind::Phone));
    nodes.into_iter().partition(|&n| !g.shared[n])
}

/// Adds a record's nodes (linkable ones first, joined; then placeholders) to `out`.
/// With no linkable key the record stands alone under its own key (`linkable` = its fallback),
/// never with a placeholder's other users.
fn add_nodes(g: &mut Graph, linkable: &[usize], placeholders: &[usize], ts: i64, source: &str, out: &mut Rows<u32>) {
    for &n in linkable.iter().chain(placeholders) {
        g.see(n, ts, source);
        out.push(n as u32);
    }
    for w in linkable.windows(2) {
        g.union(w[0], w[1]);
    }
}

/// Each record's nodes. Records with the same linkable identifiers share one group of nodes;
/// groups are kept flat (`starts` into `nodes`), so 10M records cost 4 bytes each plus their
/// distinct groups, not a pointer and an allocation each.
struct RecordNodes {
    group_of: Rows<u32>,
    starts: Rows<u32>,
    nodes: Rows<u32>,
}

impl RecordNodes {
    /// Closes the group whose nodes were just pushed; returns its number.
    fn close_group(&mut self) -> u32 {
        self.starts.push(self.nodes.len() as u32);
        (self.starts.len() - 2) as u32
    }

    fn of(&self, record: usize) -> &[u32] {
        self.group(self.group_of[record] as usize)
    }

    fn group(&self, g: usize) -> &[u32] {
        &self.nodes[self.starts[g] as usize..self.starts[g + 1] as usize]
    }

    fn groups(&self) -> usize {
        self.starts.len() - 1
    }

    /// Each group's component (`u32::MAX` for a group without nodes), so a record's customer is
    /// two array reads, not a walk through its nodes.
    fn components(&self, comps: &Components) -> std::io::Result<Rows<u32>> {
        let of = |g| self.group(g).first().map_or(u32::MAX, |&n| comps.of_key[n as usize]);
        self.group_of.empty_like()?.extended(self.groups(), (0..self.groups()).map(of))
    }
}

/// Resolves every order, event and ticket to a customer and rebuilds `customers` and `identities`.
///
/// ## Parameters
/// - `lake`: all tables; `customer_id` is (re)assigned on orders, events and tickets.
/// - `given_now`: customer ids given by inputs of this ingest; ids recorded with rule `given` in the
///   lake's `identities` are kept too. Any other stored id is recomputed.
/// - `cfg`: the shared-placeholder threshold.
///
/// The `customers` and `identities` tables are stored like `orders` (in memory, or spilled to
/// disk: [`crate::lake::store`]); growing a spilled table is the only error.
pub fn resolve<S: std::hash::BuildHasher>(
    lake: &mut Lake,
    given_now: &std::collections::HashSet<String, S>,
    cfg: &IdentityConfig,
) -> std::io::Result<()> {
    resolve_in_passes(lake, given_now, cfg, None)
}

/// [`resolve`], building the customers `per_pass` at a time (None: [`customers_per_pass`]).
fn resolve_in_passes<S: std::hash::BuildHasher>(
    lake: &mut Lake,
    given_now: &std::collections::HashSet<String, S>,
    cfg: &IdentityConfig,
    per_pass: Option<usize>,
) -> std::io::Result<()> {
    let mut given_ids: HashSet<String> =
        lake.identities.iter().filter(|i| i.rule == "given").map(|i| i.customer_id.to_string()).collect();
    given_ids.extend(given_now.iter().cloned());
    // Memory is short: what the merge freed, and what identity frees, goes back to the OS at once.
    let _prompt = lake.is_spilled().then(crate::memory::return_freed_memory_promptly);
    let t = std::time::Instant::now();
    lake.sort();
    crate::bench::rss::debug_memory!(seconds = t.elapsed().as_secs_f64(), "lake sorted");
    let mut g = Graph::new(&lake.orders)?;
    let (n_orders, n_events, n_tickets) = (lake.orders.len(), lake.events.len(), lake.tickets.len());
    let nodes = record_nodes(lake, &mut g, &given_ids, cfg)?;
    // Record ranges in `nodes`: orders, events, tickets, profiles.
    let (events_at, tickets_at, profiles_at) = (n_orders, n_orders + n_events, n_orders + n_events + n_tickets);
    // A ticket known only by its order (its fallback key) joins the order's customer (orders
    // are sorted by id above, so no index of 10M ids is built for a few tickets).
    for (i, t) in lake.tickets.iter().enumerate() {
        if let (Some(&n), Some(oid)) = (nodes.of(tickets_at + i).first(), t.order_id.as_deref()) {
            if matches!(g.keys.key(n as usize), KeyRef::Order(_)) {
                if let Ok(o) = lake.orders.binary_search_by(|o| o.order_id.as_str().cmp(oid)) {
                    if let Some(&on) = nodes.of(o).first() {
                        g.union(n as usize, on as usize);
                    }
                }
            }
        }
    }
    crate::bench::rss::debug_memory!(nodes = g.live.iter().filter(|&&l| l).count(), "identity graph built");
    let t = std::time::Instant::now();
    let previous = previous_ids(lake);
    let (comps, merges) = component_ids(&mut g, &previous)?;
    if !merges.is_empty() {
        tracing::info!(merges = merges.len(), "customers merged by this load (see customer_merges)");
    }
    lake.merges.extend(
        merges
            .into_iter()
            .map(|m| crate::lake::records::CustomerMerge { merged_id: m.merged_id, customer_id: m.customer_id }),
    );
    crate::bench::rss::debug_memory!(seconds = t.elapsed().as_secs_f64(), "component ids");
    let group_comp = nodes.components(&comps)?;
    let id_of = |record: usize| {
        let c = group_comp[nodes.group_of[record] as usize];
        (c != u32::MAX).then(|| comps.ids[c as usize].as_str())
    };
    // Straight into the inline text: no heap string per order; in parallel (10M orders).
    use rayon::prelude::*;
    lake.orders
        .par_iter_mut()
        .enumerate()
        .with_min_len(1 << 14)
        .for_each(|(i, o)| o.customer_id = id_of(i).map(Into::into));
    lake.events
        .par_iter_mut()
        .enumerate()
        .with_min_len(1 << 14)
        .for_each(|(i, e)| e.customer_id = id_of(events_at + i).map(Into::into));
    for (i, t) in lake.tickets.iter_mut().enumerate() {
        t.customer_id = id_of(tickets_at + i).map(str::to_string);
    }
    lake.profiles
        .par_iter_mut()
        .enumerate()
        .with_min_len(1 << 14)
        .for_each(|(i, p)| p.customer_id = id_of(profiles_at + i).map(Into::into));
    let t = std::time::Instant::now();
    lake.identities = identities(&g, &comps, lake.orders.empty_like()?)?;
    crate::bench::rss::debug_memory!(seconds = t.elapsed().as_secs_f64(), "identities table");
    let out = lake.orders.empty_like()?;
    let per_pass = per_pass.unwrap_or_else(|| customers_per_pass(comps.ids.len(), lake.orders.is_spilled()));
    lake.customers = customers(lake, g, &comps, &nodes, group_comp, per_pass, out)?;
    Ok(())
}

/// The records identity resolution reads, by number: orders, events, tickets, profiles.
struct Records<'a> {
    lake: &'a Lake,
}

impl<'a> Records<'a> {
    fn len(&self) -> usize {
        let l = self.lake;
        l.orders.len() + l.events.len() + l.tickets.len() + l.profiles.len()
    }

    /// Record `i`'s identifiers (built on demand: at 10M orders a stored list is a gigabyte).
    fn get(&self, mut i: usize) -> RecordKeys<'a> {
        // The four tables share the identifier columns; they differ in their time and own key.
        macro_rules! keys {
            ($row:expr, $ts:expr, $fallback:expr) => {
                RecordKeys {
                    source: &$row.source,
                    ts: $ts,
                    given: $row.customer_id.as_deref(),
                    customer_key: $row.customer_key.as_deref(),
                    email: $row.email.as_deref(),
                    phone: $row.phone.as_deref(),
                    fallback: $fallback,
                }
            };
        }
        let l = self.lake;
        if let Some(o) = l.orders.get(i) {
            return keys!(o, o.created_at, Some(Fallback::Text(&o.order_id)));
        }
        i -= l.orders.len();
        if let Some(e) = l.events.get(i) {
            return keys!(e, e.ts, Some(Fallback::Event(&e.event_id)));
        }
        i -= l.events.len();
        if let Some(t) = l.tickets.get(i) {
            return keys!(t, t.opened_at, t.order_id.as_deref().map(Fallback::Text));
        }
        let p = &l.profiles[i - l.tickets.len()];
        // An undated profile counts as seen after every dated record.
        keys!(p, p.updated_at.unwrap_or(i64::MAX), Some(Fallback::Text(&p.profile_id)))
    }
}

/// Builds the graph: every record's nodes, in record order (orders, events, tickets, profiles).
fn record_nodes(
    lake: &Lake,
    g: &mut Graph,
    given_ids: &HashSet<String>,
    cfg: &IdentityConfig,
) -> std::io::Result<RecordNodes> {
    let records = Records { lake };
    let t = std::time::Instant::now();
    let (distinct, of_record) = distinct_identifiers(&records)?;
    crate::bench::rss::debug_memory!(
        seconds = t.elapsed().as_secs_f64(),
        tuples = distinct.len(),
        "distinct identifier tuples"
    );
    // A tuple has up to three keys (member, email, phone), usually two; its records may add
    // their own (given ids, record keys).
    g.reserve(2 * distinct.len(), 3 * distinct.len() + records.len() / 4)?;
    // Tuples are numbered by their first record: these reads are in record order.
    let like = &lake.orders;
    let (mut keys, mut sources): (Rows<TupleKeys>, Rows<u32>) = (like.empty_like()?, like.empty_like()?);
    keys.try_reserve(distinct.len())?;
    sources.try_reserve(distinct.len())?;
    for d in distinct.iter() {
        let r = records.get(d.first as usize);
        keys.push(tuple_keys(g, &r, cfg.region()));
        sources.push(g.names.id(r.source));
    }
    let mut shared = mark_shared(g, &keys, &sources, cfg.max_keys_per_identifier)?;
    drop(sources);
    for k in cfg.blocked() {
        if let Some(i) = g.keys.get(&k).filter(|&i| !g.shared[i]) {
            g.shared[i] = true;
            shared += 1;
        }
    }
    crate::bench::rss::debug_memory!(seconds = t.elapsed().as_secs_f64(), distinct = distinct.len(), "shared values");
    if shared > 0 {
        tracing::info!(values = shared, "shared emails/phones (placeholders) not used for linking");
    }
    // Records in order; a linkable set of identifiers adds its nodes and unions once (at its
    // first record, with its earliest time), so the graph is the one record-by-record gives.
    let mut out = RecordNodes { group_of: like.empty_like()?, starts: like.empty_like()?, nodes: like.empty_like()? };
    out.starts.push(0);
    out.group_of.try_reserve(of_record.len())?;
    let mut group_of_tuple: Rows<u32> =
        like.empty_like()?.extended(distinct.len(), std::iter::repeat_n(u32::MAX, distinct.len()))?;
    for (record, &i) in of_record.iter().enumerate() {
        let i = i as usize;
        if group_of_tuple[i] != u32::MAX {
            // A tuple seen before: the record itself is not read (a cache miss per record at 10M).
            out.group_of.push(group_of_tuple[i]);
            continue;
        }
        // The record's identifiers are its tuple's.
        let r = records.get(record);
        let (linkable, placeholders) = tuple_nodes(g, &r, &keys[i], given_ids, cfg);
        if linkable.is_empty() {
            let own: Vec<usize> = r.fallback.map(|f| g.intern(Key::Order(f.to_text()))).into_iter().collect();
            add_nodes(g, &own, &placeholders, r.ts, r.source, &mut out.nodes);
            let group = out.close_group();
            out.group_of.push(group);
            continue;
        }
        add_nodes(g, &linkable, &placeholders, distinct[i].ts, r.source, &mut out.nodes);
        let group = out.close_group();
        group_of_tuple[i] = group;
        out.group_of.push(group);
    }
    Ok(out)
}

/// A customer merged into another by a later load: `merged_id` now belongs to `customer_id`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Merge {
    pub merged_id: String,
    pub customer_id: String,
}

/// The previous load's customer id of every identifier (from the stored `identities` table), by
/// the identifier's encoding ([`Key::encode`]).
fn previous_ids(lake: &Lake) -> HashMap<Box<[u8]>, Text> {
    lake.identities
        .iter()
        .filter_map(|i| {
            let key = match i.key_type.as_str() {
                "member_id" => {
                    let (src, k) = i.key.split_once(':')?;
                    Key::Member(src.into(), k.into())
                }
                "email" => Key::Email(i.key.as_str().into()),
                "phone" => Key::Phone(i.key.as_str().into()),
                "record" => Key::Order(i.key.as_str().into()),
                _ => return None,
            };
            Some((key.encoded(), i.customer_id.clone()))
        })
        .collect()
}

/// The graph's components (customers): numbered in order of earliest sighting.
struct Components {
    /// Component of each key (`u32::MAX` for keys no record uses).
    of_key: Rows<u32>,
    /// Each component's customer id (a minted id is inline: spilled with the graph, it takes no
    /// memory of its own).
    ids: Rows<Text>,
    /// Keys per component.
    sizes: Rows<u32>,
}

/// The components of the graph with their customer ids, and the merges this load caused.
///
/// A given id wins; else the component keeps the previous id of its earliest identifier that had
/// one (other previous ids in it are recorded as merged into it); else it gets the next new id,
/// `C` + 9 digits, numbered in order of the components' earliest sighting. Ids are never derived
/// from an email or phone.
///
/// The per-key arrays are stored like the graph's (spilled with a spilled lake).
fn component_ids(g: &mut Graph, previous: &HashMap<Box<[u8]>, Text>) -> std::io::Result<(Components, Vec<Merge>)> {
    let n = g.keys.len();
    let roots: Rows<u32> =
        g.parent.empty_like()?.extended(n, (0..n).map(|i| if g.live[i] { g.find(i) as u32 } else { u32::MAX }))?;
    let g = &*g;
    // By (first seen, key); the key is decoded only for a tie.
    let seen = |a: u32, b: u32| {
        let (a, b) = (a as usize, b as usize);
        g.first_seen[a].cmp(&g.first_seen[b]).then_with(|| g.keys.key(a).cmp(&g.keys.key(b)))
    };
    // Live keys by root, each root's keys by (first seen, key); then roots by their earliest key.
    let mut order: Rows<u32> = g.parent.empty_like()?.extended(n, (0..n as u32).filter(|&i| g.live[i as usize]))?;
    // Keys are distinct, so the order is total and a parallel sort gives the one order there is.
    use rayon::slice::ParallelSliceMut;
    order.par_sort_unstable_by(|&a, &b| roots[a as usize].cmp(&roots[b as usize]).then_with(|| seen(a, b)));
    // Runs of `order` as 32-bit (start, end): 40 MB, not 80, at 5M customers.
    let mut runs: Rows<(u32, u32)> = g.parent.empty_like()?;
    for (i, &k) in order.iter().enumerate() {
        let i = i as u32;
        match runs.last_mut() {
            Some(run) if roots[order[run.0 as usize] as usize] == roots[k as usize] => run.1 = i + 1,
            _ => runs.push((i, i + 1)),
        }
    }
    runs.par_sort_unstable_by(|a, b| seen(order[a.0 as usize], order[b.0 as usize]));
    let mut next =
        previous.values().filter_map(|id| id.strip_prefix('C').and_then(|n| n.parse::<u64>().ok())).max().unwrap_or(0);
    let mut claimed: HashSet<Text> = HashSet::default();
    let mut comps = Components {
        of_key: g.parent.empty_like()?.extended(n, std::iter::repeat_n(u32::MAX, n))?,
        ids: g.parent.empty_like()?,
        sizes: g.parent.empty_like()?,
    };
    comps.ids.try_reserve(runs.len())?;
    comps.sizes.try_reserve(runs.len())?;
    let mut merges = Vec::new();
    for (c, &(start, end)) in runs.iter().enumerate() {
        let m = &order[start as usize..end as usize];
        let root = roots[m[0] as usize] as usize;
        // A new id is above every previous one: only given and previous ids can be claimed again.
        let mut minted = false;
        let id = if let Some(gn) = g.given_of(root) {
            g.keys.key(gn).text()
        } else {
            let old: Vec<&Text> = m.iter().filter_map(|&i| previous.get(g.keys.encoded(i as usize))).collect();
            match old.iter().find(|id| !claimed.contains(id.as_str())) {
                Some(keep) => {
                    let keep = (*keep).clone();
                    let mut seen = HashSet::default();
                    for other in old.iter().filter(|o| ***o != keep) {
                        if !claimed.contains(other.as_str()) && seen.insert(other.to_string()) {
                            merges.push(Merge { merged_id: other.to_string(), customer_id: keep.to_string() });
                        }
                    }
                    keep
                }
                None => {
                    next += 1;
                    minted = true;
                    compact_str::format_compact!("C{next:09}")
                }
            }
        };
        // (A set of every id would be 5M strings for a 5M-customer first load.)
        if !minted {
            claimed.insert(id.clone());
        }
        for &i in m {
            comps.of_key[i as usize] = c as u32;
        }
        comps.ids.push(id);
        comps.sizes.push(m.len() as u32);
    }
    merges.sort();
    Ok((comps, merges))
}

/// The `identities` rows, appended to `out` (empty).
fn identities(g: &Graph, comps: &Components, mut out: Rows<Identity>) -> std::io::Result<Rows<Identity>> {
    use rayon::prelude::*;
    // One row per (key, source); reserved exactly (a doubling vector of 2.5M rows is briefly 1.5x).
    // Key ids as 32 bits: 50 MB, not 100, at 12M keys.
    let n = g.keys.len();
    let live: Rows<u32> = g.parent.empty_like()?.extended(n, (0..n as u32).filter(|&i| g.live[i as usize]))?;
    let rows = live.par_iter().map(|&i| g.sources_of(i as usize).ids().count()).sum();
    out.try_reserve(rows)?;
    // Built in parallel over ranges of keys and appended in key order, a block at a time (so the
    // rows are not briefly twice in memory).
    for block in live.chunks(1 << 18) {
        let parts: Vec<Vec<Identity>> = block.par_chunks(1 << 13).map(|keys| identities_of(g, comps, keys)).collect();
        for part in parts {
            out.extend(part);
        }
    }
    Ok(out)
}

/// The identities rows of some live keys, in their order.
fn identities_of(g: &Graph, comps: &Components, keys: &[u32]) -> Vec<Identity> {
    let mut out = Vec::with_capacity(keys.len());
    for &i in keys {
        let i = i as usize;
        let c = comps.of_key[i] as usize;
        let key = g.keys.key(i);
        let rule = match key {
            KeyRef::Given(_) => "given",
            _ if g.shared[i] => "shared_ignored",
            _ if comps.sizes[c] == 1 => "self",
            KeyRef::Email(_) => "exact_email",
            KeyRef::Phone(_) => "exact_phone",
            KeyRef::Member(..) | KeyRef::Order(_) => "same_record",
        };
        for source in g.names.sorted(g.sources_of(i)) {
            out.push(Identity {
                source: source.into(),
                key_type: key.kind().into(),
                key: key.text(),
                customer_id: comps.ids[c].clone(),
                rule: rule.into(),
            });
        }
    }
    out
}

/// Latest-wins accumulator for contact fields.
struct Latest<T> {
    at: Option<i64>,
    value: Option<T>,
}

impl<T> Default for Latest<T> {
    fn default() -> Self {
        Latest { at: None, value: None }
    }
}

impl<T> Latest<T> {
    /// Keeps `v` when it is present and at least as recent.
    fn offer(&mut self, ts: i64, v: Option<T>) {
        self.offer_as(ts, v, |v| v);
    }

    /// [`Latest::offer`] of a value converted only when kept.
    fn offer_as<V>(&mut self, ts: i64, v: Option<V>, into: impl FnOnce(V) -> T) {
        if let Some(v) = v {
            if self.at.is_none_or(|a| ts >= a) {
                self.at = Some(ts);
                self.value = Some(into(v));
            }
        }
    }
}

/// One customer's sightings; contacts borrowed from the graph's keys, the name copied (inline up
/// to 24 bytes): a borrowed one would be read again from its row when the customer is built, a
/// random read per customer in gigabytes of orders, from disk when they are spilled.
#[derive(Default)]
struct Acc<'a> {
    first_seen: Option<i64>,
    /// Ids of the graph's `names`.
    channels: IdSet,
    sources: IdSet,
    email: Latest<&'a str>,
    phone: Latest<&'a str>,
    name: Latest<Text>,
    email_opt_in: Latest<bool>,
    sms_opt_in: Latest<bool>,
    unsubscribed_at: Option<i64>,
    /// Consent from undated profiles (a customer export states the current consent).
    profile_email: Option<bool>,
    profile_sms: Option<bool>,
}

/// Combines two consent statements where either "no" wins.
fn both(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x && y),
        (x, y) => x.or(y),
    }
}

/// Email consent, privacy first: an undated profile's "no" wins; an unsubscribe after the latest
/// dated opt-in (or with none dated) wins; then an undated profile's "yes"; then the latest dated
/// statement (order flags, dated profiles).
fn email_consent(a: &Acc) -> Option<bool> {
    if a.profile_email == Some(false) {
        return Some(false);
    }
    match (a.email_opt_in.at, a.unsubscribed_at) {
        (Some(at), Some(u)) if u >= at => return Some(false),
        (None, Some(_)) => return Some(false),
        _ => {}
    }
    a.profile_email.or(a.email_opt_in.value)
}

impl<'a> Acc<'a> {
    /// A profile sighting: dated ones count for first_seen; undated ones only add the source and contacts.
    /// `source`: an id of the graph's `names`.
    fn seen_undated(&mut self, ts: i64, source: u32, contact: Contact<'a>, dated: bool) {
        if dated {
            self.seen(ts, source, contact);
            return;
        }
        self.sources.insert(source);
        self.email.offer(ts, contact.0);
        self.phone.offer(ts, contact.1);
    }

    /// Records a sighting with the record's normalized, non-shared email and phone.
    fn seen(&mut self, ts: i64, source: u32, contact: Contact<'a>) {
        self.first_seen = Some(self.first_seen.map_or(ts, |f| f.min(ts)));
        self.sources.insert(source);
        self.email.offer(ts, contact.0);
        self.phone.offer(ts, contact.1);
    }
}

/// A small set of name ids: ids below 64 as bits (every realistic count of sources and
/// channels), any others listed. No allocation per identifier or customer for the usual sets.
/// 16 bytes (two per customer accumulator).
#[derive(Default, Clone, PartialEq, Eq, Hash)]
struct IdSet {
    bits: u64,
    // Boxed: 8 bytes where a `Vec` takes 24, in a set kept per customer whose list is almost
    // never there.
    #[allow(clippy::box_collection)]
    more: Option<Box<Vec<u32>>>,
}

impl IdSet {
    fn insert(&mut self, id: u32) {
        if id < 64 {
            self.bits |= 1 << id;
        } else {
            let more = self.more.get_or_insert_with(Default::default);
            if !more.contains(&id) {
                more.push(id);
            }
        }
    }

    fn contains(&self, id: u32) -> bool {
        match id {
            0..64 => self.bits >> id & 1 == 1,
            _ => self.more.as_ref().is_some_and(|m| m.contains(&id)),
        }
    }

    fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        (0..64).filter(|b| self.bits >> b & 1 == 1).chain(self.more.iter().flat_map(|m| m.iter().copied()))
    }
}

/// The distinct sets of sources of the keys, interned: a key holds a 4-byte set id, not a 16-byte
/// set (keys share a few sets: 150 MB less at a 5M-customer list's 12M keys).
struct Sets {
    sets: Vec<IdSet>,
    index: HashMap<IdSet, u32>,
}

impl Default for Sets {
    fn default() -> Self {
        let mut sets = Sets { sets: Vec::new(), index: HashMap::default() };
        sets.intern(IdSet::default());
        sets
    }
}

impl Sets {
    /// The empty set's id.
    const EMPTY: u32 = 0;

    fn intern(&mut self, set: IdSet) -> u32 {
        if let Some(&i) = self.index.get(&set) {
            return i;
        }
        let i = self.sets.len() as u32;
        self.sets.push(set.clone());
        self.index.insert(set, i);
        i
    }

    /// The id of set `of` with `id` added.
    fn with(&mut self, of: u32, id: u32) -> u32 {
        let set = &self.sets[of as usize];
        if set.contains(id) {
            return of;
        }
        let mut set = set.clone();
        set.insert(id);
        self.intern(set)
    }
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<IdSet>() == 16 && std::mem::size_of::<TupleKeys>() == 12);

/// A record's normalized email and phone (shared placeholders excluded).
type Contact<'g> = (Option<&'g str>, Option<&'g str>);

/// A node group's customer (its component, `u32::MAX`: none) and contacts: ids of the graph's
/// keys of its normalized, non-shared email and phone ([`NO_KEY`]: none). 12 bytes, where
/// borrowed strings took 40 (a customer list has a group per customer).
#[derive(Clone, Copy)]
struct GroupContact {
    comp: u32,
    email: u32,
    phone: u32,
}

/// [`GroupContact`] without that key.
const NO_KEY: u32 = u32::MAX;

impl GroupContact {
    fn new(g: &Graph, comp: u32, nodes: &[u32]) -> GroupContact {
        let mut out = GroupContact { comp, email: NO_KEY, phone: NO_KEY };
        if comp == u32::MAX {
            return out;
        }
        for &n in nodes {
            match g.keys.key(n as usize) {
                KeyRef::Email(_) if !g.shared[n as usize] => out.email = n,
                KeyRef::Phone(_) if !g.shared[n as usize] => out.phone = n,
                _ => {}
            }
        }
        out
    }

    /// The email and phone themselves.
    fn contact<'g>(&self, keys: &'g Keys) -> Contact<'g> {
        let text = |k: u32| match (k != NO_KEY).then(|| keys.key(k as usize)) {
            Some(KeyRef::Email(t) | KeyRef::Phone(t)) => Some(t),
            _ => None,
        };
        (text(self.email), text(self.phone))
    }
}

/// Interned ids of names that repeat record after record (a file's source and channel): the
/// last one is remembered, so a run of equal names costs a comparison, not a hash.
struct LastName<'a> {
    last: Option<(&'a str, u32)>,
}

impl<'a> LastName<'a> {
    fn id(&mut self, names: &mut Names, name: &'a str) -> u32 {
        match self.last {
            Some((n, i)) if n == name => i,
            _ => {
                let i = names.id(name);
                self.last = Some((name, i));
                i
            }
        }
    }
}

/// One row per customer, accumulated per component, appended to `out` (empty).
/// `group_comp`: each node group's component ([`RecordNodes::components`]).
///
/// ## Method
/// Every record is read in order and adds to its customer's accumulator ([`accumulate`]), in
/// parallel: each thread owns chunks of customers and reads all records. A spilled lake is read
/// in passes, each over a range of customers whose accumulators fit the memory budget
/// ([`customers_per_pass`]): accumulators (~250 bytes a customer) are not all in memory at once.
/// A pass touches only its customers' rows (a customer list's are contiguous: cheap passes;
/// orders spread over the file, so each pass reads most pages of a spilled file again). The rows
/// are the same whatever the number of passes: each customer sees its records in record order.
fn customers(
    lake: &Lake,
    mut g: Graph,
    comps: &Components,
    nodes: &RecordNodes,
    group_comp: Rows<u32>,
    per_pass: usize,
    mut out: Rows<Customer>,
) -> std::io::Result<Rows<Customer>> {
    let names = std::mem::take(&mut g.names);
    // Only the keys and their shared flags are read from here: free the rest before the
    // accumulators grow (at 10M orders a few hundred MB at the ingest's peak).
    (g.parent, g.first_seen, g.given, g.sources, g.source_sets, g.live, g.keys.index) = Default::default();
    let groups: Rows<GroupContact> = group_comp.empty_like()?.extended(
        group_comp.len(),
        group_comp.iter().enumerate().map(|(i, &c)| GroupContact::new(&g, c, nodes.group(i))),
    )?;
    drop(group_comp);
    g.shared = Rows::default();
    let keys = &g.keys;
    use rayon::prelude::*;
    let comp_of =
        par_map_into(groups.empty_like()?, nodes.group_of.len(), |r| groups[nodes.group_of[r] as usize].comp)?;
    let parts = rayon::current_num_threads().max(1);
    let n_comps = comps.ids.len();
    // Whole chunks per pass: a thread owns a chunk whole.
    let per_pass = per_pass.max(1).div_ceil(Accs::CHUNK) * Accs::CHUNK;
    if per_pass < n_comps {
        tracing::info!(customers = n_comps, per_pass, "customers built in passes over the spilled lake");
    }
    out.try_reserve(n_comps)?;
    let records = Grouped { lake, comp_of: &comp_of, groups: &groups, nodes, keys };
    for start in (0..n_comps).step_by(per_pass) {
        let range = start..(start + per_pass).min(n_comps);
        // Each thread the chunks of the range it owns, all of them reading the records in order.
        let found: Vec<(Accs, Names)> = (0..parts)
            .into_par_iter()
            .map(|p| {
                let owns = |c: usize| range.contains(&c) && (c / Accs::CHUNK) % parts == p;
                let mut names = names.clone();
                let acc = accumulate(&records, &mut names, n_comps, owns);
                (acc, names)
            })
            .collect();
        let (mut accs, names): (Vec<Accs>, Vec<Names>) = found.into_iter().unzip();
        Accs::drain_parts(&mut accs, |c, a| out.push(customer_row(comps, c, a, &names[(c / Accs::CHUNK) % parts])));
    }
    Ok(out)
}

/// Accumulator bytes a customer takes (the slot, and a long name's or rare sets' heap).
const ACC_BYTES: usize = std::mem::size_of::<Option<Acc>>() + 32;

/// Customers accumulated per pass over the records: all of them in one pass when the lake is in
/// memory; else as many as a quarter of the memory available holds (at least 32 MB, at most
/// 2 GB; 256 MB where the OS does not say). A tight limit means more passes, not a kill: 256 MB
/// of accumulators at least was more than a 500 MB limit had left.
fn customers_per_pass(n_comps: usize, spilled: bool) -> usize {
    if !spilled {
        return n_comps;
    }
    let budget_mb = crate::bench::rss::available_mb().map_or(256, |mb| (mb / 4).clamp(32, 2048));
    (budget_mb << 20) as usize / ACC_BYTES
}

/// A customer's row from its accumulator (`c`: its component; `names`: those its sets index).
fn customer_row(comps: &Components, c: usize, a: Acc, names: &Names) -> Customer {
    let email_opt_in = email_consent(&a);
    let sms_opt_in = match a.profile_sms {
        Some(false) => Some(false),
        p => p.or(a.sms_opt_in.value),
    };
    Customer {
        n_keys: comps.sizes[c] as i64,
        customer_id: comps.ids[c].clone(),
        first_seen_at: a.first_seen,
        channels: names.sorted(&a.channels).join(";").into(),
        sources: names.sorted(&a.sources).join(";").into(),
        email: a.email.value.map(Into::into),
        phone: a.phone.value.map(Into::into),
        name: a.name.value,
        email_opt_in,
        sms_opt_in,
        unsubscribed_at: a.unsubscribed_at,
    }
}

/// The records with their customers: each record's component (`comp_of`, `u32::MAX`: none), and
/// each node group's contacts (`groups`, ids of `keys`).
#[derive(Clone, Copy)]
struct Grouped<'a> {
    lake: &'a Lake,
    comp_of: &'a [u32],
    groups: &'a [GroupContact],
    nodes: &'a RecordNodes,
    keys: &'a Keys,
}

/// Accumulates the customers whose component `owns` accepts from every record, in record order.
fn accumulate<'a>(records: &Grouped<'a>, names: &mut Names, n_comps: usize, owns: impl Fn(usize) -> bool) -> Accs<'a> {
    let Grouped { lake, comp_of, groups, nodes, keys } = *records;
    let mut acc = Accs::new(n_comps, &owns);
    let of = |record: usize| -> Option<(usize, Contact<'a>)> {
        let c = comp_of[record];
        (c != u32::MAX && owns(c as usize)).then(|| (c as usize, groups[nodes.group_of[record] as usize].contact(keys)))
    };
    let (mut source_id, mut channel_id) = (LastName { last: None }, LastName { last: None });
    for (i, o) in lake.orders.iter().enumerate() {
        let Some((c, contact)) = of(i) else { continue };
        let (source, channel) = (source_id.id(names, &o.source), channel_id.id(names, &o.channel));
        let a = acc.at(c);
        a.seen(o.created_at, source, contact);
        a.channels.insert(channel);
        a.name.offer_as(o.created_at, o.name.as_deref(), Text::from);
        a.email_opt_in.offer(o.created_at, o.email_opt_in);
        a.sms_opt_in.offer(o.created_at, o.sms_opt_in);
    }
    let events_at = lake.orders.len();
    for (i, e) in lake.events.iter().enumerate() {
        let Some((c, contact)) = of(events_at + i) else { continue };
        let source = source_id.id(names, &e.source);
        let a = acc.at(c);
        a.seen(e.ts, source, contact);
        // Consent events: `subscribe` is a dated opt-in, `unsubscribe` an opt-out, for SMS when
        // the event's channel is `sms`, else for email.
        let sms = e.channel == "sms";
        match (&*e.event_type, sms) {
            ("unsubscribe", false) => a.unsubscribed_at = Some(a.unsubscribed_at.map_or(e.ts, |u| u.max(e.ts))),
            ("unsubscribe", true) => a.sms_opt_in.offer(e.ts, Some(false)),
            ("subscribe", false) => a.email_opt_in.offer(e.ts, Some(true)),
            ("subscribe", true) => a.sms_opt_in.offer(e.ts, Some(true)),
            _ => {}
        }
    }
    let tickets_at = events_at + lake.events.len();
    for (i, t) in lake.tickets.iter().enumerate() {
        let Some((c, contact)) = of(tickets_at + i) else { continue };
        let source = source_id.id(names, &t.source);
        acc.at(c).seen(t.opened_at, source, contact);
    }
    let profiles_at = tickets_at + lake.tickets.len();
    for (i, p) in lake.profiles.iter().enumerate() {
        let Some((c, contact)) = of(profiles_at + i) else { continue };
        let source = source_id.id(names, &p.source);
        let a = acc.at(c);
        // An undated profile's contacts are used only when no dated record has any.
        let ts = p.updated_at.unwrap_or(i64::MIN);
        a.seen_undated(ts, source, contact, p.updated_at.is_some());
        a.name.offer_as(ts, p.name.as_deref(), Text::from);
        match p.updated_at {
            Some(at) => {
                a.email_opt_in.offer(at, p.email_opt_in);
                a.sms_opt_in.offer(at, p.sms_opt_in);
            }
            None => {
                // Several undated profiles: any "no" wins.
                a.profile_email = both(a.profile_email, p.email_opt_in);
                a.profile_sms = both(a.profile_sms, p.sms_opt_in);
            }
        }
    }
    acc
}

/// The customers' accumulators, in chunks, so that turning them into rows frees them chunk by
/// chunk as the rows grow (accumulators and rows are not both whole in memory).
struct Accs<'a> {
    chunks: Vec<Vec<Option<Acc<'a>>>>,
}

impl<'a> Accs<'a> {
    /// Small in tests, so that a few customers span several chunks and passes.
    const CHUNK: usize = if cfg!(test) { 4 } else { 1 << 16 };

    /// Room for `n` components, of the chunks `owns` accepts a component of (the others stay empty).
    fn new(n: usize, owns: impl Fn(usize) -> bool) -> Self {
        let chunks = (0..n.div_ceil(Self::CHUNK))
            .map(|k| {
                let mut v = Vec::new();
                if owns(k * Self::CHUNK) {
                    v.resize_with(Self::CHUNK.min(n - k * Self::CHUNK), || None);
                }
                v
            })
            .collect();
        Accs { chunks }
    }

    /// Component `c`'s accumulator, created on first use.
    fn at(&mut self, c: usize) -> &mut Acc<'a> {
        self.chunks[c / Self::CHUNK][c % Self::CHUNK].get_or_insert_with(Acc::default)
    }

    /// Hands every used accumulator of `parts` (each chunk filled in one of them) with its
    /// component to `f`, in component order, freeing each chunk once handed over.
    fn drain_parts(parts: &mut [Accs<'a>], mut f: impl FnMut(usize, Acc<'a>)) {
        let n_chunks = parts.iter().map(|p| p.chunks.len()).max().unwrap_or(0);
        for k in 0..n_chunks {
            for part in parts.iter_mut() {
                let chunk = std::mem::take(&mut part.chunks[k]);
                for (i, a) in chunk.into_iter().enumerate() {
                    if let Some(a) = a {
                        f(k * Self::CHUNK + i, a);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::records::{Event, Order, Profile};

    fn order(id: &str, source: &str, key: Option<&str>, email: Option<&str>, phone: Option<&str>, ts: i64) -> Order {
        Order {
            order_id: format!("{source}:{id}").into(),
            source: source.into(),
            channel: source.into(),
            store: None,
            customer_key: key.map(Into::into),
            customer_id: None,
            status: "completed".into(),
            created_at: ts,
            paid_at: None.into(),
            shipped_at: None.into(),
            completed_at: None.into(),
            currency: "CNY".into(),
            gross_amount: 1.0,
            discount: 0.0,
            shipping: 0.0,
            tax: 0.0,
            refund_amount: 0.0,
            net_amount: 1.0,
            email: email.map(Into::into),
            // As ingest stores it: E.164 (CN numbers in these tests).
            phone: phone.map(|p| normalize_phone(p, phone_region("CN")).unwrap_or_else(|| p.to_string()).into()),
            name: None,
            email_opt_in: Some(true),
            sms_opt_in: None,
        }
    }

    fn lake() -> Lake {
        Lake {
            orders: vec![
                order("1", "shop", None, Some("A@x.com"), Some("'13900000001"), 10),
                order("2", "taobao", Some("tb_a"), None, Some("+86 139 0000 0001"), 20),
                order("3", "pos", Some("M1"), None, Some("13900000001"), 30),
                order("4", "pos", Some("M2"), None, Some("13900000002"), 5),
                order("5", "shop", None, Some("b@x.com"), None, 40),
            ]
            .into(),
            ..Default::default()
        }
    }

    #[test]
    fn links_by_email_and_phone_across_sources() {
        let mut l = lake();
        resolve(&mut l, &HashSet::default(), &IdentityConfig::default()).unwrap();
        let id = |oid: &str| l.orders.iter().find(|o| o.order_id == oid).unwrap().customer_id.clone().unwrap();
        assert_eq!(id("shop:1"), id("taobao:2"));
        assert_eq!(id("shop:1"), id("pos:3"));
        assert_ne!(id("shop:1"), id("pos:4"));
        assert_ne!(id("shop:1"), id("shop:5"));
        assert_eq!(l.customers.len(), 3);
        let c = l.customers.iter().find(|c| c.customer_id == id("shop:1")).unwrap();
        assert_eq!(c.channels, "pos;shop;taobao");
        assert_eq!(c.n_keys, 4); // email, phone, tb_a, M1
        assert_eq!(c.email.as_deref(), Some("a@x.com"));
    }

    #[test]
    fn ids_are_deterministic_and_independent_of_input_order() {
        let mut a = lake();
        let mut b = lake();
        b.orders.reverse();
        resolve(&mut a, &HashSet::default(), &IdentityConfig::default()).unwrap();
        resolve(&mut b, &HashSet::default(), &IdentityConfig::default()).unwrap();
        a.sort();
        b.sort();
        assert_eq!(a.orders, b.orders);
        assert_eq!(a.identities, b.identities);
        // Re-resolving a resolved lake changes nothing.
        let before = a.orders.clone();
        resolve(&mut a, &HashSet::default(), &IdentityConfig::default()).unwrap();
        assert_eq!(a.orders, before);
    }

    #[test]
    fn given_ids_are_kept_and_never_merged_with_each_other() {
        let mut l = Lake::default();
        let mut o1 = order("1", "canonical", None, Some("same@x.com"), None, 1);
        o1.customer_id = Some("CUST-1".into());
        let mut o2 = order("2", "canonical", None, Some("same@x.com"), None, 2);
        o2.customer_id = Some("CUST-2".into());
        l.orders = vec![o1, o2].into();
        let given: HashSet<String> = ["CUST-1".to_string(), "CUST-2".to_string()].into_iter().collect();
        resolve(&mut l, &given, &IdentityConfig::default()).unwrap();
        let ids: Vec<_> = l.orders.iter().map(|o| o.customer_id.clone().unwrap()).collect();
        assert_eq!(ids, vec!["CUST-1", "CUST-2"]);
        // Stored with rule `given`, so a later resolve keeps them without being told again.
        resolve(&mut l, &HashSet::default(), &IdentityConfig::default()).unwrap();
        assert_eq!(l.orders[1].customer_id.as_deref(), Some("CUST-2"));
    }

    /// An email unsubscribe of `email` at `ts`.
    fn unsubscribe(email: &str, ts: i64) -> Event {
        Event {
            event_id: "e".into(),
            source: "email".into(),
            customer_key: None,
            customer_id: None,
            email: Some(email.into()),
            phone: None,
            ts,
            channel: "email".into(),
            event_type: "unsubscribe".into(),
            campaign_id: None,
            sku: None,
        }
    }

    #[test]
    fn customers_built_in_passes_are_those_of_one_pass() {
        // Customers across sources, undated and dated profiles with consent, an unsubscribe.
        let build = |per_pass: Option<usize>| {
            let mut l = lake();
            for i in 0..23usize {
                let (member, email) = (format!("m{}", i % 7), format!("u{}@x.com", i % 11));
                let source = ["shop", "pos", "taobao"][i % 3];
                l.orders.push(order(&format!("x{i}"), source, Some(&member), Some(&email), None, 100 - i as i64));
            }
            let profiles: Vec<Profile> = (0..9)
                .map(|i| {
                    profile(&format!("p{i}"), &format!("u{}@x.com", 2 * i), i % 2 == 0, (i % 3 != 0).then_some(50 + i))
                })
                .collect();
            l.profiles = profiles.into();
            l.events.push(unsubscribe("u4@x.com", 60));
            resolve_in_passes(&mut l, &HashSet::default(), &IdentityConfig::default(), per_pass).unwrap();
            let orders: Vec<_> = l.orders.iter().map(|o| o.customer_id.clone()).collect();
            (l.customers.to_vec(), orders)
        };
        let one = build(None);
        assert!(one.0.len() > 3 * Accs::CHUNK, "{} customers", one.0.len());
        assert!(
            one.0.iter().any(|c| c.unsubscribed_at == Some(60)) && one.0.iter().any(|c| c.email_opt_in == Some(true))
        );
        for per_pass in [1, Accs::CHUNK, Accs::CHUNK + 1, 3 * Accs::CHUNK] {
            assert_eq!(build(Some(per_pass)), one, "{per_pass} per pass");
        }
    }

    #[test]
    fn unsubscribe_after_opt_in_wins() {
        let mut l = lake();
        l.events.push(unsubscribe("b@x.com", 50));
        resolve(&mut l, &HashSet::default(), &IdentityConfig::default()).unwrap();
        let c = l.customers.iter().find(|c| c.email.as_deref() == Some("b@x.com")).unwrap();
        assert_eq!((c.email_opt_in, c.unsubscribed_at), (Some(false), Some(50)));
    }

    fn profile(id: &str, email: &str, email_opt_in: bool, updated_at: Option<i64>) -> Profile {
        Profile {
            profile_id: format!("list:{id}").into(),
            source: "list".into(),
            customer_key: None,
            customer_id: None,
            email: Some(email.into()),
            phone: None,
            name: Some("Ann".into()),
            country: None,
            email_opt_in: Some(email_opt_in),
            sms_opt_in: None,
            tags: None,
            total_spent: None,
            total_orders: None,
            updated_at,
        }
    }

    #[test]
    fn profile_consent_rules() {
        let consent = |profiles: Vec<Profile>, order_opt_in: Option<bool>, unsubscribe_at: Option<i64>| {
            let mut o = order("1", "shop", None, Some("a@x.com"), None, 100);
            o.email_opt_in = order_opt_in;
            let mut l = Lake { orders: vec![o].into(), profiles: profiles.into(), ..Default::default() };
            if let Some(ts) = unsubscribe_at {
                l.events.push(Event {
                    event_id: "e".into(),
                    source: "mail".into(),
                    customer_key: None,
                    customer_id: None,
                    email: Some("a@x.com".into()),
                    phone: None,
                    ts,
                    channel: "email".into(),
                    event_type: "unsubscribe".into(),
                    campaign_id: None,
                    sku: None,
                });
            }
            resolve(&mut l, &HashSet::default(), &IdentityConfig::default()).unwrap();
            assert_eq!(l.customers.len(), 1, "the profile joins the order's customer by email");
            assert_eq!(l.profiles[0].customer_id.as_deref(), l.orders[0].customer_id.as_deref());
            (l.customers[0].email_opt_in, l.customers[0].first_seen_at)
        };
        // An undated "no" beats a dated order opt-in; an undated "yes" beats an older order "no".
        assert_eq!(consent(vec![profile("1", "a@x.com", false, None)], Some(true), None), (Some(false), Some(100)));
        assert_eq!(consent(vec![profile("1", "a@x.com", true, None)], Some(false), None).0, Some(true));
        // An unsubscribe after the latest dated opt-in beats an undated "yes".
        assert_eq!(consent(vec![profile("1", "a@x.com", true, None)], Some(true), Some(200)).0, Some(false));
        // Dated profiles compete by time like order flags, and count for first_seen_at.
        assert_eq!(consent(vec![profile("1", "a@x.com", true, Some(50))], Some(false), None), (Some(false), Some(50)));
        // Two undated lists disagree: "no" wins.
        let two = vec![profile("1", "a@x.com", true, None), profile("2", "a@x.com", false, None)];
        assert_eq!(consent(two, None, None).0, Some(false));
    }

    #[test]
    fn an_undated_profile_alone_is_a_customer_without_first_seen() {
        let mut l = Lake { profiles: vec![profile("1", "solo@x.com", true, None)].into(), ..Default::default() };
        resolve(&mut l, &HashSet::default(), &IdentityConfig::default()).unwrap();
        assert_eq!(l.customers.len(), 1);
        assert_eq!((l.customers[0].first_seen_at, l.customers[0].email_opt_in), (None, Some(true)));
        assert_eq!(l.customers[0].name.as_deref(), Some("Ann"));
    }

    #[test]
    fn a_shared_placeholder_phone_links_nobody() {
        let mut l = Lake::default();
        for (i, card) in ["M1", "M2", "M3", "M4", "M5", "M6", "M7"].iter().enumerate() {
            l.orders.push(order(&i.to_string(), "pos", Some(card), None, Some("4008208820"), i as i64));
        }
        // M1 also shows its real phone once, shared with an online order.
        l.orders.push(order("9", "pos", Some("M1"), None, Some("13900000009"), 9));
        l.orders.push(order("10", "shop", None, Some("m1@x.com"), Some("13900000009"), 10));
        resolve(&mut l, &HashSet::default(), &IdentityConfig::default()).unwrap();
        let ids: std::collections::BTreeSet<_> = l.orders.iter().map(|o| o.customer_id.clone().unwrap()).collect();
        assert_eq!(ids.len(), 7, "seven members, M1 linked to its online self, no merge through the store phone");
        assert!(l.identities.iter().any(|i| i.key == "+864008208820" && i.rule == "shared_ignored"));
        assert!(l.customers.iter().all(|c| c.phone.as_deref() != Some("+864008208820")));
        let relaxed = IdentityConfig { max_keys_per_identifier: 10, ..IdentityConfig::default() };
        resolve(&mut l, &HashSet::default(), &relaxed).unwrap();
        let ids: std::collections::BTreeSet<_> = l.orders.iter().map(|o| o.customer_id.clone().unwrap()).collect();
        assert_eq!(ids.len(), 1, "without the guard everyone merges");
    }

    #[test]
    fn shared_values_are_those_a_brute_force_count_finds() {
        use std::collections::{BTreeMap, BTreeSet};
        // Seeded tuples over small pools, so values recur with several members, emails and phones.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for max in [1, 2, 3, 5] {
            let mut g = Graph::new(&Rows::<u8>::default()).unwrap();
            let (mut tuples, mut sources) = (Vec::new(), Vec::new());
            for _ in 0..400 {
                let source = ["shop", "pos"][next(2) as usize];
                let member =
                    (next(3) > 0).then(|| g.intern(Key::Member(source.into(), format!("M{}", next(40)).into())));
                let email = (next(3) > 0).then(|| g.intern(Key::Email(format!("e{}@x.com", next(30)).into())));
                let phone = (next(3) > 0).then(|| g.intern(Key::Phone(format!("+86139{}", next(20)).into())));
                tuples.push(TupleKeys::new(member, email, phone));
                sources.push(g.names.id(source));
            }
            // (value, kind) → its distinct others; kinds as in `mark_shared`.
            let mut others: BTreeMap<(u32, u32), BTreeSet<u32>> = BTreeMap::new();
            for (t, &s) in tuples.iter().zip(&sources) {
                for (v, other_kind, other) in [(t.email(), u32::MAX - 1, t.phone()), (t.phone(), u32::MAX, t.email())] {
                    let Some(v) = v else { continue };
                    if let Some(m) = t.member() {
                        others.entry((v, s)).or_default().insert(m);
                    }
                    if let Some(o) = other {
                        others.entry((v, other_kind)).or_default().insert(o);
                    }
                }
            }
            let expected: BTreeSet<u32> = others.iter().filter(|(_, o)| o.len() > max).map(|(&(v, _), _)| v).collect();
            let n = mark_shared(&mut g, &tuples, &sources, max).unwrap();
            let marked: BTreeSet<u32> = (0..g.keys.len() as u32).filter(|&k| g.shared[k as usize]).collect();
            assert_eq!(marked, expected, "max {max}");
            assert_eq!(n, expected.len());
            assert!(!expected.is_empty(), "the pools make some values shared at max {max}");
        }
    }

    #[test]
    fn records_with_only_a_placeholder_stay_apart() {
        let mut l = Lake::default();
        for (i, card) in ["K1", "K2", "K3", "K4", "K5", "K6"].iter().enumerate() {
            l.orders.push(order(&i.to_string(), "pos", Some(card), None, Some("4008205550"), i as i64));
        }
        for i in 10..13 {
            l.orders.push(order(&i.to_string(), "pos", None, None, Some("4008205550"), i as i64));
        }
        resolve(&mut l, &HashSet::default(), &IdentityConfig::default()).unwrap();
        let ids: std::collections::BTreeSet<_> = l.orders.iter().map(|o| o.customer_id.clone().unwrap()).collect();
        assert_eq!(ids.len(), 9, "six members and three separate guests");
    }

    #[test]
    fn ids_survive_later_loads_and_merges_are_recorded() {
        let mut l = Lake {
            orders: vec![
                order("1", "shop", None, Some("x@a.com"), None, 10),
                order("2", "pos", Some("M7"), None, Some("13900000007"), 20),
            ]
            .into(),
            ..Default::default()
        };
        resolve(&mut l, &HashSet::default(), &IdentityConfig::default()).unwrap();
        let id =
            |l: &Lake, oid: &str| l.orders.iter().find(|o| o.order_id == oid).unwrap().customer_id.clone().unwrap();
        let (x, m) = (id(&l, "shop:1"), id(&l, "pos:2"));
        assert_eq!((x.as_str(), m.as_str()), ("C000000001", "C000000002"), "numbered by first sighting, no hashes");
        // A new order shows the same person's email and phone together: the customers merge.
        l.orders.push(order("3", "shop", None, Some("x@a.com"), Some("13900000007"), 30));
        l.orders.push(order("4", "shop", None, Some("new@a.com"), None, 40));
        resolve(&mut l, &HashSet::default(), &IdentityConfig::default()).unwrap();
        assert_eq!(id(&l, "shop:1"), x, "the earliest customer keeps its id");
        assert_eq!(id(&l, "pos:2"), x);
        assert_eq!(id(&l, "shop:4"), "C000000003", "new customers continue the numbering");
        assert_eq!(
            l.merges,
            vec![crate::lake::records::CustomerMerge { merged_id: m.to_string(), customer_id: x.to_string() }]
        );
        // Re-resolving changes nothing.
        let before = l.orders.clone();
        resolve(&mut l, &HashSet::default(), &IdentityConfig::default()).unwrap();
        assert_eq!(l.orders, before);
        assert_eq!(l.merges.len(), 1);
    }

    #[test]
    fn keys_decode_as_encoded_and_order_as_their_fields() {
        let keys = [
            Key::Order("o-1".into()),
            Key::Phone("+8613900000001".into()),
            Key::Member("taobao".into(), "tb_a".into()),
            Key::Email("an.email.longer.than.24.bytes@example.com".into()),
            Key::Member("pos".into(), "M1".into()),
            Key::Given("C000000007".into()),
            Key::Member("pos".into(), "".into()),
            Key::Email("a@x.com".into()),
            Key::Given("顾客-1".into()),
        ];
        let mut g = Graph::new(&Rows::<u8>::default()).unwrap();
        let ids: Vec<usize> = keys.iter().map(|k| g.intern(k.clone())).collect();
        assert_eq!(ids, (0..keys.len()).collect::<Vec<_>>());
        assert_eq!(g.intern(keys[3].clone()), 3, "interned once");
        assert_eq!(g.keys.get(&keys[5]), Some(5));
        assert_eq!(g.keys.get(&Key::Email("b@x.com".into())), None);
        // Variant, then source name, then text: the order components number their keys by.
        let fields = |k: &Key| match k {
            Key::Given(t) => (0, String::new(), t.to_string()),
            Key::Member(s, t) => (1, s.to_string(), t.to_string()),
            Key::Email(t) => (2, String::new(), t.to_string()),
            Key::Phone(t) => (3, String::new(), t.to_string()),
            Key::Order(t) => (4, String::new(), t.to_string()),
        };
        let (mut by_ref, mut by_fields) = ((0..keys.len()).collect::<Vec<_>>(), (0..keys.len()).collect::<Vec<_>>());
        by_ref.sort_by_key(|&i| g.keys.key(i));
        by_fields.sort_by_key(|&i| fields(&keys[i]));
        assert_eq!(by_ref, by_fields);
        let texts: Vec<(&str, Text)> = ids.iter().map(|&i| (g.keys.key(i).kind(), g.keys.key(i).text())).collect();
        assert_eq!(texts[2], ("member_id", "taobao:tb_a".into()));
        assert_eq!(texts[3], ("email", "an.email.longer.than.24.bytes@example.com".into()));
        assert_eq!(texts[8], ("customer_id", "顾客-1".into()));
    }

    #[test]
    fn a_spilled_lake_resolves_as_one_in_memory() {
        // Two loads: members of three sources, guests, a given id, a ticket known by its order, a
        // placeholder phone, and in the second load a merge of two earlier customers.
        let first = || {
            let mut l = lake();
            // Groups of four orders: three share an email, the fourth has only its member key.
            for i in 0..40usize {
                let (source, group) = (["shop", "pos", "taobao"][i % 3], i / 4);
                let member = (i % 4 != 0).then(|| format!("m{group}"));
                let email = (i % 4 != 3).then(|| format!("user.with.a.long.name{group}@example.com"));
                let phone = (i % 7 == 0).then_some("13800000000");
                let ts = 1000 - 3 * i as i64;
                l.orders.push(order(&format!("x{i}"), source, member.as_deref(), email.as_deref(), phone, ts));
            }
            l.orders[5].customer_id = Some("VIP-1".into());
            l.tickets.push(crate::lake::records::Ticket {
                ticket_id: "t1".into(),
                source: "zendesk".into(),
                customer_key: None,
                customer_id: None,
                email: None,
                phone: None,
                order_id: Some("shop:x3".into()),
                kind: "return".into(),
                reason: None,
                status: None,
                opened_at: 1500,
                resolved_at: None,
                satisfaction: None,
            });
            l
        };
        let given: HashSet<String> = ["VIP-1".to_string()].into_iter().collect();
        let cfg = IdentityConfig { max_keys_per_identifier: 3, ..Default::default() };
        let run = |spill: bool| {
            let dir = tempfile::tempdir().unwrap();
            let mut l = first();
            if spill {
                l.spill(dir.path()).unwrap();
            }
            resolve(&mut l, &given, &cfg).unwrap();
            assert_eq!(l.identities.is_spilled(), spill);
            l.orders.push(order("y1", "shop", Some("m5"), Some("user.with.a.long.name2@example.com"), None, 2000));
            resolve(&mut l, &given, &cfg).unwrap();
            let ids = |l: &Lake| l.orders.iter().map(|o| o.customer_id.clone()).collect::<Vec<_>>();
            (ids(&l), l.tickets[0].customer_id.clone(), l.customers.to_vec(), l.identities.to_vec(), l.merges.clone())
        };
        let (heap, disk) = (run(false), run(true));
        assert!(!heap.4.is_empty(), "the second load merges customers");
        assert!(heap.1.is_some(), "the ticket has its order's customer");
        assert!(heap.3.iter().any(|i| i.rule == "shared_ignored") && heap.3.iter().any(|i| i.rule == "given"));
        assert_eq!(disk, heap);
    }

    #[test]
    fn blocklist_and_key_kinds() {
        let base = || Lake {
            orders: vec![
                order("1", "shop", None, Some("a@x.com"), Some("13900000001"), 1),
                order("2", "shop", None, Some("b@x.com"), Some("13900000001"), 2),
            ]
            .into(),
            ..Default::default()
        };
        let n = |cfg: &IdentityConfig| {
            let mut l = base();
            resolve(&mut l, &HashSet::default(), cfg).unwrap();
            l.orders.iter().map(|o| o.customer_id.clone()).collect::<std::collections::BTreeSet<_>>().len()
        };
        assert_eq!(n(&IdentityConfig::default()), 1, "the shared phone links them");
        let blocked = IdentityConfig { blocklist: vec!["+86 139 0000 0001".into()], ..IdentityConfig::default() };
        let national = IdentityConfig {
            blocklist: vec!["139 0000 0001".into()],
            default_phone_region: Some("CN".into()),
            ..IdentityConfig::default()
        };
        assert_eq!(n(&national), 2, "a national blocklist entry reads with the default region");
        assert_eq!(n(&blocked), 2);
        let email_only = IdentityConfig { keys: vec![KeyKind::Email, KeyKind::MemberId], ..IdentityConfig::default() };
        assert_eq!(n(&email_only), 2);
    }

    proptest::proptest! {
        /// A tuple read back from the arena is equal to exactly the tuples equal to it (an empty
        /// field is not a missing one).
        #[test]
        fn arena_tuples_compare_like_tuples(
            a in proptest::collection::vec(proptest::option::of("[ab]{0,2}"), 5),
            b in proptest::collection::vec(proptest::option::of("[ab]{0,2}"), 5),
        ) {
            let id = |v: &Vec<Option<String>>| -> (String, [Option<String>; 4]) {
                (v[0].clone().unwrap_or_default(), [v[1].clone(), v[2].clone(), v[3].clone(), v[4].clone()])
            };
            let (sa, fa) = id(&a);
            let (sb, fb) = id(&b);
            let ta: Ident = (&sa, fa[0].as_deref(), fa[1].as_deref(), fa[2].as_deref(), fa[3].as_deref());
            let tb: Ident = (&sb, fb[0].as_deref(), fb[1].as_deref(), fb[2].as_deref(), fb[3].as_deref());
            let mut arena = b"earlier tuples".to_vec();
            let at = arena.len();
            store_ident(&mut arena, &ta);
            store_ident(&mut arena, &tb);
            proptest::prop_assert!(stored_ident_is(&arena[at..], &ta));
            proptest::prop_assert_eq!(stored_ident_is(&arena[at..], &tb), ta == tb);
        }

        /// The E.164 text written directly is the `phonenumber` formatter's, leading zeros
        /// (Italian landlines) included.
        #[test]
        fn e164_is_the_formatters(region in proptest::sample::select(vec!["CN", "US", "IT", "GB", "DE", "JP"]),
                                  digits in "0?[0-9]{6,12}") {
            let expected = phonenumber::parse(phone_region(region), &digits)
                .ok()
                .filter(phonenumber::is_valid)
                .map(|n| n.format().mode(phonenumber::Mode::E164).to_string());
            proptest::prop_assert_eq!(normalize_phone(&digits, phone_region(region)), expected);
        }
    }

    #[test]
    fn quick_nanp_is_the_crates_answer() {
        // Every area code 200–999 (toll-free and Caribbean ones included) in the three written
        // forms, 8 seeded numbers each: the quick path gives exactly what the full parse and
        // validation give (None included).
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let full = |t: &str| {
            let n = phonenumber::parse(None, t).ok()?;
            phonenumber::is_valid(&n).then(|| format!("+{}{}", n.code().value(), n.national()))
        };
        let (mut valid, mut invalid) = (0, 0);
        for area in 200..1000 {
            for k in 0..8 {
                let (mid, last) = (rng.gen_range(0..1000), rng.gen_range(0..10_000));
                let t = match k % 3 {
                    0 => format!("+1 ({area}) {mid:03}-{last:04}"),
                    1 => format!("+1 {area}-{mid:03}-{last:04}"),
                    _ => format!("+1.{area}.{mid:03}.{last:04}"),
                };
                assert!(nanp_digits(&t).is_some(), "{t}");
                let expected = full(&t);
                assert_eq!(quick_phone(&t, None), expected, "{t}");
                if expected.is_some() {
                    valid += 1;
                } else {
                    invalid += 1;
                }
            }
        }
        assert!(valid > 2000 && invalid > 2000, "{valid} valid, {invalid} invalid");
        for odd in ["+1 (112) 205-0310", "+1 212 205 031", "+1 (212 205-0310", "+44 20 7946 0958", "+1 212 205 0310 x1"]
        {
            assert_eq!(nanp_digits(odd), None, "{odd}");
        }
    }

    #[test]
    fn quick_cn_mobile_is_the_crates_answer() {
        // Every 4-digit prefix of the 1 range with 60 seeded suffixes each: the quick path
        // answers exactly when the full parse finds a valid number, and with the same E.164.
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let cn = phone_region("CN");
        let full = |t: &str| {
            let n = phonenumber::parse(cn, t).ok()?;
            phonenumber::is_valid(&n).then(|| format!("+{}{}", n.code().value(), n.national()))
        };
        let meta = phonenumber::metadata::DATABASE.by_id("CN").unwrap();
        let crate_mobile = meta.descriptors().mobile().unwrap();
        let mut quick_hits = 0;
        for prefix in 1000..2000 {
            for _ in 0..60 {
                let t = format!("{prefix}{:07}", rng.gen_range(0..10_000_000));
                match quick_phone(&t, cn) {
                    Some(q) => {
                        quick_hits += 1;
                        assert_eq!(Some(q), full(&t), "{t}");
                    }
                    // Not quick: left to the full parse; a valid mobile number (by the crate's
                    // own descriptor) should not have been.
                    None => assert!(!(full(&t).is_some() && crate_mobile.is_match(&t)), "{t}"),
                }
            }
        }
        assert!(quick_hits > 25_000, "{quick_hits}");
        assert_eq!(quick_phone("13925130165", None), None);
        assert_eq!(quick_phone("13925130165", phone_region("US")), None);
        assert_eq!(quick_phone("+8613925130165", None), Some("+8613925130165".into()));
    }

    #[test]
    fn italian_leading_zero_kept() {
        assert_eq!(normalize_phone("06 6982 1234", phone_region("IT")), Some("+390669821234".into()));
    }

    #[test]
    fn normalization() {
        let cn = phone_region("CN");
        assert_eq!(normalize_phone("138****9060", cn), None);
        assert_eq!(normalize_phone("1******6198", cn), None);
        assert_eq!(normalize_email("not-an-email"), None);
        assert_eq!(normalize_phone("008613925130165", cn), Some("+8613925130165".into()));
        assert_eq!(normalize_phone("+86 13925130165", None), Some("+8613925130165".into()));
        assert_eq!(normalize_phone("=\"13925130165\"", cn), Some("+8613925130165".into()));
        assert_eq!(normalize_phone("021-6234 5678", cn), Some("+862162345678".into()), "landline");
        assert_eq!(normalize_phone("(415) 555-2671", phone_region("us")), Some("+14155552671".into()));
        assert_eq!(normalize_phone("+1 415 555 2671", cn), Some("+14155552671".into()), "a country code wins");
        assert_eq!(normalize_phone("13925130165", None), None, "national number, no region");
        assert_eq!(normalize_phone("12345678901", cn), None, "not a valid CN number");
        assert_eq!(normalize_phone("123", cn), None);
        assert_eq!(normalize_phone("\t", cn), None);
        assert_eq!(normalize_phone("+8613925130165", None), Some("+8613925130165".into()), "E.164 kept");
        assert_eq!(phone_region("XX"), None);
    }
}
