//! Typed rows of the canonical tables and their conversion to and from frames.

pub use super::sym::Sym;
use crate::schema::{FrameBuilder, FrameReader, Table};
use polars::prelude::*;

/// The string type of the big tables' rows (`orders`, `order_items`, `events`, `profiles`, `identities`, `customers`): strings up to 24 bytes
/// (ids, statuses, currencies, phones, most emails and names) are held inline instead of in a heap
/// allocation of their own, which at 10M orders saves gigabytes and as many allocations.
pub type Text = compact_str::CompactString;

/// An `orders` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub order_id: Text,
    pub source: Sym,
    pub channel: Sym,
    /// A shop's few store names: a `Sym` (8 bytes with its `Option`, not 24).
    pub store: Option<Sym>,
    pub customer_key: Option<Text>,
    /// Given by the input (canonical format) before resolution; always set after it.
    pub customer_id: Option<Text>,
    pub status: Sym,
    pub created_at: i64,
    pub paid_at: OptTs,
    pub shipped_at: OptTs,
    pub completed_at: OptTs,
    pub currency: Sym,
    pub gross_amount: f64,
    pub discount: f64,
    pub shipping: f64,
    pub tax: f64,
    pub refund_amount: f64,
    pub net_amount: f64,
    pub email: Option<Text>,
    pub phone: Option<Text>,
    pub name: Option<Text>,
    pub email_opt_in: Option<bool>,
    pub sms_opt_in: Option<bool>,
}

/// An optional timestamp (µs since the epoch) in 8 bytes instead of an `Option<i64>`'s 16 (three
/// per order: 240 MB at 10M orders). `i64::MIN`, 290 000 years BC, outside every date the
/// parsers accept, stands for none.
///
/// ```
/// use custlens::lake::records::OptTs;
/// assert_eq!(OptTs::from(Some(5)).get(), Some(5));
/// assert_eq!(OptTs::from(None).get(), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct OptTs(i64);

impl OptTs {
    pub fn get(self) -> Option<i64> {
        (self.0 != i64::MIN).then_some(self.0)
    }
}

impl From<Option<i64>> for OptTs {
    fn from(v: Option<i64>) -> OptTs {
        OptTs(v.unwrap_or(i64::MIN))
    }
}

impl std::fmt::Debug for OptTs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// An optional amount in 8 bytes instead of an `Option<f64>`'s 16 (two per order line: 160 MB at
/// 10M lines). NaN, which no money parser returns (they keep finite values only), stands for none;
/// two nones are equal.
///
/// ```
/// use custlens::lake::records::OptMoney;
/// assert_eq!(OptMoney::from(Some(2.5)).get(), Some(2.5));
/// assert_eq!(OptMoney::from(None).get(), None);
/// assert_eq!(OptMoney::from(None), OptMoney::from(None));
/// ```
#[derive(Clone, Copy)]
pub struct OptMoney(f64);

impl OptMoney {
    pub fn get(self) -> Option<f64> {
        (!self.0.is_nan()).then_some(self.0)
    }
}

impl From<Option<f64>> for OptMoney {
    fn from(v: Option<f64>) -> OptMoney {
        OptMoney(v.unwrap_or(f64::NAN))
    }
}

impl PartialEq for OptMoney {
    fn eq(&self, other: &OptMoney) -> bool {
        self.get() == other.get()
    }
}

impl std::fmt::Debug for OptMoney {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// An `order_items` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub order_id: Text,
    pub line_no: i64,
    pub sku: Option<Text>,
    pub product_name: Option<Text>,
    pub quantity: i64,
    /// None when the source gives no price (the order's own amount stands).
    pub unit_price: OptMoney,
    /// None when the source gives no price; 0 at quantity 0.
    pub line_amount: OptMoney,
    pub refunded_quantity: i64,
}

/// A `products` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub sku: String,
    pub product_name: Option<String>,
    pub category: Option<String>,
    pub price: Option<f64>,
    pub cost: Option<f64>,
}

