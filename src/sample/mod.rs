//! Seeded sample exports: a simulated multichannel shop written as the files custlens ingests.
//!
//! ## Method
//! A small world is simulated first: persons with a latent type (loyal, regular, one-off, lapsed)
//! that sets purchase rate, dropout, basket size and email engagement; a catalog with Zipf-like
//! popularity; Poisson purchases on 1–3 channels (Shopify online store, Taobao/Tmall, offline POS).
//! The world is then written as real-looking exports with their quirks (Shopify line-item rows,
//! GBK Taobao reports with `="…"` ids, POS receipts, email/cart events, helpdesk tickets, the
//! catalog), one mapping file per export and a `custlens.toml` listing them. All randomness comes
//! from `ChaCha8Rng::seed_from_u64(seed)` streams and only ordered collections are iterated, so the
//! same config writes byte-identical files.
//!
//! ## Parameters
//! [`SampleConfig`]: persons, seed and date window. Exactly two rows are bad on purpose;
//! [`SampleSummary::deliberate_rejects`] says where.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::{America::New_York, Asia::Shanghai};
use rand::distributions::WeightedIndex;
use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Exp, Gamma};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What to simulate.
///
/// ## Method
/// `Default` is 600 customers, seed 42, orders placed 2023-01-01..=2024-12-31.
///
/// ## Parameters
/// - `customers`: persons in the world; each buys at least once.
/// - `seed`: seed of every random stream.
/// - `start`, `end`: first and last day (China time) on which orders are placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleConfig {
    pub customers: usize,
    pub seed: u64,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Default for SampleConfig {
    fn default() -> Self {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        SampleConfig { customers: 600, seed: 42, start: day(2023, 1, 1), end: day(2024, 12, 31) }
    }
}

/// A row written bad on purpose, so ingest's reject path has something to catch.
///
/// ## Method
/// Both sit at a fixed position: the first data row (line 2) of their file.
///
/// ## Parameters
/// - `file`: name inside the output folder; `line`: 1-based physical line.
/// - `column`, `value`: the bad cell; `reason`: why it cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliberateReject {
    pub file: String,
    pub line: usize,
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// What [`generate`] wrote.
///
/// ## Method
/// Counted while writing; `orders` include the two holding a deliberately bad row.
///
/// ## Parameters
/// - `persons`, `products`: world and catalog size.
/// - `orders`: orders per source (`pos`, `shopify`, `taobao`).
/// - `order_rows`: data rows (header excluded) per order file, `taobao_items.csv` included.
/// - `events`, `tickets`: lines of `events.jsonl`, rows of `tickets.csv`.
/// - `deliberate_rejects`: the two bad rows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SampleSummary {
    pub persons: usize,
    pub products: usize,
    pub orders: BTreeMap<String, usize>,
    pub order_rows: BTreeMap<String, usize>,
    pub events: usize,
    pub tickets: usize,
    pub deliberate_rejects: Vec<DeliberateReject>,
}

/// Why the sample could not be written.
///
/// ## Method
/// I/O errors carry the path; the others say what is wrong.
///
/// ## Parameters
/// - `Io`: the file or folder and the underlying error.
/// - `Config`: an unusable [`SampleConfig`].
/// - `Encoding`: text GBK cannot represent (a bug in the word lists).
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("sample config: {0}")]
    Config(String),
    #[error("{path}: text cannot be encoded as GBK")]
    Encoding { path: PathBuf },
}

/// Simulates the world and writes every file into `out` (folders created as needed).
///
/// ## Method
/// Builds the world (persons, catalog, orders sorted by time), writes each export from it with its
/// own random stream for noise, then the mapping files and `custlens.toml`.
///
/// ## Parameters
/// - `cfg`: size, seed and window; `customers` must be positive and `end` after `start`.
/// - `out`: output folder; files of the same names are overwritten.
pub fn generate(cfg: &SampleConfig, out: &Path) -> Result<SampleSummary, SampleError> {
    if cfg.customers == 0 || cfg.end <= cfg.start {
        return Err(SampleError::Config(format!("need customers > 0 and start < end, got {cfg:?}")));
    }
    let w = build_world(cfg);
    let mut s = SampleSummary { persons: w.persons.len(), products: w.catalog.len(), ..Default::default() };
    for ch in [Channel::Shopify, Channel::Taobao, Channel::Pos] {
        s.orders.insert(format!("{ch:?}").to_lowercase(), w.of(ch).len());
    }
    let rng = |n| stream(cfg.seed, n);
    let (tb_orders, tb_items) = taobao_rows(&w, &mut rng(3));
    let files = [
        ("shopify_orders.csv", SHOPIFY, shopify_rows(&w, &mut rng(2))),
        ("taobao_orders.csv", TAOBAO_ORDERS, tb_orders),
        ("taobao_items.csv", TAOBAO_ITEMS, tb_items),
        ("pos_sales.csv", POS, pos_rows(&w, &mut rng(4))),
        ("tickets.csv", TICKETS, ticket_rows(&w, &mut rng(6))),
        ("products.csv", PRODUCTS, product_rows(&w)),
    ];
    for (file, header, rows) in &files {
        match *file {
            "taobao_orders.csv" => save_gbk(out, file, &raw_csv(header, rows, false))?,
            "taobao_items.csv" => save_gbk(out, file, &raw_csv(header, rows, true))?,
            _ => save(out, file, &csv_bytes(header, rows).map_err(|e| io_err(&out.join(file), e))?)?,
        }
        if !matches!(*file, "tickets.csv" | "products.csv") {
            s.order_rows.insert(file.to_string(), rows.len());
        }
    }
    s.tickets = files[4].2.len();
    s.events = write_events(&w, &mut rng(5), out)?;
    for (_, file, head, columns, section, values) in MAPPINGS {
        save(out, &format!("mappings/{file}"), mapping_toml(head, columns, section, values).as_bytes())?;
    }
    save(out, "custlens.toml", config_toml().as_bytes())?;
    s.deliberate_rejects = deliberate_rejects().into_iter().filter(|r| s.order_rows[&r.file] > 0).collect();
    Ok(s)
}

const BAD_QUANTITY: &str = "two";
const BAD_DATE: &str = "2024/13/45 10:00";

fn deliberate_rejects() -> Vec<DeliberateReject> {
    let r = |f: &str, c: &str, v: &str, why: &str| DeliberateReject {
        file: f.into(),
        line: 2,
        column: c.into(),
        value: v.into(),
        reason: why.into(),
    };
    vec![
        r("shopify_orders.csv", "Lineitem quantity", BAD_QUANTITY, "not a whole number (first row of order #1001)"),
        r("pos_sales.csv", "sold_at", BAD_DATE, "month 13, day 45 is not a date (first receipt, one line)"),
    ]
}

// ------------------------------------------------------------------------------------------ world

/// Sales channel; the lower-cased name is the source name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Channel {
    Shopify,
    Taobao,
    Pos,
}

/// Behaviour of a latent customer type: population share, mean purchases per year while alive
/// (Gamma-distributed per person), dropout probability after each purchase, probability of each
/// extra basket line, and email open / click-after-open / unsubscribe probabilities per campaign.
struct Traits {
    share: f64,
    rate: f64,
    dropout: f64,
    extra_line: f64,
    open: f64,
    click: f64,
    unsub: f64,
}

/// Loyal, regular, one-off, lapsed.
#[rustfmt::skip]
const TRAITS: [Traits; 4] = [
    Traits { share: 0.15, rate: 8.0, dropout: 0.04, extra_line: 0.45, open: 0.5, click: 0.35, unsub: 0.002 },
    Traits { share: 0.35, rate: 4.0, dropout: 0.12, extra_line: 0.35, open: 0.3, click: 0.2, unsub: 0.005 },
    Traits { share: 0.35, rate: 2.0, dropout: 0.7, extra_line: 0.25, open: 0.12, click: 0.1, unsub: 0.01 },
    Traits { share: 0.15, rate: 4.0, dropout: 0.4, extra_line: 0.3, open: 0.08, click: 0.08, unsub: 0.03 },
];

