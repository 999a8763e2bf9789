//! From read records to canonical rows, through a checked [`Mapping`].
//!
//! ## Method
//! Each record is cleaned cell by cell (trim, the mapping's transforms, null values) and parsed
//! into typed parts; a cell that does not parse rejects its record, naming the source column.
//! Records are then grouped into *units*, the thing the lake stores and deduplicates: an order
//! with its lines, the lines of one order (`order_items` files), a product, an event, a ticket.
//! On line-item grain, order fields come from the first non-empty value among the order's rows
//! (Shopify leaves them blank on continuation rows); if the order as a whole is unusable, each of
//! its rows is rejected with the reason.

use super::parse::{clean_str, looks_masked, parse_bool, parse_count, parse_money, parse_timestamp};
use super::read::{CellIssue, RawRecord, RawTable};
use crate::config::mapping::{Grain, Mapping, PackedLines, Transform};
use crate::lake::records::{Event, EventId, Item, Order, Product, Profile, Reject, Sym, Text, Ticket};
use crate::schema::{OrderStatus, Table, EVENT_TYPES, NO_CURRENCY, TICKET_KINDS};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::HashMap;

/// The content of one unit.
#[derive(Debug, Clone, PartialEq)]
pub enum UnitData {
    Order(Order, Vec<Item>),
    Items(Vec<Item>),
    Product(Product),
    Profile(Profile),
    Event(Event),
    Ticket(Ticket),
}

/// The physical lines of a unit's records.
pub type Lines = smallvec::SmallVec<[u64; 2]>;

/// A deduplication unit and the physical lines it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The key the lake deduplicates on (sku, ticket id, the order id of lines); empty for an
    /// order, a profile or an event, which the merge finds by their own ids (see [`Unit::id`]).
    pub key: String,
    /// Its records' lines (most units have one or two: no heap allocation for those).
    pub lines: Lines,
    pub data: UnitData,
}

impl Unit {
    /// The key the lake deduplicates on (an order's id; empty for a profile or an event).
    pub fn id(&self) -> &str {
        match &self.data {
            UnitData::Order(o, _) => &o.order_id,
            _ => &self.key,
        }
    }
}

/// A file's units and rejects.
#[derive(Debug, Default)]
pub struct Converted {
    pub units: Vec<Unit>,
    pub rejects: Vec<Reject>,
}

/// A cell that could not be used: the source column and why.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub column: Option<String>,
    pub reason: String,
}

type FResult<T> = Result<T, FieldError>;

/// Resolves mapped columns to header positions once per file.
struct Cells<'a> {
    m: &'a Mapping,
    /// Every canonical column the mapping fills, resolved once per file: where its value comes
    /// from and how it is cleaned (no lookup by name per cell).
    columns: rustc_hash::FxHashMap<&'a str, Column<'a>>,
    /// Raw phone cell → E.164, shared by a file's parts.
    phones: &'a PhoneCache,
    /// Spreadsheet cells that cannot be trusted, and the mapped columns to check for them.
    issues: &'a HashMap<(u64, usize), CellIssue>,
    mapped: Vec<(usize, &'a str)>,
    headers: &'a [String],
    /// Header positions of the `[packed_lines]` columns, by line number.
    packed: Vec<usize>,
}

/// Canonical columns that hold ids, keys or phones: a spreadsheet number with a fraction there is not one.
const ID_COLUMNS: &[&str] =
    &["order_id", "customer_key", "customer_id", "phone", "sku", "ticket_id", "campaign_id", "event_id"];

/// Canonical columns never read from a masked value (`张**`, `jd_****7788`): such values are
/// shared by many buyers, so they would join strangers.
const UNMASKED_ONLY: &[&str] = &["customer_key", "customer_id", "email", "name"];

/// Where a canonical column's value comes from.
enum Origin<'a> {
    /// One header position.
    Cell(usize),
    /// `[fallbacks]`: header positions read in turn until one has a value.
    First(Vec<usize>),
    /// `[concat]`: the positions of its parts present in the header.
    Joined(Vec<usize>),
    /// `[constants]`: the same value on every record.
    Constant(&'a str),
}

/// A canonical column of a file, resolved.
struct Column<'a> {
    origin: Origin<'a>,
    /// `[column_transforms]` for it, after the file's `transforms`.
    extra: &'a [Transform],
    /// `[values]` replacements for it.
    values: Option<&'a std::collections::BTreeMap<String, String>>,
    /// A masked value (`张**`) counts as empty (see [`UNMASKED_ONLY`]).
    unmasked_only: bool,
}

impl<'a> Cells<'a> {
    /// `warn`: log the mapped columns the header lacks (once per file: on its first part).
    fn new(m: &'a Mapping, table: &'a RawTable, phones: &'a PhoneCache, warn: bool) -> Result<Self, String> {
        let mut index = rustc_hash::FxHashMap::default();
        let mut missing = Vec::new();
        for (canon, src) in &m.file.columns {
            match table.index(src) {
                Some(i) => {
                    index.insert(canon.as_str(), i);
                }
                None => missing.push(format!("`{}` (for {canon})", src.trim())),
            }
        }
        let mut joined = rustc_hash::FxHashMap::default();
        for (canon, parts) in &m.file.concat {
            let found: Vec<usize> = parts.iter().filter_map(|p| table.index(p)).collect();
            if warn && found.len() < parts.len() {
                let absent: Vec<&str> = parts.iter().filter(|p| table.index(p).is_none()).map(|p| p.trim()).collect();
                tracing::warn!(mapping = %m.name, "columns {absent:?} (for {canon}) not in this file's header; joined without them");
            }
            joined.insert(canon.as_str(), found);
        }
        // A column with fallbacks reads the first of its headers (itself, then the fallbacks
        // present) with a value; a missing header is skipped.
        let mut first = rustc_hash::FxHashMap::default();
        for (canon, headers) in &m.file.fallbacks {
            let primary = index.get(canon.as_str()).copied();
            let found: Vec<usize> = primary.into_iter().chain(headers.iter().filter_map(|h| table.index(h))).collect();
            if !found.is_empty() {
                missing.retain(|s| !s.ends_with(&format!("(for {canon})")));
                first.insert(canon.as_str(), found);
            }
        }
        let required = crate::config::mapping::required_columns(m.table);
        let fatal: Vec<&String> =
            missing.iter().filter(|s| required.iter().any(|r| s.ends_with(&format!("(for {r})")))).collect();
        if !fatal.is_empty() {
            // The header's cells are not echoed: without a header line they would be a customer's data.
            return Err(format!(
                "the header (line 1, {} fields) has no column {} required by mapping {}; is the header line missing, or is this the wrong mapping?",
                table.headers.len(),
                fatal.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                m.name,
            ));
        }
        for s in missing.into_iter().filter(|_| warn) {
            tracing::warn!(mapping = %m.name, "optional column {s} not in this file's header; left empty");
        }
        let mut mapped: Vec<(usize, &str)> = index.iter().map(|(c, i)| (*i, *c)).collect();
        mapped.extend(joined.iter().flat_map(|(c, parts)| parts.iter().map(|i| (*i, *c))));
        mapped.extend(first.iter().flat_map(|(c, parts)| parts.iter().map(|i| (*i, *c))));
        let packed = m.file.packed_lines.as_ref().map_or_else(Vec::new, |p| packed_columns(&table.headers, &p.prefix));
        if let Some(p) = m.file.packed_lines.as_ref().filter(|_| warn && packed.is_empty()) {
            tracing::warn!(mapping = %m.name, "no line columns `{}1`, `{}2`, … in this file's header; its orders have no lines", p.prefix, p.prefix);
        }
        mapped.extend(packed.iter().map(|&i| (i, "packed_lines")));
        mapped.sort();
        mapped.dedup();
        let column = |canon: &'a str, origin: Origin<'a>| Column {
            origin,
            extra: m.file.column_transforms.get(canon).map_or(&[][..], Vec::as_slice),
            values: m.file.values.get(canon),
            unmasked_only: UNMASKED_ONLY.contains(&canon),
        };
        // Precedence: a `[concat]` column wins over a plain one, and a constant fills
        // only what no column does.
        let mut columns = rustc_hash::FxHashMap::default();
        for (canon, i) in index {
            columns.insert(canon, column(canon, Origin::Cell(i)));
        }
        for (canon, parts) in joined {
            columns.insert(canon, column(canon, Origin::Joined(parts)));
        }
        for (canon, parts) in first {
            columns.insert(canon, column(canon, Origin::First(parts)));
        }
        for (canon, v) in &m.file.constants {
            columns.entry(canon.as_str()).or_insert_with(|| column(canon, Origin::Constant(v)));
        }
        Ok(Cells { m, columns, phones, issues: &table.cell_issues, mapped, headers: &table.headers, packed })
    }