/// A `profiles` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub profile_id: Text,
    pub source: Sym,
    pub customer_key: Option<Text>,
    pub customer_id: Option<Text>,
    pub email: Option<Text>,
    pub phone: Option<Text>,
    pub name: Option<Text>,
    /// An ISO country code (upper case): few values.
    pub country: Option<Sym>,
    pub email_opt_in: Option<bool>,
    pub sms_opt_in: Option<bool>,
    pub tags: Option<Text>,
    pub total_spent: Option<f64>,
    pub total_orders: Option<i64>,
    pub updated_at: Option<i64>,
}

/// An `events` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_id: EventId,
    pub source: Sym,
    pub customer_key: Option<Text>,
    pub customer_id: Option<Text>,
    pub email: Option<Text>,
    pub phone: Option<Text>,
    pub ts: i64,
    pub channel: Sym,
    pub event_type: Sym,
    pub campaign_id: Option<Text>,
    pub sku: Option<Text>,
}

/// An `events` row's id, written to the lake as text.
///
/// Ingest makes every event's id from a SHA-256 of its content: the first 16 bytes as 32
/// lowercase hex digits. Held as those 16 bytes, the id is inline in the row (24 bytes) instead of
/// a 32-byte string on the heap per event, so a spilled events table ([`super::store`]) is on disk
/// whole, and the merge index takes 8 of the bytes as the id's hash ([`EventId::hash64`]). Any
/// other text (an edited lake) is kept as it is. Ids compare, order and print as their text.
///
/// ```
/// use custlens::lake::records::EventId;
/// let id = EventId::from("00ff00000000000000000000000000a1");
/// assert_eq!(id, EventId::from_digest([0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa1]));
/// assert_eq!(id.to_string(), "00ff00000000000000000000000000a1");
/// assert_eq!(EventId::from("e-1").to_string(), "e-1");
/// assert!(id < EventId::from("e-1")); // as "00ff…" < "e-1"
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EventId(IdRepr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum IdRepr {
    Digest([u8; 16]),
    Other(Text),
}

impl EventId {
    /// The id of a content digest (its 32 hex digits).
    pub fn from_digest(digest: [u8; 16]) -> EventId {
        EventId(IdRepr::Digest(digest))
    }

    /// Calls `f` with the id's text (formatted on the stack for a digest).
    pub fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match &self.0 {
            IdRepr::Digest(d) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let mut buf = [0u8; 32];
                for (i, b) in d.iter().enumerate() {
                    buf[2 * i] = HEX[(b >> 4) as usize];
                    buf[2 * i + 1] = HEX[(b & 15) as usize];
                }
                f(std::str::from_utf8(&buf).expect("hex digits"))
            }
            IdRepr::Other(t) => f(t),
        }
    }

    /// 64 bits of the id for a hash index: 8 of a digest's own bytes, or the hash of any other text.
    pub fn hash64(&self) -> u64 {
        match &self.0 {
            IdRepr::Digest(d) => u64::from_le_bytes(d[..8].try_into().expect("8 bytes")),
            IdRepr::Other(t) => {
                use std::hash::BuildHasher;
                rustc_hash::FxBuildHasher.hash_one(t.as_str())
            }
        }
    }
}

impl From<&str> for EventId {
    /// 32 lowercase hex digits are held as their 16 bytes; any other text as it is.
    fn from(s: &str) -> EventId {
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let b = s.as_bytes();
        if b.len() == 32 {
            let mut d = [0u8; 16];
            let all = (0..16).all(|i| match (nibble(b[2 * i]), nibble(b[2 * i + 1])) {
                (Some(hi), Some(lo)) => {
                    d[i] = hi << 4 | lo;
                    true
                }
                _ => false,
            });
            if all {
                return EventId::from_digest(d);
            }
        }
        EventId(IdRepr::Other(s.into()))
    }
}

impl Ord for EventId {
    fn cmp(&self, other: &EventId) -> std::cmp::Ordering {
        match (&self.0, &other.0) {
            // Lowercase hex digits order as the nibbles they stand for.
            (IdRepr::Digest(a), IdRepr::Digest(b)) => a.cmp(b),
            _ => self.with_str(|a| other.with_str(|b| a.cmp(b))),
        }
    }
}

