//! Export layouts: how a simulated person's orders, events and tickets are written, with the quirks
//! of each platform and the planted noise (malformed rows, re-exports, typos, placeholder phones).
//!
//! Rendering is per person into in-memory buffers of one chunk; [`super::generate`] writes chunks in
//! order, so files stream and never hold the whole world.

use super::baskets::Line;
use super::model::{Channel, Fate, SimOrder, SimPerson, N_CHANNELS};
use super::platforms;
use super::signals::{self, EmailPlan};
use super::words::*;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::America::New_York;
use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;

/// USD → CNY: the online store sells in USD; the base currency is CNY.
pub const USD_RATE: f64 = 6.5;

/// An output file of the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileId {
    Shopify,
    ShopifyReexport,
    TaobaoOrders,
    TaobaoReexport,
    TaobaoItems,
    Pos,
    WooCommerce,
    Jd,
    Pinduoduo,
    Douyin,
    ShopifyCustomers,
    MailchimpSubscribed,
    MailchimpUnsubscribed,
    MailchimpCleaned,
    MailchimpActivity,
    Klaviyo,
    Ga4,
    Events,
    Zendesk,
    Freshdesk,
    TruthCustomers,
    TruthPurchases,
    TruthIdentities,
}

/// How a file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enc {
    Utf8,
    /// UTF-8 with a byte-order mark.
    Utf8Bom,
    /// GBK with CRLF line ends.
    Gbk,
}

impl FileId {
    pub const ALL: [FileId; 23] = [
        FileId::Shopify,
        FileId::ShopifyReexport,
        FileId::TaobaoOrders,
        FileId::TaobaoReexport,
        FileId::TaobaoItems,
        FileId::Pos,
        FileId::WooCommerce,
        FileId::Jd,
        FileId::Pinduoduo,
        FileId::Douyin,
        FileId::ShopifyCustomers,
        FileId::MailchimpSubscribed,
        FileId::MailchimpUnsubscribed,
        FileId::MailchimpCleaned,
        FileId::MailchimpActivity,
        FileId::Klaviyo,
        FileId::Ga4,
        FileId::Events,
        FileId::Zendesk,
        FileId::Freshdesk,
        FileId::TruthCustomers,
        FileId::TruthPurchases,
        FileId::TruthIdentities,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// Path inside the output folder.
    pub fn name(self) -> &'static str {
        match self {
            FileId::Shopify => "shopify_orders.csv",
            FileId::ShopifyReexport => "shopify_orders_reexport.csv",
            FileId::TaobaoOrders => "taobao_orders.csv",
            FileId::TaobaoReexport => "taobao_orders_reexport.csv",
            FileId::TaobaoItems => "taobao_items.csv",
            FileId::Pos => "pos_sales.csv",
            FileId::WooCommerce => "woocommerce_orders.csv",
            FileId::Jd => "jd_orders.csv",
            FileId::Pinduoduo => "pinduoduo_orders.csv",
            FileId::Douyin => "douyin_orders.csv",
            FileId::ShopifyCustomers => "shopify_customers.csv",
            FileId::MailchimpSubscribed => "mailchimp_subscribed.csv",
            FileId::MailchimpUnsubscribed => "mailchimp_unsubscribed.csv",
            FileId::MailchimpCleaned => "mailchimp_cleaned.csv",
            FileId::MailchimpActivity => "mailchimp_activity.jsonl",
            FileId::Klaviyo => "klaviyo_events.jsonl",
            FileId::Ga4 => "ga4_events.jsonl",
            FileId::Events => "sms_events.jsonl",
            FileId::Zendesk => "zendesk_tickets.csv",
            FileId::Freshdesk => "freshdesk_tickets.csv",
            FileId::TruthCustomers => "truth/customers.csv",
            FileId::TruthPurchases => "truth/purchases.csv",
            FileId::TruthIdentities => "truth/identities.csv",
        }
    }

    /// Header line (without line end), if any.
    pub fn header(self) -> Option<&'static str> {
        match self {
            FileId::Shopify | FileId::ShopifyReexport => Some(SHOPIFY),
            FileId::TaobaoOrders | FileId::TaobaoReexport => Some(TAOBAO_ORDERS),
            FileId::TaobaoItems => Some(TAOBAO_ITEMS_HEADER),
            FileId::Pos => Some(POS),
            FileId::WooCommerce => Some(super::platforms::WOOCOMMERCE),
            FileId::Jd => Some(super::platforms::JD),
            FileId::Pinduoduo => Some(super::platforms::PINDUODUO),
            FileId::Douyin => Some(super::platforms::DOUYIN),
            FileId::ShopifyCustomers => Some(super::signals::SHOPIFY_CUSTOMERS),
            FileId::MailchimpSubscribed => Some(super::signals::MAILCHIMP_SUBSCRIBED),
            FileId::MailchimpUnsubscribed => Some(super::signals::MAILCHIMP_UNSUBSCRIBED),
            FileId::MailchimpCleaned => Some(super::signals::MAILCHIMP_CLEANED),
            FileId::MailchimpActivity | FileId::Klaviyo | FileId::Ga4 | FileId::Events => None,
            FileId::Zendesk => Some(super::platforms::ZENDESK),
            FileId::Freshdesk => Some(super::platforms::FRESHDESK),
            FileId::TruthCustomers => Some(TRUTH_CUSTOMERS),
            FileId::TruthPurchases => Some(TRUTH_PURCHASES),
            FileId::TruthIdentities => Some(TRUTH_IDENTITIES),
        }
    }

    pub fn encoding(self) -> Enc {
        match self {
            FileId::TaobaoOrders | FileId::TaobaoReexport | FileId::TaobaoItems | FileId::Jd => Enc::Gbk,
            FileId::WooCommerce | FileId::Douyin => Enc::Utf8Bom,
            _ => Enc::Utf8,
        }
    }

    /// Line end of the header (records write their own): CRLF for GBK files and WooCommerce (PHP's default).
    pub fn crlf(self) -> bool {
        self.encoding() == Enc::Gbk || self == FileId::WooCommerce
    }

    /// Data files (ingested); the others are truth.
    pub fn is_export(self) -> bool {
        !matches!(self, FileId::TruthCustomers | FileId::TruthPurchases | FileId::TruthIdentities)
    }
}