struct Person {
    kind: usize,
    cn_name: String,
    en_name: String,
    email: String,
    phone: String,
    nick: String,
    card: String,
    address: String,
    /// The first one is preferred.
    channels: Vec<Channel>,
    opt_in: bool,
    store: usize,
    /// Day of the first purchase, counted from `start`.
    acquired: f64,
}

struct Product {
    sku: String,
    en: &'static str,
    cn: &'static str,
    category: &'static str,
    /// USD cents.
    price: i64,
    cost: i64,
}

struct Line {
    product: usize,
    qty: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Pending,
    Paid,
    Shipped,
    Completed,
    Cancelled,
    Refunded,
    PartialRefund,
}

struct Order {
    person: usize,
    channel: Channel,
    at: DateTime<Utc>,
    shipped_at: DateTime<Utc>,
    lines: Vec<Line>,
    fate: Fate,
}

struct World {
    persons: Vec<Person>,
    catalog: Vec<Product>,
    /// Sorted by time.
    orders: Vec<Order>,
    start: NaiveDate,
    days: f64,
    /// End of the window: the last day's 23:59:59 China time.
    now: DateTime<Utc>,
}

impl World {
    fn of(&self, ch: Channel) -> Vec<&Order> {
        self.orders.iter().filter(|o| o.channel == ch).collect()
    }

    fn day_to_utc(&self, day: f64) -> DateTime<Utc> {
        china_to_utc(self.start, day.floor() as i64, ((day - day.floor()) * 86_400.0) as i64)
    }

    /// Unit price in the channel's currency, in cents: USD on Shopify, 6.5× in whole yuan elsewhere.
    fn unit_cents(&self, line: &Line, ch: Channel) -> i64 {
        let usd = self.catalog[line.product].price;
        if ch == Channel::Shopify {
            usd
        } else {
            (usd as f64 * 6.5 / 100.0).round() as i64 * 100
        }
    }

    fn goods_cents(&self, o: &Order) -> i64 {
        o.lines.iter().map(|l| self.unit_cents(l, o.channel) * l.qty).sum()
    }

    /// When the shop learned each person's email: their first Shopify order, if any.
    fn email_known(&self) -> Vec<Option<DateTime<Utc>>> {
        let mut known = vec![None; self.persons.len()];
        for o in self.of(Channel::Shopify) {
            known[o.person].get_or_insert(o.at);
        }
        known
    }

    fn last_unit_cents(&self, o: &Order) -> i64 {
        o.lines.last().map_or(0, |l| self.unit_cents(l, o.channel))
    }
}

/// The seed's ChaCha8 generator on its own stream, one per stage.
fn stream(seed: u64, n: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(n);
    r
}

fn china_to_utc(start: NaiveDate, day: i64, secs: i64) -> DateTime<Utc> {
    let local = start.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::days(day) + Duration::seconds(secs);
    Utc.from_utc_datetime(&(local - Duration::hours(8)))
}

fn build_world(cfg: &SampleConfig) -> World {
    let mut rng = stream(cfg.seed, 1);
    let days = ((cfg.end - cfg.start).num_days() + 1) as f64;
    let catalog = make_catalog(&mut rng);
    let popularity = zipf(&mut rng, catalog.len());
    let mut phones = BTreeSet::new();
    let persons = (0..cfg.customers).map(|i| make_person(i, days, &mut rng, &mut phones)).collect();
    let now = china_to_utc(cfg.start, days as i64, -1);
    let mut w = World { persons, catalog, orders: Vec::new(), start: cfg.start, days, now };
    let mut orders = Vec::new();
    for (i, p) in w.persons.iter().enumerate() {
        for day in purchase_days(p, days, &mut rng) {
            orders.push(make_order(&w, i, day, &popularity, &mut rng));
        }
    }
    orders.sort_by_key(|o| (o.at, o.person));
    if let Some(first_pos) = orders.iter_mut().find(|o| o.channel == Channel::Pos) {
        first_pos.lines.truncate(1); // it carries the bad date: keep it a one-row receipt
    }
    w.orders = orders;
    w
}

/// Zipf-like weights (1/rank^1.1) over a seeded permutation of the catalog.
fn zipf(rng: &mut ChaCha8Rng, n: usize) -> WeightedIndex<f64> {
    let mut rank: Vec<usize> = (1..=n).collect();
    rank.shuffle(rng);
    let weights = rank.iter().map(|r| 1.0 / (*r as f64).powf(1.1));
    WeightedIndex::new(weights).unwrap_or_else(|_| WeightedIndex::new([1.0]).expect("one positive weight"))
}

fn make_catalog(rng: &mut ChaCha8Rng) -> Vec<Product> {
    let mut out = Vec::new();
    for (category, en, cn, price) in CATALOG.iter().copied() {
        let cost = (price as f64 * rng.gen_range(0.35..0.6)).round() as i64;
        out.push(Product { sku: format!("SKU-{}", 1001 + out.len()), en, cn, category, price, cost });
    }
    out
}

fn make_person(i: usize, days: f64, rng: &mut ChaCha8Rng, phones: &mut BTreeSet<String>) -> Person {
    let kind = WeightedIndex::new(TRAITS.iter().map(|t| t.share)).map_or(0, |d| d.sample(rng));
    let (sur_cn, sur_en) = *SURNAMES.choose(rng).unwrap_or(&SURNAMES[0]);
    let (giv_cn, giv_en) = *GIVEN.choose(rng).unwrap_or(&GIVEN[0]);
    let (sur, giv) = (sur_en.to_lowercase(), giv_en.to_lowercase());
    let domain = ["example.com", "example.net", "example.org"][i % 3];
    let email = match rng.gen_range(0..3) {
        0 => format!("{giv}.{sur}{i}@{domain}"),
        1 => format!("{sur}{giv}{}@{domain}", i + 80),
        _ => format!("{}{sur}_{i}@{domain}", &giv[..1]),
    };
    let phone = loop {
        let p = format!("{}{:08}", PHONE_PREFIXES.choose(rng).unwrap_or(&"139"), rng.gen_range(0..100_000_000u32));
        if phones.insert(p.clone()) {
            break p;
        }
    };
    let nick = match rng.gen_range(0..3) {
        0 => format!("{sur}{giv}_{}", i + 1),
        1 => format!("tb{:04}{i:04}", rng.gen_range(1000..10_000)),
        _ => format!("{}{}{i}", NICK_ADJ.choose(rng).unwrap_or(&"小"), NICK_NOUN.choose(rng).unwrap_or(&"鱼")),
    };
    let (prov, city, dist, zip, street) = *PLACES.choose(rng).unwrap_or(&PLACES[0]);
    Person {
        kind,
        cn_name: format!("{sur_cn}{giv_cn}"),
        en_name: format!("{giv_en} {sur_en}"),
        email,
        phone,
        nick,
        card: format!("M{:08}", 10_000 + i * 37),
        address: format!("{prov} {city} {dist} {street}{}号({zip})", rng.gen_range(1..400)),
        channels: pick_channels(rng),
        opt_in: rng.gen_bool(0.7),
        store: rng.gen_range(0..2),
        acquired: rng.gen_range(0.0..days * 0.92),
    }
}