    /// The order lines packed in a record's `[packed_lines]` columns, in line order (none
    /// without them: an empty `Vec`, no allocation).
    fn packed_items(&self, rec: &RawRecord) -> FResult<Vec<ItemPart>> {
        let Some(p) = &self.m.file.packed_lines else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for &i in &self.packed {
            let Some(raw) = rec.fields.get(i) else { continue };
            let cell = clean_str(raw, &self.m.file.transforms);
            if cell.is_empty() || self.m.file.null_values.iter().any(|n| n == cell) {
                continue;
            }
            out.push(ItemPart::unpack(cell, p, i, self.headers)?);
        }
        Ok(out)
    }

    /// Rejects a record when a mapped spreadsheet cell cannot be trusted (a number that lost
    /// digits, a fraction where an id is expected, an error value), naming the column.
    fn intact(&self, rec: &RawRecord) -> FResult<()> {
        if self.issues.is_empty() {
            return Ok(());
        }
        for &(i, canon) in &self.mapped {
            let Some(issue) = self.issues.get(&(rec.line, i)) else { continue };
            let text = rec.fields.get(i).unwrap_or("");
            if let Some(reason) = issue.reason(text, ID_COLUMNS.contains(&canon)) {
                return Err(FieldError { column: self.headers.get(i).cloned(), reason });
            }
        }
        Ok(())
    }

    fn header(&self, canon: &str) -> Option<String> {
        match self.m.file.concat.get(canon) {
            Some(parts) => Some(parts.iter().map(|p| p.trim()).collect::<Vec<_>>().join(" + ")),
            None => self.m.source_column(canon).map(|s| s.trim().to_string()),
        }
    }

    /// The cleaned cell, or None when unmapped, empty or a null value. A `[concat]` column joins
    /// its parts' cleaned, non-null cells with a space.
    fn get(&self, rec: &RawRecord, canon: &str) -> Option<String> {
        self.text(rec, canon).map(Cow::into_owned)
    }

    /// [`Cells::get`] as a [`Text`] (no heap allocation for up to 24 bytes).
    fn get_text(&self, rec: &RawRecord, canon: &str) -> Option<Text> {
        self.text(rec, canon).map(|v| match v {
            Cow::Borrowed(s) => Text::from(s),
            Cow::Owned(s) => Text::from(s),
        })
    }

    /// [`Cells::get`] borrowed where it can be (a cell or a constant): for values that are parsed,
    /// not kept.
    fn text<'r>(&'r self, rec: &'r RawRecord, canon: &str) -> Option<Cow<'r, str>> {
        let col = self.columns.get(canon)?;
        match &col.origin {
            Origin::Cell(i) => self.cell(rec, col, *i).map(Cow::Borrowed),
            Origin::First(parts) => parts.iter().find_map(|&i| self.cell(rec, col, i)).map(Cow::Borrowed),
            Origin::Joined(parts) => {
                let cells: Vec<&str> = parts.iter().filter_map(|&i| self.cell(rec, col, i)).collect();
                (!cells.is_empty()).then(|| Cow::Owned(cells.join(" ")))
            }
            Origin::Constant(v) => Some(Cow::Borrowed(v)),
        }
    }

    /// The cleaned text of field `i` of a record (a slice of the field or of a `[values]`
    /// replacement), or None when empty, a null value or masked where that is not allowed.
    fn cell<'r>(&'r self, rec: &'r RawRecord, col: &'r Column, i: usize) -> Option<&'r str> {
        let raw = rec.fields.get(i)?;
        let mut v = clean_str(raw, &self.m.file.transforms);
        if !col.extra.is_empty() {
            v = clean_str(v, col.extra);
        }
        if let Some(replaced) = col.values.and_then(|m| m.get(v)) {
            v = replaced;
        }
        if v.is_empty() || self.m.file.null_values.iter().any(|n| n == v) || (col.unmasked_only && looks_masked(v)) {
            None
        } else {
            Some(v)
        }
    }

    /// The email, trimmed and lower-cased; None when the cell is not an address.
    fn email(&self, rec: &RawRecord) -> Option<String> {
        self.text(rec, "email").and_then(|e| crate::identity::normalize_email(&e))
    }

    /// The phone in E.164 with the mapping's region; None when masked, invalid, or national
    /// without a region.
    fn phone(&self, rec: &RawRecord) -> Option<String> {
        self.phone_in(rec, None)
    }

    /// As [`Cells::phone`], with the record's own region (e.g. its address country) first.
    fn phone_in(&self, rec: &RawRecord, own: Option<crate::identity::PhoneRegion>) -> Option<String> {
        let raw = self.text(rec, "phone")?;
        let region = own.or(self.m.region);
        if own.is_some() {
            return crate::identity::normalize_phone(&raw, region);
        }
        // E.164 and Chinese mobile numbers need no parse, so no cache entry either.
        if let Some(quick) = crate::identity::quick_phone(&raw, region) {
            return Some(quick);
        }
        self.phones.get_or_insert(raw.into_owned(), |raw| {
            let e164 = crate::identity::normalize_phone(raw, region);
            let dropped = e164.is_none() && region.is_none() && crate::identity::normalize_phone(raw, cn()).is_some();
            (e164, dropped)
        })
    }

    fn parse<T>(&self, rec: &RawRecord, canon: &str, f: impl Fn(&str) -> Result<T, String>) -> FResult<Option<T>> {
        match self.text(rec, canon) {
            None => Ok(None),
            Some(v) => f(&v).map(Some).map_err(|reason| FieldError { column: self.header(canon), reason }),
        }
    }

    fn money(&self, rec: &RawRecord, canon: &str) -> FResult<Option<f64>> {
        self.parse(rec, canon, parse_money)
    }

    fn count(&self, rec: &RawRecord, canon: &str) -> FResult<Option<i64>> {
        self.parse(rec, canon, parse_count)
    }

    fn flag(&self, rec: &RawRecord, canon: &str) -> FResult<Option<bool>> {
        self.parse(rec, canon, parse_bool)
    }

    fn ts(&self, rec: &RawRecord, canon: &str) -> FResult<Option<i64>> {
        let fmt = self.m.file.date_format.as_deref();
        self.parse(rec, canon, |v| parse_timestamp(v, fmt, self.m.tz))
    }

    fn missing(&self, canon: &str) -> FieldError {
        FieldError { column: self.header(canon), reason: format!("{canon} is empty") }
    }

    /// `source:id` for mapped sources, as given for canonical files; built in place as a [`Text`]
    /// (inline up to 24 bytes: no allocation for most order ids).
    fn scoped_text(&self, source: &str, id: &str) -> Text {
        if self.m.name == "canonical" {
            return Text::from(id);
        }
        scoped_text(source, id)
    }

    /// A record's `source` column, else the mapping's source.
    fn source(&self, r: &RawRecord) -> Sym {
        self.get_text(r, "source").map_or_else(|| Sym::from(self.m.file.source.as_str()), |s| Sym::from(s.as_str()))
    }
}

/// Positions of the headers that are `prefix` and a line number, by line number.
fn packed_columns(headers: &[String], prefix: &str) -> Vec<usize> {
    let mut found: Vec<(u64, usize)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let n = h.trim().strip_prefix(prefix)?;
            let digits = !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
            digits.then(|| n.parse().ok().map(|n| (n, i))).flatten()
        })
        .collect();
    found.sort_unstable();
    found.into_iter().map(|(_, i)| i).collect()
}

/// The `key:value` pairs of a packed line cell (`name:Hoodie|sku:HOOD-M|quantity:2`), keys and
/// values trimmed. Pieces are split at `|`; a piece without a key of lower-case letters, digits
/// and `_` before its first `:` continues the previous value (`name:Tee|Black|sku:T-1` is the
/// name `Tee|Black`); text before the first key is dropped.
fn packed_pairs(cell: &str) -> Vec<(&str, &str)> {
    let is_key =
        |k: &str| !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    // (key, value start, value end) as byte offsets into the cell.
    let mut pairs: Vec<(&str, usize, usize)> = Vec::new();
    let mut start = 0;
    for piece in cell.split('|') {
        let end = start + piece.len();
        match piece.split_once(':') {
            Some((k, _)) if is_key(k) => pairs.push((k, start + k.len() + 1, end)),
            _ => {
                if let Some(last) = pairs.last_mut() {
                    last.2 = end;
                }
            }
        }
        start = end + 1;
    }
    pairs.into_iter().map(|(k, a, b)| (k, cell[a..b].trim())).collect()
}

/// A region to tell "national number, no region given" from "not a phone" in the warning.
fn cn() -> Option<crate::identity::PhoneRegion> {
    crate::identity::phone_region("CN")
}