const N_FILES: usize = FileId::ALL.len();

const SHOPIFY: &str = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,\
Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,\
Lineitem name,Lineitem price,Lineitem sku,Billing Name,Billing Phone,Notes,Cancelled at,Refunded Amount,Id,Phone";
const TAOBAO_ORDERS: &str = "订单编号,买家会员名,买家支付宝账号,买家应付货款,买家应付邮费,总金额,买家实际支付金额,\
订单状态,买家留言,收货人姓名,收货地址 ,联系手机,订单创建时间,订单付款时间 ,宝贝标题 ,宝贝总数量,店铺名称,订单关闭原因,退款金额";
/// The 宝贝报表 header with the trailing comma every line of that export carries.
const TAOBAO_ITEMS_HEADER: &str = "订单编号,标题,价格,购买数量,外部系统编号,商品属性,套餐信息,备注,订单状态,商家编码,";
const POS: &str = "receipt_no,store,member_card,member_phone,sold_at,sku,item_name,qty,unit_price,line_total,payment";
const TRUTH_CUSTOMERS: &str = "person_id,type,lambda_per_day,p_dropout,nu,alive,acquired_at,channels,purchases,\
repeat_purchases,email_consent,sms_consent";
const TRUTH_PURCHASES: &str = "person_id,order_id,source,ts,day,z,value_base,net_base,in_lake,identified";
const TRUTH_IDENTITIES: &str = "person_id,source,key_type,key";

/// What a file ends up as in the lake: records, planted malformed records, rows ingest must reject,
/// rows that are duplicates of earlier rows.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct FileCounts {
    pub rows: u64,
    pub malformed: u64,
    pub rejected_rows: u64,
    pub duplicate_rows: u64,
}

/// Counters of one chunk (summed over chunks).
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub files: [FileCounts; N_FILES],
    pub persons: u64,
    pub alive: u64,
    pub kinds: [u64; 4],
    pub orders: [u64; N_CHANNELS],
    pub purchases: u64,
    pub repeat_purchases: u64,
    /// Valid purchase baskets that reach the lake, per type (the planted rules' denominators).
    pub baskets: [u64; 4],
    pub tickets: u64,
    pub events: u64,
    /// A file whose text GBK cannot encode (a bug in the word lists).
    pub gbk_error: Option<FileId>,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        for (a, b) in self.files.iter_mut().zip(&o.files) {
            a.rows += b.rows;
            a.malformed += b.malformed;
            a.rejected_rows += b.rejected_rows;
            a.duplicate_rows += b.duplicate_rows;
        }
        self.persons += o.persons;
        self.alive += o.alive;
        for i in 0..4 {
            self.kinds[i] += o.kinds[i];
            self.baskets[i] += o.baskets[i];
        }
        for (a, b) in self.orders.iter_mut().zip(&o.orders) {
            *a += b;
        }
        self.purchases += o.purchases;
        self.repeat_purchases += o.repeat_purchases;
        self.tickets += o.tickets;
        self.events += o.events;
    }
}

/// One chunk's bytes per file (in each file's encoding) and its counters.
#[derive(Default)]
pub struct ChunkOut {
    pub text: Vec<Vec<u8>>,
    pub stats: Stats,
    /// GBK bytes of non-ASCII cells already encoded in this chunk (names, titles, statuses repeat).
    gbk_cache: std::collections::HashMap<String, Vec<u8>>,
}

impl ChunkOut {
    pub fn new() -> ChunkOut {
        ChunkOut { text: vec![Vec::new(); N_FILES], stats: Stats::default(), gbk_cache: Default::default() }
    }

    pub(super) fn buf(&mut self, f: FileId) -> &mut Vec<u8> {
        &mut self.text[f.index()]
    }

