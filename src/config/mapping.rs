//! Mapping files: how a source's columns become canonical columns, without code.
//!
//! ## Method
//! A mapping is TOML: the target `table`, the `source` name, the row `grain`, file `encoding`,
//! `timezone`, `date_format`, `currency`, cell `transforms`, and `[columns]` from canonical name to
//! the source's header (matched after trimming). Value maps (`[status]`, `[event_types]`, `[kinds]`)
//! turn source vocabularies into canonical ones. [`MappingFile`] is what the file says;
//! [`MappingFile::check`] turns it into a [`Mapping`] or names the key at fault.
//!
//! ## Example
//! ```
//! use custlens::config::mapping::MappingFile;
//! let m: MappingFile = toml::from_str(r#"
//! table = "orders"
//! source = "pos"
//! currency = "CNY"
//! [columns]
//! order_id = "Receipt"
//! customer_key = "Card"
//! created_at = "Time"
//! net_amount = "Amount"
//! "#).unwrap();
//! let m = m.check("pos.toml").unwrap();
//! assert_eq!(m.source_column("order_id"), Some("Receipt"));
//! ```

pub use super::encoding::Encoding;
use crate::schema::{
    OrderStatus, Table, EVENTS, EVENT_TYPES, ORDERS, ORDER_ITEMS, PRODUCTS, PROFILES, TICKETS, TICKET_KINDS,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Why a mapping file cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MappingError {
    #[error("mapping {file}: cannot read it: {message}")]
    Read { file: String, message: String },
    #[error("mapping {file}: {message}")]
    Parse { file: String, message: String },
    #[error("mapping {file}: key `{key}`: {message}")]
    Invalid { file: String, key: String, message: String },
}

/// Row grain of a source file.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    /// One row per order.
    #[default]
    Order,
    /// One row per order line; order fields may be blank on continuation rows.
    LineItem,
}

/// File syntax: `csv`, `tsv` or `jsonl` in a mapping's `format` (any letter case).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Csv,
    Tsv,
    Jsonl,
}

impl<'de> Deserialize<'de> for FileKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<FileKind, D::Error> {
        let name = String::deserialize(d)?;
        match name.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(FileKind::Csv),
            "tsv" => Ok(FileKind::Tsv),
            "jsonl" => Ok(FileKind::Jsonl),
            _ => Err(serde::de::Error::custom(format!("`{name}` is not a file format; use csv, tsv or jsonl"))),
        }
    }
}

impl FileKind {
    /// From the file extension: `.tsv`/`.txt` → TSV, `.jsonl`/`.ndjson` → JSONL, else CSV.
    pub fn from_path(p: &Path) -> FileKind {
        match p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("tsv") | Some("txt") => FileKind::Tsv,
            Some("jsonl") | Some("ndjson") => FileKind::Jsonl,
            _ => FileKind::Csv,
        }
    }
}

/// A cell transform, applied after trimming.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// `="123"` → `123`, `=""` → empty (spreadsheet-safe ids in Taobao exports).
    StripExcelFormula,
    /// A leading `'` (phones kept as text by spreadsheets).
    StripLeadingQuote,
    /// A leading tab (Douyin, Pinduoduo ids).
    StripLeadingTab,
    /// A trailing `元` and a leading `¥`/`￥`.
    StripYuanSuffix,
    /// A cell that is just `0` becomes empty (WooCommerce writes customer id 0 for guests).
    ZeroAsEmpty,
}

/// One ticket-kind rule: when `column`'s cell contains `contains` (case-insensitive), the kind is `kind`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KindRule {
    /// `tags`, `subject` or `kind` (mapped columns).
    pub column: String,
    pub contains: String,
    pub kind: String,
}

/// Order lines packed into cells of an order-grain export, one line per column: WebToffee's
/// `line_item_1`, `line_item_2`, … hold `name:Hoodie|product_id:31|sku:HOOD-M|quantity:2|total:36.00`.
///
/// A cell is `key:value` pairs joined by `|`; a piece whose key is not lower-case letters, digits
/// and `_` continues the previous value (a `|` inside a product name).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PackedLines {
    /// Header prefix of the line columns: a column is the prefix and its line number.
    pub prefix: String,
    /// Canonical item column (`sku`, `product_name`, `quantity`, `unit_price`, `line_amount`,
    /// `refunded_quantity`) → the key of its value in a cell.
    pub fields: BTreeMap<String, String>,
}

/// The item columns a [`PackedLines`] can fill.
const PACKED_FIELDS: &[&str] = &["sku", "product_name", "quantity", "unit_price", "line_amount", "refunded_quantity"];

