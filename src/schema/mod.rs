//! Canonical tables: every column name, dtype and nullability in one place.
//!
//! ## Method
//! Each table is a list of [`ColumnSpec`]s. [`validate`] checks a [`DataFrame`] against its table:
//! missing columns, wrong dtypes, nulls in required columns, duplicate keys and out-of-vocabulary
//! status values each give their own [`SchemaError`] variant naming the table and column.
//! Timestamps are `Datetime(µs, "UTC")`; money is `f64` in the order's currency; ids are text.
//!
//! ## Example
//! ```
//! use custlens::schema::{Table, spec};
//! assert!(spec(Table::Orders).iter().any(|c| c.name == "net_amount"));
//! ```

mod frame;

pub use frame::{FrameBuilder, FrameReader};

use polars::prelude::*;
use std::fmt;

/// ISO 4217's code for "no currency": the currency of orders whose file and config name none (a
/// canonical file without a `currency` column read without `[currency] base`; a cancelled order
/// whose export leaves its currency cell empty). Amounts in it are taken as they are.
pub const NO_CURRENCY: &str = "XXX";

/// The canonical tables of the lake, in the order `ingest` writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Orders,
    OrderItems,
    Products,
    Profiles,
    Customers,
    Identities,
    CustomerMerges,
    Tombstones,
    Events,
    Tickets,
    Rejects,
    Files,
}

impl Table {
    /// Every table, in write order.
    pub const ALL: [Table; 12] = [
        Table::Orders,
        Table::OrderItems,
        Table::Products,
        Table::Profiles,
        Table::Customers,
        Table::Identities,
        Table::CustomerMerges,
        Table::Tombstones,
        Table::Events,
        Table::Tickets,
        Table::Rejects,
        Table::Files,
    ];

    /// The table's name: its folder in the lake and its name in errors.
    pub fn name(self) -> &'static str {
        match self {
            Table::Orders => "orders",
            Table::OrderItems => "order_items",
            Table::Products => "products",
            Table::Profiles => "profiles",
            Table::Customers => "customers",
            Table::Identities => "identities",
            Table::CustomerMerges => "customer_merges",
            Table::Tombstones => "tombstones",
            Table::Events => "events",
            Table::Tickets => "tickets",
            Table::Rejects => "rejects",
            Table::Files => "files",
        }
    }

    /// Parses a table name as written in mapping files (`table = "orders"`).
    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The column that must be unique, if any.
    pub fn key(self) -> Option<&'static str> {
        match self {
            Table::Orders => Some("order_id"),
            Table::Products => Some("sku"),
            Table::Profiles => Some("profile_id"),
            Table::Customers => Some("customer_id"),
            Table::Events => Some("event_id"),
            Table::Tickets => Some("ticket_id"),
            _ => None,
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The logical type of a canonical column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Str,
    I64,
    F64,
    Bool,
    /// `Datetime(Microseconds, UTC)`.
    Timestamp,
}

impl ColType {
    /// The polars dtype the lake stores.
    pub fn dtype(self) -> DataType {
        match self {
            ColType::Str => DataType::String,
            ColType::I64 => DataType::Int64,
            ColType::F64 => DataType::Float64,
            ColType::Bool => DataType::Boolean,
            ColType::Timestamp => DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
        }
    }
}

/// One canonical column.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub ty: ColType,
    pub nullable: bool,
    pub doc: &'static str,
}

const fn col(name: &'static str, ty: ColType, nullable: bool, doc: &'static str) -> ColumnSpec {
    ColumnSpec { name, ty, nullable, doc }
}

use ColType::*;