impl PartialOrd for EventId {
    fn partial_cmp(&self, other: &EventId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.with_str(|s| f.write_str(s))
    }
}

impl std::fmt::Debug for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.with_str(|s| s.fmt(f))
    }
}

/// A `tickets` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub ticket_id: String,
    pub source: String,
    pub customer_key: Option<String>,
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub order_id: Option<String>,
    pub kind: String,
    pub reason: Option<String>,
    pub status: Option<String>,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    pub satisfaction: Option<f64>,
}

/// A `rejects` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    pub source_file: String,
    pub line: i64,
    pub column: Option<String>,
    pub raw: String,
    pub reason: String,
}

/// A `files` row: one ingested file and its row accounting.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
    pub format: String,
    pub table: String,
    pub rows_read: i64,
    pub new: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub duplicate: i64,
    pub rejected: i64,
}

/// A `customers` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub customer_id: Text,
    /// None when only undated profiles know the customer.
    pub first_seen_at: Option<i64>,
    /// Few distinct values (combinations of a lake's channels and sources): interned.
    pub channels: Sym,
    pub sources: Sym,
    pub n_keys: i64,
    pub email: Option<Text>,
    pub phone: Option<Text>,
    pub name: Option<Text>,
    pub email_opt_in: Option<bool>,
    pub sms_opt_in: Option<bool>,
    pub unsubscribed_at: Option<i64>,
}

/// An `identities` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub source: Sym,
    pub key_type: Sym,
    pub key: Text,
    pub customer_id: Text,
    pub rule: Sym,
}

/// A `customer_merges` row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CustomerMerge {
    pub merged_id: String,
    pub customer_id: String,
}

/// A `tombstones` row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tombstone {
    pub key_type: String,
    pub key_sha256: String,
    pub forgotten_at: i64,
}

/// Conversion between typed rows and canonical frames.
pub trait Row: Sized {
    const TABLE: Table;
    fn push(&self, b: &mut FrameBuilder);
    fn read(r: &FrameReader) -> PolarsResult<Vec<Self>>;

    fn to_frame(rows: &[Self]) -> PolarsResult<DataFrame> {
        let mut b = FrameBuilder::new(Self::TABLE);
        for row in rows {
            row.push(&mut b);
        }
        b.finish()
    }

    fn from_frame(df: &DataFrame) -> PolarsResult<Vec<Self>> {
        Self::read(&FrameReader::new(df))
    }
}

fn req<T>(v: Option<T>, col: &str) -> PolarsResult<T> {
    v.ok_or_else(|| polars_err!(ComputeError: "unexpected null in required column `{}`", col))
}

/// Zips typed column vectors into rows: `rows!(reader, |i| Struct { .. })`.
macro_rules! columns {
    ($r:expr; $($name:ident : $kind:ident),* $(,)?) => {
        $( let $name = $r.$kind(stringify!($name))?; )*
    };
}