/// A mapping file as written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    /// `orders`, `order_items`, `products`, `events` or `tickets`.
    pub table: String,
    /// Source name; prefixes order and ticket ids (`source:id`).
    pub source: String,
    /// Channel written on orders and events. Default: the source name.
    #[serde(default)]
    pub channel: Option<String>,
    /// Store name written on orders.
    #[serde(default)]
    pub store: Option<String>,
    #[serde(default)]
    pub grain: Grain,
    #[serde(default)]
    pub encoding: Encoding,
    /// `csv`, `tsv` or `jsonl`. Default: from the file extension. Excel workbooks (`.xlsx`,
    /// `.xls`) are recognised from their bytes whatever this says.
    #[serde(default)]
    pub format: Option<FileKind>,
    /// Worksheet to read from an Excel workbook. Default: the first sheet.
    #[serde(default)]
    pub sheet: Option<String>,
    /// Field delimiter for CSV (one character). Default `,` (tab for TSV).
    #[serde(default)]
    pub delimiter: Option<String>,
    /// IANA zone for timestamps without an offset. Default `UTC`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Region (ISO 3166-1 alpha-2, e.g. `CN`) for phones written without a country code; phones
    /// are stored in E.164. Default: `[identity] default_phone_region`.
    #[serde(default)]
    pub phone_region: Option<String>,
    /// chrono format for timestamps, or `epoch_s` / `epoch_ms` / `epoch_us` for integer times since
    /// 1970 UTC; default: ISO 8601 / RFC 3339 and common variants.
    #[serde(default)]
    pub date_format: Option<String>,
    /// Currency when no `currency` column is mapped. Default `USD`... only if mapped nowhere: required then.
    #[serde(default)]
    pub currency: Option<String>,
    /// Prefix for `order_id` references in `order_items` and `tickets`. Default: `source`.
    #[serde(default)]
    pub order_source: Option<String>,
    /// Transforms applied to every cell.
    #[serde(default)]
    pub transforms: Vec<Transform>,
    /// Extra transforms per canonical column.
    #[serde(default)]
    pub column_transforms: BTreeMap<String, Vec<Transform>>,
    /// Cell values read as null (after transforms), besides the empty string.
    #[serde(default)]
    pub null_values: Vec<String>,
    /// Keep orders that carry no customer identifier, each its own customer (Amazon reports have
    /// none). Default false: such rows are rejected.
    #[serde(default)]
    pub anonymous_orders: bool,
    /// Canonical column → source header.
    pub columns: BTreeMap<String, String>,
    /// Order lines packed in cells of an order-grain orders export ([`PackedLines`]).
    #[serde(default)]
    pub packed_lines: Option<PackedLines>,
    /// Canonical column → a fixed value for every record (e.g. `event_type = "unsubscribe"` for a
    /// list of unsubscribes); parsed like a cell.
    #[serde(default)]
    pub constants: BTreeMap<String, String>,
    /// Canonical column → { source value → replacement } applied after transforms; an empty
    /// replacement means null (e.g. `[values.satisfaction] Good = "1"`, `Bad = "0"`, `Offered = ""`).
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// Ticket kind rules, first match wins, before `kinds`: a case-insensitive substring of the
    /// mapped `tags`, `subject` or `kind` column (e.g. tag `return` → `return`).
    #[serde(default)]
    pub kind_rules: Vec<KindRule>,
    /// Canonical column → several source headers whose non-empty cells are joined with a space
    /// (e.g. `name = ["First Name", "Last Name"]`). A column is in `columns` or here, not both.
    #[serde(default)]
    pub concat: BTreeMap<String, Vec<String>>,
    /// Canonical column mapped in `columns` → source headers read in turn where its cell is
    /// empty (JD: `sku = "货号"`, the shop's own code, else `sku = ["商品ID"]`, the platform's).
    #[serde(default)]
    pub fallbacks: BTreeMap<String, Vec<String>>,
    /// Source status → canonical status; a key `value|detail` matches `status` with `status_detail`.
    #[serde(default)]
    pub status: BTreeMap<String, String>,
    /// Source event name → canonical event type.
    #[serde(default)]
    pub event_types: BTreeMap<String, String>,
    /// Source event name → the channel of its events, where it is not the file's `channel` (a
    /// Klaviyo export holds email, SMS and on-site events: `"Added to Cart" = "web"`). A mapped
    /// `channel` column still wins.
    #[serde(default)]
    pub event_channels: BTreeMap<String, String>,
    /// Source ticket type → canonical kind.
    #[serde(default)]
    pub kinds: BTreeMap<String, String>,
}