/// `orders`: one row per order, any source.
pub const ORDERS: &[ColumnSpec] = &[
    col("order_id", Str, false, "`source:source order id`, unique across sources"),
    col("source", Str, false, "source system name, e.g. shopify, taobao, pos"),
    col("channel", Str, false, "sales channel, e.g. online_store, tmall, offline"),
    col("store", Str, true, "store or shop name"),
    col("customer_key", Str, true, "the source's own customer key (member name, card number)"),
    col("customer_id", Str, false, "custlens customer id assigned by identity resolution"),
    col("status", Str, false, "pending_payment | paid | shipped | completed | cancelled | refunded"),
    col("created_at", Timestamp, false, "order placed (UTC)"),
    col("paid_at", Timestamp, true, "payment time (UTC)"),
    col("shipped_at", Timestamp, true, "shipment time (UTC)"),
    col("completed_at", Timestamp, true, "completion / receipt confirmed (UTC)"),
    col("currency", Str, false, "ISO 4217 code; `XXX` (no currency) when neither the file nor the config names one"),
    col("gross_amount", F64, false, "merchandise before discounts"),
    col("discount", F64, false, "order and line discounts"),
    col("shipping", F64, false, "shipping charged"),
    col("tax", F64, false, "tax charged"),
    col("refund_amount", F64, false, "amount refunded (0 when none)"),
    col("net_amount", F64, false, "gross − discount − refund; excludes shipping and tax"),
    col("email", Str, true, "email seen on the order (PII)"),
    col("phone", Str, true, "phone seen on the order (PII)"),
    col("name", Str, true, "buyer or recipient name seen on the order (PII)"),
    col("email_opt_in", Bool, true, "email marketing consent seen on the order"),
    col("sms_opt_in", Bool, true, "SMS marketing consent seen on the order"),
];

/// `order_items`: one row per order line.
pub const ORDER_ITEMS: &[ColumnSpec] = &[
    col("order_id", Str, false, "the order's canonical id"),
    col("line_no", I64, false, "1-based line number within the order"),
    col("sku", Str, true, "product SKU"),
    col("product_name", Str, true, "product title as sold"),
    col("quantity", I64, false, "units bought (0 only on a cancelled order's line)"),
    col("unit_price", F64, true, "price per unit before line discounts; null when the source gives no price"),
    col(
        "line_amount",
        F64,
        true,
        "quantity × unit_price unless the source says otherwise; null without a price (0 at quantity 0)",
    ),
    col("refunded_quantity", I64, false, "units refunded (0 when none)"),
];

/// `products`: the catalog.
pub const PRODUCTS: &[ColumnSpec] = &[
    col("sku", Str, false, "product SKU"),
    col("product_name", Str, true, "product title"),
    col("category", Str, true, "category"),
    col("price", F64, true, "list price"),
    col("cost", F64, true, "unit cost, for margins"),
];

/// `profiles`: customers as a source system lists them (a store's customer export, a mailing
/// list's audience): contacts and consent, no purchases.
pub const PROFILES: &[ColumnSpec] = &[
    col("profile_id", Str, false, "`source:id`, the id being the source's customer id, else the email, else the phone"),
    col("source", Str, false, "source system"),
    col("customer_key", Str, true, "the source's own customer id"),
    col("customer_id", Str, true, "resolved custlens customer id (set by ingest)"),
    col("email", Str, true, "email, lower-cased (PII)"),
    col("phone", Str, true, "phone in E.164 (PII)"),
    col("name", Str, true, "name (PII)"),
    col("country", Str, true, "country code of the default address"),
    col("email_opt_in", Bool, true, "accepts email marketing, as the source says"),
    col("sms_opt_in", Bool, true, "accepts SMS marketing, as the source says"),
    col("tags", Str, true, "the source's tags"),
    col("total_spent", F64, true, "lifetime spend as the source reports it (not used by analyses)"),
    col("total_orders", I64, true, "order count as the source reports it (not used by analyses)"),
    col("updated_at", Timestamp, true, "when the source last changed the profile; null in exports without dates"),
];

/// `customers`: one row per resolved customer.
pub const CUSTOMERS: &[ColumnSpec] = &[
    col("customer_id", Str, false, "custlens customer id"),
    col(
        "first_seen_at",
        Timestamp,
        true,
        "first dated order, event, ticket or profile (UTC); null when only undated profiles know the customer",
    ),
    col("channels", Str, false, "channels with orders, sorted, `;`-separated"),
    col("sources", Str, false, "sources with any record, sorted, `;`-separated"),
    col("n_keys", I64, false, "identifiers linked to this customer"),
    col("email", Str, true, "most recently seen email (PII)"),
    col("phone", Str, true, "most recently seen phone (PII)"),
    col("name", Str, true, "most recently seen name (PII)"),
    col("email_opt_in", Bool, true, "email consent: latest opt-in seen, false after an unsubscribe"),
    col("sms_opt_in", Bool, true, "SMS consent: latest seen"),
    col("unsubscribed_at", Timestamp, true, "latest unsubscribe (UTC)"),
];