impl Row for Order {
    const TABLE: Table = Table::Orders;
    fn push(&self, b: &mut FrameBuilder) {
        b.str("order_id", Some(&self.order_id));
        b.str("source", Some(&self.source));
        b.str("channel", Some(&self.channel));
        b.str("store", self.store.as_deref());
        b.str("customer_key", self.customer_key.as_deref());
        b.str("customer_id", self.customer_id.as_deref());
        b.str("status", Some(&self.status));
        b.ts("created_at", Some(self.created_at));
        b.ts("paid_at", self.paid_at.get());
        b.ts("shipped_at", self.shipped_at.get());
        b.ts("completed_at", self.completed_at.get());
        b.str("currency", Some(&self.currency));
        b.f64("gross_amount", Some(self.gross_amount));
        b.f64("discount", Some(self.discount));
        b.f64("shipping", Some(self.shipping));
        b.f64("tax", Some(self.tax));
        b.f64("refund_amount", Some(self.refund_amount));
        b.f64("net_amount", Some(self.net_amount));
        b.str("email", self.email.as_deref());
        b.str("phone", self.phone.as_deref());
        b.str("name", self.name.as_deref());
        b.bool("email_opt_in", self.email_opt_in);
        b.bool("sms_opt_in", self.sms_opt_in);
    }
    fn read(r: &FrameReader) -> PolarsResult<Vec<Self>> {
        columns!(r; order_id: str, source: str, channel: str, store: str, customer_key: str, customer_id: str,
            status: str, created_at: ts, paid_at: ts, shipped_at: ts, completed_at: ts, currency: str,
            gross_amount: f64, discount: f64, shipping: f64, tax: f64, refund_amount: f64, net_amount: f64,
            email: str, phone: str, name: str, email_opt_in: bool, sms_opt_in: bool);
        (0..r.height())
            .map(|i| {
                Ok(Order {
                    order_id: req(order_id[i].clone(), "order_id")?,
                    source: req(source[i], "source")?,
                    channel: req(channel[i], "channel")?,
                    store: store[i],
                    customer_key: customer_key[i].clone(),
                    customer_id: customer_id[i].clone(),
                    status: req(status[i], "status")?,
                    created_at: req(created_at[i], "created_at")?,
                    paid_at: paid_at[i].into(),
                    shipped_at: shipped_at[i].into(),
                    completed_at: completed_at[i].into(),
                    currency: req(currency[i], "currency")?,
                    gross_amount: req(gross_amount[i], "gross_amount")?,
                    discount: req(discount[i], "discount")?,
                    shipping: req(shipping[i], "shipping")?,
                    tax: req(tax[i], "tax")?,
                    refund_amount: req(refund_amount[i], "refund_amount")?,
                    net_amount: req(net_amount[i], "net_amount")?,
                    email: email[i].clone(),
                    phone: phone[i].clone(),
                    name: name[i].clone(),
                    email_opt_in: email_opt_in[i],
                    sms_opt_in: sms_opt_in[i],
                })
            })
            .collect()
    }
}

impl Row for Item {
    const TABLE: Table = Table::OrderItems;
    fn push(&self, b: &mut FrameBuilder) {
        b.str("order_id", Some(&self.order_id));
        b.i64("line_no", Some(self.line_no));
        b.str("sku", self.sku.as_deref());
        b.str("product_name", self.product_name.as_deref());
        b.i64("quantity", Some(self.quantity));
        b.f64("unit_price", self.unit_price.get());
        b.f64("line_amount", self.line_amount.get());
        b.i64("refunded_quantity", Some(self.refunded_quantity));
    }
    fn read(r: &FrameReader) -> PolarsResult<Vec<Self>> {
        columns!(r; order_id: str, line_no: i64, sku: str, product_name: str, quantity: i64, unit_price: f64,
            line_amount: f64, refunded_quantity: i64);
        (0..r.height())
            .map(|i| {
                Ok(Item {
                    order_id: req(order_id[i].clone(), "order_id")?,
                    line_no: req(line_no[i], "line_no")?,
                    sku: sku[i].clone(),
                    product_name: product_name[i].clone(),
                    quantity: req(quantity[i], "quantity")?,
                    unit_price: unit_price[i].into(),
                    line_amount: line_amount[i].into(),
                    refunded_quantity: req(refunded_quantity[i], "refunded_quantity")?,
                })
            })
            .collect()
    }
}

impl Row for Product {
    const TABLE: Table = Table::Products;
    fn push(&self, b: &mut FrameBuilder) {
        b.str("sku", Some(&self.sku));
        b.str("product_name", self.product_name.as_deref());
        b.str("category", self.category.as_deref());
        b.f64("price", self.price);
        b.f64("cost", self.cost);
    }
    fn read(r: &FrameReader) -> PolarsResult<Vec<Self>> {
        columns!(r; sku: str, product_name: str, category: str, price: f64, cost: f64);
        (0..r.height())
            .map(|i| {
                Ok(Product {
                    sku: req(sku[i].clone(), "sku")?,
                    product_name: product_name[i].clone(),
                    category: category[i].clone(),
                    price: price[i],
                    cost: cost[i],
                })
            })
            .collect()
    }
}