/// The rules of `[packed_lines]`: (key, message) of the first one broken.
fn check_packed_lines(p: &PackedLines, table: Table, grain: Grain) -> Result<(), (&'static str, String)> {
    if table != Table::Orders || grain != Grain::Order {
        return Err((
            "packed_lines",
            "fills the lines of an orders export with one row per order (grain = \"order\")".into(),
        ));
    }
    if p.prefix.trim().is_empty() {
        return Err((
            "packed_lines.prefix",
            "is empty; give the line columns' header prefix (e.g. \"line_item_\")".into(),
        ));
    }
    if let Some((canon, _)) = p.fields.iter().find(|(canon, _)| !PACKED_FIELDS.contains(&canon.as_str())) {
        return Err(("packed_lines.fields", format!("`{canon}` is not one of {}", PACKED_FIELDS.join(", "))));
    }
    if let Some((canon, _)) = p.fields.iter().find(|(_, key)| key.trim().is_empty()) {
        return Err(("packed_lines.fields", format!("`{canon}` has an empty key")));
    }
    let has = |c: &str| p.fields.contains_key(c);
    if !has("sku") && !has("product_name") {
        return Err(("packed_lines.fields", "needs `sku` or `product_name`".into()));
    }
    if !has("unit_price") && !has("line_amount") {
        return Err(("packed_lines.fields", "needs `unit_price` or `line_amount`".into()));
    }
    Ok(())
}

/// A checked mapping, ready for ingest.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    pub name: String,
    pub table: Table,
    pub file: MappingFile,
    pub tz: chrono_tz::Tz,
    /// The checked `phone_region` (set from the config's default at ingest when the mapping has none).
    pub region: Option<crate::identity::PhoneRegion>,
}

/// Columns a mapping may name besides the table's own, per table.
const ORDER_EXTRA: &[&str] = &["status_detail"];
/// Ticket columns read only by `kind_rules`.
const TICKET_EXTRA: &[&str] = &["tags", "subject"];

fn allowed_columns(table: Table) -> Vec<&'static str> {
    let own = |spec: &'static [crate::schema::ColumnSpec]| spec.iter().map(|c| c.name).collect::<Vec<_>>();
    match table {
        Table::Orders => {
            let mut v = own(ORDERS);
            v.extend(ORDER_ITEMS.iter().map(|c| c.name).filter(|n| *n != "order_id"));
            v.extend(ORDER_EXTRA);
            v
        }
        Table::OrderItems => own(ORDER_ITEMS),
        Table::Products => own(PRODUCTS),
        Table::Profiles => own(PROFILES).into_iter().filter(|n| *n != "profile_id").collect(),
        Table::Events => own(EVENTS).into_iter().filter(|n| *n != "event_id").collect(),
        Table::Tickets => {
            let mut v = own(TICKETS);
            v.extend(TICKET_EXTRA);
            v
        }
        _ => Vec::new(),
    }
}

/// Canonical columns a mapping of `table` must map (and a file must have).
pub fn required_columns(table: Table) -> &'static [&'static str] {
    match table {
        Table::Orders => &["order_id", "created_at"],
        Table::OrderItems => &["order_id"],
        Table::Products => &["sku"],
        Table::Events => &["ts", "event_type"],
        Table::Tickets => &["ticket_id", "opened_at"],
        _ => &[],
    }
}