/// 1–3 distinct channels (40% / 40% / 20%), drawn by channel popularity.
fn pick_channels(rng: &mut ChaCha8Rng) -> Vec<Channel> {
    let n = [1, 1, 1, 1, 2, 2, 2, 2, 3, 3].choose(rng).copied().unwrap_or(1);
    let mut pool = vec![(Channel::Shopify, 0.45), (Channel::Taobao, 0.35), (Channel::Pos, 0.2)];
    let mut out = Vec::new();
    while out.len() < n {
        let Ok(d) = WeightedIndex::new(pool.iter().map(|c| c.1)) else {
            break;
        };
        out.push(pool.remove(d.sample(rng)).0);
    }
    out
}

/// The acquisition day, then Poisson arrivals at a Gamma-distributed rate until dropout or window end.
fn purchase_days(p: &Person, days: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let t = &TRAITS[p.kind];
    let rate = Gamma::new(2.0, t.rate / 2.0).map_or(t.rate, |g| g.sample(rng)) / 365.0;
    let gap = Exp::new(rate.max(1e-4)).ok();
    let mut out = vec![p.acquired];
    let mut day = p.acquired;
    while let Some(g) = gap {
        day += g.sample(rng);
        if rng.gen_bool(t.dropout) || day >= days {
            break;
        }
        out.push(day);
    }
    out
}

fn make_order(w: &World, person: usize, day: f64, pop: &WeightedIndex<f64>, rng: &mut ChaCha8Rng) -> Order {
    let p = &w.persons[person];
    let channel = match p.channels.split_first() {
        Some((first, rest)) if rest.is_empty() || rng.gen_bool(0.55) => *first,
        Some((_, rest)) => *rest.choose(rng).unwrap_or(&Channel::Shopify),
        None => Channel::Shopify,
    };
    let hour = if channel == Channel::Pos { rng.gen_range(10..22) } else { online_hour(rng) };
    let at = china_to_utc(w.start, day.floor() as i64, hour * 3600 + rng.gen_range(0..3600));
    let mut lines = vec![new_line(pop, rng)];
    while lines.len() < 4 && rng.gen_bool(TRAITS[p.kind].extra_line) {
        let l = new_line(pop, rng);
        if lines.iter().all(|x| x.product != l.product) {
            lines.push(l);
        }
    }
    let shipped_at = at + Duration::minutes(rng.gen_range(600..4320));
    let fate = pick_fate(channel, &lines, shipped_at, w.now, rng);
    Order { person, channel, at, shipped_at, lines, fate }
}

/// China-time hour of an online order, evening-heavy.
fn online_hour(rng: &mut ChaCha8Rng) -> i64 {
    const W: [u32; 24] = [3, 2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 5, 5, 5, 5, 5, 6, 7, 9, 10, 8, 5];
    WeightedIndex::new(W).map_or(20, |d| d.sample(rng) as i64)
}

fn new_line(pop: &WeightedIndex<f64>, rng: &mut ChaCha8Rng) -> Line {
    Line { product: pop.sample(rng), qty: [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3].choose(rng).copied().unwrap_or(1) }
}

/// POS sales are completed; online orders are mostly delivered, a few pending, cancelled or refunded.
fn pick_fate(ch: Channel, lines: &[Line], shipped: DateTime<Utc>, now: DateTime<Utc>, rng: &mut ChaCha8Rng) -> Fate {
    if ch == Channel::Pos {
        return Fate::Completed;
    }
    let partial_ok = lines.len() > 1 || lines.iter().any(|l| l.qty > 1);
    match rng.gen::<f64>() {
        r if r < 0.025 => Fate::Pending,
        r if r < 0.06 => Fate::Cancelled,
        r if r < 0.09 => Fate::Refunded,
        r if r < 0.12 && partial_ok => Fate::PartialRefund,
        r if r < 0.12 => Fate::Refunded,
        _ if shipped > now => Fate::Paid,
        _ if shipped + Duration::days(7) > now => Fate::Shipped,
        _ => Fate::Completed,
    }
}

// ---------------------------------------------------------------------------------------- writers

const SHOPIFY: &str = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,\
Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,\
Lineitem name,Lineitem price,Lineitem sku,Billing Name,Billing Phone,Notes,Cancelled at,Refunded Amount,Id,Phone";
const TAOBAO_ORDERS: &str = "订单编号,买家会员名,买家支付宝账号,买家应付货款,买家应付邮费,总金额,买家实际支付金额,\
订单状态,买家留言,收货人姓名,收货地址 ,联系手机,订单创建时间,订单付款时间 ,宝贝标题 ,宝贝总数量,店铺名称,订单关闭原因,退款金额";
const TAOBAO_ITEMS: &str = "订单编号,标题,价格,购买数量,外部系统编号,商品属性,套餐信息,备注,订单状态,商家编码";
const POS: &str = "receipt_no,store,member_card,member_phone,sold_at,sku,item_name,qty,unit_price,line_total,payment";
const TICKETS: &str = "Ticket ID,Requester email,Order,Type,Reason,Status,Created at,Solved at,Satisfaction";
const PRODUCTS: &str = "sku,product_name,category,price,cost";

/// A row under a header, filled by (trimmed) column name.
struct Row {
    header: &'static str,
    cells: Vec<String>,
}

impl Row {
    fn new(header: &'static str) -> Row {
        Row { header, cells: vec![String::new(); header.split(',').count()] }
    }

    fn get(&self, col: &str) -> String {
        self.header.split(',').position(|h| h.trim() == col).map_or_else(String::new, |i| self.cells[i].clone())
    }

    fn set(&mut self, col: &str, value: impl ToString) -> &mut Row {
        if let Some(i) = self.header.split(',').position(|h| h.trim() == col) {
            self.cells[i] = value.to_string();
        }
        self
    }
}

fn money(cents: i64) -> String {
    format!("{}{}.{:02}", if cents < 0 { "-" } else { "" }, cents.abs() / 100, cents.abs() % 100)
}

fn ny(t: DateTime<Utc>) -> String {
    t.with_timezone(&New_York).format("%Y-%m-%d %H:%M:%S %z").to_string()
}

fn china(t: DateTime<Utc>, fmt: &str) -> String {
    t.with_timezone(&Shanghai).format(fmt).to_string()
}

/// `fang.wang7@example.com` → `Fang.Wang7@Example.com`.
fn noisy_email(email: &str) -> String {
    let mut out = String::with_capacity(email.len());
    let mut up = true;
    for c in email.chars() {
        out.push(if up { c.to_ascii_uppercase() } else { c });
        up = c == '.' && !out.contains('@') || c == '@';
    }
    out
}

fn shopify_phone(phone: &str, rng: &mut ChaCha8Rng) -> String {
    match rng.gen_range(0..10) {
        0 => String::new(),
        1 | 2 => format!("'{phone}"),
        3..=5 => format!("+86 {} {} {}", &phone[..3], &phone[3..7], &phone[7..]),
        _ => phone.to_string(),
    }
}

/// Shopify orders export: one row per line; continuation rows repeat only Name, Email, Created at and
/// the Lineitem fields. Order #1001 (line 2) gets the bad quantity.
fn shopify_rows(w: &World, rng: &mut ChaCha8Rng) -> Vec<Vec<String>> {
    let (mut rows, mut seen) = (Vec::new(), BTreeSet::new());
    for (k, o) in w.of(Channel::Shopify).into_iter().enumerate() {
        let head = shopify_order(w, k, o, seen.insert(o.person), rng);
        for (j, l) in o.lines.iter().enumerate() {
            let mut r = Row::new(SHOPIFY);
            for col in ["Name", "Email", "Created at"] {
                r.set(col, head.get(col));
            }
            if j == 0 {
                r.cells.clone_from(&head.cells);
            }
            let (product, qty) =
                (&w.catalog[l.product], if k == 0 && j == 0 { BAD_QUANTITY.into() } else { l.qty.to_string() });
            r.set("Lineitem quantity", qty).set("Lineitem name", product.en).set("Lineitem sku", &product.sku);
            rows.push(r.set("Lineitem price", money(w.unit_cents(l, o.channel))).cells.clone());
        }
    }
    rows
}