impl Row for Profile {
    const TABLE: Table = Table::Profiles;
    fn push(&self, b: &mut FrameBuilder) {
        b.str("profile_id", Some(&self.profile_id));
        b.str("source", Some(&self.source));
        b.str("customer_key", self.customer_key.as_deref());
        b.str("customer_id", self.customer_id.as_deref());
        b.str("email", self.email.as_deref());
        b.str("phone", self.phone.as_deref());
        b.str("name", self.name.as_deref());
        b.str("country", self.country.as_deref());
        b.bool("email_opt_in", self.email_opt_in);
        b.bool("sms_opt_in", self.sms_opt_in);
        b.str("tags", self.tags.as_deref());
        b.f64("total_spent", self.total_spent);
        b.i64("total_orders", self.total_orders);
        b.ts("updated_at", self.updated_at);
    }
    fn read(r: &FrameReader) -> PolarsResult<Vec<Self>> {
        columns!(r; profile_id: str, source: str, customer_key: str, customer_id: str, email: str, phone: str,
            name: str, country: str, email_opt_in: bool, sms_opt_in: bool, tags: str, total_spent: f64,
            total_orders: i64, updated_at: ts);
        (0..r.height())
            .map(|i| {
                Ok(Profile {
                    profile_id: req(profile_id[i].clone(), "profile_id")?,
                    source: req(source[i], "source")?,
                    customer_key: customer_key[i].clone(),
                    customer_id: customer_id[i].clone(),
                    email: email[i].clone(),
                    phone: phone[i].clone(),
                    name: name[i].clone(),
                    country: country[i],
                    email_opt_in: email_opt_in[i],
                    sms_opt_in: sms_opt_in[i],
                    tags: tags[i].clone(),
                    total_spent: total_spent[i],
                    total_orders: total_orders[i],
                    updated_at: updated_at[i],
                })
            })
            .collect()
    }
}

impl Row for Event {
    const TABLE: Table = Table::Events;
    fn push(&self, b: &mut FrameBuilder) {
        self.event_id.with_str(|id| b.str("event_id", Some(id)));
        b.str("source", Some(&self.source));
        b.str("customer_key", self.customer_key.as_deref());
        b.str("customer_id", self.customer_id.as_deref());
        b.str("email", self.email.as_deref());
        b.str("phone", self.phone.as_deref());
        b.ts("ts", Some(self.ts));
        b.str("channel", Some(&self.channel));
        b.str("event_type", Some(&self.event_type));
        b.str("campaign_id", self.campaign_id.as_deref());
        b.str("sku", self.sku.as_deref());
    }
    fn read(r: &FrameReader) -> PolarsResult<Vec<Self>> {
        columns!(r; event_id: str, source: str, customer_key: str, customer_id: str, email: str, phone: str,
            ts: ts, channel: str, event_type: str, campaign_id: str, sku: str);
        (0..r.height())
            .map(|i| {
                Ok(Event {
                    event_id: req(event_id[i].clone(), "event_id")?,
                    source: req(source[i], "source")?,
                    customer_key: customer_key[i].clone(),
                    customer_id: customer_id[i].clone(),
                    email: email[i].clone(),
                    phone: phone[i].clone(),
                    ts: req(ts[i], "ts")?,
                    channel: req(channel[i], "channel")?,
                    event_type: req(event_type[i], "event_type")?,
                    campaign_id: campaign_id[i].clone(),
                    sku: sku[i].clone(),
                })
            })
            .collect()
    }
}

impl Row for Ticket {
    const TABLE: Table = Table::Tickets;
    fn push(&self, b: &mut FrameBuilder) {
        b.str("ticket_id", Some(&self.ticket_id));
        b.str("source", Some(&self.source));
        b.str("customer_key", self.customer_key.as_deref());
        b.str("customer_id", self.customer_id.as_deref());
        b.str("email", self.email.as_deref());
        b.str("phone", self.phone.as_deref());
        b.str("order_id", self.order_id.as_deref());
        b.str("kind", Some(&self.kind));
        b.str("reason", self.reason.as_deref());
        b.str("status", self.status.as_deref());
        b.ts("opened_at", Some(self.opened_at));
        b.ts("resolved_at", self.resolved_at);
        b.f64("satisfaction", self.satisfaction);
    }
    fn read(r: &FrameReader) -> PolarsResult<Vec<Self>> {
        columns!(r; ticket_id: str, source: str, customer_key: str, customer_id: str, email: str, phone: str,
            order_id: str, kind: str, reason: str, status: str, opened_at: ts, resolved_at: ts, satisfaction: f64);
        (0..r.height())
            .map(|i| {
                Ok(Ticket {
                    ticket_id: req(ticket_id[i].clone(), "ticket_id")?,
                    source: req(source[i].clone(), "source")?,
                    customer_key: customer_key[i].clone(),
                    customer_id: customer_id[i].clone(),
                    email: email[i].clone(),
                    phone: phone[i].clone(),
                    order_id: order_id[i].clone(),
                    kind: req(kind[i].clone(), "kind")?,
                    reason: reason[i].clone(),
                    status: status[i].clone(),
                    opened_at: req(opened_at[i], "opened_at")?,
                    resolved_at: resolved_at[i],
                    satisfaction: satisfaction[i],
                })
            })
            .collect()
    }
}