/// Raw phone cell → E.164 for one file (its region is the file's), shared by the threads that
/// convert its parts: parsing a number is ~6 µs and a customer's number recurs on every order.
///
/// Sharded mutexes rather than a concurrent-map crate: lookups are short and two to a few threads
/// contend, so 16 shards make waits rare.
#[derive(Default)]
pub struct PhoneCache {
    shards: [std::sync::Mutex<rustc_hash::FxHashMap<String, Option<String>>>; 16],
    /// Distinct phones dropped because they have no country code and the source has no region.
    without_region: std::sync::atomic::AtomicUsize,
}

impl PhoneCache {
    fn get_or_insert(&self, raw: String, parse: impl FnOnce(&str) -> (Option<String>, bool)) -> Option<String> {
        let shard = &self.shards[(fx(raw.as_bytes()) as usize) & 15];
        if let Some(hit) = shard.lock().unwrap_or_else(|e| e.into_inner()).get(&raw) {
            return hit.clone();
        }
        let (e164, dropped) = parse(&raw);
        let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
        if map.insert(raw, e164.clone()).is_none() && dropped {
            self.without_region.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        e164
    }

    /// Distinct phones dropped for want of a region (for [`warn_phones_without_region`]).
    pub fn without_region(&self) -> usize {
        self.without_region.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A cheap byte hash (FNV-1a) to pick a shard.
fn fx(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

/// Converts a read file into units and rejects.
pub fn convert(m: &Mapping, table: &RawTable, file: &str) -> Result<Converted, String> {
    let phones = PhoneCache::default();
    let out = convert_part(m, table, file, &phones, true)?;
    warn_phones_without_region(m, file, phones.without_region());
    Ok(out)
}

/// Logs (once per file) how many distinct phones had no country code and no region to read them in.
pub fn warn_phones_without_region(m: &Mapping, file: &str, dropped: usize) {
    if dropped > 0 {
        tracing::warn!(
            file, mapping = %m.name, distinct_phones = dropped,
            "phones without a country code were not used: set phone_region for this source ([[sources]] or the mapping) or [identity] default_phone_region"
        );
    }
}

/// Converts one part of a file (see [`super::stream`]) with the file's phone cache; `first` when
/// it is the file's first part (header warnings are logged then only).
pub fn convert_part(
    m: &Mapping,
    table: &RawTable,
    file: &str,
    phones: &PhoneCache,
    first: bool,
) -> Result<Converted, String> {
    let cells = Cells::new(m, table, phones, first)?;
    let mut out = Converted::default();
    let reject = |rec: &RawRecord, e: FieldError| Reject {
        source_file: file.to_string(),
        line: rec.line as i64,
        column: e.column,
        raw: rec.raw.clone(),
        reason: e.reason,
    };
    match m.table {
        Table::Orders => convert_orders(&cells, table, &mut out, &reject),
        Table::OrderItems => convert_items(&cells, table, &mut out, &reject),
        _ => {
            out.units.reserve(table.records.len());
            for rec in &table.records {
                let unit = cells.intact(rec).and_then(|()| match m.table {
                    Table::Products => product(&cells, rec),
                    Table::Profiles => profile(&cells, rec),
                    Table::Events => event(&cells, rec),
                    Table::Tickets => ticket(&cells, rec),
                    other => Err(FieldError { column: None, reason: format!("table {other} cannot be ingested") }),
                });
                match unit {
                    Ok(u) => out.units.push(u),
                    Err(e) => out.rejects.push(reject(rec, e)),
                }
            }
        }
    }
    Ok(out)
}

/// Whether a table's records group into units by order id (line-item orders, order lines), so an
/// order's rows must be read together.
pub fn grouped_by_order(m: &Mapping) -> bool {
    match m.table {
        Table::Orders => m.file.grain == Grain::LineItem,
        Table::OrderItems => true,
        _ => false,
    }
}

/// Where the trailing run of records sharing the last record's order id starts (the records'
/// count when the table does not group by order, see [`grouped_by_order`]). A part of a file
/// hands those records to the next part, so an order whose rows straddle a part boundary is read
/// whole.
pub fn trailing_group(m: &Mapping, table: &RawTable) -> Result<usize, String> {
    let n = table.records.len();
    if !grouped_by_order(m) || n == 0 {
        return Ok(n);
    }
    let phones = PhoneCache::default();
    let c = Cells::new(m, table, &phones, false)?;
    let Some(last) = c.get(&table.records[n - 1], "order_id") else { return Ok(n) };
    let mut start = n - 1;
    while start > 0 && c.get(&table.records[start - 1], "order_id").as_deref() == Some(last.as_str()) {
        start -= 1;
    }
    Ok(start)
}

/// Order-level fields of one row; None where the cell was empty. Texts are `Text`s from the start:
/// most are short and live inline, so a row costs no heap allocation per kept cell.
#[derive(Debug, Default, Clone)]
struct OrderPart {
    source: Option<Text>,
    channel: Option<Text>,
    store: Option<Text>,
    customer_key: Option<Text>,
    customer_id: Option<Text>,
    status: Option<Text>,
    status_detail: Option<Text>,
    created_at: Option<i64>,
    paid_at: Option<i64>,
    shipped_at: Option<i64>,
    completed_at: Option<i64>,
    currency: Option<Text>,
    gross_amount: Option<f64>,
    discount: Option<f64>,
    shipping: Option<f64>,
    tax: Option<f64>,
    refund_amount: Option<f64>,
    net_amount: Option<f64>,
    email: Option<Text>,
    phone: Option<Text>,
    name: Option<Text>,
    email_opt_in: Option<bool>,
    sms_opt_in: Option<bool>,
}

macro_rules! fill {
    ($dst:expr, $src:expr; $($f:ident),*) => { $( if $dst.$f.is_none() { $dst.$f = $src.$f.clone(); } )* };
}

impl OrderPart {
    fn read(c: &Cells, r: &RawRecord) -> FResult<OrderPart> {
        c.intact(r)?;
        Ok(OrderPart {
            source: c.get_text(r, "source"),
            channel: c.get_text(r, "channel"),
            store: c.get_text(r, "store"),
            customer_key: c.get_text(r, "customer_key"),
            customer_id: c.get_text(r, "customer_id"),
            status: c.get_text(r, "status"),
            status_detail: c.get_text(r, "status_detail"),
            created_at: c.ts(r, "created_at")?,
            paid_at: c.ts(r, "paid_at")?,
            shipped_at: c.ts(r, "shipped_at")?,
            completed_at: c.ts(r, "completed_at")?,
            currency: c.get_text(r, "currency"),
            gross_amount: c.money(r, "gross_amount")?,
            discount: c.money(r, "discount")?,
            shipping: c.money(r, "shipping")?,
            tax: c.money(r, "tax")?,
            refund_amount: c.money(r, "refund_amount")?,
            net_amount: c.money(r, "net_amount")?,
            email: c.email(r).map(Text::from),
            phone: c.phone(r).map(Text::from),
            name: c.get_text(r, "name"),
            email_opt_in: c.flag(r, "email_opt_in")?,
            sms_opt_in: c.flag(r, "sms_opt_in")?,
        })
    }

    fn merge(&mut self, o: &OrderPart) {
        fill!(self, o; source, channel, store, customer_key, customer_id, status, status_detail, created_at,
            paid_at, shipped_at, completed_at, currency, gross_amount, discount, shipping, tax, refund_amount,
            net_amount, email, phone, name, email_opt_in, sms_opt_in);
    }
}

/// Item fields of one row (or of one packed line).
#[derive(Debug, Clone)]
struct ItemPart {
    sku: Option<String>,
    product_name: Option<String>,
    quantity: Option<i64>,
    unit_price: Option<f64>,
    line_amount: Option<f64>,
    refunded_quantity: Option<i64>,
    /// The header position of the packed line's column (None: the row's own item columns).
    packed_at: Option<usize>,
}

impl ItemPart {
    fn read(c: &Cells, r: &RawRecord) -> FResult<ItemPart> {
        c.intact(r)?;
        Ok(ItemPart {
            sku: c.get(r, "sku"),
            product_name: c.get(r, "product_name"),
            quantity: c.count(r, "quantity")?,
            unit_price: c.money(r, "unit_price")?,
            line_amount: c.money(r, "line_amount")?,
            refunded_quantity: c.count(r, "refunded_quantity")?,
            packed_at: None,
        })
    }

    /// A line packed in the cell of column `at` ([`PackedLines`]).
    fn unpack(cell: &str, p: &PackedLines, at: usize, headers: &[String]) -> FResult<ItemPart> {
        let pairs = packed_pairs(cell);
        let value = |canon: &str| {
            let key = p.fields.get(canon)?;
            pairs.iter().find(|(k, _)| k == key).map(|&(_, v)| v).filter(|v| !v.is_empty())
        };
        let err = |canon: &str, reason: String| FieldError {
            column: headers.get(at).map(|h| h.trim().to_string()),
            reason: format!("`{}` of the packed line: {reason}", p.fields[canon]),
        };
        Ok(ItemPart {
            sku: value("sku").map(str::to_string),
            product_name: value("product_name").map(str::to_string),
            quantity: value("quantity").map(parse_count).transpose().map_err(|r| err("quantity", r))?,
            unit_price: value("unit_price").map(parse_money).transpose().map_err(|r| err("unit_price", r))?,
            line_amount: value("line_amount").map(parse_money).transpose().map_err(|r| err("line_amount", r))?,
            refunded_quantity: value("refunded_quantity")
                .map(parse_count)
                .transpose()
                .map_err(|r| err("refunded_quantity", r))?,
            packed_at: Some(at),
        })
    }

    /// The column to name for a problem with `canon`: the packed line's, else `canon`'s.
    fn column(&self, c: &Cells, canon: &str) -> Option<String> {
        line_column(c, self.packed_at, canon)
    }

    /// Whether the line's amount is known: a price (unit_price or line_amount) or quantity 0.
    fn amount_known(&self) -> bool {
        self.unit_price.is_some() || self.line_amount.is_some() || self.quantity == Some(0)
    }

    /// The line as stored; `cancelled` when its order's status is (false for the lines of an
    /// `order_items` file, whose status is in the order's own file).
    ///
    /// Quantity defaults to 1 and is never negative. Without a price (neither unit_price nor
    /// line_amount) both stay null: the order's own amount stands (see [`finish_order`]). A line of
    /// quantity 0 sold nothing (a cancelled line, which marketplaces leave in an order that shipped
    /// otherwise), so its amount is 0; with another amount it is a reject unless its order is
    /// cancelled, since then units and amount contradict each other.
    fn finish(self, c: &Cells, order_id: &str, line_no: i64, cancelled: bool) -> FResult<Item> {
        if self.sku.is_none() && self.product_name.is_none() {
            return Err(FieldError {
                column: self.column(c, "sku"),
                reason: "line has neither sku nor product_name".into(),
            });
        }
        let quantity = self.quantity.unwrap_or(1);
        if quantity < 0 {
            return Err(FieldError {
                column: self.column(c, "quantity"),
                reason: format!("quantity {quantity} is not positive"),
            });
        }
        let q = quantity as f64;
        let (unit_price, line_amount) = match (self.unit_price, self.line_amount) {
            (Some(p), Some(a)) => (Some(p), Some(a)),
            (Some(p), None) => (Some(p), Some(round2(p * q))),
            (None, Some(a)) => ((quantity > 0).then(|| round2(a / q)), Some(a)),
            (None, None) => (None, (quantity == 0).then_some(0.0)),
        };
        if let Some(a) = line_amount.filter(|a| quantity == 0 && *a != 0.0 && !cancelled) {
            return Err(FieldError {
                column: self.column(c, "quantity"),
                reason: format!("quantity 0 but line amount {a} on an order that is not cancelled"),
            });
        }
        Ok(Item {
            order_id: order_id.into(),
            line_no,
            sku: self.sku.map(Text::from),
            product_name: self.product_name.map(Text::from),
            quantity,
            unit_price: unit_price.into(),
            line_amount: line_amount.into(),
            refunded_quantity: self.refunded_quantity.unwrap_or(0),
        })
    }
}

/// The column to name for a problem with a line's `canon`: its packed line's column (the header
/// at `packed_at`), else `canon`'s.
fn line_column(c: &Cells, packed_at: Option<usize>, canon: &str) -> Option<String> {
    match packed_at {
        Some(i) => c.headers.get(i).map(|h| h.trim().to_string()),
        None => c.header(canon),
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Rows of one order (or one item group) in the order they appear.
struct Group<'r> {
    id: Cow<'r, str>,
    /// Its records (an order grain group has one, a line-item order a few): inline up to four.
    rows: Rows<'r>,
}

type Rows<'r> = smallvec::SmallVec<[&'r RawRecord; 4]>;

/// Groups records by their id column, keeping first-appearance order; records without an id are rejected.
fn group_by_id<'r>(
    c: &'r Cells,
    table: &'r RawTable,
    id_col: &str,
    out: &mut Converted,
    reject: &dyn Fn(&RawRecord, FieldError) -> Reject,
) -> Vec<Group<'r>> {
    let mut groups: Vec<Group> = Vec::new();
    // Group indices hashed by the group's own id: no second copy of each id.
    let mut at: hashbrown::HashTable<usize> = hashbrown::HashTable::new();
    let hash = super::id_hash;
    for rec in &table.records {
        match c.text(rec, id_col) {
            None => out.rejects.push(reject(rec, c.missing(id_col))),
            Some(id) => {
                let found = at.find(hash(&id), |&i| groups[i].id == id).copied();
                let i = found.unwrap_or_else(|| {
                    groups.push(Group { id, rows: Rows::new() });
                    let i = groups.len() - 1;
                    at.insert_unique(hash(&groups[i].id), i, |&j| hash(&groups[j].id));
                    i
                });
                groups[i].rows.push(rec);
            }
        }
    }
    groups
}

fn convert_orders(c: &Cells, table: &RawTable, out: &mut Converted, reject: &dyn Fn(&RawRecord, FieldError) -> Reject) {
    let line_grain = c.m.file.grain == Grain::LineItem;
    let groups: Vec<Group> = if line_grain {
        group_by_id(c, table, "order_id", out, reject)
    } else {
        // On order grain every record is its own unit; a repeated id is a duplicate, found by the lake merge.
        let mut groups = Vec::with_capacity(table.records.len());
        for rec in &table.records {
            match c.text(rec, "order_id") {
                Some(id) => groups.push(Group { id, rows: smallvec::smallvec![rec] }),
                None => out.rejects.push(reject(rec, c.missing("order_id"))),
            }
        }
        groups
    };
    // Sized once: a part's units are tens of megabytes, regrown by doubling they were copied
    // (and their fresh pages zeroed) several times.
    out.units.reserve(groups.len());
    for g in groups {
        let mut part = OrderPart::default();
        let mut items = Vec::new();
        let mut good_rows = Rows::new();
        let mut first_error: Option<(u64, FieldError)> = None;
        for rec in &g.rows {
            let parsed = OrderPart::read(c, rec).and_then(|p| {
                let item = if line_grain { Some(ItemPart::read(c, rec)?) } else { None };
                Ok((p, item, c.packed_items(rec)?))
            });
            match parsed {
                Ok((p, item, packed)) => {
                    part.merge(&p);
                    items.extend(item);
                    items.extend(packed);
                    good_rows.push(*rec);
                }
                Err(e) => {
                    first_error.get_or_insert((rec.line, e.clone()));
                    out.rejects.push(reject(rec, e));
                }
            }
        }
        // A partial order would carry wrong amounts: one bad row rejects the whole order.
        let result = match first_error {
            Some((line, e)) => Err((line, e)),
            None if good_rows.is_empty() => continue,
            None => finish_order(c, &g.id, part, items).map_err(|e| (0, e)),
        };
        match result {
            Ok((order, items)) => out.units.push(Unit {
                key: String::new(),
                lines: good_rows.iter().map(|r| r.line).collect(),
                data: UnitData::Order(order, items),
            }),
            Err((bad_line, e)) => {
                let first = if bad_line > 0 { bad_line } else { good_rows[0].line };
                for rec in &good_rows {
                    let e = if rec.line == first {
                        e.clone()
                    } else {
                        FieldError {
                            column: e.column.clone(),
                            reason: format!("order rejected at line {first}: {}", e.reason),
                        }
                    };
                    out.rejects.push(reject(rec, e));
                }
            }
        }
    }
}

fn resolve_status<'c>(c: &'c Cells, p: &OrderPart) -> FResult<&'c str> {
    let Some(raw) = p.status.as_deref() else {
        return Ok(OrderStatus::Completed.as_str());
    };
    let map = &c.m.file.status;
    if let Some(detail) = &p.status_detail {
        // `value|detail` first, then `*|detail` (a detail that decides whatever the status, e.g. 退款成功).
        if let Some(s) = status_by_detail(map, raw, detail) {
            return Ok(s);
        }
    }
    if let Some(s) = map.get(raw) {
        return Ok(s);
    }
    match OrderStatus::parse(raw) {
        Some(s) => Ok(s.as_str()),
        None => Err(FieldError {
            column: c.header("status"),
            reason: format!("status `{raw}` is not mapped; add it under [status] in mapping {}", c.m.name),
        }),
    }
}