    /// Appends a GBK CSV record (CRLF; `="…"` cells unquoted as Taobao writes them) to `f`.
    pub(super) fn gbk_record(&mut self, f: FileId, cells: &[&str], trailing_comma: bool) -> Result<(), FileId> {
        let buf = &mut self.text[f.index()];
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            let quoted;
            let c = if c.contains([',', '\n', '\r']) || c.starts_with('"') {
                quoted = format!("\"{}\"", c.replace('"', "\"\""));
                quoted.as_str()
            } else {
                c
            };
            if c.is_ascii() {
                buf.extend_from_slice(c.as_bytes());
            } else {
                let bytes = match self.gbk_cache.get(c) {
                    Some(b) => b,
                    None => {
                        let (b, _, bad) = encoding_rs::GBK.encode(c);
                        if bad {
                            return Err(f);
                        }
                        self.gbk_cache.entry(c.to_string()).or_insert(b.into_owned())
                    }
                };
                buf.extend_from_slice(bytes);
            }
        }
        if trailing_comma {
            buf.push(b',');
        }
        buf.extend_from_slice(b"\r\n");
        Ok(())
    }

    /// The chunk's bytes per file and its counters; fails naming a file whose text GBK cannot hold.
    pub fn into_bytes(self) -> Result<(Vec<Vec<u8>>, Stats), FileId> {
        match self.stats.gbk_error {
            Some(f) => Err(f),
            None => Ok((self.text, self.stats)),
        }
    }

    pub(super) fn count(&mut self, f: FileId) -> &mut FileCounts {
        &mut self.stats.files[f.index()]
    }
}

/// A catalog product.
#[derive(Debug, Clone)]
pub struct Product {
    pub sku: String,
    pub en: &'static str,
    pub cn: &'static str,
    pub category: &'static str,
    /// List price in CNY cents.
    pub price: i64,
    pub cost: i64,
}

/// The catalog: CATALOG's USD prices × 6.5, in whole yuan.
pub fn catalog(rng: &mut ChaCha8Rng) -> Vec<Product> {
    CATALOG
        .iter()
        .enumerate()
        .map(|(i, (category, en, cn, usd))| {
            let price = (*usd as f64 * USD_RATE / 100.0).round() as i64 * 100;
            let cost = (price as f64 * rng.gen_range(0.35..0.6)).round() as i64;
            Product { sku: format!("SKU-{}", 1001 + i), en, cn, category, price, cost }
        })
        .collect()
}

/// Everything rendering needs besides the person.
pub struct Layout<'a> {
    pub start: NaiveDate,
    pub days: f64,
    pub catalog: &'a [Product],
    /// Email campaigns: (day, name).
    pub campaigns: Vec<(f64, String)>,
    /// SMS campaigns: (day, name).
    pub sms_campaigns: Vec<(f64, String)>,
    pub malformed_rate: f64,
    pub duplicate_rate: f64,
    pub email_typo_rate: f64,
    pub placeholder_phone_rate: f64,
}

/// The store's default phone the tills type when a member's phone is not at hand (shared by many).
pub const STORE_PHONES: [&str; 2] = ["4008208820", "4008205550"];
const STORES: [(&str, &str); 2] = [("上海静安店", "SH01"), ("杭州湖滨店", "HZ01")];

/// A person's identity attributes.
pub struct Persona {
    pub id: String,
    pub cn_name: String,
    pub en_name: String,
    pub email: String,
    pub phone: String,
    pub nick: String,
    /// JD 下单帐号.
    pub jd_account: String,
    pub card: String,
    pub address: String,
    pub store: usize,
    pub email_opt_in: bool,
    pub sms_opt_in: bool,
}

/// Draws a persona; emails, phones, nicknames and cards embed the index, so they are unique.
pub fn persona(i: usize, rng: &mut ChaCha8Rng) -> Persona {
    let (sur_cn, sur_en) = SURNAMES[rng.gen_range(0..SURNAMES.len())];
    let (giv_cn, giv_en) = GIVEN[rng.gen_range(0..GIVEN.len())];
    let (sur, giv) = (sur_en.to_lowercase(), giv_en.to_lowercase());
    let domain = ["example.com", "example.net", "example.org"][i % 3];
    let email = match rng.gen_range(0..3) {
        0 => format!("{giv}.{sur}{i}@{domain}"),
        1 => format!("{sur}{giv}{}@{domain}", i + 80),
        _ => format!("{}{sur}_{i}@{domain}", &giv[..1]),
    };
    // 7919 is coprime with 10^8, so the last eight digits are distinct for every index below 10^8.
    let suffix = (i as u64 * 7919 + 12_345_678) % 100_000_000;
    let phone = format!("{}{suffix:08}", PHONE_PREFIXES[rng.gen_range(0..PHONE_PREFIXES.len())]);
    let nick = match rng.gen_range(0..3) {
        0 => format!("{sur}{giv}_{}", i + 1),
        1 => format!("tb{:04}{i:04}", rng.gen_range(1000..10_000)),
        _ => {
            format!("{}{}{i}", NICK_ADJ[rng.gen_range(0..NICK_ADJ.len())], NICK_NOUN[rng.gen_range(0..NICK_NOUN.len())])
        }
    };
    let (prov, city, dist, zip, street) = PLACES[rng.gen_range(0..PLACES.len())];
    Persona {
        id: format!("p{i:07}"),
        cn_name: format!("{sur_cn}{giv_cn}"),
        en_name: format!("{giv_en} {sur_en}"),
        email,
        phone,
        nick,
        jd_account: format!("jd_{giv}{sur}{i:04}"),
        card: format!("M{:08}", 10_000 + i * 37),
        address: format!("{prov} {city} {dist} {street}{}号({zip})", rng.gen_range(1..400)),
        store: rng.gen_range(0..2),
        email_opt_in: rng.gen_bool(0.7),
        sms_opt_in: rng.gen_bool(0.4),
    }
}

// ------------------------------------------------------------------------------------- cells