/// `identities`: every identifier and the customer it resolved to.
pub const IDENTITIES: &[ColumnSpec] = &[
    col("source", Str, false, "source the identifier was seen in"),
    col(
        "key_type",
        Str,
        false,
        "member_id | email | phone | customer_id | record (an order or event id standing alone)",
    ),
    col("key", Str, false, "normalized identifier (PII for email/phone)"),
    col("customer_id", Str, false, "resolved customer"),
    col(
        "rule",
        Str,
        false,
        "how it was linked: self | exact_email | exact_phone | same_record | given | shared_ignored",
    ),
];

/// `customer_merges`: customers joined into another by a later load.
pub const CUSTOMER_MERGES: &[ColumnSpec] = &[
    col("merged_id", Str, false, "the id that no longer exists"),
    col("customer_id", Str, false, "the surviving id it was merged into"),
];

/// `tombstones`: identifiers of erased customers (`custlens forget`), hashed, so a later ingest
/// of an old export does not bring them back. No PII: only SHA-256 of the normalized key.
pub const TOMBSTONES: &[ColumnSpec] = &[
    col("key_type", Str, false, "email, phone, member_id or order"),
    col("key_sha256", Str, false, "SHA-256 (hex) of the normalized key (member ids and orders as `source:id`)"),
    col("forgotten_at", Timestamp, false, "when the erasure ran (UTC)"),
];

/// `events`: marketing and web events.
pub const EVENTS: &[ColumnSpec] = &[
    col("event_id", Str, false, "content hash of the event: stable dedup key"),
    col("source", Str, false, "source system"),
    col("customer_key", Str, true, "the source's customer key"),
    col("customer_id", Str, false, "resolved customer"),
    col("email", Str, true, "email on the event (PII)"),
    col("phone", Str, true, "phone on the event (PII)"),
    col("ts", Timestamp, false, "event time (UTC)"),
    col("channel", Str, false, "email | sms | web | app ..."),
    col(
        "event_type",
        Str,
        false,
        "email_sent | email_open | email_click | unsubscribe | sms_sent | sms_click | page_view | add_to_cart | begin_checkout | purchase",
    ),
    col("campaign_id", Str, true, "campaign"),
    col("sku", Str, true, "product, for cart and view events"),
];

/// `tickets`: after-sales service.
pub const TICKETS: &[ColumnSpec] = &[
    col("ticket_id", Str, false, "`source:source ticket id`"),
    col("source", Str, false, "source system"),
    col("customer_key", Str, true, "the source's customer key"),
    col("customer_id", Str, false, "resolved customer"),
    col("email", Str, true, "email on the ticket (PII)"),
    col("phone", Str, true, "phone on the ticket (PII)"),
    col("order_id", Str, true, "canonical order id the ticket is about"),
    col("kind", Str, false, "return | exchange | complaint | inquiry"),
    col("reason", Str, true, "free-text or coded reason"),
    col("status", Str, true, "ticket status as exported"),
    col("opened_at", Timestamp, false, "opened (UTC)"),
    col("resolved_at", Timestamp, true, "resolved (UTC)"),
    col("satisfaction", F64, true, "satisfaction score as exported"),
];

/// `rejects`: rows that could not be used, with where and why.
pub const REJECTS: &[ColumnSpec] = &[
    col("source_file", Str, false, "input file path as given"),
    col("line", I64, false, "1-based physical line where the record starts"),
    col("column", Str, true, "source column at fault, when one is"),
    col("raw", Str, false, "the record's text"),
    col("reason", Str, false, "what was wrong"),
];