/// The `[status]` entry for `raw|detail`, else `*|detail` (keys built in a reused buffer: this
/// runs for every order of a Taobao-style export).
fn status_by_detail<'m>(
    map: &'m std::collections::BTreeMap<String, String>,
    raw: &str,
    detail: &str,
) -> Option<&'m String> {
    thread_local! {
        static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    KEY.with_borrow_mut(|key| {
        let mut lookup = |status: &str| {
            key.clear();
            key.push_str(status);
            key.push('|');
            key.push_str(detail);
            map.get(key.as_str())
        };
        lookup(raw).or_else(|| lookup("*"))
    })
}

fn finish_order(c: &Cells, id: &str, p: OrderPart, parts: Vec<ItemPart>) -> FResult<(Order, Vec<Item>)> {
    let source = p.source.as_deref().unwrap_or(&c.m.file.source);
    let order_id = c.scoped_text(source, id);
    let created_at = p.created_at.ok_or_else(|| c.missing("created_at"))?;
    if !c.m.file.anonymous_orders && !identifiable(&p.customer_key, &p.customer_id, &p.email, &p.phone) {
        return Err(FieldError {
            column: c.header("customer_key").or_else(|| c.header("email")),
            reason: "no usable customer identifier (customer_key, customer_id, a valid email or a valid phone — national numbers need phone_region)"
                .into(),
        });
    }
    let status = resolve_status(c, &p)?;
    let cancelled = status == OrderStatus::Cancelled.as_str();
    // The first line whose amount is unknown (its number and packed column), for the reason below.
    let unpriced = parts.iter().enumerate().find(|(_, l)| !l.amount_known()).map(|(i, l)| (i + 1, l.packed_at));
    let items = parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| part.finish(c, &order_id, i as i64 + 1, cancelled))
        .collect::<FResult<Vec<_>>>()?;
    let mut discount = p.discount.unwrap_or(0.0);
    let mut refund = p.refund_amount.unwrap_or(0.0);
    // The lines add up to the gross only when every line has an amount; else the order's own
    // amount stands, and without one only a cancelled order (nothing was paid) is kept, at zero.
    let lines_total = (!items.is_empty() && unpriced.is_none())
        .then(|| round2(items.iter().filter_map(|i| i.line_amount.get()).sum()));
    let gross = match (p.gross_amount, lines_total, p.net_amount) {
        (Some(g), _, _) => g,
        (None, Some(t), _) => t,
        (None, None, Some(n)) => round2(n + discount + refund),
        (None, None, None) if cancelled => {
            (discount, refund) = (0.0, 0.0);
            0.0
        }
        (None, None, None) => {
            return Err(match unpriced {
                None => FieldError {
                    column: c.header("gross_amount"),
                    reason: "no amount: gross_amount, net_amount and lines are all empty".into(),
                },
                Some((n, packed_at)) => FieldError {
                    column: line_column(c, packed_at, "unit_price"),
                    reason: format!(
                        "no amount: the order's line {n} has no price (unit_price or line_amount) and the order no gross_amount or net_amount"
                    ),
                },
            })
        }
    };
    if status == "refunded" && refund == 0.0 && p.net_amount.is_none() {
        refund = round2(gross - discount);
    }
    let net = p.net_amount.unwrap_or_else(|| round2(gross - discount - refund));
    let currency = match p.currency.as_deref().or(c.m.file.currency.as_deref()) {
        Some(cur) => cur,
        // Exports leave a cancelled order's currency empty with its prices (Amazon): no money
        // changed hands, and amounts of orders that are not purchases are never converted.
        None if cancelled => NO_CURRENCY,
        None => return Err(c.missing("currency")),
    };
    let order = Order {
        order_id,
        channel: p.channel.as_deref().map_or_else(|| c.m.channel().into(), Sym::from),
        source: source.into(),
        store: p.store.as_deref().or(c.m.file.store.as_deref()).map(Sym::from),
        customer_key: p.customer_key,
        customer_id: p.customer_id,
        status: status.into(),
        created_at,
        paid_at: p.paid_at.into(),
        shipped_at: p.shipped_at.into(),
        completed_at: p.completed_at.into(),
        currency: currency.into(),
        gross_amount: gross,
        discount,
        shipping: p.shipping.unwrap_or(0.0),
        tax: p.tax.unwrap_or(0.0),
        refund_amount: refund,
        net_amount: net,
        email: p.email,
        phone: p.phone,
        name: p.name,
        email_opt_in: p.email_opt_in,
        sms_opt_in: p.sms_opt_in,
    };
    Ok((order, items))
}