/// Appends one UTF-8 CSV record (RFC 4180 quoting, LF).
pub(super) fn record(buf: &mut String, cells: &[&str]) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            buf.push(',');
        }
        if c.contains([',', '"', '\n', '\r', '\t']) {
            buf.push('"');
            buf.push_str(&c.replace('"', "\"\""));
            buf.push('"');
        } else {
            buf.push_str(c);
        }
    }
    buf.push('\n');
}

pub(super) fn money(cents: i64) -> String {
    format!("{}{}.{:02}", if cents < 0 { "-" } else { "" }, cents.abs() / 100, cents.abs() % 100)
}

impl Layout<'_> {
    /// UTC instant of a fractional day since the window start (China time).
    pub fn at(&self, day: f64) -> DateTime<Utc> {
        let secs = (day * 86_400.0).round() as i64;
        let local = self.start.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::seconds(secs);
        Utc.from_utc_datetime(&(local - Duration::hours(8)))
    }
}

/// `YYYY-MM-DD HH:MM:SS` (or with `/` and without seconds) of a naive time; hand-written because
/// chrono's strftime parses its pattern on every call and dominated the generator's profile.
pub(super) fn ymd_hms(t: NaiveDateTime, sep: char, seconds: bool) -> String {
    let mut s = String::with_capacity(20);
    let _ = write!(s, "{:04}{sep}{:02}{sep}{:02} {:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute());
    if seconds {
        let _ = write!(s, ":{:02}", t.second());
    }
    s
}

/// New York time with its offset, as Shopify writes it: `2024-01-11 04:32:31 -0500`.
fn ny(t: DateTime<Utc>) -> String {
    let offset = New_York.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc();
    let mut s = ymd_hms(t.naive_utc() + Duration::seconds(offset as i64), '-', true);
    let (sign, a) = if offset < 0 { ('-', -offset) } else { ('+', offset) };
    let _ = write!(s, " {sign}{:02}{:02}", a / 3600, a % 3600 / 60);
    s
}

/// China time (UTC+8, no DST): `2024-01-11 04:32:31`, or POS's `2024/01/11 04:32`.
pub(super) fn china(t: DateTime<Utc>, pos: bool) -> String {
    let local = t.naive_utc() + Duration::hours(8);
    if pos {
        ymd_hms(local, '/', false)
    } else {
        ymd_hms(local, '-', true)
    }
}

pub(super) fn iso(t: DateTime<Utc>) -> String {
    let mut s = ymd_hms(t.naive_utc(), '-', true);
    s.replace_range(10..11, "T");
    s.push('Z');
    s
}

/// `fang.wang7@example.com` → `Fang.Wang7@Example.com`.
pub(super) fn noisy_case(email: &str) -> String {
    let mut out = String::with_capacity(email.len());
    let mut up = true;
    for c in email.chars() {
        out.push(if up { c.to_ascii_uppercase() } else { c });
        up = c == '.' && !out.contains('@') || c == '@';
    }
    out
}

/// Swaps two adjacent letters of the local part: a typo that identity resolution cannot undo.
fn typo(email: &str, rng: &mut ChaCha8Rng) -> String {
    let at = email.find('@').unwrap_or(0);
    if at < 3 {
        return email.to_string();
    }
    let i = rng.gen_range(0..at - 1);
    let mut b = email.as_bytes().to_vec();
    if b[i] == b[i + 1] || !b[i].is_ascii_alphanumeric() || !b[i + 1].is_ascii_alphanumeric() {
        b[i] = if b[i] == b'x' { b'z' } else { b'x' };
    } else {
        b.swap(i, i + 1);
    }
    String::from_utf8(b).unwrap_or_else(|_| email.to_string())
}

/// Line prices in the channel's currency (cents) that add up to the Gamma-Gamma value `z` (CNY):
/// catalog prices scaled per order, rounded to cents.
pub fn price_lines(lines: &[Line], catalog: &[Product], z: f64, channel: Channel) -> Vec<i64> {
    let target = z * 100.0 / channel.rate();
    let list: f64 = lines.iter().map(|l| (catalog[l.product].price * l.qty) as f64).sum();
    lines
        .iter()
        .map(|l| {
            let share = (catalog[l.product].price * l.qty) as f64 / list.max(1.0);
            ((target * share / l.qty as f64).round() as i64).max(1)
        })
        .collect()
}

/// Order value in the channel currency (cents) and in base currency (CNY, as custlens converts it).
pub(super) fn value(units: &[i64], lines: &[Line], channel: Channel) -> (i64, f64) {
    let cents: i64 = units.iter().zip(lines).map(|(u, l)| u * l.qty).sum();
    (cents, cents as f64 / 100.0 * channel.rate())
}

/// Refund in channel cents: all of it, or one unit of the last line.
pub(super) fn refund(fate: Fate, units: &[i64], total: i64) -> i64 {
    match fate {
        Fate::Refunded => total,
        Fate::PartialRefund => *units.last().unwrap_or(&0),
        _ => 0,
    }
}

/// Shopify Financial Status, fulfilled, Taobao 订单状态, 订单关闭原因.
fn labels(f: Fate) -> (&'static str, bool, &'static str, &'static str) {
    match f {
        Fate::Pending => ("pending", false, "等待买家付款", "订单未关闭"),
        Fate::Unpaid => ("voided", false, "交易关闭", "买家未付款"),
        Fate::Cancelled => ("voided", false, "交易关闭", "卖家关闭"),
        Fate::Paid => ("paid", false, "买家已付款，等待卖家发货", "订单未关闭"),
        Fate::Shipped => ("paid", true, "卖家已发货，等待买家确认", "订单未关闭"),
        Fate::Completed => ("paid", true, "交易成功", "订单未关闭"),
        Fate::Refunded => ("refunded", true, "交易关闭", "退款"),
        Fate::PartialRefund => ("partially_refunded", true, "交易成功", "订单未关闭"),
    }
}

/// The canonical order id custlens will give an order.
pub fn order_ref(lay: &Layout, channel: Channel, person: usize, o: &SimOrder) -> String {
    format!("{}:{}", channel.source(), order_number(lay, channel, person, o))
}

/// The order id as the source writes it (unique per person and order number; Pinduoduo's starts
/// with the order's date, `240501-…`).
pub(super) fn order_number(lay: &Layout, channel: Channel, person: usize, o: &SimOrder) -> String {
    let seq = o.seq;
    match channel {
        Channel::Shopify => format!("#{}", 10_000 + person as u64 * 1000 + seq as u64),
        Channel::Taobao => format!("2{person:011}{seq:06}"),
        Channel::Pos => format!("{}-{person:07}{seq:03}", STORES[person % 2].1),
        Channel::WooCommerce => (1_000_000 + person as u64 * 1000 + seq as u64).to_string(),
        Channel::Jd => format!("3{person:08}{seq:03}"),
        Channel::Pinduoduo => {
            let d = (lay.at(o.day) + Duration::hours(8)).date_naive();
            format!("{:02}{:02}{:02}-{person:09}{seq:06}", d.year() % 100, d.month(), d.day())
        }
        Channel::Douyin => format!("69{person:011}{seq:06}"),
    }
}

pub(super) const BAD_DATE_NY: &str = "2024-13-45 10:00:00 -0500";
pub(super) const BAD_DATE_CN: &str = "2024-13-45 10:00:00";
const BAD_DATE_POS: &str = "2024/13/45 10:00";
pub(super) const BAD_TS: &str = "2024-13-45T10:00:00Z";

// ------------------------------------------------------------------------------------ person

/// Renders one person: exports, truth rows and counters.
pub fn render(lay: &Layout, person: &SimPerson, who: &Persona, rng: &mut ChaCha8Rng, out: &mut ChunkOut) {
    let mut ids: Ids = BTreeSet::new();
    let s = &mut out.stats;
    s.persons += 1;
    s.alive += person.alive as u64;
    s.kinds[person.kind.index()] += 1;
    let plan = EmailPlan::draw(lay, person, who, rng);
    let mut purchases = 0u64;
    let mut first_phone_channel: Option<f64> = None;
    for o in &person.orders {
        out.stats.orders[o.channel as usize] += 1;
        let units = price_lines(&o.lines, lay.catalog, o.z, o.channel);
        let malformed = rng.gen_bool(lay.malformed_rate.clamp(0.0, 1.0));
        let ctx = OrderCtx { lay, p: person, who, o, units: &units, malformed };
        // Whether the order carries a key that identifies the person (masked marketplace orders do not).
        let identified = match o.channel {
            Channel::Shopify => {
                shopify(ctx, plan.accepts_at(lay.at(o.day)), rng, out, &mut ids);
                true
            }
            Channel::Taobao => {
                first_phone_channel.get_or_insert(o.day);
                taobao(ctx, rng, out, &mut ids);
                true
            }
            Channel::Pos => {
                first_phone_channel.get_or_insert(o.day);
                pos(ctx, rng, out, &mut ids);
                true
            }
            Channel::WooCommerce => {
                let email = platforms::woocommerce(ctx, rng, out, &mut ids);
                signals::order_side_events(lay, person, &email, o, &units, rng, out, &mut ids);
                let number = order_number(lay, Channel::WooCommerce, person.index, o);
                platforms::freshdesk(lay, person, o, &who.en_name, &email, &number, rng, out);
                true
            }
            Channel::Jd => platforms::jd(ctx, rng, out, &mut ids),
            Channel::Pinduoduo => platforms::pinduoduo(ctx, rng, out, &mut ids),
            Channel::Douyin => platforms::douyin(ctx, rng, out, &mut ids),
        };
        if o.fate.is_purchase() {
            purchases += 1;
            let (total, base) = value(&units, &o.lines, o.channel);
            let net = base - refund(o.fate, &units, total) as f64 / 100.0 * o.channel.rate();
            let _ = writeln!(
                out.buf(FileId::TruthPurchases),
                "{},{},{},{},{},{},{:.2},{:.2},{},{}",
                who.id,
                order_ref(lay, o.channel, person.index, o),
                o.channel.source(),
                iso(lay.at(o.day)),
                o.day,
                o.z,
                base,
                net,
                !malformed,
                identified
            );
            out.count(FileId::TruthPurchases).rows += 1;
            if !malformed {
                out.stats.baskets[person.kind.index()] += 1;
            }
        }
    }
    out.stats.purchases += purchases;
    out.stats.repeat_purchases += purchases.saturating_sub(1);
    if let Some(since) = plan.since {
        signals::email(lay, person, who, &plan, rng, out, &mut ids);
        signals::abandoned_carts(lay, person, who, since, rng, out, &mut ids);
    }
    let totals = |o: &SimOrder| {
        let units = price_lines(&o.lines, lay.catalog, o.z, o.channel);
        let (total, _) = value(&units, &o.lines, o.channel);
        (total, refund(o.fate, &units, total))
    };
    signals::shopify_customer(person, who, &plan, &totals, rng, out, &mut ids);
    if let (Some(first), true) = (first_phone_channel, who.sms_opt_in) {
        signals::sms(lay, person, who, first, rng, out);
    }
    let channels: Vec<&str> = person.channels.iter().map(|c| c.source()).collect();
    let consent = |c: Option<bool>| c.map_or(String::new(), |b| b.to_string());
    let _ = writeln!(
        out.buf(FileId::TruthCustomers),
        "{},{},{},{},{},{},{},{},{},{},{},{}",
        who.id,
        person.kind.label(),
        person.lambda,
        person.p,
        person.nu,
        person.alive,
        iso(lay.at(person.acquired_day)),
        channels.join(";"),
        purchases,
        purchases.saturating_sub(1),
        consent(plan.consent()),
        who.sms_opt_in
    );
    out.count(FileId::TruthCustomers).rows += 1;
    for (source, key_type, key) in ids {
        // Keys as the lake stores them: phones in E.164 (every persona has a mainland mobile).
        let key = if key_type == "phone" { format!("+86{key}") } else { key };
        let mut line = String::new();
        record(&mut line, &[&who.id, source, key_type, &key]);
        out.buf(FileId::TruthIdentities).extend_from_slice(line.as_bytes());
        out.count(FileId::TruthIdentities).rows += 1;
    }
}

pub(super) type Ids = BTreeSet<(&'static str, &'static str, String)>;

/// One order to write, with everything its layout needs.
#[derive(Clone, Copy)]
pub(super) struct OrderCtx<'a> {
    pub lay: &'a Layout<'a>,
    pub p: &'a SimPerson,
    pub who: &'a Persona,
    pub o: &'a SimOrder,
    /// Unit prices in the channel currency (cents), one per line.
    pub units: &'a [i64],
    pub malformed: bool,
}