/// `files`: every ingested file with its row accounting (rows_read = new + updated + unchanged + duplicate + rejected).
pub const FILES: &[ColumnSpec] = &[
    col("path", Str, false, "input file path as given"),
    col("sha256", Str, false, "content hash"),
    col("format", Str, false, "format or mapping used"),
    col("table", Str, false, "canonical table the rows went to"),
    col("rows_read", I64, false, "records read (header excluded)"),
    col("new", I64, false, "rows of records not in the lake before"),
    col("updated", I64, false, "rows of records that replaced a different stored version"),
    col("unchanged", I64, false, "rows of records identical to the stored version"),
    col("duplicate", I64, false, "rows of records already given earlier in the same ingest"),
    col("rejected", I64, false, "rows sent to rejects"),
];

/// The spec of a table.
pub fn spec(table: Table) -> &'static [ColumnSpec] {
    match table {
        Table::Orders => ORDERS,
        Table::OrderItems => ORDER_ITEMS,
        Table::Products => PRODUCTS,
        Table::Profiles => PROFILES,
        Table::Customers => CUSTOMERS,
        Table::Identities => IDENTITIES,
        Table::CustomerMerges => CUSTOMER_MERGES,
        Table::Tombstones => TOMBSTONES,
        Table::Events => EVENTS,
        Table::Tickets => TICKETS,
        Table::Rejects => REJECTS,
        Table::Files => FILES,
    }
}

/// The polars schema of a table.
pub fn polars_schema(table: Table) -> Schema {
    spec(table).iter().map(|c| Field::new(c.name.into(), c.ty.dtype())).collect()
}

/// Order statuses, the canonical vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    Shipped,
    Completed,
    Cancelled,
    Refunded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Statuses whose orders count as purchases (a partial refund keeps its status; a full one is `refunded`).
    pub fn is_purchase(self) -> bool {
        matches!(self, OrderStatus::Paid | OrderStatus::Shipped | OrderStatus::Completed)
    }
}

/// Event types, the canonical vocabulary.
pub const EVENT_TYPES: &[&str] = &[
    "email_sent",
    "email_open",
    "email_click",
    "unsubscribe",
    "sms_sent",
    "sms_click",
    "page_view",
    "view_item",
    "add_to_cart",
    "remove_from_cart",
    "begin_checkout",
    "purchase",
    "subscribe",
    "bounce",
    "spam_complaint",
    "other",
];

/// Ticket kinds, the canonical vocabulary.
pub const TICKET_KINDS: &[&str] = &["return", "exchange", "complaint", "inquiry"];

/// Why a frame does not match its canonical table.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SchemaError {
    #[error("table `{table}`: column `{column}` is missing")]
    MissingColumn { table: &'static str, column: &'static str },
    #[error("table `{table}`: column `{column}` has type {found}, expected {expected}")]
    WrongType { table: &'static str, column: &'static str, expected: String, found: String },
    #[error("table `{table}`: column `{column}` is required but row {row} is null")]
    NullInRequired { table: &'static str, column: &'static str, row: usize },
    #[error("table `{table}`: column `{column}` must be unique but `{value}` appears more than once")]
    DuplicateKey { table: &'static str, column: &'static str, value: String },
    #[error("table `{table}`: column `{column}` has value `{value}`, allowed: {allowed}")]
    InvalidValue { table: &'static str, column: &'static str, value: String, allowed: String },
    #[error("table `{table}`: {message}")]
    Polars { table: &'static str, message: String },
}