impl MappingFile {
    /// Reads and checks a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, MappingError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| MappingError::Read { file: file.clone(), message: e.to_string() })?;
        let m: MappingFile =
            toml::from_str(&text).map_err(|e| MappingError::Parse { file: file.clone(), message: e.to_string() })?;
        m.check(&file)
    }

    /// Checks every rule; `name` is used in messages (usually the file path).
    pub fn check(self, name: &str) -> Result<Mapping, MappingError> {
        let invalid = |key: &str, message: String| MappingError::Invalid {
            file: name.to_string(),
            key: key.to_string(),
            message,
        };
        let table = Table::from_name(&self.table).filter(|t| !allowed_columns(*t).is_empty()).ok_or_else(|| {
            invalid(
                "table",
                format!("`{}` is not one of orders, order_items, products, profiles, events, tickets", self.table),
            )
        })?;
        if self.source.trim().is_empty() || self.source.contains(':') {
            return Err(invalid("source", "must be a non-empty name without `:`".into()));
        }
        let allowed = allowed_columns(table);
        for (canon, src) in &self.columns {
            if !allowed.contains(&canon.as_str()) {
                return Err(invalid(
                    &format!("columns.{canon}"),
                    format!("`{canon}` is not a canonical column of `{}`; allowed: {}", table, allowed.join(", ")),
                ));
            }
            if src.trim().is_empty() {
                return Err(invalid(&format!("columns.{canon}"), "source header is empty".into()));
            }
        }
        for (section, keys) in [
            ("constants", self.constants.keys().collect::<Vec<_>>()),
            ("values", self.values.keys().collect::<Vec<_>>()),
        ] {
            for canon in keys {
                if !allowed.contains(&canon.as_str()) {
                    return Err(invalid(
                        &format!("{section}.{canon}"),
                        format!("`{canon}` is not a canonical column of `{}`; allowed: {}", table, allowed.join(", ")),
                    ));
                }
                let mapped = self.columns.contains_key(canon) || self.concat.contains_key(canon);
                if section == "constants" && mapped {
                    return Err(invalid(&format!("constants.{canon}"), "also mapped to a column; keep one".into()));
                }
                if section == "values" && !mapped {
                    return Err(invalid(&format!("values.{canon}"), format!("`{canon}` is not mapped in [columns]")));
                }
            }
        }
        for (i, r) in self.kind_rules.iter().enumerate() {
            if table != Table::Tickets || !["tags", "subject", "kind"].contains(&r.column.as_str()) {
                return Err(invalid(
                    &format!("kind_rules[{i}].column"),
                    format!("`{}`: kind rules apply to tickets' tags, subject or kind", r.column),
                ));
            }
            if !self.columns.contains_key(&r.column) {
                return Err(invalid(&format!("kind_rules[{i}].column"), format!("`{}` is not mapped", r.column)));
            }
            if !TICKET_KINDS.contains(&r.kind.as_str()) || r.contains.trim().is_empty() {
                return Err(invalid(
                    &format!("kind_rules[{i}]"),
                    format!("needs a non-empty `contains` and a kind among {}", TICKET_KINDS.join(", ")),
                ));
            }
        }
        for req in required_columns(table) {
            if !self.columns.contains_key(*req) && !self.constants.contains_key(*req) {
                return Err(invalid(
                    &format!("columns.{req}"),
                    format!("table `{table}` needs a source column for `{req}`"),
                ));
            }
        }
        if table == Table::Orders {
            let has_customer =
                ["customer_key", "customer_id", "email", "phone"].iter().any(|c| self.columns.contains_key(*c));
            if !has_customer && !self.anonymous_orders {
                return Err(invalid(
                    "columns",
                    "orders need at least one of customer_key, customer_id, email, phone (or `anonymous_orders = true`)".into(),
                ));
            }
            let has_amount = ["gross_amount", "net_amount", "line_amount", "unit_price"]
                .iter()
                .any(|c| self.columns.contains_key(*c));
            if !has_amount {
                return Err(invalid(
                    "columns",
                    "orders need gross_amount, net_amount or item prices (line_amount / unit_price)".into(),
                ));
            }
            if self.grain == Grain::LineItem
                && !self.columns.contains_key("sku")
                && !self.columns.contains_key("product_name")
            {
                return Err(invalid("grain", "line_item grain needs a `sku` or `product_name` column".into()));
            }
            if !self.columns.contains_key("currency") && self.currency.is_none() {
                return Err(invalid("currency", "give `currency = \"CNY\"` (or map a currency column)".into()));
            }
        }
        if let Some(p) = &self.packed_lines {
            check_packed_lines(p, table, self.grain).map_err(|(key, message)| invalid(key, message))?;
        }
        for (from, to) in &self.status {
            if OrderStatus::parse(to).is_none() {
                return Err(invalid(
                    &format!("status.{from}"),
                    format!("`{to}` is not a status; use one of pending_payment, paid, shipped, completed, cancelled, refunded"),
                ));
            }
        }
        for (from, to) in &self.event_types {
            if !EVENT_TYPES.contains(&to.as_str()) {
                return Err(invalid(
                    &format!("event_types.{from}"),
                    format!("`{to}` is not an event type; use one of {}", EVENT_TYPES.join(", ")),
                ));
            }
        }
        if let Some((from, _)) = self.event_channels.iter().find(|(_, to)| to.trim().is_empty()) {
            return Err(invalid(
                &format!("event_channels.{from}"),
                "is empty; give a channel such as email, sms or web".into(),
            ));
        }
        for (from, to) in &self.kinds {
            if !TICKET_KINDS.contains(&to.as_str()) {
                return Err(invalid(
                    &format!("kinds.{from}"),
                    format!("`{to}` is not a ticket kind; use one of {}", TICKET_KINDS.join(", ")),
                ));
            }
        }
        for (canon, parts) in &self.concat {
            if !allowed.contains(&canon.as_str()) {
                return Err(invalid(
                    &format!("concat.{canon}"),
                    format!("`{canon}` is not a canonical column of `{}`; allowed: {}", table, allowed.join(", ")),
                ));
            }
            if self.columns.contains_key(canon) {
                return Err(invalid(&format!("concat.{canon}"), "also mapped in [columns]; keep one".into()));
            }
            if parts.is_empty() || parts.iter().any(|p| p.trim().is_empty()) {
                return Err(invalid(&format!("concat.{canon}"), "needs one or more non-empty source headers".into()));
            }
        }
        for (canon, headers) in &self.fallbacks {
            if !self.columns.contains_key(canon) {
                return Err(invalid(
                    &format!("fallbacks.{canon}"),
                    format!("`{canon}` is not mapped in [columns]; a fallback follows a column"),
                ));
            }
            if headers.is_empty() || headers.iter().any(|p| p.trim().is_empty()) {
                return Err(invalid(
                    &format!("fallbacks.{canon}"),
                    "needs one or more non-empty source headers".into(),
                ));
            }
        }
        for canon in self.column_transforms.keys() {
            if !self.columns.contains_key(canon) && !self.concat.contains_key(canon) {
                return Err(invalid(
                    &format!("column_transforms.{canon}"),
                    format!("`{canon}` is not mapped in [columns]"),
                ));
            }
        }
        if let Some(d) = &self.delimiter {
            if d.chars().count() != 1 || !d.is_ascii() {
                return Err(invalid("delimiter", format!("`{d}` must be one ASCII character, e.g. \",\" or \"\\t\"")));
            }
        }
        let tz = match &self.timezone {
            None => chrono_tz::UTC,
            Some(z) => z
                .parse::<chrono_tz::Tz>()
                .map_err(|_| invalid("timezone", format!("`{z}` is not an IANA time zone, e.g. Asia/Shanghai")))?,
        };
        if let Some(f) = self.date_format.as_ref().filter(|f| !f.starts_with("epoch_")) {
            if chrono::format::StrftimeItems::new(f).any(|i| matches!(i, chrono::format::Item::Error)) {
                return Err(invalid(
                    "date_format",
                    format!("`{f}` is not a valid chrono format, e.g. %Y-%m-%d %H:%M:%S"),
                ));
            }
        }
        if let Some(f) = self.date_format.as_ref().filter(|f| f.starts_with("epoch_")) {
            if !["epoch_s", "epoch_ms", "epoch_us"].contains(&f.as_str()) {
                return Err(invalid("date_format", format!("`{f}`: use epoch_s, epoch_ms or epoch_us")));
            }
        }
        let region = match &self.phone_region {
            None => None,
            Some(r) => Some(crate::identity::phone_region(r).ok_or_else(|| {
                invalid("phone_region", format!("`{r}` is not an ISO 3166-1 alpha-2 region code, e.g. CN, US, GB"))
            })?),
        };
        Ok(Mapping { name: name.to_string(), table, file: self, tz, region })
    }
}