fn shopify(c: OrderCtx, accepts_marketing: bool, rng: &mut ChaCha8Rng, out: &mut ChunkOut, ids: &mut Ids) {
    let OrderCtx { lay, p, who, o, units, malformed } = c;
    let at = lay.at(o.day);
    let name = order_number(lay, Channel::Shopify, p.index, o);
    let email = match rng.gen::<f64>() {
        r if r < lay.email_typo_rate => typo(&who.email, rng),
        r if r < lay.email_typo_rate + 0.12 => noisy_case(&who.email),
        _ => who.email.clone(),
    };
    ids.insert(("shopify", "email", email.to_lowercase()));
    let billing_phone = match rng.gen_range(0..10) {
        0..=2 => String::new(),
        3 => format!("'{}", who.phone),
        4 | 5 => format!("+86 {} {} {}", &who.phone[..3], &who.phone[3..7], &who.phone[7..]),
        _ => who.phone.clone(),
    };
    if !billing_phone.is_empty() {
        ids.insert(("shopify", "phone", who.phone.clone()));
    }
    let (sub, _) = value(units, &o.lines, Channel::Shopify);
    let (ship, method) = match (sub >= 7500, rng.gen_bool(0.2)) {
        (true, _) => (0, "Free Shipping"),
        (false, true) => (1495, "Express Shipping"),
        (false, false) => (695, "Standard Shipping"),
    };
    let tax = (sub * 8 + 50) / 100;
    let (fin, fulfilled, _, _) = labels(o.fate);
    let paid = !matches!(o.fate, Fate::Pending | Fate::Unpaid);
    let paid_at = if paid { ny(at + Duration::seconds(rng.gen_range(5..300))) } else { String::new() };
    let fulfilled_at = if fulfilled { ny(lay.at(o.day + o.ship_after_days)) } else { String::new() };
    let cancelled_at = if matches!(o.fate, Fate::Unpaid | Fate::Cancelled) {
        ny(at + Duration::minutes(rng.gen_range(30..2880)))
    } else {
        String::new()
    };
    let note = match rng.gen_range(0..100) {
        0 | 1 => "Please call before delivery.\nLeave it at the front desk if nobody answers.",
        2..=4 => "Gift wrap please",
        _ => "",
    };
    let created = ny(at);
    let refunded = money(refund(o.fate, units, sub));
    let head = [
        fin,
        &paid_at,
        ["unfulfilled", "fulfilled"][fulfilled as usize],
        &fulfilled_at,
        if accepts_marketing { "yes" } else { "no" },
        "USD",
        &money(sub),
        &money(ship),
        &money(tax),
        &money(sub + ship + tax),
        "",
        "0.00",
        method,
    ]
    .map(str::to_string);
    let id_num = (10_000 + p.index as u64 * 1000 + o.seq as u64).to_string();
    let mut text = String::new();
    for (j, (l, unit)) in o.lines.iter().zip(units).enumerate() {
        let product = &lay.catalog[l.product];
        let first = j == 0;
        let created_cell = if first && malformed { BAD_DATE_NY } else { created.as_str() };
        let (qty, price) = (l.qty.to_string(), money(*unit));
        let e = String::new();
        let h = |k: usize| if first { head[k].as_str() } else { "" };
        let cells: [&str; 27] = [
            &name,
            &email,
            h(0),
            h(1),
            h(2),
            h(3),
            h(4),
            h(5),
            h(6),
            h(7),
            h(8),
            h(9),
            h(10),
            h(11),
            h(12),
            created_cell,
            &qty,
            product.en,
            &price,
            &product.sku,
            if first { &who.en_name } else { &e },
            if first { &billing_phone } else { &e },
            if first { note } else { "" },
            if first { &cancelled_at } else { &e },
            if first { &refunded } else { &e },
            if first { &id_num } else { &e },
            "",
        ];
        record(&mut text, &cells);
    }
    let n = o.lines.len() as u64;
    emit(out, FileId::Shopify, FileId::ShopifyReexport, text.as_bytes(), n, malformed, lay.duplicate_rate, rng);
    signals::order_side_events(lay, p, &email, o, units, rng, out, ids);
    platforms::zendesk(lay, p, o, &who.en_name, &email, &name, rng, out);
}