/// The order-level cells of a Shopify order's first row; `first` marks the person's first Shopify order.
fn shopify_order(w: &World, k: usize, o: &Order, first: bool, rng: &mut ChaCha8Rng) -> Row {
    let p = &w.persons[o.person];
    let (code, pct) = match rng.gen::<f64>() {
        r if first && r < 0.3 => ("WELCOME10", 10),
        r if r < 0.08 => ("VIP15", 15),
        _ => ("", 0),
    };
    let email = match rng.gen_range(0..50) {
        0 if k > 0 => String::new(), // guest checkout; #1001 keeps its email for its good rows
        1..=5 => noisy_email(&p.email),
        _ => p.email.clone(),
    };
    let phone = match shopify_phone(&p.phone, rng) {
        ph if ph.is_empty() && email.is_empty() => p.phone.clone(),
        ph => ph,
    };
    let discount = w.goods_cents(o) * pct / 100;
    let sub = w.goods_cents(o) - discount;
    let (ship, method) = match (sub >= 7500, rng.gen_bool(0.2)) {
        (true, _) => (0, "Free Shipping"),
        (false, true) => (1495, "Express Shipping"),
        (false, false) => (695, "Standard Shipping"),
    };
    let tax = (sub * 8 + 50) / 100;
    let (fin, fulfilled, _, _) = labels(o.fate);
    let refund = match o.fate {
        Fate::Refunded => sub,
        Fate::PartialRefund => w.last_unit_cents(o) * (100 - pct) / 100,
        _ => 0,
    };
    let note = match rng.gen_range(0..100) {
        0 | 1 => "Please call before delivery.\nLeave it at the front desk if nobody answers.",
        2..=4 => "Gift wrap please",
        _ => "",
    };
    let mut r = Row::new(SHOPIFY);
    r.set("Name", format!("#{}", 1001 + k)).set("Email", email).set("Created at", ny(o.at));
    r.set("Financial Status", fin).set("Fulfillment Status", ["unfulfilled", "fulfilled"][fulfilled as usize]);
    if !matches!(o.fate, Fate::Pending | Fate::Cancelled) {
        r.set("Paid at", ny(o.at + Duration::seconds(rng.gen_range(5..300))));
    }
    if fulfilled {
        r.set("Fulfilled at", ny(o.shipped_at));
    }
    if o.fate == Fate::Cancelled {
        r.set("Cancelled at", ny(o.at + Duration::minutes(rng.gen_range(30..2880))));
    }
    r.set("Accepts Marketing", if p.opt_in { "yes" } else { "no" }).set("Currency", "USD");
    r.set("Subtotal", money(sub)).set("Shipping", money(ship)).set("Taxes", money(tax));
    r.set("Total", money(sub + ship + tax)).set("Discount Code", code).set("Discount Amount", money(discount));
    r.set("Shipping Method", method).set("Billing Name", &p.en_name).set("Billing Phone", phone);
    r.set("Notes", note).set("Refunded Amount", money(refund)).set("Id", 5_210_000_000_000u64 + k as u64 * 7_919);
    r.set("Phone", if rng.gen_bool(0.25) { format!("+86{}", p.phone) } else { String::new() });
    r
}

/// Shopify Financial Status, whether fulfilled, Taobao 订单状态 and 订单关闭原因.
fn labels(f: Fate) -> (&'static str, bool, &'static str, &'static str) {
    match f {
        Fate::Pending => ("pending", false, "等待买家付款", "订单未关闭"),
        Fate::Cancelled => ("voided", false, "交易关闭", "买家未付款"),
        Fate::Paid => ("paid", false, "买家已付款，等待卖家发货", "订单未关闭"),
        Fate::Shipped => ("paid", true, "卖家已发货，等待买家确认", "订单未关闭"),
        Fate::Completed => ("paid", true, "交易成功", "订单未关闭"),
        Fate::Refunded => ("refunded", true, "交易关闭", "退款"),
        Fate::PartialRefund => ("partially_refunded", true, "交易成功", "订单未关闭"),
    }
}

/// `="…"`, as spreadsheet-safe Taobao exports write ids; empty cells are sometimes `=""`.
fn excel(v: &str) -> String {
    format!("=\"{v}\"")
}

fn maybe_excel_empty(rng: &mut ChaCha8Rng) -> String {
    excel("").repeat(rng.gen_range(0..2))
}

/// Taobao 订单报表 (one row per order) and 宝贝报表 (one row per line), prices in CNY.
fn taobao_rows(w: &World, rng: &mut ChaCha8Rng) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let (mut orders, mut items, mut ids) = (Vec::new(), Vec::new(), BTreeSet::new());
    for o in w.of(Channel::Taobao) {
        let p = &w.persons[o.person];
        let id = loop {
            let id = rng.gen_range(200_000_000_000_000_000..400_000_000_000_000_000u64);
            if ids.insert(id) {
                break excel(&id.to_string());
            }
        };
        let (_, _, status, close) = labels(o.fate);
        let goods = w.goods_cents(o);
        let post = if goods < 9900 { 1000 } else { 0 };
        let paid = !matches!(o.fate, Fate::Pending | Fate::Cancelled);
        let refund = match o.fate {
            Fate::Refunded => goods,
            Fate::PartialRefund => w.last_unit_cents(o),
            _ => 0,
        };
        let mut r = Row::new(TAOBAO_ORDERS);
        r.set("订单编号", &id).set("买家会员名", &p.nick);
        r.set("买家支付宝账号", format!("{}****{}", &p.phone[..3], &p.phone[7..]));
        r.set("买家应付货款", money(goods)).set("买家应付邮费", money(post)).set("总金额", money(goods + post));
        let yuan = if rng.gen_bool(0.35) { "元" } else { "" };
        r.set("买家实际支付金额", format!("{}{yuan}", money(if paid { goods + post } else { 0 })));
        let msg = *["", "", "", "", "", "请尽快发货", "包装好一点，谢谢"].choose(rng).unwrap_or(&"");
        r.set("订单状态", status).set("买家留言", if msg.is_empty() { maybe_excel_empty(rng) } else { msg.into() });
        r.set("收货人姓名", &p.cn_name).set("收货地址", &p.address).set("联系手机", format!("'{}", p.phone));
        r.set("订单创建时间", china(o.at, "%Y-%m-%d %H:%M:%S"));
        let paid_at = china(o.at + Duration::seconds(rng.gen_range(5..600)), "%Y-%m-%d %H:%M:%S");
        r.set("订单付款时间", if paid { paid_at } else { maybe_excel_empty(rng) });
        let titles: Vec<&str> = o.lines.iter().map(|l| w.catalog[l.product].cn).collect();
        r.set("宝贝标题", titles.join("，")).set("宝贝总数量", o.lines.iter().map(|l| l.qty).sum::<i64>());
        r.set("店铺名称", "悦家生活旗舰店").set("订单关闭原因", close).set("退款金额", money(refund));
        orders.push(r.cells);
        items.extend(o.lines.iter().map(|l| taobao_item(w, o, l, &id, status, rng)));
    }
    (orders, items)
}

/// One 宝贝报表 row: unit price in CNY, 商家编码 = sku.
fn taobao_item(w: &World, o: &Order, l: &Line, id: &str, status: &str, rng: &mut ChaCha8Rng) -> Vec<String> {
    let product = &w.catalog[l.product];
    let color = *["白色", "灰色", "蓝色", "原木色"].choose(rng).unwrap_or(&"白色");
    let mut it = Row::new(TAOBAO_ITEMS);
    it.set("订单编号", id).set("标题", product.cn).set("价格", money(w.unit_cents(l, o.channel)));
    it.set("购买数量", l.qty).set("外部系统编号", maybe_excel_empty(rng)).set("商品属性", format!("颜色分类：{color}"));
    it.set("订单状态", status).set("商家编码", &product.sku);
    it.cells
}