impl Row for Reject {
    const TABLE: Table = Table::Rejects;
    fn push(&self, b: &mut FrameBuilder) {
        b.str("source_file", Some(&self.source_file));
        b.i64("line", Some(self.line));
        b.str("column", self.column.as_deref());
        b.str("raw", Some(&self.raw));
        b.str("reason", Some(&self.reason));
    }
    fn read(r: &FrameReader) -> PolarsResult<Vec<Self>> {
        columns!(r; source_file: str, line: i64, column: str, raw: str, reason: str);
        (0..r.height())
            .map(|i| {
                Ok(Reject {
                    source_file: req(source_file[i].clone(), "source_file")?,
                    line: req(line[i], "line")?,
                    column: column[i].clone(),
                    raw: req(raw[i].clone(), "raw")?,
                    reason: req(reason[i].clone(), "reason")?,
                })
            })
            .collect()
    }
}

impl Row for FileEntry {
    const TABLE: Table = Table::Files;
    fn push(&self, b: &mut FrameBuilder) {
        b.str("path", Some(&self.path));
        b.str("sha256", Some(&self.sha256));
        b.str("format", Some(&self.format));
        b.str("table", Some(&self.table));
        for (k, v) in [
            ("rows_read", self.rows_read),
            ("new", self.new),
            ("updated", self.updated),
            ("unchanged", self.unchanged),
            ("duplicate", self.duplicate),
            ("rejected", self.rejected),
        ] {
            b.i64(k, Some(v));
        }
    }
    fn read(r: &FrameReader) -> PolarsResult<Vec<Self>> {
        columns!(r; path: str, sha256: str, format: str, table: str, rows_read: i64, new: i64, updated: i64,
            unchanged: i64, duplicate: i64, rejected: i64);
        (0..r.height())
            .map(|i| {
                Ok(FileEntry {
                    path: req(path[i].clone(), "path")?,
                    sha256: req(sha256[i].clone(), "sha256")?,
                    format: req(format[i].clone(), "format")?,
                    table: req(table[i].clone(), "table")?,
                    rows_read: req(rows_read[i], "rows_read")?,
                    new: req(new[i], "new")?,
                    updated: req(updated[i], "updated")?,
                    unchanged: req(unchanged[i], "unchanged")?,
                    duplicate: req(duplicate[i], "duplicate")?,
                    rejected: req(rejected[i], "rejected")?,
                })
            })
            .collect()
    }
}