/// Writes an order's rows, counts them, and maybe re-exports them (never a malformed one).
#[allow(clippy::too_many_arguments)]
pub(super) fn emit(
    out: &mut ChunkOut,
    file: FileId,
    reexport: FileId,
    text: &[u8],
    rows: u64,
    malformed: bool,
    dup_rate: f64,
    rng: &mut ChaCha8Rng,
) {
    out.buf(file).extend_from_slice(text);
    let c = out.count(file);
    c.rows += rows;
    if malformed {
        c.malformed += 1;
        c.rejected_rows += rows;
    } else if rng.gen_bool(dup_rate.clamp(0.0, 1.0)) {
        out.buf(reexport).extend_from_slice(text);
        let c = out.count(reexport);
        c.rows += rows;
        c.duplicate_rows += rows;
    }
}

fn taobao(c: OrderCtx, rng: &mut ChaCha8Rng, out: &mut ChunkOut, ids: &mut Ids) {
    let OrderCtx { lay, p, who, o, units, malformed } = c;
    let at = lay.at(o.day);
    let id = order_number(lay, Channel::Taobao, p.index, o);
    let excel = |v: &str| format!("=\"{v}\"");
    let empty = |rng: &mut ChaCha8Rng| if rng.gen_bool(0.5) { excel("") } else { String::new() };
    let (_, _, status, close) = labels(o.fate);
    let (goods, _) = value(units, &o.lines, Channel::Taobao);
    let post = if goods < 9900 { 1000 } else { 0 };
    let paid = !matches!(o.fate, Fate::Pending | Fate::Unpaid);
    let phone_cell = if rng.gen_bool(0.1) { format!("'+86{}", who.phone) } else { format!("'{}", who.phone) };
    ids.insert(("taobao", "member_id", who.nick.clone()));
    ids.insert(("taobao", "phone", who.phone.clone()));
    let bad_id = malformed && rng.gen_bool(0.5);
    let id_cell = if bad_id { excel("") } else { excel(&id) };
    let created = if malformed && !bad_id { BAD_DATE_CN.to_string() } else { china(at, false) };
    let paid_at = if paid { china(at + Duration::seconds(rng.gen_range(5..600)), false) } else { empty(rng) };
    let yuan = if rng.gen_bool(0.3) { "元" } else { "" };
    let msg = ["", "", "", "", "", "请尽快发货", "包装好一点，谢谢"][rng.gen_range(0..7)];
    let msg = if msg.is_empty() { empty(rng) } else { msg.to_string() };
    let titles: Vec<&str> = o.lines.iter().map(|l| lay.catalog[l.product].cn).collect();
    let qty: i64 = o.lines.iter().map(|l| l.qty).sum();
    let alipay = format!("{}****{}", &who.phone[..3], &who.phone[7..]);
    let actual = format!("{}{yuan}", money(if paid { goods + post } else { 0 }));
    let cells = [
        id_cell.as_str(),
        &who.nick,
        &alipay,
        &money(goods),
        &money(post),
        &money(goods + post),
        &actual,
        status,
        &msg,
        &who.cn_name,
        &who.address,
        &phone_cell,
        &created,
        &paid_at,
        &titles.join("，"),
        &qty.to_string(),
        "悦家生活旗舰店",
        close,
        &money(refund(o.fate, units, goods)),
    ];
    let start = out.buf(FileId::TaobaoOrders).len();
    if out.gbk_record(FileId::TaobaoOrders, &cells, false).is_err() {
        out.stats.gbk_error = Some(FileId::TaobaoOrders);
    }
    let line = out.buf(FileId::TaobaoOrders).split_off(start);
    emit(out, FileId::TaobaoOrders, FileId::TaobaoReexport, &line, 1, malformed, lay.duplicate_rate, rng);
    for (l, unit) in o.lines.iter().zip(units) {
        let product = &lay.catalog[l.product];
        let color = ["白色", "灰色", "蓝色", "原木色"][rng.gen_range(0..4)];
        let attr = format!("颜色分类：{color}");
        let ext = empty(rng);
        let id_cell = excel(&id);
        let cells = [
            id_cell.as_str(),
            product.cn,
            &money(*unit),
            &l.qty.to_string(),
            &ext,
            &attr,
            "",
            "",
            status,
            &product.sku,
        ];
        if out.gbk_record(FileId::TaobaoItems, &cells, true).is_err() {
            out.stats.gbk_error = Some(FileId::TaobaoItems);
        }
        out.count(FileId::TaobaoItems).rows += 1;
    }
}