/// Offline POS lines in CNY, China time; the first receipt (line 2) gets the bad date.
fn pos_rows(w: &World, rng: &mut ChaCha8Rng) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (k, o) in w.of(Channel::Pos).into_iter().enumerate() {
        let p = &w.persons[o.person];
        let (store, code) = [("上海静安店", "SH01"), ("杭州湖滨店", "HZ01")][p.store];
        let receipt = format!("{code}-{}-{:05}", china(o.at, "%y%m%d"), k + 1);
        let phone = match rng.gen_range(0..10) {
            0 => String::new(),
            1 | 2 => format!("+86{}", p.phone),
            _ => p.phone.clone(),
        };
        let payment = *["微信支付", "支付宝", "银联卡", "现金"].choose(rng).unwrap_or(&"现金");
        let sold_at = if k == 0 { BAD_DATE.to_string() } else { china(o.at, "%Y/%m/%d %H:%M") };
        for l in &o.lines {
            let (unit, product) = (w.unit_cents(l, o.channel), &w.catalog[l.product]);
            let mut r = Row::new(POS);
            r.set("receipt_no", &receipt).set("store", store).set("member_card", &p.card).set("member_phone", &phone);
            r.set("sold_at", &sold_at).set("sku", &product.sku).set("item_name", product.cn).set("qty", l.qty);
            r.set("unit_price", money(unit)).set("line_total", money(unit * l.qty)).set("payment", payment);
            rows.push(r.cells);
        }
    }
    rows
}

#[derive(Serialize)]
struct Event {
    email: String,
    event: &'static str,
    timestamp: String,
    campaign: Option<String>,
    sku: Option<String>,
    #[serde(skip)]
    at: DateTime<Utc>,
}

impl Event {
    fn new(email: &str, event: &'static str, at: DateTime<Utc>, campaign: Option<&str>, sku: Option<&str>) -> Event {
        let (email, timestamp) = (email.to_string(), at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        Event { email, event, timestamp, campaign: campaign.map(Into::into), sku: sku.map(Into::into), at }
    }
}

fn write_events(w: &World, rng: &mut ChaCha8Rng, out: &Path) -> Result<usize, SampleError> {
    let mut ev = campaign_events(w, rng);
    ev.extend(cart_events(w, rng));
    ev.sort_by(|a, b| (a.at, &a.email).cmp(&(b.at, &b.email)));
    let mut text = String::new();
    for e in &ev {
        text.push_str(&serde_json::to_string(e).map_err(|e| io_err(&out.join("events.jsonl"), e.into()))?);
        text.push('\n');
    }
    save(out, "events.jsonl", text.as_bytes())?;
    Ok(ev.len())
}

/// Ten campaigns spread over the window, sent to opted-in persons whose email the shop knows and who
/// have not unsubscribed; opens, clicks and unsubscribes by latent type.
fn campaign_events(w: &World, rng: &mut ChaCha8Rng) -> Vec<Event> {
    let mut ev = Vec::new();
    let (mut unsubscribed, known) = (vec![false; w.persons.len()], w.email_known());
    for (c, theme) in THEMES.iter().enumerate() {
        let day = (w.days * (c as f64 + 0.5) / THEMES.len() as f64).floor();
        let send = w.day_to_utc(day + 10.0 / 24.0);
        let name = format!("{theme}-{}", send.year());
        for (i, p) in w.persons.iter().enumerate() {
            if !p.opt_in || unsubscribed[i] || known[i].is_none_or(|t| t > send) {
                continue;
            }
            let (t, campaign) = (&TRAITS[p.kind], Some(name.as_str()));
            let sent = send + Duration::seconds(i as i64 % 900);
            ev.push(Event::new(&p.email, "sent", sent, campaign, None));
            if rng.gen_bool(t.open) {
                let open = sent + Duration::minutes(rng.gen_range(2..2880));
                ev.push(Event::new(&p.email, "open", open, campaign, None));
                if rng.gen_bool(t.click) {
                    ev.push(Event::new(
                        &p.email,
                        "click",
                        open + Duration::seconds(rng.gen_range(5..600)),
                        campaign,
                        None,
                    ));
                }
            }
            if rng.gen_bool(t.unsub) {
                unsubscribed[i] = true;
                let at = sent + Duration::minutes(rng.gen_range(10..4000));
                ev.push(Event::new(&p.email, "unsubscribe", at, campaign, None));
            }
        }
    }
    ev
}

/// Cart adds and a checkout before 60% of Shopify orders, plus abandoned carts of known customers
/// (no order within 3 days after).
fn cart_events(w: &World, rng: &mut ChaCha8Rng) -> Vec<Event> {
    let mut ev = Vec::new();
    let shop = w.of(Channel::Shopify);
    for o in &shop {
        if !rng.gen_bool(0.6) {
            continue;
        }
        let email = &w.persons[o.person].email;
        for l in &o.lines {
            let at = o.at - Duration::seconds(rng.gen_range(120..3600));
            ev.push(Event::new(email, "cart_add", at, None, Some(&w.catalog[l.product].sku)));
        }
        ev.push(Event::new(email, "checkout", o.at - Duration::seconds(rng.gen_range(30..110)), None, None));
    }
    for (i, (p, known)) in w.persons.iter().zip(w.email_known()).enumerate() {
        let Some(since) = known else { continue };
        for _ in 0..rng.gen_range(0..=2) {
            let at = since + Duration::seconds(rng.gen_range(0..(w.now - since).num_seconds().max(1)));
            if shop.iter().any(|o| o.person == i && o.at >= at && o.at - at < Duration::days(3)) {
                continue;
            }
            let sku = &w.catalog[rng.gen_range(0..w.catalog.len())].sku;
            ev.push(Event::new(&p.email, "cart_add", at, None, Some(sku)));
            if rng.gen_bool(0.4) {
                ev.push(Event::new(&p.email, "checkout", at + Duration::minutes(3), None, None));
            }
        }
    }
    ev
}

/// Helpdesk tickets about Shopify orders: returns after refunds, some complaints and questions.
fn ticket_rows(w: &World, rng: &mut ChaCha8Rng) -> Vec<Vec<String>> {
    let mut tickets = Vec::new();
    for (k, o) in w.of(Channel::Shopify).into_iter().enumerate() {
        let Some((kind, reasons)) = ticket_kind(o.fate, rng) else {
            continue;
        };
        let opened = o.at + Duration::minutes(rng.gen_range(60..20_000));
        if opened > w.now {
            continue;
        }
        let open = opened + Duration::days(3) > w.now && rng.gen_bool(0.7);
        let mut r = Row::new(TICKETS);
        r.set("Requester email", &w.persons[o.person].email).set("Order", format!("#{}", 1001 + k)).set("Type", kind);
        r.set("Reason", reasons.choose(rng).unwrap_or(&"other")).set("Created at", utc_text(opened));
        r.set(
            "Status",
            if open { "open" } else { *["solved", "solved", "solved", "closed"].choose(rng).unwrap_or(&"solved") },
        );
        if !open {
            r.set("Solved at", utc_text(opened + Duration::minutes(rng.gen_range(30..4320))));
            if rng.gen_bool(0.6) {
                r.set("Satisfaction", if kind == "Complaint" { rng.gen_range(1..=3) } else { rng.gen_range(3..=5) });
            }
        }
        tickets.push((opened, r.cells));
    }
    tickets.sort_by_key(|t| t.0);
    let numbered = |(i, (_, mut cells)): (usize, (DateTime<Utc>, Vec<String>))| {
        cells[0] = (5001 + i).to_string();
        cells
    };
    tickets.into_iter().enumerate().map(numbered).collect()
}

fn utc_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Ticket type and its reasons, if the order gets a ticket.
fn ticket_kind(f: Fate, rng: &mut ChaCha8Rng) -> Option<(&'static str, &'static [&'static str])> {
    const RETURN: &[&str] = &["damaged", "not as described", "changed mind", "wrong item"];
    const EXCHANGE: &[&str] = &["wrong size", "wrong color"];
    const QUESTION: &[&str] = &["order status", "payment", "invoice", "product question"];
    const COMPLAINT: &[&str] = &["late delivery", "poor quality", "missing item"];
    let r: f64 = rng.gen();
    match f {
        Fate::Refunded if r < 0.8 => Some(("Return", RETURN)),
        Fate::PartialRefund if r < 0.4 => Some(("Return", RETURN)),
        Fate::PartialRefund if r < 0.7 => Some(("Exchange", EXCHANGE)),
        Fate::Pending | Fate::Cancelled if r < 0.15 => Some(("Question", QUESTION)),
        Fate::Paid | Fate::Shipped | Fate::Completed if r < 0.03 => Some(("Complaint", COMPLAINT)),
        Fate::Paid | Fate::Shipped | Fate::Completed if r < 0.07 => Some(("Question", QUESTION)),
        Fate::Shipped | Fate::Completed if r < 0.09 => Some(("Exchange", EXCHANGE)),
        _ => None,
    }
}

/// The catalog with canonical headers; prices and costs in USD.
fn product_rows(w: &World) -> Vec<Vec<String>> {
    let row = |p: &Product| vec![p.sku.clone(), p.en.into(), p.category.into(), money(p.price), money(p.cost)];
    w.catalog.iter().map(row).collect()
}

// ------------------------------------------------------------------------------- output helpers

fn io_err(path: &Path, source: std::io::Error) -> SampleError {
    SampleError::Io { path: path.to_path_buf(), source }
}

fn save(out: &Path, rel: &str, bytes: &[u8]) -> Result<(), SampleError> {
    let path = out.join(rel);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    }
    std::fs::write(&path, bytes).map_err(|e| io_err(&path, e))
}

fn save_gbk(out: &Path, rel: &str, text: &str) -> Result<(), SampleError> {
    let (bytes, _, had_errors) = encoding_rs::GBK.encode(text);
    if had_errors {
        return Err(SampleError::Encoding { path: out.join(rel) });
    }
    save(out, rel, &bytes)
}

/// RFC 4180 CSV with LF line ends.
fn csv_bytes(header: &str, rows: &[Vec<String>]) -> std::io::Result<Vec<u8>> {
    let mut wr = csv::Writer::from_writer(Vec::new());
    wr.write_record(header.split(','))?;
    for r in rows {
        wr.write_record(r)?;
    }
    wr.into_inner().map_err(|e| e.into_error())
}

/// CSV as Taobao writes it: CRLF, `="…"` cells unquoted, optionally a trailing comma on every line.
fn raw_csv(header: &str, rows: &[Vec<String>], trailing_comma: bool) -> String {
    let end = if trailing_comma { ",\r\n" } else { "\r\n" };
    let quote = |c: &String| match c.contains([',', '\n', '\r']) || c.starts_with('"') {
        true => format!("\"{}\"", c.replace('"', "\"\"")),
        false => c.clone(),
    };
    let mut text = format!("{header}{end}");
    for r in rows {
        text.push_str(&r.iter().map(quote).collect::<Vec<_>>().join(","));
        text.push_str(end);
    }
    text
}

/// Writes a mapping file: `head` keys, then `[columns]`, then a value map. Specs are `key=value;…`;
/// a value starting with `[` is written as is (a TOML array), any other as a string.
fn mapping_toml(head: &str, columns: &str, section: &str, values: &str) -> String {
    let pairs = |spec: &str| -> String {
        let line = |kv: &str| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let key =
                if k.chars().all(|c| c.is_ascii_lowercase() || c == '_') { k.to_string() } else { format!("{k:?}") };
            if v.starts_with('[') {
                format!("{key} = {v}\n")
            } else {
                format!("{key} = {v:?}\n")
            }
        };
        spec.split(';').filter(|s| !s.is_empty()).map(line).collect()
    };
    let mut text =
        format!("# Written by the custlens sample generator.\n{}\n[columns]\n{}", pairs(head), pairs(columns));
    if !section.is_empty() {
        text.push_str(&format!("\n[{section}]\n{}", pairs(values)));
    }
    text
}