impl Mapping {
    /// The canonical mapping for files whose headers are canonical column names.
    ///
    /// The table is inferred from the headers: `event_type` → events, `ticket_id` → tickets,
    /// `order_id` → orders (line grain when `sku` or `product_name` is present), `sku` alone → products.
    ///
    /// Orders without a `currency` column are in `default_currency` (the config's `[currency]
    /// base`), else in [`crate::schema::NO_CURRENCY`] (`XXX`): the four columns `order_id`,
    /// `customer_id`, `created_at`, `net_amount` are a file that needs no config.
    pub fn canonical(name: &str, headers: &[String], default_currency: Option<&str>) -> Result<Mapping, MappingError> {
        let has = |c: &str| headers.iter().any(|h| h == c);
        let table = if has("event_type") {
            Table::Events
        } else if has("ticket_id") {
            Table::Tickets
        } else if has("order_id") {
            Table::Orders
        } else if has("sku") {
            Table::Products
        } else {
            return Err(MappingError::Invalid {
                file: name.to_string(),
                key: "header".into(),
                message: "a canonical file needs an order_id, sku, event_type or ticket_id column".into(),
            });
        };
        // Orders whose file and config name no currency are in one unnamed currency, `XXX`.
        let currency = match (table, default_currency) {
            (_, Some(c)) => Some(c.to_string()),
            (Table::Orders, None) if !has("currency") => Some(crate::schema::NO_CURRENCY.to_string()),
            (_, None) => None,
        };
        let allowed = allowed_columns(table);
        let columns = headers
            .iter()
            .filter(|h| allowed.contains(&h.as_str()))
            .map(|h| (h.clone(), h.clone()))
            .collect::<BTreeMap<_, _>>();
        let grain =
            if table == Table::Orders && (has("sku") || has("product_name")) { Grain::LineItem } else { Grain::Order };
        let file = MappingFile {
            table: table.name().into(),
            source: "canonical".into(),
            channel: None,
            store: None,
            grain,
            encoding: Encoding::Auto,
            format: None,
            sheet: None,
            delimiter: None,
            timezone: None,
            phone_region: None,
            date_format: None,
            currency,
            order_source: None,
            anonymous_orders: false,
            transforms: Vec::new(),
            column_transforms: BTreeMap::new(),
            concat: BTreeMap::new(),
            fallbacks: BTreeMap::new(),
            constants: BTreeMap::new(),
            values: BTreeMap::new(),
            kind_rules: Vec::new(),
            null_values: Vec::new(),
            columns,
            packed_lines: None,
            status: BTreeMap::new(),
            event_types: BTreeMap::new(),
            event_channels: BTreeMap::new(),
            kinds: BTreeMap::new(),
        };
        let mut m = file.check(name)?;
        m.name = "canonical".into();
        Ok(m)
    }