fn pos(c: OrderCtx, rng: &mut ChaCha8Rng, out: &mut ChunkOut, ids: &mut Ids) {
    let OrderCtx { lay, p, who, o, units, malformed } = c;
    let at = lay.at(o.day);
    let (store, _) = STORES[who.store];
    let receipt = order_number(lay, Channel::Pos, p.index, o);
    ids.insert(("pos", "member_id", who.card.clone()));
    let phone = match rng.gen::<f64>() {
        r if r < lay.placeholder_phone_rate => STORE_PHONES[who.store].to_string(),
        r if r < lay.placeholder_phone_rate + 0.1 => String::new(),
        r if r < lay.placeholder_phone_rate + 0.3 => format!("+86{}", who.phone),
        _ => who.phone.clone(),
    };
    if !phone.is_empty() && !STORE_PHONES.contains(&phone.as_str()) {
        ids.insert(("pos", "phone", who.phone.clone()));
    }
    let payment = ["微信支付", "支付宝", "银联卡", "现金"][rng.gen_range(0..4)];
    let sold_at = china(at, true);
    let mut text = String::new();
    for (j, (l, unit)) in o.lines.iter().zip(units).enumerate() {
        let product = &lay.catalog[l.product];
        let when = if malformed && j == 0 { BAD_DATE_POS } else { sold_at.as_str() };
        let (qty, price, total) = (l.qty.to_string(), money(*unit), money(unit * l.qty));
        let cells =
            [receipt.as_str(), store, &who.card, &phone, when, &product.sku, product.cn, &qty, &price, &total, payment];
        record(&mut text, &cells);
    }
    // POS exports are not re-exported: duplicates come from the online store and Taobao.
    emit(out, FileId::Pos, FileId::Pos, text.as_bytes(), o.lines.len() as u64, malformed, 0.0, rng);
}