/// (data file, mapping file, head, columns, value-map section, values).
const MAPPINGS: [(&str, &str, &str, &str, &str, &str); 6] = [
    (
        "shopify_orders.csv",
        "shopify.toml",
        "table=orders;source=shopify;channel=online_store;grain=line_item;date_format=%Y-%m-%d %H:%M:%S %z;\
         transforms=[\"strip_leading_quote\"]",
        "order_id=Name;email=Email;status=Financial Status;status_detail=Fulfillment Status;created_at=Created at;\
         paid_at=Paid at;shipped_at=Fulfilled at;currency=Currency;discount=Discount Amount;shipping=Shipping;tax=Taxes;\
         refund_amount=Refunded Amount;email_opt_in=Accepts Marketing;name=Billing Name;phone=Billing Phone;\
         quantity=Lineitem quantity;product_name=Lineitem name;unit_price=Lineitem price;sku=Lineitem sku",
        "status",
        "paid|fulfilled=shipped;paid=paid;pending=pending_payment;refunded=refunded;\
         partially_refunded|fulfilled=shipped;partially_refunded=paid;voided=cancelled",
    ),
    (
        "taobao_orders.csv",
        "taobao_orders.toml",
        "table=orders;source=taobao;channel=tmall;encoding=gbk;timezone=Asia/Shanghai;date_format=%Y-%m-%d %H:%M:%S;\
         currency=CNY;transforms=[\"strip_excel_formula\", \"strip_leading_quote\", \"strip_yuan_suffix\"]",
        "order_id=订单编号;customer_key=买家会员名;gross_amount=买家应付货款;shipping=买家应付邮费;refund_amount=退款金额;\
         status=订单状态;status_detail=订单关闭原因;name=收货人姓名;phone=联系手机;created_at=订单创建时间;\
         paid_at=订单付款时间;store=店铺名称",
        "status",
        "等待买家付款=pending_payment;买家已付款，等待卖家发货=paid;卖家已发货，等待买家确认=shipped;\
         交易成功=completed;交易关闭|退款=refunded;交易关闭|买家未付款=cancelled;交易关闭=cancelled",
    ),
    (
        "taobao_items.csv",
        "taobao_items.toml",
        "table=order_items;source=taobao;encoding=gbk;transforms=[\"strip_excel_formula\"]",
        "order_id=订单编号;product_name=标题;unit_price=价格;quantity=购买数量;sku=商家编码",
        "",
        "",
    ),
    (
        "pos_sales.csv",
        "pos.toml",
        "table=orders;source=pos;channel=offline;grain=line_item;timezone=Asia/Shanghai;date_format=%Y/%m/%d %H:%M;\
         currency=CNY",
        "order_id=receipt_no;store=store;customer_key=member_card;phone=member_phone;created_at=sold_at;sku=sku;\
         product_name=item_name;quantity=qty;unit_price=unit_price;line_amount=line_total",
        "",
        "",
    ),
    (
        "events.jsonl",
        "events.toml",
        "table=events;source=email;channel=email",
        "email=email;ts=timestamp;event_type=event;campaign_id=campaign;sku=sku",
        "event_types",
        "sent=email_sent;open=email_open;click=email_click;unsubscribe=unsubscribe;cart_add=add_to_cart;\
         checkout=begin_checkout",
    ),
    (
        "tickets.csv",
        "tickets.toml",
        "table=tickets;source=helpdesk;order_source=shopify;timezone=UTC;date_format=%Y-%m-%d %H:%M:%S",
        "ticket_id=Ticket ID;email=Requester email;order_id=Order;kind=Type;reason=Reason;status=Status;\
         opened_at=Created at;resolved_at=Solved at;satisfaction=Satisfaction",
        "kinds",
        "Return=return;Exchange=exchange;Complaint=complaint;Question=inquiry",
    ),
];