    /// The source header mapped to a canonical column.
    pub fn source_column(&self, canonical: &str) -> Option<&str> {
        self.file.columns.get(canonical).map(String::as_str)
    }

    /// The channel written on records.
    pub fn channel(&self) -> &str {
        self.file.channel.as_deref().unwrap_or(&self.file.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> String {
        r#"
table = "orders"
source = "taobao"
encoding = "gbk"
timezone = "Asia/Shanghai"
currency = "CNY"
transforms = ["strip_excel_formula", "strip_leading_quote"]
[column_transforms]
net_amount = ["strip_yuan_suffix"]
[columns]
order_id = "订单编号"
customer_key = "买家会员名"
created_at = "订单创建时间"
net_amount = "买家实际支付金额"
status = "订单状态"
status_detail = "订单关闭原因"
[status]
"交易成功" = "completed"
"交易关闭|退款" = "refunded"
"#
        .to_string()
    }

    fn check(text: &str) -> Result<Mapping, MappingError> {
        toml::from_str::<MappingFile>(text)
            .map_err(|e| MappingError::Parse { file: "t.toml".into(), message: e.to_string() })?
            .check("t.toml")
    }

    #[test]
    fn parses_a_full_mapping() {
        let m = check(&base()).unwrap();
        assert_eq!(m.table, Table::Orders);
        assert_eq!(m.file.encoding, Encoding::Fixed(encoding_rs::GBK));
        assert_eq!(m.tz, chrono_tz::Asia::Shanghai);
        assert_eq!(m.file.transforms, vec![Transform::StripExcelFormula, Transform::StripLeadingQuote]);
        assert_eq!(m.file.status["交易关闭|退款"], "refunded");
        assert_eq!(m.channel(), "taobao");
    }

    #[test]
    fn unknown_canonical_column_is_named() {
        let err =
            check(&base().replace("net_amount = \"买家实际支付金额\"", "net = \"买家实际支付金额\"")).unwrap_err();
        assert!(matches!(&err, MappingError::Invalid { key, .. } if key == "columns.net"), "{err}");
    }

    #[test]
    fn bad_status_target_is_named() {
        let err = check(&base().replace("\"completed\"", "\"done\"")).unwrap_err();
        assert!(matches!(&err, MappingError::Invalid { key, .. } if key == "status.交易成功"), "{err}");
    }

    #[test]
    fn fallbacks_follow_a_mapped_column() {
        let with = |extra: &str| check(&format!("{}\n[fallbacks]\n{extra}\n", base()));
        assert_eq!(with("customer_key = [\"买家昵称\"]").unwrap().file.fallbacks["customer_key"], vec!["买家昵称"]);
        let err = with("email = [\"邮箱\"]").unwrap_err();
        assert!(matches!(&err, MappingError::Invalid { key, .. } if key == "fallbacks.email"), "{err}");
        let err = with("customer_key = []").unwrap_err();
        assert!(err.to_string().contains("non-empty"), "{err}");
    }

    #[test]
    fn packed_lines_rules_are_named() {
        let with = |fields: &str| {
            check(&format!("{}\n[packed_lines]\nprefix = \"line_item_\"\n[packed_lines.fields]\n{fields}\n", base()))
        };
        let m = with("sku = \"sku\"\nquantity = \"quantity\"\nline_amount = \"sub_total\"").unwrap();
        assert_eq!(m.file.packed_lines.unwrap().fields["line_amount"], "sub_total");
        let key = |fields: &str| match with(fields).unwrap_err() {
            MappingError::Invalid { key, message, .. } => format!("{key}: {message}"),
            e => panic!("{e}"),
        };
        assert!(key("sku = \"sku\"").contains("unit_price` or `line_amount"));
        assert!(key("line_amount = \"total\"").contains("`sku` or `product_name`"));
        assert!(
            key("sku = \"sku\"\nline_amount = \"total\"\nprice = \"p\"").starts_with("packed_lines.fields: `price`")
        );
        assert!(key("sku = \" \"\nline_amount = \"total\"").contains("`sku` has an empty key"));
        let lines =
            "[packed_lines]\nprefix = \"line_item_\"\n[packed_lines.fields]\nsku = \"sku\"\nline_amount = \"total\"\n";
        let line_grain = base().replace("[columns]\n", "[columns]\nsku = \"货号\"\n");
        let err = check(&format!("grain = \"line_item\"\n{line_grain}\n{lines}")).unwrap_err();
        assert!(matches!(&err, MappingError::Invalid { key, .. } if key == "packed_lines"), "{err}");
        let err = check(&format!("{}\n{}", base(), lines.replace("line_item_", " "))).unwrap_err();
        assert!(matches!(&err, MappingError::Invalid { key, .. } if key == "packed_lines.prefix"), "{err}");
    }

    #[test]
    fn empty_event_channel_is_named() {
        let with = |extra: &str| check(&format!("{}\n[event_channels]\n{extra}\n", base()));
        assert_eq!(with("\"Added to Cart\" = \"web\"").unwrap().file.event_channels["Added to Cart"], "web");
        let err = with("\"Added to Cart\" = \" \"").unwrap_err();
        assert!(matches!(&err, MappingError::Invalid { key, .. } if key == "event_channels.Added to Cart"), "{err}");
    }

    #[test]
    fn bad_timezone_is_named() {
        let err = check(&base().replace("Asia/Shanghai", "China")).unwrap_err();
        assert!(matches!(&err, MappingError::Invalid { key, .. } if key == "timezone"), "{err}");
    }

    #[test]
    fn concat_rules_are_named() {
        let with = |extra: &str| check(&format!("{}\n[concat]\n{extra}\n", base()));
        let ok = with("name = [\"First\", \"Last\"]").unwrap();
        assert_eq!(ok.file.concat["name"], vec!["First".to_string(), "Last".to_string()]);
        for (bad, why) in [
            ("nickname = [\"A\"]", "not a canonical column"),
            ("name = []", "non-empty"),
            ("name = [\" \"]", "non-empty"),
        ] {
            let err = with(bad).unwrap_err();
            assert!(matches!(&err, MappingError::Invalid { key, .. } if key.starts_with("concat.")), "{err}");
            assert!(err.to_string().contains(why), "{err}");
        }
        let twice = check(&format!("{}\n[concat]\ncustomer_key = [\"A\", \"B\"]\n", base())).unwrap_err();
        assert!(twice.to_string().contains("also mapped in [columns]"), "{twice}");
    }

    #[test]
    fn constants_values_and_kind_rules_are_checked() {
        let with = |extra: &str| check(&format!("{}\n{extra}\n", base()));
        let err = with("[constants]\nstatus = \"paid\"").unwrap_err();
        assert!(err.to_string().contains("also mapped"), "{err}");
        let err = with("[constants]\nnope = \"x\"").unwrap_err();
        assert!(matches!(&err, MappingError::Invalid { key, .. } if key == "constants.nope"), "{err}");
        let err = with("[values.currency]\nRMB = \"CNY\"").unwrap_err();
        assert!(matches!(&err, MappingError::Invalid { key, .. } if key == "values.currency"), "{err}");
        with("[values.status]\n\"交易完成\" = \"交易成功\"").unwrap();
        let err = with("[[kind_rules]]\ncolumn = \"tags\"\ncontains = \"return\"\nkind = \"return\"").unwrap_err();
        assert!(matches!(&err, MappingError::Invalid { key, .. } if key == "kind_rules[0].column"), "orders: {err}");
        let err = check(&base().replace("timezone = ", "date_format = \"epoch_ns\"\ntimezone = ")).unwrap_err();
        assert!(matches!(&err, MappingError::Invalid { key, .. } if key == "date_format"), "{err}");
    }

    #[test]
    fn bad_phone_region_is_named() {
        let err = check(&base().replace("timezone = ", "phone_region = \"ZZ\"\ntimezone = ")).unwrap_err();
        assert!(matches!(&err, MappingError::Invalid { key, .. } if key == "phone_region"), "{err}");
    }

    #[test]
    fn missing_required_column() {
        let err = check(&base().replace("created_at = \"订单创建时间\"\n", "")).unwrap_err();
        assert!(matches!(&err, MappingError::Invalid { key, .. } if key == "columns.created_at"), "{err}");
    }

    #[test]
    fn file_format_is_read_in_any_case_and_a_bad_one_is_named() {
        for (name, kind) in [("csv", FileKind::Csv), ("TSV", FileKind::Tsv), ("JsonL", FileKind::Jsonl)] {
            let m = check(&base().replace("timezone = ", &format!("format = \"{name}\"\ntimezone = "))).unwrap();
            assert_eq!(m.file.format, Some(kind), "{name}");
        }
        let err = check(&base().replace("timezone = ", "format = \"xlsx\"\ntimezone = ")).unwrap_err().to_string();
        assert!(err.contains("`xlsx` is not a file format; use csv, tsv or jsonl"), "{err}");
    }

    #[test]
    fn encoding_takes_whatwg_labels_and_a_bad_one_is_named_with_examples() {
        for (label, enc) in [
            ("utf-8", encoding_rs::UTF_8),
            ("windows-1252", encoding_rs::WINDOWS_1252),
            ("GB18030", encoding_rs::GB18030),
            ("shift_jis", encoding_rs::SHIFT_JIS),
        ] {
            let m = check(&base().replace("encoding = \"gbk\"", &format!("encoding = \"{label}\""))).unwrap();
            assert_eq!(m.file.encoding, Encoding::Fixed(enc), "{label}");
        }
        let err = check(&base().replace("encoding = \"gbk\"", "encoding = \"utf-9\"")).unwrap_err();
        assert!(matches!(err, MappingError::Parse { .. }), "{err}");
        let err = err.to_string();
        assert!(err.contains("t.toml") && err.contains("`utf-9` is not an encoding"), "{err}");
        assert!(err.contains("utf-8, gbk, gb18030"), "{err}");
    }

    #[test]
    fn unknown_transform_fails_to_parse() {
        assert!(matches!(check(&base().replace("strip_leading_quote", "strip_all")), Err(MappingError::Parse { .. })));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_mapping_text_never_panics(text in "[a-z_=\"\\[\\]\n .|0-9]{0,120}") {
            if let Ok(m) = toml::from_str::<MappingFile>(&text) {
                let _ = m.check("fuzz.toml");
            }
            let _ = crate::config::Config::from_str_with_overrides(&text, None, &[]);
        }
    }

    #[test]
    fn canonical_infers_table_and_grain() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let m = Mapping::canonical(
            "x.csv",
            &h(&["order_id", "customer_id", "created_at", "net_amount", "sku"]),
            Some("EUR"),
        )
        .unwrap();
        assert_eq!(m.file.currency.as_deref(), Some("EUR"));
        // No currency column and no `[currency] base`: one unnamed currency, XXX.
        let four = h(&["order_id", "customer_id", "created_at", "net_amount"]);
        assert_eq!(Mapping::canonical("x.csv", &four, None).unwrap().file.currency.as_deref(), Some("XXX"));
        assert_eq!(Mapping::canonical("x.csv", &four, Some("EUR")).unwrap().file.currency.as_deref(), Some("EUR"));
        let named = h(&["order_id", "customer_id", "created_at", "net_amount", "currency"]);
        assert_eq!(Mapping::canonical("x.csv", &named, None).unwrap().file.currency, None, "the column decides");
        assert_eq!((m.table, m.file.grain), (Table::Orders, Grain::LineItem));
        let m = Mapping::canonical("p.csv", &h(&["sku", "category", "price"]), None).unwrap();
        assert_eq!(m.table, Table::Products);
        assert!(Mapping::canonical("z.csv", &h(&["a", "b"]), None).is_err());
    }
}