/// Writes `products.csv` (canonical headers; CNY).
pub fn products_csv(catalog: &[Product]) -> String {
    let mut text = String::from("sku,product_name,category,price,cost\n");
    for p in catalog {
        record(&mut text, &[&p.sku, p.en, p.category, &money(p.price), &money(p.cost)]);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_quote_only_when_needed() {
        let mut s = String::new();
        record(&mut s, &["a", "b,c", "say \"hi\"", "x\ny"]);
        assert_eq!(s, "a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\"\n");
        let mut out = ChunkOut::new();
        out.gbk_record(FileId::TaobaoItems, &["=\"123\"", "锅", "a,b"], true).unwrap();
        out.gbk_record(FileId::TaobaoItems, &["锅"], false).unwrap();
        let (text, _, bad) = encoding_rs::GBK.decode(&out.text[FileId::TaobaoItems.index()]);
        assert!(!bad);
        assert_eq!(text, "=\"123\",锅,\"a,b\",\r\n锅\r\n");
    }

    #[test]
    fn line_prices_add_up_to_the_value() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let cat = catalog(&mut rng);
        let lines = [Line { product: 0, qty: 2 }, Line { product: 5, qty: 1 }];
        let units = price_lines(&lines, &cat, 321.0, Channel::Taobao);
        let (cents, base) = value(&units, &lines, Channel::Taobao);
        assert!((cents - 32_100).abs() <= 2, "{cents}");
        assert!((base - 321.0).abs() < 0.03);
        let units = price_lines(&lines, &cat, 321.0, Channel::Shopify);
        let (_, base) = value(&units, &lines, Channel::Shopify);
        assert!((base - 321.0).abs() < 0.2, "{base}");
    }

    #[test]
    fn typos_change_the_address_but_keep_the_domain() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..50 {
            let t = typo("fang.wang7@example.com", &mut rng);
            assert_ne!(t, "fang.wang7@example.com");
            assert!(t.ends_with("@example.com"));
        }
    }

    #[test]
    fn source_ids_are_unique_per_person_and_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let cat = catalog(&mut rng);
        let lay = Layout {
            start: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            days: 365.0,
            catalog: &cat,
            campaigns: Vec::new(),
            sms_campaigns: Vec::new(),
            malformed_rate: 0.0,
            duplicate_rate: 0.0,
            email_typo_rate: 0.0,
            placeholder_phone_rate: 0.0,
        };
        let mut seen = BTreeSet::new();
        for person in [0usize, 1, 999, 1_000_000] {
            for seq in 0..5 {
                let o = SimOrder {
                    seq,
                    channel: Channel::Shopify,
                    day: seq as f64 * 3.5,
                    lines: Vec::new(),
                    z: 1.0,
                    fate: Fate::Completed,
                    ship_after_days: 1.0,
                };
                for ch in Channel::ALL {
                    assert!(seen.insert(order_ref(&lay, ch, person, &o)));
                }
            }
        }
        assert_eq!(order_number(&lay, Channel::Douyin, 1_000_000, &SimOrder { seq: 3, ..o_at(10.0) }).len(), 19);
        assert!(order_number(&lay, Channel::Pinduoduo, 5, &o_at(10.5)).starts_with("240111-"));
    }

    fn o_at(day: f64) -> SimOrder {
        SimOrder {
            seq: 0,
            channel: Channel::Pinduoduo,
            day,
            lines: Vec::new(),
            z: 1.0,
            fate: Fate::Paid,
            ship_after_days: 1.0,
        }
    }
}