impl Row for Customer {
    const TABLE: Table = Table::Customers;
    fn push(&self, b: &mut FrameBuilder) {
        b.str("customer_id", Some(&self.customer_id));
        b.ts("first_seen_at", self.first_seen_at);
        b.str("channels", Some(&self.channels));
        b.str("sources", Some(&self.sources));
        b.i64("n_keys", Some(self.n_keys));
        b.str("email", self.email.as_deref());
        b.str("phone", self.phone.as_deref());
        b.str("name", self.name.as_deref());
        b.bool("email_opt_in", self.email_opt_in);
        b.bool("sms_opt_in", self.sms_opt_in);
        b.ts("unsubscribed_at", self.unsubscribed_at);
    }
    fn read(r: &FrameReader) -> PolarsResult<Vec<Self>> {
        columns!(r; customer_id: str, first_seen_at: ts, channels: str, sources: str, n_keys: i64, email: str,
            phone: str, name: str, email_opt_in: bool, sms_opt_in: bool, unsubscribed_at: ts);
        (0..r.height())
            .map(|i| {
                Ok(Customer {
                    customer_id: req(customer_id[i].clone(), "customer_id")?,
                    first_seen_at: first_seen_at[i],
                    channels: req(channels[i], "channels")?,
                    sources: req(sources[i], "sources")?,
                    n_keys: req(n_keys[i], "n_keys")?,
                    email: email[i].clone(),
                    phone: phone[i].clone(),
                    name: name[i].clone(),
                    email_opt_in: email_opt_in[i],
                    sms_opt_in: sms_opt_in[i],
                    unsubscribed_at: unsubscribed_at[i],
                })
            })
            .collect()
    }
}

impl Row for Identity {
    const TABLE: Table = Table::Identities;
    fn push(&self, b: &mut FrameBuilder) {
        b.str("source", Some(&self.source));
        b.str("key_type", Some(&self.key_type));
        b.str("key", Some(&self.key));
        b.str("customer_id", Some(&self.customer_id));
        b.str("rule", Some(&self.rule));
    }
    fn read(r: &FrameReader) -> PolarsResult<Vec<Self>> {
        columns!(r; source: str, key_type: str, key: str, customer_id: str, rule: str);
        (0..r.height())
            .map(|i| {
                Ok(Identity {
                    source: req(source[i], "source")?,
                    key_type: req(key_type[i], "key_type")?,
                    key: req(key[i].clone(), "key")?,
                    customer_id: req(customer_id[i].clone(), "customer_id")?,
                    rule: req(rule[i], "rule")?,
                })
            })
            .collect()
    }
}

impl Row for CustomerMerge {
    const TABLE: Table = Table::CustomerMerges;
    fn push(&self, b: &mut FrameBuilder) {
        b.str("merged_id", Some(&self.merged_id));
        b.str("customer_id", Some(&self.customer_id));
    }
    fn read(r: &FrameReader) -> PolarsResult<Vec<Self>> {
        columns!(r; merged_id: str, customer_id: str);
        (0..r.height())
            .map(|i| {
                Ok(CustomerMerge {
                    merged_id: req(merged_id[i].clone(), "merged_id")?,
                    customer_id: req(customer_id[i].clone(), "customer_id")?,
                })
            })
            .collect()
    }
}