/// `custlens.toml`: the `[currency]` rate the world uses, then one `[[sources]]` per file, paths
/// relative to the output folder.
fn config_toml() -> String {
    let mut text = String::from("# Written by the custlens sample generator; paths are relative to this file.\n");
    text.push_str("\n# Shopify sells in USD, Taobao and POS in CNY at 6.5 × the USD price.\n");
    text.push_str("[currency]\nbase = \"CNY\"\nrates = { USD = 6.5 }\n");
    text.push_str("\n[[sources]]\npath = \"products.csv\"\nformat = \"canonical\"\n");
    for (data, mapping, ..) in MAPPINGS {
        text.push_str(&format!("\n[[sources]]\npath = \"{data}\"\nmapping = \"mappings/{mapping}\"\n"));
    }
    text
}

// ----------------------------------------------------------------------------------- word lists

#[rustfmt::skip]
const SURNAMES: &[(&str, &str)] = &[
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"), ("黄", "Huang"),
    ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"),
    ("胡", "Hu"), ("郭", "Guo"),
];
#[rustfmt::skip]
const GIVEN: &[(&str, &str)] = &[
    ("芳", "Fang"), ("伟", "Wei"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("丽", "Li"), ("强", "Qiang"),
    ("磊", "Lei"), ("洋", "Yang"), ("艳", "Yan"), ("勇", "Yong"), ("军", "Jun"), ("杰", "Jie"), ("娟", "Juan"),
    ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"), ("秀英", "Xiuying"), ("晓燕", "Xiaoyan"), ("建华", "Jianhua"),
    ("子涵", "Zihan"), ("欣怡", "Xinyi"), ("梓轩", "Zixuan"), ("雨桐", "Yutong"),
];
#[rustfmt::skip]
const PHONE_PREFIXES: &[&str] =
    &["130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "176", "186", "188"];
const NICK_ADJ: &[&str] = &["快乐的", "爱吃", "小", "阳光", "安静的", "会飞的"];
const NICK_NOUN: &[&str] = &["鱼", "猫咪", "兔子", "星星", "橙子", "小熊"];
/// Province, city, district, postcode, street.
#[rustfmt::skip]
const PLACES: &[(&str, &str, &str, &str, &str)] = &[
    ("浙江省", "杭州市", "西湖区", "310000", "文三路"), ("上海", "上海市", "静安区", "200040", "南京西路"),
    ("广东省", "深圳市", "南山区", "518000", "科技园路"), ("北京", "北京市", "朝阳区", "100020", "建国路"),
    ("江苏省", "南京市", "鼓楼区", "210008", "中山北路"), ("四川省", "成都市", "武侯区", "610041", "人民南路"),
];
#[rustfmt::skip]
const THEMES: [&str; 10] = [
    "new-year", "spring-sale", "mothers-day", "618", "summer", "back-to-school", "golden-week", "singles-day",
    "black-friday", "holiday",
];
/// Category, English name, Chinese name, USD price in cents.
#[rustfmt::skip]
const CATALOG: &[(&str, &str, &str, i64)] = &[
    ("Kitchen", "Nonstick Frying Pan 28cm", "不粘煎锅28厘米", 3990), ("Kitchen", "Stainless Steel Wok", "不锈钢炒锅", 5900),
    ("Kitchen", "Chef Knife 8in", "主厨刀8英寸", 2950), ("Kitchen", "Bamboo Cutting Board", "竹制砧板", 1890),
    ("Kitchen", "Ceramic Saucepan", "陶瓷奶锅", 3400), ("Kitchen", "Silicone Spatula Set", "硅胶铲套装", 1250),
    ("Kitchen", "Electric Kettle 1.7L", "电热水壶1.7升", 4500),
    ("Bedding", "Cotton Duvet Cover Queen", "纯棉被套双人", 6900), ("Bedding", "Linen Pillowcase Pair", "亚麻枕套一对", 2490),
    ("Bedding", "Memory Foam Pillow", "记忆棉枕头", 3900), ("Bedding", "Silk Sleep Mask", "真丝眼罩", 1590),
    ("Bedding", "Down Alternative Comforter", "仿羽绒被", 8900), ("Bedding", "Fitted Sheet Queen", "床笠双人", 3200),
    ("Bedding", "Weighted Blanket", "重力毯", 9900),
    ("Bath", "Turkish Cotton Towel", "土耳其棉浴巾", 2200), ("Bath", "Bath Mat", "浴室地垫", 1650),
    ("Bath", "Bamboo Bath Caddy", "竹制浴缸架", 2800), ("Bath", "Shower Curtain", "浴帘", 1990),
    ("Bath", "Soap Dispenser Set", "皂液器套装", 1490), ("Bath", "Bathrobe", "浴袍", 4900),
    ("Bath", "Toothbrush Holder", "牙刷架", 990),
    ("Decor", "Ceramic Vase", "陶瓷花瓶", 2600), ("Decor", "Scented Candle", "香薰蜡烛", 1800),
    ("Decor", "Wall Clock", "挂钟", 3500), ("Decor", "Table Lamp", "台灯", 5800),
    ("Decor", "Photo Frame Set", "相框套装", 2190), ("Decor", "Throw Pillow Cover", "抱枕套", 1290),
    ("Storage", "Storage Basket", "收纳篮", 1900), ("Storage", "Drawer Organizer", "抽屉收纳盒", 1350),
    ("Storage", "Shoe Rack", "鞋架", 3600), ("Storage", "Under-bed Storage Bag", "床底收纳袋", 1790),
    ("Storage", "Wall Shelf", "墙面置物架", 4400), ("Storage", "Jewelry Box", "首饰盒", 2750),
    ("Tableware", "Porcelain Dinner Plate Set", "骨瓷餐盘套装", 4800), ("Tableware", "Glass Tumbler Set", "玻璃杯套装", 2250),
    ("Tableware", "Wooden Chopsticks 10 Pairs", "实木筷子10双", 950), ("Tableware", "Ceramic Rice Bowl Set", "陶瓷饭碗套装", 1990),
    ("Tableware", "Stainless Cutlery Set", "不锈钢刀叉套装", 3200), ("Tableware", "Teapot", "茶壶", 3800),
    ("Tableware", "Coffee Mug", "咖啡杯", 1190),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn gen(seed: u64, tag: &str) -> (PathBuf, SampleSummary) {
        let dir = std::env::temp_dir().join(format!("custlens-sample-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = generate(&SampleConfig { seed, ..Default::default() }, &dir).expect("sample is written");
        (dir, s)
    }

    fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        for sub in ["", "mappings"] {
            for e in std::fs::read_dir(dir.join(sub)).expect("folder").flatten().filter(|e| e.path().is_file()) {
                out.insert(
                    format!("{sub}/{}", e.file_name().to_string_lossy()),
                    std::fs::read(e.path()).expect("file"),
                );
            }
        }
        out
    }

    /// Text of a file (GBK for the Taobao ones) and its records as maps of trimmed header → cell.
    fn table(dir: &Path, file: &str) -> (String, Vec<BTreeMap<String, String>>) {
        let bytes = std::fs::read(dir.join(file)).expect("file");
        let (text, had_errors) = match file.starts_with("taobao") {
            true => encoding_rs::GBK.decode_without_bom_handling(&bytes),
            false => (String::from_utf8_lossy(&bytes), false),
        };
        assert!(!had_errors, "{file} decodes");
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
        let header: Vec<String> = rdr.headers().expect("header").iter().map(|h| h.trim().to_string()).collect();
        let rows =
            rdr.records().map(|r| header.iter().cloned().zip(r.expect("record").iter().map(String::from)).collect());
        (text.to_string(), rows.collect())
    }

    #[test]
    fn same_seed_writes_identical_bytes() {
        let ((a, _), (b, _)) = (gen(42, "same-a"), gen(42, "same-b"));
        let (fa, fb) = (files(&a), files(&b));
        assert_eq!(fa.len(), 14);
        assert!(fa == fb, "same seed, same bytes");
        for d in [a, b] {
            std::fs::remove_dir_all(d).expect("cleanup");
        }
    }

    #[test]
    fn different_seed_writes_different_data() {
        let ((a, _), (b, _)) = (gen(42, "seed-a"), gen(7, "seed-b"));
        let (fa, fb) = (files(&a), files(&b));
        for f in ["/shopify_orders.csv", "/taobao_orders.csv", "/pos_sales.csv", "/events.jsonl", "/tickets.csv"] {
            assert_ne!(fa[f], fb[f], "{f}");
        }
        assert_eq!(fa["mappings/shopify.toml"], fb["mappings/shopify.toml"]);
        for d in [a, b] {
            std::fs::remove_dir_all(d).expect("cleanup");
        }
    }

    #[test]
    fn taobao_files_are_gbk_with_exact_headers() {
        let (dir, s) = gen(42, "gbk");
        let (orders, rows) = table(&dir, "taobao_orders.csv");
        assert_eq!(orders.lines().next(), Some(TAOBAO_ORDERS));
        assert!(orders.contains("收货地址 ,联系手机,订单创建时间,订单付款时间 ,宝贝标题 ,"));
        assert!(rows.iter().all(|r| r["订单编号"].starts_with("=\"") && r["订单编号"].len() == 21));
        assert!(rows.iter().any(|r| r["买家实际支付金额"].ends_with('元')));
        assert!(rows.iter().any(|r| r["订单关闭原因"] == "退款") && rows.iter().any(|r| r["退款金额"] != "0.00"));
        let (items, item_rows) = table(&dir, "taobao_items.csv");
        assert_eq!(items.lines().next(), Some(format!("{TAOBAO_ITEMS},").as_str()));
        assert!(items.lines().all(|l| l.ends_with(',')));
        assert_eq!(item_rows.len(), s.order_rows["taobao_items.csv"]);
        std::fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn shopify_continuation_rows_carry_only_line_fields() {
        let (dir, s) = gen(42, "shopify");
        let (text, rows) = table(&dir, "shopify_orders.csv");
        assert_eq!(text.lines().next(), Some(SHOPIFY));
        assert_eq!(rows.len(), s.order_rows["shopify_orders.csv"]);
        let cents = |v: &str| (v.parse::<f64>().expect("money") * 100.0).round() as i64;
        let mut seen = BTreeSet::new();
        for r in &rows {
            if seen.insert(r["Name"].clone()) {
                assert!(!r["Financial Status"].is_empty());
                assert_eq!(cents(&r["Total"]), cents(&r["Subtotal"]) + cents(&r["Shipping"]) + cents(&r["Taxes"]));
            } else {
                assert!(r["Financial Status"].is_empty() && r["Total"].is_empty() && r["Billing Phone"].is_empty());
                assert!(!r["Lineitem sku"].is_empty() && !r["Created at"].is_empty());
            }
        }
        assert!(
            rows.iter().any(|r| r["Notes"].contains('\n')) && rows.iter().any(|r| r["Billing Phone"].starts_with('\''))
        );
        std::fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn world_has_repeat_and_multichannel_buyers() {
        let w = build_world(&SampleConfig::default());
        let mut per: BTreeMap<usize, (usize, BTreeSet<Channel>)> = BTreeMap::new();
        for o in &w.orders {
            let e = per.entry(o.person).or_default();
            e.0 += 1;
            e.1.insert(o.channel);
        }
        type Buyer = (usize, BTreeSet<Channel>);
        let share = |f: &dyn Fn(&Buyer) -> bool| per.values().filter(|v| f(v)).count() as f64 / per.len() as f64;
        let (repeat, multi) = (share(&|v| v.0 >= 2), share(&|v| v.1.len() >= 2));
        assert!(repeat >= 0.3 && multi >= 0.15, "repeat {repeat:.2}, multichannel {multi:.2}");
        assert!((1500..=3000).contains(&w.orders.len()), "{} orders", w.orders.len());
    }

    #[test]
    fn exactly_two_bad_rows_where_documented() {
        let (dir, s) = gen(42, "rejects");
        assert_eq!(s.deliberate_rejects.len(), 2);
        let (_, shop) = table(&dir, "shopify_orders.csv");
        let bad_qty: Vec<usize> =
            (0..shop.len()).filter(|i| shop[*i]["Lineitem quantity"].parse::<i64>().is_err()).collect();
        assert_eq!((bad_qty, shop[0]["Lineitem quantity"].as_str()), (vec![0], BAD_QUANTITY));
        let ny_ok = |v: &str| v.is_empty() || DateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S %z").is_ok();
        assert!(shop.iter().all(|r| ny_ok(&r["Created at"]) && ny_ok(&r["Paid at"]) && ny_ok(&r["Fulfilled at"])));
        let (_, pos) = table(&dir, "pos_sales.csv");
        let date_ok = |r: &BTreeMap<String, String>| {
            chrono::NaiveDateTime::parse_from_str(&r["sold_at"], "%Y/%m/%d %H:%M").is_ok()
        };
        let bad_dates: Vec<usize> = (0..pos.len()).filter(|i| !date_ok(&pos[*i])).collect();
        assert_eq!((bad_dates, pos[0]["sold_at"].as_str()), (vec![0], BAD_DATE));
        assert_ne!(pos[0]["receipt_no"], pos[1]["receipt_no"], "the bad POS row is a receipt of its own");
        std::fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn mappings_parse_and_name_headers_of_their_files() {
        let (dir, s) = gen(42, "mappings");
        let allowed = "table source channel store grain encoding format delimiter timezone date_format currency \
            order_source transforms column_transforms null_values columns status event_types kinds";
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect(f);
        let cfg: toml::Table = toml::from_str(&read("custlens.toml")).expect("custlens.toml");
        let sources = cfg["sources"].as_array().expect("[[sources]]");
        assert_eq!(sources.len(), 7);
        assert!(sources.iter().all(|src| dir.join(src["path"].as_str().expect("path")).is_file()));
        for (data, file, ..) in MAPPINGS {
            let t: toml::Table = toml::from_str(&read(&format!("mappings/{file}"))).expect(file);
            assert!(t.keys().all(|k| allowed.split_whitespace().any(|a| a == k)), "{file}");
            let headers: Vec<String> = match data.ends_with(".jsonl") {
                true => serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(
                    read(data).lines().next().expect("event"),
                )
                .expect("json")
                .keys()
                .cloned()
                .collect(),
                false => table(&dir, data).1[0].keys().cloned().collect(),
            };
            for (canon, header) in t["columns"].as_table().expect("[columns]") {
                assert!(headers.iter().any(|h| Some(h.as_str()) == header.as_str()), "{file}: {canon} = {header}");
            }
        }
        let (_, tickets) = table(&dir, "tickets.csv");
        let (_, shop) = table(&dir, "shopify_orders.csv");
        assert_eq!(tickets.len(), s.tickets);
        assert!(tickets.iter().all(|t| shop.iter().any(|r| r["Name"] == t["Order"])));
        assert_eq!(read("events.jsonl").lines().count(), s.events);
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