/// Whether identity resolution can attach the record to a customer. Emails and phones here are
/// already normalized (None when unusable), so no record is left without an identifier.
fn identifiable<S>(key: &Option<S>, id: &Option<S>, email: &Option<S>, phone: &Option<S>) -> bool {
    key.is_some() || id.is_some() || email.is_some() || phone.is_some()
}

fn order_ref(c: &Cells, id: String) -> String {
    if c.m.name == "canonical" {
        return id;
    }
    let src = c.m.file.order_source.as_deref().unwrap_or(&c.m.file.source);
    scoped(src, &id)
}

/// `source:id` (without the formatting machinery: once or twice per row of every file).
fn scoped(source: &str, id: &str) -> String {
    let mut s = String::with_capacity(source.len() + 1 + id.len());
    s.push_str(source);
    s.push(':');
    s.push_str(id);
    s
}

/// [`scoped`] as a [`Text`] (inline up to 24 bytes: no allocation for most ids).
fn scoped_text(source: &str, id: &str) -> Text {
    let mut t = Text::with_capacity(source.len() + 1 + id.len());
    t.push_str(source);
    t.push(':');
    t.push_str(id);
    t
}

fn convert_items(c: &Cells, table: &RawTable, out: &mut Converted, reject: &dyn Fn(&RawRecord, FieldError) -> Reject) {
    for g in group_by_id(c, table, "order_id", out, reject) {
        let order_id = order_ref(c, g.id.into_owned());
        let parsed: Vec<FResult<Item>> = g
            .rows
            .iter()
            .enumerate()
            .map(|(i, rec)| ItemPart::read(c, rec).and_then(|p| p.finish(c, &order_id, i as i64 + 1, false)))
            .collect();
        // As for orders: a partial set of lines would replace the stored lines with wrong ones.
        let first_bad = g.rows.iter().zip(&parsed).find_map(|(rec, r)| r.as_ref().err().map(|e| (rec.line, e.clone())));
        match first_bad {
            None => out.units.push(Unit {
                key: order_id,
                lines: g.rows.iter().map(|r| r.line).collect(),
                data: UnitData::Items(parsed.into_iter().flatten().collect()),
            }),
            Some((line, e)) => {
                for (rec, r) in g.rows.iter().zip(parsed) {
                    let e = match r {
                        Err(own) => own,
                        Ok(_) => FieldError {
                            column: e.column.clone(),
                            reason: format!("lines of this order rejected at line {line}: {}", e.reason),
                        },
                    };
                    out.rejects.push(reject(rec, e));
                }
            }
        }
    }
}

fn product(c: &Cells, r: &RawRecord) -> FResult<Unit> {
    let sku = c.get(r, "sku").ok_or_else(|| c.missing("sku"))?;
    let p = Product {
        sku: sku.clone(),
        product_name: c.get(r, "product_name"),
        category: c.get(r, "category"),
        price: c.money(r, "price")?,
        cost: c.money(r, "cost")?,
    };
    Ok(Unit { key: sku, lines: smallvec::smallvec![r.line], data: UnitData::Product(p) })
}

fn map_vocab(
    c: &Cells,
    canon: &str,
    raw: String,
    map: &std::collections::BTreeMap<String, String>,
    vocab: &[&str],
    section: &str,
) -> FResult<String> {
    if let Some(v) = map.get(&raw) {
        return Ok(v.clone());
    }
    if vocab.contains(&raw.as_str()) {
        return Ok(raw);
    }
    // `"*" = "other"`: every name not listed.
    if let Some(v) = map.get("*") {
        return Ok(v.clone());
    }
    Err(FieldError {
        column: c.header(canon),
        reason: format!("`{raw}` is not mapped; add it under [{section}] in mapping {}", c.m.name),
    })
}

/// A profile row: keyed by the source's customer id, else the email, else the phone, so a later
/// export of the same list replaces it.
fn profile(c: &Cells, r: &RawRecord) -> FResult<Unit> {
    let (customer_key, customer_id) = (c.get_text(r, "customer_key"), c.get_text(r, "customer_id"));
    let country = c.get(r, "country").map(|v| v.to_uppercase());
    let (email, phone) = (c.email(r), c.phone_in(r, country.as_deref().and_then(crate::identity::phone_region)));
    let (email, phone) = (email.map(Text::from), phone.map(Text::from));
    let id = customer_key.as_ref().or(email.as_ref()).or(phone.as_ref()).ok_or_else(|| FieldError {
        column: c.header("email").or_else(|| c.header("customer_key")),
        reason: "no usable customer identifier (customer_key, a valid email or a valid phone — national numbers need phone_region)".into(),
    })?;
    let source = c.source(r);
    let p = Profile {
        profile_id: scoped_text(&source, id),
        source,
        customer_key,
        customer_id,
        email,
        phone,
        name: c.get_text(r, "name"),
        country: country.map(|v| Sym::from(v.as_str())),
        email_opt_in: c.flag(r, "email_opt_in")?,
        sms_opt_in: c.flag(r, "sms_opt_in")?,
        tags: c.get_text(r, "tags"),
        total_spent: c.money(r, "total_spent")?,
        total_orders: c.count(r, "total_orders")?,
        updated_at: c.ts(r, "updated_at")?,
    };
    // The merge finds profiles by their id (`Unit::key` stays empty: no string per profile).
    Ok(Unit { key: String::new(), lines: smallvec::smallvec![r.line], data: UnitData::Profile(p) })
}