impl Row for Tombstone {
    const TABLE: Table = Table::Tombstones;
    fn push(&self, b: &mut FrameBuilder) {
        b.str("key_type", Some(&self.key_type));
        b.str("key_sha256", Some(&self.key_sha256));
        b.ts("forgotten_at", Some(self.forgotten_at));
    }
    fn read(r: &FrameReader) -> PolarsResult<Vec<Self>> {
        columns!(r; key_type: str, key_sha256: str, forgotten_at: ts);
        (0..r.height())
            .map(|i| {
                Ok(Tombstone {
                    key_type: req(key_type[i].clone(), "key_type")?,
                    key_sha256: req(key_sha256[i].clone(), "key_sha256")?,
                    forgotten_at: req(forgotten_at[i], "forgotten_at")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn big_rows_stay_small() {
        // Ten million orders are held while ingesting: every byte here is 10 MB of peak memory.
        assert_eq!(std::mem::size_of::<Order>(), 256);
        assert_eq!(std::mem::size_of::<Item>(), 112);
        assert_eq!(std::mem::size_of::<Identity>(), 64);
        assert_eq!(std::mem::size_of::<EventId>(), 24);
        assert_eq!(std::mem::size_of::<Event>(), 192);
        assert_eq!(std::mem::size_of::<Profile>(), 232);
    }

    /// Ids order, compare and print as their text, whether held as a digest or as text.
    #[test]
    fn event_ids_behave_as_their_text() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut texts: Vec<String> = (0..300)
            .map(|i| match i % 5 {
                0 => format!("{:032x}", rng.gen::<u128>()).to_uppercase(), // not lowercase: kept as text
                1 => format!("{:031x}", rng.gen::<u64>()),                 // 31 digits
                2 => format!("e{}", rng.gen::<u16>()),
                _ => format!("{:032x}", rng.gen::<u128>() >> (rng.gen::<u32>() % 128)),
            })
            .collect();
        texts.push(String::new());
        let ids: Vec<EventId> = texts.iter().map(|t| EventId::from(t.as_str())).collect();
        assert!(ids.iter().filter(|id| matches!(id.0, IdRepr::Digest(_))).count() >= 100);
        for (a, ta) in ids.iter().zip(&texts) {
            assert_eq!(&a.to_string(), ta);
            for (b, tb) in ids.iter().zip(&texts) {
                assert_eq!(a.cmp(b), ta.cmp(tb), "{ta} vs {tb}");
                assert_eq!(a == b, ta == tb);
                assert!(a != b || a.hash64() == b.hash64());
            }
        }
    }

    #[test]
    fn order_roundtrips_through_a_frame() {
        let o = Order {
            order_id: "pos:1".into(),
            source: "pos".into(),
            channel: "offline".into(),
            store: None,
            customer_key: Some("M1".into()),
            customer_id: Some("c1".into()),
            status: "completed".into(),
            created_at: 1_700_000_000_000_000,
            paid_at: None.into(),
            shipped_at: Some(1_700_000_100_000_000).into(),
            completed_at: None.into(),
            currency: "CNY".into(),
            gross_amount: 10.0,
            discount: 1.0,
            shipping: 0.0,
            tax: 0.0,
            refund_amount: 0.0,
            net_amount: 9.0,
            email: None,
            phone: Some("13900000000".into()),
            name: Some("王".into()),
            email_opt_in: Some(true),
            sms_opt_in: None,
        };
        let df = Order::to_frame(std::slice::from_ref(&o)).unwrap();
        crate::schema::validate(Table::Orders, &df).unwrap();
        assert_eq!(Order::from_frame(&df).unwrap(), vec![o]);
    }
}

/// The long strings of the big tables' rows move to the text arena when their table is spilled
/// ([`super::store::SpillRow`]).
mod spill_rows {
    use super::*;
    use crate::lake::store::{spill_texts, SpillRow};
    use std::path::Path;

    impl SpillRow for Order {
        fn spill_heap(&mut self, dir: &Path) {
            let Order { order_id, customer_key, customer_id, email, phone, name, .. } = self;
            spill_texts(
                dir,
                [Some(order_id)]
                    .into_iter()
                    .chain([customer_key, customer_id, email, phone, name].map(Option::as_mut))
                    .flatten(),
            );
        }
    }

    impl SpillRow for Item {
        fn spill_heap(&mut self, dir: &Path) {
            let Item { order_id, sku, product_name, .. } = self;
            spill_texts(dir, [Some(order_id), sku.as_mut(), product_name.as_mut()].into_iter().flatten());
        }
    }

    impl SpillRow for Profile {
        fn spill_heap(&mut self, dir: &Path) {
            let Profile { profile_id, customer_key, customer_id, email, phone, name, tags, .. } = self;
            let opts = [customer_key, customer_id, email, phone, name, tags].map(Option::as_mut);
            spill_texts(dir, [Some(profile_id)].into_iter().chain(opts).flatten());
        }
    }

    impl SpillRow for Event {
        fn spill_heap(&mut self, dir: &Path) {
            let Event { customer_key, customer_id, email, phone, campaign_id, sku, .. } = self;
            spill_texts(
                dir,
                [customer_key, customer_id, email, phone, campaign_id, sku].into_iter().filter_map(Option::as_mut),
            );
        }
    }

    impl SpillRow for Customer {
        fn spill_heap(&mut self, dir: &Path) {
            let Customer { customer_id, email, phone, name, .. } = self;
            spill_texts(dir, [Some(customer_id), email.as_mut(), phone.as_mut(), name.as_mut()].into_iter().flatten());
        }
    }

    impl SpillRow for Identity {
        fn spill_heap(&mut self, dir: &Path) {
            let Identity { key, customer_id, .. } = self;
            spill_texts(dir, [key, customer_id]);
        }
    }
}