/// Checks a frame against its canonical table: columns, dtypes, nulls, key uniqueness, vocabularies.
///
/// Extra columns are allowed (later stages may add derived ones); column order is not checked.
pub fn validate(table: Table, df: &DataFrame) -> Result<(), SchemaError> {
    let t = table.name();
    let perr = |e: PolarsError| SchemaError::Polars { table: t, message: e.to_string() };
    for c in spec(table) {
        let column = df.column(c.name).map_err(|_| SchemaError::MissingColumn { table: t, column: c.name })?;
        let expected = c.ty.dtype();
        if column.dtype() != &expected && column.dtype() != &DataType::Null {
            return Err(SchemaError::WrongType {
                table: t,
                column: c.name,
                expected: expected.to_string(),
                found: column.dtype().to_string(),
            });
        }
        if !c.nullable && column.null_count() > 0 {
            let row = column.is_null().iter().position(|v| v == Some(true)).unwrap_or(0);
            return Err(SchemaError::NullInRequired { table: t, column: c.name, row });
        }
    }
    if let Some(key) = table.key() {
        let keys = df.column(key).map_err(perr)?.as_materialized_series().clone();
        if keys.n_unique().map_err(perr)? != keys.len() {
            let dup = first_duplicate(keys.str().map_err(perr)?);
            return Err(SchemaError::DuplicateKey { table: t, column: key, value: dup });
        }
    }
    let vocab: Option<(&'static str, Vec<&'static str>)> = match table {
        Table::Orders => Some(("status", OrderStatus::ALL.iter().map(|s| s.as_str()).collect())),
        Table::Events => Some(("event_type", EVENT_TYPES.to_vec())),
        Table::Tickets => Some(("kind", TICKET_KINDS.to_vec())),
        _ => None,
    };
    if let Some((column, allowed)) = vocab {
        let values = df.column(column).map_err(perr)?.str().map_err(perr)?;
        if let Some(bad) = values.iter().flatten().find(|v| !allowed.contains(v)) {
            return Err(SchemaError::InvalidValue {
                table: t,
                column,
                value: bad.to_string(),
                allowed: allowed.join(", "),
            });
        }
    }
    Ok(())
}

fn first_duplicate(values: &StringChunked) -> String {
    let mut seen = std::collections::HashSet::new();
    values.iter().flatten().find(|v| !seen.insert(*v)).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn products(skus: &[&str]) -> DataFrame {
        let mut b = FrameBuilder::new(Table::Products);
        for s in skus {
            b.str("sku", Some(s));
            b.str("product_name", None);
            b.str("category", None);
            b.f64("price", Some(1.0));
            b.f64("cost", None);
        }
        b.finish().unwrap()
    }

    #[test]
    fn valid_frame_passes() {
        validate(Table::Products, &products(&["a", "b"])).unwrap();
    }

    #[test]
    fn missing_column_names_table_and_column() {
        let df = products(&["a"]).drop("price").unwrap();
        let err = validate(Table::Products, &df).unwrap_err();
        assert_eq!(err, SchemaError::MissingColumn { table: "products", column: "price" });
        assert_eq!(err.to_string(), "table `products`: column `price` is missing");
    }

    #[test]
    fn wrong_type_is_reported() {
        let mut df = products(&["a"]);
        df.with_column(Column::new("price".into(), ["1.0"])).unwrap();
        let err = validate(Table::Products, &df).unwrap_err();
        assert!(matches!(err, SchemaError::WrongType { column: "price", .. }), "{err}");
    }

    #[test]
    fn null_in_required_column_gives_row() {
        let mut df = products(&["a", "b"]);
        df.with_column(Column::new("sku".into(), [Some("a"), None])).unwrap();
        let err = validate(Table::Products, &df).unwrap_err();
        assert_eq!(err, SchemaError::NullInRequired { table: "products", column: "sku", row: 1 });
    }

    #[test]
    fn duplicate_key_is_reported() {
        let err = validate(Table::Products, &products(&["a", "b", "a"])).unwrap_err();
        assert_eq!(err, SchemaError::DuplicateKey { table: "products", column: "sku", value: "a".into() });
    }

    #[test]
    fn status_outside_vocabulary_is_reported() {
        let mut b = FrameBuilder::new(Table::Orders);
        for c in ORDERS {
            match (c.name, c.ty) {
                ("status", _) => b.str(c.name, Some("shipped-ish")),
                (_, Str) => b.str(c.name, if c.nullable { None } else { Some("x") }),
                (_, Timestamp) => b.ts(c.name, if c.nullable { None } else { Some(0) }),
                (_, F64) => b.f64(c.name, Some(0.0)),
                (_, Bool) => b.bool(c.name, None),
                (_, I64) => b.i64(c.name, Some(0)),
            }
        }
        let err = validate(Table::Orders, &b.finish().unwrap()).unwrap_err();
        assert!(
            matches!(&err, SchemaError::InvalidValue { table: "orders", column: "status", value, .. } if value == "shipped-ish"),
            "{err}"
        );
    }
}