fn event(c: &Cells, r: &RawRecord) -> FResult<Unit> {
    let ts = c.ts(r, "ts")?.ok_or_else(|| c.missing("ts"))?;
    let raw_type = c.get(r, "event_type").ok_or_else(|| c.missing("event_type"))?;
    let type_channel = c.m.file.event_channels.get(&raw_type).map(|ch| Sym::from(ch.as_str()));
    let event_type = map_vocab(c, "event_type", raw_type, &c.m.file.event_types, EVENT_TYPES, "event_types")?;
    let (customer_key, customer_id) = (c.get_text(r, "customer_key"), c.get_text(r, "customer_id"));
    let (email, phone) = (c.email(r).map(Text::from), c.phone(r).map(Text::from));
    if !identifiable(&customer_key, &customer_id, &email, &phone) {
        return Err(FieldError {
            column: c.header("email").or_else(|| c.header("customer_key")),
            reason: "no usable customer identifier (customer_key, customer_id, a valid email or a valid phone — national numbers need phone_region)"
                .into(),
        });
    }
    let source = c.source(r);
    let channel = c
        .get_text(r, "channel")
        .map(|ch| Sym::from(ch.as_str()))
        .or(type_channel)
        .unwrap_or_else(|| Sym::from(c.m.channel()));
    let (campaign_id, sku) = (c.get_text(r, "campaign_id"), c.get_text(r, "sku"));
    let mut h = Sha256::new();
    for part in [
        Some(&*source),
        customer_key.as_deref(),
        customer_id.as_deref(),
        email.as_deref(),
        phone.as_deref(),
        Some(&*channel),
        Some(event_type.as_str()),
        campaign_id.as_deref(),
        sku.as_deref(),
    ] {
        h.update(part.unwrap_or("\u{0}").as_bytes());
        h.update([0x1f]);
    }
    h.update(ts.to_le_bytes());
    let digest: [u8; 16] = h.finalize()[..16].try_into().expect("16 bytes");
    let e = Event {
        event_id: EventId::from_digest(digest),
        source,
        customer_key,
        customer_id,
        email,
        phone,
        ts,
        channel,
        event_type: Sym::from(event_type.as_str()),
        campaign_id,
        sku,
    };
    // The merge deduplicates events on their id (`Unit::key` stays empty: no string per event).
    Ok(Unit { key: String::new(), lines: smallvec::smallvec![r.line], data: UnitData::Event(e) })
}

/// The first `kind_rules` entry whose column contains its text (case-insensitive).
fn kind_by_rule(c: &Cells, r: &RawRecord) -> Option<String> {
    c.m.file.kind_rules.iter().find_map(|rule| {
        let cell = c.get(r, &rule.column)?.to_lowercase();
        cell.contains(&rule.contains.to_lowercase()).then(|| rule.kind.clone())
    })
}

fn ticket(c: &Cells, r: &RawRecord) -> FResult<Unit> {
    let id = c.get(r, "ticket_id").ok_or_else(|| c.missing("ticket_id"))?;
    let source = c.get(r, "source").unwrap_or_else(|| c.m.file.source.clone());
    let ticket_id = c.scoped_text(&source, &id).to_string();
    let opened_at = c.ts(r, "opened_at")?.ok_or_else(|| c.missing("opened_at"))?;
    let kind = match (kind_by_rule(c, r), c.get(r, "kind")) {
        (Some(k), _) => k,
        (None, Some(k)) => map_vocab(c, "kind", k, &c.m.file.kinds, TICKET_KINDS, "kinds")?,
        (None, None) => "inquiry".to_string(),
    };
    let t = Ticket {
        ticket_id: ticket_id.clone(),
        source,
        customer_key: c.get(r, "customer_key"),
        customer_id: c.get(r, "customer_id"),
        email: c.email(r),
        phone: c.phone(r),
        order_id: c.get(r, "order_id").map(|o| order_ref(c, o)),
        kind,
        reason: c.get(r, "reason"),
        status: c.get(r, "status"),
        opened_at,
        resolved_at: c.ts(r, "resolved_at")?,
        satisfaction: c.money(r, "satisfaction")?,
    };
    if !identifiable(&t.customer_key, &t.customer_id, &t.email, &t.phone) && t.order_id.is_none() {
        return Err(FieldError {
            column: c.header("email"),
            reason: "no usable customer identifier and no order".into(),
        });
    }
    Ok(Unit { key: ticket_id, lines: smallvec::smallvec![r.line], data: UnitData::Ticket(t) })
}

/// Lower-case hex of bytes (sha2's digests are formatted by hand: the `{:x}` impl changed across versions).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::mapping::{FileKind, MappingFile};
    use crate::ingest::read::read_text;

    fn mapping(text: &str) -> Mapping {
        toml::from_str::<MappingFile>(text).unwrap().check("m.toml").unwrap()
    }

    const SHOP: &str = r#"
table = "orders"
source = "shop"
grain = "line_item"
currency = "USD"
transforms = ["strip_leading_quote"]
[columns]
order_id = "Name"
email = "Email"
status = "Financial Status"
status_detail = "Fulfillment Status"
created_at = "Created at"
discount = "Discount Amount"
refund_amount = "Refunded Amount"
quantity = "Lineitem quantity"
unit_price = "Lineitem price"
sku = "Lineitem sku"
phone = "Phone"
[status]
"paid|fulfilled" = "shipped"
"paid" = "paid"
"voided" = "cancelled"
"#;

    fn run(m: &Mapping, text: &str) -> Converted {
        let t = read_text(text, FileKind::Csv, None).unwrap();
        convert(m, &t, "f.csv").unwrap()
    }

    #[test]
    fn line_items_merge_into_one_order() {
        let m = mapping(SHOP);
        let text = "Name,Email,Financial Status,Fulfillment Status,Created at,Discount Amount,Refunded Amount,Lineitem quantity,Lineitem price,Lineitem sku,Phone\n\
#1,A@x.com,paid,fulfilled,2024-01-02 10:00:00 -0500,5,2,2,10.00,S1,'+86 139 0000 0000\n\
#1,A@x.com,,,2024-01-02 10:00:00 -0500,,,1,7.50,S2,\n";
        let c = run(&m, text);
        assert!(c.rejects.is_empty(), "{:?}", c.rejects);
        assert_eq!(c.units.len(), 1);
        let UnitData::Order(o, items) = &c.units[0].data else { panic!() };
        assert_eq!(o.order_id, "shop:#1");
        assert_eq!(o.status, "shipped");
        assert_eq!((o.gross_amount, o.discount, o.refund_amount, o.net_amount), (27.5, 5.0, 2.0, 20.5));
        assert_eq!(o.phone.as_deref(), Some("+8613900000000"), "E.164");
        assert_eq!(o.email.as_deref(), Some("a@x.com"), "normalized");
        assert_eq!(items.len(), 2);
        assert_eq!((items[1].line_no, items[1].line_amount.get()), (2, Some(7.5)));
        assert_eq!(c.units[0].lines.as_slice(), [2, 3]);
    }

    #[test]
    fn packed_pairs_split_at_keys() {
        let pairs = packed_pairs("name:Tee|Black | White|product_id:31|sku: T-1 |quantity:2|meta:size=M|note:a:b");
        assert_eq!(
            pairs,
            vec![
                ("name", "Tee|Black | White"),
                ("product_id", "31"),
                ("sku", "T-1"),
                ("quantity", "2"),
                ("meta", "size=M"),
                ("note", "a:b")
            ]
        );
        assert_eq!(packed_pairs("lead|name:|Size: M:x|"), vec![("name", "|Size: M:x|")]);
        assert!(packed_pairs("").is_empty() && packed_pairs("||:|").is_empty());
    }

    /// The built-in WebToffee mapping: its `[packed_lines]` reads `line_item_N`.
    fn webtoffee() -> Mapping {
        crate::ingest::adapters::by_name("woocommerce-webtoffee").unwrap().mapping().unwrap()
    }

    #[test]
    fn packed_lines_become_the_orders_lines_in_column_order() {
        let m = webtoffee();
        // Columns out of order (line 10 after line 2), an empty one, and a line without a quantity.
        let text = "order_number,order_date,order_subtotal,billing_email,line_item_10,line_item_2,line_item_1,line_items\n\
1,2024-04-01,52.5,a@x.com,name:Cap|sku:CAP|quantity:1|sub_total:2.50,,name:Hoodie|sku:HOOD-M|quantity:2|total:36.00|sub_total:40.00,x\n\
2,2024-04-02,10,b@x.com,,name:Mug|Blue|sub_total:10.00,,\n\
3,2024-04-03,10,c@x.com,,,,\n";
        let c = run(&m, text);
        assert!(c.rejects.is_empty(), "{:?}", c.rejects);
        let lines = |u: usize| match &c.units[u].data {
            UnitData::Order(_, items) => items
                .iter()
                .map(|i| {
                    (
                        i.line_no,
                        i.sku.as_deref().map(str::to_string),
                        i.product_name.clone(),
                        i.quantity,
                        i.unit_price.get().unwrap(),
                        i.line_amount.get().unwrap(),
                    )
                })
                .collect::<Vec<_>>(),
            _ => panic!(),
        };
        assert_eq!(
            lines(0),
            vec![
                (1, Some("HOOD-M".into()), Some("Hoodie".into()), 2, 20.0, 40.0),
                (2, Some("CAP".into()), Some("Cap".into()), 1, 2.5, 2.5)
            ]
        );
        assert_eq!(lines(1), vec![(1, None, Some("Mug|Blue".into()), 1, 10.0, 10.0)]);
        assert!(lines(2).is_empty());
    }

    #[test]
    fn a_bad_packed_line_rejects_its_order_naming_the_column() {
        let m = webtoffee();
        let text = "order_number,order_date,order_subtotal,billing_email,line_item_1,line_item_2\n\
1,2024-04-01,40,a@x.com,sku:A|sub_total:20,sku:B|quantity:two|sub_total:20\n\
2,2024-04-01,40,a@x.com,sku:A|sub_total:20,product_id:7|quantity:1\n\
3,2024-04-01,40,a@x.com,sku:A|quantity:0|sub_total:20,\n";
        let c = run(&m, text);
        assert!(c.units.is_empty());
        let r: Vec<(i64, Option<&str>, &str)> =
            c.rejects.iter().map(|r| (r.line, r.column.as_deref(), r.reason.as_str())).collect();
        assert_eq!(
            r,
            vec![
                (2, Some("line_item_2"), "`quantity` of the packed line: `two` is not a whole number"),
                (3, Some("line_item_2"), "line has neither sku nor product_name"),
                (4, Some("line_item_1"), "quantity 0 but line amount 20 on an order that is not cancelled")
            ]
        );
    }

    #[test]
    fn bad_cell_rejects_row_with_column_and_order_rows_follow() {
        let m = mapping(SHOP);
        let text = "Name,Email,Financial Status,Fulfillment Status,Created at,Discount Amount,Refunded Amount,Lineitem quantity,Lineitem price,Lineitem sku,Phone\n\
#1,a@x.com,paid,,not a date,,,1,10,S1,\n\
#1,a@x.com,,,,,,1,5,S2,\n\
#3,c@x.com,paid,,2024-01-02,,,1,5,S2,\n\
#3,c@x.com,,,,,,many,5,S3,\n\
#2,b@x.com,unknown,,2024-01-02,,,1,5,S2,\n";
        let c = run(&m, text);
        assert!(c.units.is_empty());
        let r: Vec<(i64, Option<&str>)> = c.rejects.iter().map(|r| (r.line, r.column.as_deref())).collect();
        assert_eq!(
            r,
            vec![
                (2, Some("Created at")),
                (3, Some("Created at")),
                (5, Some("Lineitem quantity")),
                (4, Some("Lineitem quantity")),
                (6, Some("Financial Status"))
            ]
        );
        assert_eq!(c.rejects[3].reason, "order rejected at line 5: `many` is not a whole number");
        assert_eq!(c.rejects[1].reason, "order rejected at line 2: `not a date` is not a date/time");
        assert!(c.rejects[4].reason.contains("[status]"));
    }

    #[test]
    fn refunded_order_without_amount_is_fully_refunded() {
        let m = mapping(
            r#"
table = "orders"
source = "tb"
currency = "CNY"
[columns]
order_id = "id"
customer_key = "buyer"
created_at = "t"
gross_amount = "g"
status = "s"
status_detail = "why"
[status]
"交易关闭|退款" = "refunded"
"交易关闭|买家未付款" = "cancelled"
"#,
        );
        let c =
            run(&m, "id,buyer,t,g,s,why\n1,b,2024-01-01,100,交易关闭,退款\n2,b,2024-01-01,50,交易关闭,买家未付款\n");
        let UnitData::Order(o, _) = &c.units[0].data else { panic!() };
        assert_eq!((o.status.as_str(), o.refund_amount, o.net_amount), ("refunded", 100.0, 0.0));
        let UnitData::Order(o, _) = &c.units[1].data else { panic!() };
        assert_eq!(o.status, "cancelled");
    }

    #[test]
    fn masked_values_are_no_keys_and_wildcard_status_details() {
        let m = mapping(
            r#"
table = "orders"
source = "dy"
currency = "CNY"
anonymous_orders = true
[columns]
order_id = "id"
customer_key = "buyer"
name = "who"
created_at = "t"
gross_amount = "g"
status = "s"
status_detail = "after"
[status]
"已完成" = "completed"
"*|退款成功" = "refunded"
"#,
        );
        let c = run(&m, "id,buyer,who,t,g,s,after\n1,jd_****7788,张**,2024-01-01,10,已完成,退款成功\n2,b1,李梅,2024-01-01,5,已完成,-\n");
        let UnitData::Order(o, _) = &c.units[0].data else { panic!() };
        assert_eq!((o.customer_key.as_deref(), o.name.as_deref(), o.status.as_str()), (None, None, "refunded"));
        let UnitData::Order(o, _) = &c.units[1].data else { panic!() };
        assert_eq!(
            (o.customer_key.as_deref(), o.name.as_deref(), o.status.as_str()),
            (Some("b1"), Some("李梅"), "completed")
        );
    }

    #[test]
    fn missing_required_header_is_a_file_error() {
        let m = mapping(SHOP);
        let t = read_text("Name,Email\n#1,a@x\n", FileKind::Csv, None).unwrap();
        let err = convert(&m, &t, "f.csv").unwrap_err();
        assert!(err.contains("`Created at` (for created_at)"), "{err}");
    }

    proptest::proptest! {
        /// Any cell contents: no panic, and every record ends in exactly one unit or one reject.
        #[test]
        fn every_record_is_accounted_for(
            rows in proptest::collection::vec(
                proptest::collection::vec(proptest::prop_oneof![
                    proptest::string::string_regex("[#]?[0-3]").unwrap(),
                    proptest::string::string_regex("[a-zA-Z@. '=\"-]{0,8}").unwrap(),
                    proptest::string::string_regex("-?[0-9]{1,3}(\\.[0-9]{1,2})?").unwrap(),
                    proptest::strategy::Just("2024-01-02 10:00:00 -0500".to_string()),
                    proptest::strategy::Just("paid".to_string()),
                    proptest::strategy::Just(String::new()),
                ], 11),
                0..12,
            )
        ) {
            let m = mapping(SHOP);
            let mut text = String::from("Name,Email,Financial Status,Fulfillment Status,Created at,Discount Amount,Refunded Amount,Lineitem quantity,Lineitem price,Lineitem sku,Phone\n");
            for r in &rows {
                let cells: Vec<String> = r.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
                text.push_str(&cells.join(","));
                text.push('\n');
            }
            let t = read_text(&text, FileKind::Csv, None).unwrap();
            let c = convert(&m, &t, "f.csv").unwrap();
            let in_units: usize = c.units.iter().map(|u| u.lines.len()).sum();
            proptest::prop_assert_eq!(in_units + c.rejects.len() + t.rejects.len(), rows.len());
        }

        /// Any packed cells: no panic; every record is one unit or one reject; a value is a
        /// trimmed slice of its cell; an order's lines are numbered 1, 2, … with positive quantities,
        /// or quantity 0 and amount 0.
        #[test]
        fn packed_lines_are_accounted_for(
            cells in proptest::collection::vec(proptest::collection::vec(proptest::prop_oneof![
                proptest::string::string_regex("(sku|name|quantity|sub_total|x)?:?[a-zA-Z0-9. |:-]{0,6}").unwrap(),
                proptest::string::string_regex("sku:[A-Z]{1,3}\\|quantity:-?[0-9]\\|sub_total:[0-9]{1,3}(\\.[0-9]{2})?").unwrap(),
                proptest::strategy::Just(String::new()),
            ], 3), 0..10)
        ) {
            let m = webtoffee();
            let mut text = String::from("order_number,order_date,order_subtotal,billing_email,line_item_1,line_item_2,line_item_3\n");
            for (i, r) in cells.iter().enumerate() {
                for cell in r {
                    for (k, v) in packed_pairs(cell) {
                        proptest::prop_assert!(cell.contains(k) && cell.contains(v) && v.trim() == v);
                    }
                }
                let quoted: Vec<String> = r.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
                text.push_str(&format!("{i},2024-04-01,10,a{i}@x.com,{}\n", quoted.join(",")));
            }
            let t = read_text(&text, FileKind::Csv, None).unwrap();
            let c = convert(&m, &t, "f.csv").unwrap();
            let in_units: usize = c.units.iter().map(|u| u.lines.len()).sum();
            proptest::prop_assert_eq!(in_units + c.rejects.len() + t.rejects.len(), cells.len());
            for u in &c.units {
                let UnitData::Order(_, items) = &u.data else { panic!() };
                for (n, item) in items.iter().enumerate() {
                    let sold_nothing = item.quantity == 0 && item.line_amount.get() == Some(0.0);
                    proptest::prop_assert!(item.line_no == n as i64 + 1 && (item.quantity > 0 || sold_nothing));
                }
            }
        }
    }

    /// An order's (status, gross, discount, refund, net, currency) and its lines' (quantity,
    /// unit_price, line_amount).
    type Landed = ((String, f64, f64, f64, f64, String), Vec<(i64, Option<f64>, Option<f64>)>);

    fn landed(c: &Converted, id: &str) -> Landed {
        let u = c.units.iter().find(|u| u.id() == id).unwrap_or_else(|| panic!("{id}: {:?}", c.rejects));
        let UnitData::Order(o, items) = &u.data else { panic!() };
        let amounts = (o.gross_amount, o.discount, o.refund_amount, o.net_amount);
        (
            (o.status.to_string(), amounts.0, amounts.1, amounts.2, amounts.3, o.currency.to_string()),
            items.iter().map(|i| (i.quantity, i.unit_price.get(), i.line_amount.get())).collect(),
        )
    }

    const LINES: &str = r#"
table = "orders"
source = "m"
grain = "line_item"
[columns]
order_id = "id"
email = "e"
status = "s"
created_at = "t"
currency = "cur"
discount = "d"
net_amount = "net"
sku = "sku"
quantity = "q"
unit_price = "p"
[status]
Cancelled = "cancelled"
Shipped = "shipped"
Pending = "pending_payment"
"#;

    #[test]
    fn cancelled_lines_without_amounts_land_cancelled_at_zero() {
        let m = mapping(LINES);
        let c = run(
            &m,
            "id,e,s,t,cur,d,net,sku,q,p\n\
1,a@x.com,Cancelled,2024-01-01,,,,A,0,\n\
2,a@x.com,Cancelled,2024-01-01,EUR,5,,A,1,\n\
2,a@x.com,,,,,,B,0,\n\
3,a@x.com,Cancelled,2024-01-01,EUR,,,A,0,9.5\n",
        );
        assert!(c.rejects.is_empty(), "{:?}", c.rejects);
        let cancelled = |cur: &str| ("cancelled".to_string(), 0.0, 0.0, 0.0, 0.0, cur.to_string());
        // Amazon's cancelled line: quantity 0, no price, no currency (none changed hands: XXX).
        assert_eq!(landed(&c, "m:1"), (cancelled("XXX"), vec![(0, None, Some(0.0))]));
        // A line without a price keeps its quantity and a null amount; the unpaid discount goes too.
        assert_eq!(landed(&c, "m:2"), (cancelled("EUR"), vec![(1, None, None), (0, None, Some(0.0))]));
        // A unit price at quantity 0: the line amounts to 0.
        assert_eq!(landed(&c, "m:3"), (cancelled("EUR"), vec![(0, Some(9.5), Some(0.0))]));
    }

    #[test]
    fn lines_without_prices_keep_the_orders_own_amount() {
        let m = mapping(LINES);
        let c = run(
            &m,
            "id,e,s,t,cur,d,net,sku,q,p\n\
3,a@x.com,Shipped,2024-01-01,EUR,2,30,A,2,\n\
3,a@x.com,,,,,,B,1,\n\
4,a@x.com,Shipped,2024-01-01,EUR,,,A,1,10\n\
4,a@x.com,,,,,,B,0,\n\
5,a@x.com,Shipped,2024-01-01,EUR,,,A,1,10\n\
5,a@x.com,,,,,,B,1,\n\
6,a@x.com,Pending,2024-01-01,EUR,,,A,1,\n\
7,a@x.com,Shipped,2024-01-01,EUR,,,A,-1,5\n",
        );
        let shipped = |g: f64, d: f64, n: f64| ("shipped".to_string(), g, d, 0.0, n, "EUR".to_string());
        // SKUs and an order total, no line prices: the lines are kept, the total stands.
        assert_eq!(landed(&c, "m:3"), (shipped(32.0, 2.0, 30.0), vec![(2, None, None), (1, None, None)]));
        // Quantity 0 without a price sold nothing (a cancelled item in an order that shipped).
        assert_eq!(
            landed(&c, "m:4"),
            (shipped(10.0, 0.0, 10.0), vec![(1, Some(10.0), Some(10.0)), (0, None, Some(0.0))])
        );
        // Not cancelled, and no amount anywhere: the order's total is unknown.
        let r: Vec<(i64, Option<&str>, String)> =
            c.rejects.iter().map(|r| (r.line, r.column.as_deref(), r.reason.clone())).collect();
        let no_price = |n: i64| {
            format!("no amount: the order's line {n} has no price (unit_price or line_amount) and the order no gross_amount or net_amount")
        };
        assert_eq!(
            r,
            vec![
                (6, Some("p"), no_price(2)),
                (7, Some("p"), format!("order rejected at line 6: {}", no_price(2))),
                (8, Some("p"), no_price(1)),
                (9, Some("q"), "quantity -1 is not positive".into()),
            ]
        );
    }

    #[test]
    fn closed_order_without_amount_is_cancelled_at_zero_and_an_open_one_a_reject() {
        let m = mapping(
            r#"
table = "orders"
source = "tb"
currency = "CNY"
[columns]
order_id = "id"
customer_key = "buyer"
created_at = "t"
gross_amount = "g"
shipping = "post"
status = "s"
status_detail = "why"
[status]
"交易关闭|买家未付款" = "cancelled"
"等待买家付款" = "pending_payment"
"#,
        );
        let c = run(
            &m,
            "id,buyer,t,g,post,s,why\n1,b,2024-01-01,,10,交易关闭,买家未付款\n2,b,2024-01-01,,,等待买家付款,\n",
        );
        let cancelled = ("cancelled".to_string(), 0.0, 0.0, 0.0, 0.0, "CNY".to_string());
        assert_eq!(landed(&c, "tb:1"), (cancelled, vec![]));
        let UnitData::Order(o, _) = &c.units[0].data else { panic!() };
        assert_eq!(o.shipping, 10.0, "given amounts outside net are kept");
        assert_eq!(c.rejects.len(), 1);
        assert_eq!((c.rejects[0].line, c.rejects[0].column.as_deref()), (3, Some("g")));
        assert_eq!(c.rejects[0].reason, "no amount: gross_amount, net_amount and lines are all empty");
    }

    #[test]
    fn order_items_lines_without_prices_are_kept_and_quantity_is_checked() {
        let m = mapping(
            r#"
table = "order_items"
source = "tb"
[columns]
order_id = "id"
sku = "sku"
quantity = "q"
line_amount = "a"
"#,
        );
        let c = run(&m, "id,sku,q,a\n1,A,2,\n1,B,0,\n2,A,0,5\n3,A,-2,\n");
        let UnitData::Items(items) = &c.units[0].data else { panic!() };
        let got: Vec<_> = items.iter().map(|i| (i.quantity, i.unit_price.get(), i.line_amount.get())).collect();
        assert_eq!(got, [(2, None, None), (0, None, Some(0.0))]);
        let r: Vec<(i64, &str)> = c.rejects.iter().map(|r| (r.line, r.reason.as_str())).collect();
        assert_eq!(
            r,
            [(4, "quantity 0 but line amount 5 on an order that is not cancelled"), (5, "quantity -2 is not positive")]
        );
    }

    #[test]
    fn canonical_orders_keep_ids() {
        let h: Vec<String> =
            ["order_id", "customer_id", "created_at", "net_amount"].iter().map(|s| s.to_string()).collect();
        let m = Mapping::canonical("c.csv", &h, Some("USD")).unwrap();
        let c = run(&m, "order_id,customer_id,created_at,net_amount\nA-1,c9,2024-05-01T00:00:00Z,12.5\n");
        let UnitData::Order(o, _) = &c.units[0].data else { panic!() };
        assert_eq!((o.order_id.as_str(), o.customer_id.as_deref(), o.gross_amount), ("A-1", Some("c9"), 12.5));
    }
}
