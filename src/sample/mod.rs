//! `custlens gen`: seeded multichannel exports drawn from a generative model whose truth is
//! written beside them.
//!
//! ## Method
//! The model ([`model`]) simulates each person alone — BG/NBD purchase timing, Gamma-Gamma spend,
//! baskets with planted association rules ([`baskets`]), a latent type, channels and noise — from
//! the person's own random stream. Persons are rendered ([`formats`]) in chunks, in parallel, and
//! the chunks are written in order, so output is byte-identical for a seed whatever the thread
//! count, and memory stays bounded by a few chunks whatever the size.
//!
//! Written into the output folder:
//! - order exports as platforms write them: `shopify_orders.csv` (+ `shopify_orders_reexport.csv`),
//!   `taobao_orders.csv` (+ `taobao_orders_reexport.csv`) and `taobao_items.csv` in GBK,
//!   `pos_sales.csv`, and ([`platforms`]) `woocommerce_orders.csv` (AlgolPlus layout),
//!   `jd_orders.csv` (GBK), `pinduoduo_orders.csv`, `douyin_orders.csv` with the platforms'
//!   masking of personal data;
//! - signals ([`signals`]): `shopify_customers.csv` (customer ids, consent),
//!   `mailchimp_{subscribed,unsubscribed,cleaned}.csv` and `mailchimp_activity.jsonl`,
//!   `klaviyo_events.jsonl`, `ga4_events.jsonl`, `sms_events.jsonl` (canonical events);
//! - tickets: `zendesk_tickets.csv` (Shopify orders), `freshdesk_tickets.csv` (WooCommerce orders);
//!   and `products.csv`;
//! - `mappings/*.toml` and a `custlens.toml` so `custlens run --config DIR/custlens.toml` ingests them
//!   (the new formats through their built-in adapters, `format = "…"`). Every file is also
//!   detected without a config, but two things then differ: the USD orders need `[currency]
//!   rates`, and GA4's `user_id` reaches the Shopify customers only through `mappings/ga4.toml`;
//! - `truth/`: `params.json` (parameters, counts, per-file planted malformed rows, rows ingest must
//!   reject and duplicate rows, planted rules with expected support and confidence),
//!   `customers.csv` (type, true λ, p, ν, alive, final email and SMS consent), `purchases.csv` (the
//!   clean purchase log before any noise, with whether the order identifies its buyer),
//!   `identities.csv` (every key each person is known by, where the export really shows it).
//!
//! Every file is written to a temporary name and renamed when complete.
//!
//! ## Parameters
//! [`SampleConfig`]: size, seed, window, and [`GenParams`] (also from a TOML file, `--params`).

pub mod baskets;
pub mod formats;
pub mod model;
mod platforms;
mod signals;
mod words;

use baskets::{BasketModel, PlantedRule, RuleTruth};
use chrono::NaiveDate;
use formats::{ChunkOut, Enc, FileCounts, FileId, Layout, Stats};
use model::{BgNbdParams, Channel, GammaGammaParams, Kind, Model, NoiseParams};
use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Changes whenever the same config would write different files (bench caches key on it).
pub const GENERATOR_VERSION: &str = "6";

/// Model parameters of the generator (`--params FILE.toml` takes the same keys).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GenParams {
    /// BG/NBD: λ ~ Gamma(r, α) per day, p ~ Beta(a, b).
    pub bgnbd: BgNbdParams,
    /// Gamma-Gamma spend in CNY: ν ~ Gamma(q, γ), z ~ Gamma(p, ν).
    pub spend: GammaGammaParams,
    pub noise: NoiseParams,
    /// Acquisitions are uniform over this share of the window.
    pub acquisition_share: f64,
    /// Weights of shopify, taobao, pos, woocommerce, jd, pinduoduo, douyin among a person's channels.
    pub channel_weights: [f64; model::N_CHANNELS],
    /// P(a person uses 1, 2, 3 channels).
    pub channels_per_person: [f64; 3],
    /// Mean products per basket before planted rules.
    pub basket_mean_size: f64,
    pub rules: Vec<PlantedRule>,
    /// Days between email campaigns; between SMS campaigns.
    pub campaign_every_days: f64,
    pub sms_every_days: f64,
}

impl Default for GenParams {
    fn default() -> Self {
        GenParams {
            bgnbd: BgNbdParams::default(),
            spend: GammaGammaParams::default(),
            noise: NoiseParams::default(),
            acquisition_share: 0.9,
            channel_weights: [0.32, 0.25, 0.15, 0.1, 0.08, 0.05, 0.05],
            channels_per_person: [0.5, 0.35, 0.15],
            basket_mean_size: 1.6,
            rules: baskets::default_rules(),
            campaign_every_days: 45.0,
            sms_every_days: 60.0,
        }
    }
}

/// What to simulate.
///
/// ## Parameters
/// - `customers`: persons; each buys at least once (at acquisition).
/// - `seed`: seed of every random stream.
/// - `start`, `end`: the window's first and last day (China time).
/// - `params`: the model; see [`GenParams`].
#[derive(Debug, Clone, PartialEq)]
pub struct SampleConfig {
    pub customers: usize,
    pub seed: u64,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub params: GenParams,
}

impl Default for SampleConfig {
    fn default() -> Self {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        SampleConfig {
            customers: 600,
            seed: 42,
            start: day(2023, 1, 1),
            end: day(2024, 12, 31),
            params: GenParams::default(),
        }
    }
}

/// What [`generate`] wrote (also the `counts` of `truth/params.json`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SampleSummary {
    pub persons: u64,
    pub alive_at_end: u64,
    pub types: BTreeMap<String, u64>,
    pub orders: BTreeMap<String, u64>,
    pub purchases: u64,
    pub repeat_purchases: u64,
    pub events: u64,
    pub tickets: u64,
    /// Per file: records, planted malformed records, rows ingest must reject, duplicate rows.
    pub files: BTreeMap<String, FileCounts>,
}

impl SampleSummary {
    /// Records in export files (what ingest reads).
    pub fn export_rows(&self) -> u64 {
        self.files.iter().filter(|(n, _)| !n.starts_with("truth/")).map(|(_, c)| c.rows).sum()
    }
}

/// Why the sample could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("generator config: {0}")]
    Config(String),
    #[error("{path}: text cannot be encoded as GBK")]
    Encoding { path: PathBuf },
    #[error("cannot read generator params {path}: {message}")]
    Params { path: PathBuf, message: String },
}

impl GenParams {
    /// Reads `--params FILE.toml`.
    pub fn load(path: &Path) -> Result<GenParams, SampleError> {
        let err = |message: String| SampleError::Params { path: path.to_path_buf(), message };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        toml::from_str(&text).map_err(|e| err(e.to_string()))
    }

    fn check(&self) -> Result<(), SampleError> {
        let b = &self.bgnbd;
        let g = &self.spend;
        let bad = |m: String| Err(SampleError::Config(m));
        if [b.r, b.alpha, b.a, b.b, g.p, g.q, g.gamma].iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return bad(format!("bgnbd and spend parameters must be positive: {b:?} {g:?}"));
        }
        if g.q <= 1.0 {
            return bad(format!("spend.q = {} must exceed 1 (the mean spend is finite only then)", g.q));
        }
        if !(self.acquisition_share > 0.0 && self.acquisition_share <= 1.0) {
            return bad(format!("acquisition_share {} must be in (0, 1]", self.acquisition_share));
        }
        let n = &self.noise;
        for (k, v) in [
            ("malformed_rate", n.malformed_rate),
            ("duplicate_rate", n.duplicate_rate),
            ("email_typo_rate", n.email_typo_rate),
            ("placeholder_phone_rate", n.placeholder_phone_rate),
            ("unpaid_rate", n.unpaid_rate),
            ("cancel_rate", n.cancel_rate),
            ("refund_rate", n.refund_rate),
            ("partial_refund_rate", n.partial_refund_rate),
        ] {
            if !(0.0..=0.5).contains(&v) {
                return bad(format!("noise.{k} = {v} must be in [0, 0.5]"));
            }
        }
        if self.channel_weights.iter().chain(&self.channels_per_person).any(|w| !(*w >= 0.0 && w.is_finite()))
            || self.channel_weights.iter().sum::<f64>() <= 0.0
            || self.channels_per_person.iter().sum::<f64>() <= 0.0
        {
            return bad("channel_weights and channels_per_person must be non-negative with a positive sum".into());
        }
        if !(self.campaign_every_days >= 1.0 && self.sms_every_days >= 1.0) {
            return bad("campaign_every_days and sms_every_days must be at least 1".into());
        }
        Ok(())
    }
}

/// A rendered chunk: bytes per file and counters.
type Rendered = (Vec<Vec<u8>>, Stats);

/// Persons per chunk; a batch of chunks is rendered in parallel, then written in order.
const CHUNK: usize = 512;

/// Simulates the world and writes every file into `out` (folders created as needed).
pub fn generate(cfg: &SampleConfig, out: &Path) -> Result<SampleSummary, SampleError> {
    let p = &cfg.params;
    if cfg.customers == 0 || cfg.end <= cfg.start {
        return Err(SampleError::Config(format!(
            "need customers > 0 and start < end, got {} .. {}",
            cfg.start, cfg.end
        )));
    }
    p.check()?;
    let days = ((cfg.end - cfg.start).num_days() + 1) as f64;
    let mut world_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let catalog = formats::catalog(&mut world_rng);
    let model = Model {
        bgnbd: p.bgnbd,
        spend: p.spend,
        noise: p.noise,
        days,
        acquisition_share: p.acquisition_share,
        channel_weights: p.channel_weights,
        channels_per_person: p.channels_per_person,
        baskets: basket_model(&catalog, p, &mut world_rng)?,
    };
    let layout = Layout {
        start: cfg.start,
        days,
        catalog: &catalog,
        campaigns: campaigns(days, p.campaign_every_days, "email"),
        sms_campaigns: campaigns(days, p.sms_every_days, "sms"),
        malformed_rate: p.noise.malformed_rate,
        duplicate_rate: p.noise.duplicate_rate,
        email_typo_rate: p.noise.email_typo_rate,
        placeholder_phone_rate: p.noise.placeholder_phone_rate,
    };
    let mut sinks = Sinks::create(out)?;
    let mut stats = Stats::default();
    let batch = CHUNK * rayon::current_num_threads().max(1) * 2;
    let render_batch = |first: usize| -> Result<Vec<Rendered>, SampleError> {
        let last = (first + batch).min(cfg.customers);
        (first..last)
            .step_by(CHUNK)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|c| {
                render_chunk(&model, &layout, cfg.seed, c, (c + CHUNK).min(last))
                    .into_bytes()
                    .map_err(|f| SampleError::Encoding { path: out.join(f.name()) })
            })
            .collect()
    };
    // Render batch k + 1 while batch k is written.
    let mut pending = render_batch(0)?;
    let mut next = batch;
    loop {
        let (written, rendered) = rayon::join(
            || -> Result<(), SampleError> {
                for (bytes, s) in &pending {
                    sinks.write(bytes)?;
                    stats.add(s);
                }
                Ok(())
            },
            || if next < cfg.customers { Some(render_batch(next)) } else { None },
        );
        written?;
        match rendered {
            Some(r) => pending = r?,
            None => break,
        }
        next += batch;
    }
    sinks.finish()?;
    let summary = summarize(&stats);
    let truth = model.baskets.rule_truth(&stats.baskets);
    write_small_files(out, cfg, &catalog, &summary, &truth)?;
    Ok(summary)
}

fn basket_model(catalog: &[formats::Product], p: &GenParams, rng: &mut ChaCha8Rng) -> Result<BasketModel, SampleError> {
    let skus: Vec<String> = catalog.iter().map(|c| c.sku.clone()).collect();
    let categories: Vec<&str> = catalog.iter().map(|c| c.category).collect();
    // Zipf-like popularity (1/rank^1.1): planted antecedents take ranks 2, 4, 6, …; the rest are shuffled.
    let antecedents: Vec<usize> =
        p.rules.iter().flat_map(|r| r.antecedent.iter()).filter_map(|s| skus.iter().position(|k| k == s)).collect();
    let mut others: Vec<usize> = (0..skus.len()).filter(|i| !antecedents.contains(i)).collect();
    others.shuffle(rng);
    let mut rank = vec![0usize; skus.len()];
    let mut order: Vec<Option<usize>> = vec![None; skus.len()];
    for (k, &a) in antecedents.iter().enumerate() {
        if 2 * k + 1 < order.len() {
            order[2 * k + 1] = Some(a);
        }
    }
    let mut rest = others.into_iter();
    for slot in order.iter_mut().filter(|s| s.is_none()) {
        *slot = rest.next();
    }
    for (r, prod) in order.iter().enumerate() {
        if let Some(i) = prod {
            rank[*i] = r + 1;
        }
    }
    let popularity: Vec<f64> = rank.iter().map(|r| 1.0 / (*r.max(&1) as f64).powf(1.1)).collect();
    BasketModel::new(&skus, &categories, &popularity, p.basket_mean_size, &p.rules).map_err(SampleError::Config)
}

fn campaigns(days: f64, every: f64, kind: &str) -> Vec<(f64, String)> {
    const THEMES: [&str; 10] = words::THEMES;
    let mut out = Vec::new();
    let mut day = every / 2.0;
    let mut i = 0;
    while day < days {
        // 10:00 China time on the campaign day.
        out.push((day.floor() + 10.0 / 24.0, format!("{kind}-{}-{:03}", THEMES[i % THEMES.len()], i + 1)));
        day += every;
        i += 1;
    }
    out
}

fn render_chunk(model: &Model, lay: &Layout, seed: u64, first: usize, last: usize) -> ChunkOut {
    let mut out = ChunkOut::new();
    for i in first..last {
        let mut rng = model::person_rng(seed, i);
        let person = model.person(i, &mut rng);
        let who = formats::persona(i, &mut rng);
        formats::render(lay, &person, &who, &mut rng, &mut out);
    }
    out
}

fn summarize(s: &Stats) -> SampleSummary {
    SampleSummary {
        persons: s.persons,
        alive_at_end: s.alive,
        types: Kind::ALL.iter().map(|k| (k.label().to_string(), s.kinds[k.index()])).collect(),
        orders: Channel::ALL.iter().map(|c| (c.source().to_string(), s.orders[*c as usize])).collect(),
        purchases: s.purchases,
        repeat_purchases: s.repeat_purchases,
        events: s.events,
        tickets: s.tickets,
        files: FileId::ALL.iter().map(|f| (f.name().to_string(), s.files[f.index()])).collect(),
    }
}

fn io_err(path: &Path, source: std::io::Error) -> SampleError {
    SampleError::Io { path: path.to_path_buf(), source }
}

/// Streaming writers, one per file, each to a temporary file renamed on `finish`.
struct Sinks {
    files: Vec<(PathBuf, std::io::BufWriter<tempfile::NamedTempFile>)>,
}

impl Sinks {
    fn create(out: &Path) -> Result<Sinks, SampleError> {
        let mut files = Vec::new();
        for f in FileId::ALL {
            let path = out.join(f.name());
            let dir = path.parent().unwrap_or(out).to_path_buf();
            std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
            let tmp = crate::lake::temp_file_in(&dir).map_err(|e| io_err(&dir, e))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, tmp);
            if f.encoding() == Enc::Utf8Bom {
                w.write_all("\u{feff}".as_bytes()).map_err(|e| io_err(&path, e))?;
            }
            if let Some(h) = f.header() {
                let line = if f.crlf() { format!("{h}\r\n") } else { format!("{h}\n") };
                write_text(&mut w, &line, f.encoding(), &path)?;
            }
            files.push((path, w));
        }
        Ok(Sinks { files })
    }

    fn write(&mut self, bytes: &[Vec<u8>]) -> Result<(), SampleError> {
        for (b, (path, w)) in bytes.iter().zip(self.files.iter_mut()) {
            w.write_all(b).map_err(|e| io_err(path, e))?;
        }
        Ok(())
    }

    fn finish(self) -> Result<(), SampleError> {
        for (path, w) in self.files {
            let tmp = w.into_inner().map_err(|e| io_err(&path, e.into_error()))?;
            tmp.persist(&path).map_err(|e| io_err(&path, e.error))?;
        }
        Ok(())
    }
}

fn write_text(w: &mut impl Write, text: &str, enc: Enc, path: &Path) -> Result<(), SampleError> {
    match enc {
        Enc::Utf8 | Enc::Utf8Bom => w.write_all(text.as_bytes()),
        Enc::Gbk => {
            let (bytes, _, had_errors) = encoding_rs::GBK.encode(text);
            if had_errors {
                return Err(SampleError::Encoding { path: path.to_path_buf() });
            }
            w.write_all(&bytes)
        }
    }
    .map_err(|e| io_err(path, e))
}

/// Small files written whole (atomically): products, mappings, custlens.toml, truth JSON.
fn write_small_files(
    out: &Path,
    cfg: &SampleConfig,
    catalog: &[formats::Product],
    summary: &SampleSummary,
    rules: &[RuleTruth],
) -> Result<(), SampleError> {
    save(out, "products.csv", formats::products_csv(catalog).as_bytes())?;
    for (file, text) in mappings() {
        save(
            out,
            &format!("mappings/{file}"),
            format!("# Written by the custlens sample generator.\n{text}").as_bytes(),
        )?;
    }
    save(out, "custlens.toml", config_toml().as_bytes())?;
    let params = serde_json::json!({
        "generator_version": GENERATOR_VERSION,
        "customers": cfg.customers,
        "seed": cfg.seed,
        "start": cfg.start.to_string(),
        "end": cfg.end.to_string(),
        "time_unit": "day",
        "base_currency": "CNY",
        "usd_rate": formats::USD_RATE,
        "params": cfg.params,
        "store_placeholder_phones": formats::STORE_PHONES,
        "counts": summary,
        "planted_rules": rules,
    });
    let text = serde_json::to_string_pretty(&params).map_err(|e| io_err(&out.join("truth/params.json"), e.into()))?;
    save(out, "truth/params.json", format!("{text}\n").as_bytes())?;
    let rules_text =
        serde_json::to_string_pretty(rules).map_err(|e| io_err(&out.join("truth/rules.json"), e.into()))?;
    save(out, "truth/rules.json", format!("{rules_text}\n").as_bytes())
}

fn save(out: &Path, rel: &str, bytes: &[u8]) -> Result<(), SampleError> {
    let path = out.join(rel);
    let dir = path.parent().unwrap_or(out).to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
    let mut tmp = crate::lake::temp_file_in(&dir).map_err(|e| io_err(&dir, e))?;
    tmp.write_all(bytes).map_err(|e| io_err(&path, e))?;
    tmp.persist(&path).map_err(|e| io_err(&path, e.error))?;
    Ok(())
}

/// Mapping files: (file name, TOML body). The platform exports of the first sample use the built-in
/// adapters' own mappings (written out so they can be copied and edited); GA4 is the built-in
/// mapping with `source = "shopify"`, since its `user_id` is the Shopify customer id. SMS events
/// are canonical and need none.
fn mappings() -> Vec<(&'static str, String)> {
    let adapter =
        |name: &str| crate::ingest::adapters::by_name(name).map(|a| a.mapping_toml().to_string()).unwrap_or_default();
    let ga4 = adapter("ga4").replacen(
        "source = \"ga4\"",
        "# user_id is the Shopify customer id: the member key of source shopify (as in shopify_customers.csv).\nsource = \"shopify\"",
        1,
    );
    vec![
        ("shopify.toml", adapter("shopify")),
        ("taobao_orders.toml", adapter("taobao-orders")),
        ("taobao_items.toml", adapter("taobao-items")),
        ("pos.toml", adapter("pos")),
        ("ga4.toml", ga4),
    ]
}

/// `custlens.toml`: currency, then one `[[sources]]` per file (re-exports after their originals):
/// a mapping file, a built-in adapter by name, or canonical.
fn config_toml() -> String {
    enum How {
        Canonical,
        Mapping(&'static str),
        Adapter(&'static str),
    }
    use How::*;
    let sources = [
        ("products.csv", Canonical),
        ("shopify_orders.csv", Mapping("shopify.toml")),
        ("shopify_orders_reexport.csv", Mapping("shopify.toml")),
        ("taobao_orders.csv", Mapping("taobao_orders.toml")),
        ("taobao_orders_reexport.csv", Mapping("taobao_orders.toml")),
        ("taobao_items.csv", Mapping("taobao_items.toml")),
        ("pos_sales.csv", Mapping("pos.toml")),
        ("woocommerce_orders.csv", Adapter("woocommerce")),
        ("jd_orders.csv", Adapter("jd")),
        ("pinduoduo_orders.csv", Adapter("pinduoduo")),
        ("douyin_orders.csv", Adapter("douyin")),
        ("shopify_customers.csv", Adapter("shopify-customers")),
        ("mailchimp_subscribed.csv", Adapter("mailchimp-subscribed")),
        ("mailchimp_unsubscribed.csv", Adapter("mailchimp-unsubscribed")),
        ("mailchimp_cleaned.csv", Adapter("mailchimp-cleaned")),
        ("mailchimp_activity.jsonl", Adapter("mailchimp-activity")),
        ("klaviyo_events.jsonl", Adapter("klaviyo")),
        ("ga4_events.jsonl", Mapping("ga4.toml")),
        ("sms_events.jsonl", Canonical),
        ("zendesk_tickets.csv", Adapter("zendesk")),
        ("freshdesk_tickets.csv", Adapter("freshdesk")),
    ];
    let mut text = String::from("# Written by the custlens sample generator; paths are relative to this file.\n");
    text.push_str(&format!(
        "\n# The online stores (Shopify, WooCommerce) sell in USD, the others in CNY.\n[currency]\nbase = \"CNY\"\nrates = {{ USD = {} }}\n",
        formats::USD_RATE
    ));
    text.push_str(
        "\n# The shop's customers are in mainland China: phones without +86 are read as CN numbers.\n[identity]\ndefault_phone_region = \"CN\"\n",
    );
    for (data, how) in sources {
        match how {
            Mapping(m) => text.push_str(&format!("\n[[sources]]\npath = \"{data}\"\nmapping = \"mappings/{m}\"\n")),
            Adapter(a) => text.push_str(&format!("\n[[sources]]\npath = \"{data}\"\nformat = \"{a}\"\n")),
            Canonical => text.push_str(&format!("\n[[sources]]\npath = \"{data}\"\nformat = \"canonical\"\n")),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen(dir: &Path, customers: usize, seed: u64) -> SampleSummary {
        generate(&SampleConfig { customers, seed, ..SampleConfig::default() }, dir).unwrap()
    }

    fn read_all(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.insert(p.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        gen(a.path(), 1500, 7);
        gen(b.path(), 1500, 7);
        gen(c.path(), 1500, 8);
        let (fa, fb, fc) = (read_all(a.path()), read_all(b.path()), read_all(c.path()));
        assert!(fa.keys().all(|k| !k.contains(".tmp-")), "no temporary files left");
        assert_eq!(fa, fb);
        assert_ne!(fa["shopify_orders.csv"], fc["shopify_orders.csv"]);
    }

    #[test]
    fn taobao_files_are_gbk_with_the_platform_headers() {
        let d = tempfile::tempdir().unwrap();
        gen(d.path(), 200, 1);
        let bytes = std::fs::read(d.path().join("taobao_orders.csv")).unwrap();
        assert!(std::str::from_utf8(&bytes).is_err(), "GBK, not UTF-8");
        let (text, _, bad) = encoding_rs::GBK.decode(&bytes);
        assert!(!bad);
        assert!(text.starts_with("订单编号,买家会员名,"));
        assert!(text.contains("收货地址 ,") && text.contains("订单付款时间 ,") && text.contains("宝贝标题 ,"));
        let items = std::fs::read(d.path().join("taobao_items.csv")).unwrap();
        let (items, _, _) = encoding_rs::GBK.decode(&items);
        assert!(items.lines().all(|l| l.ends_with(',')), "every 宝贝报表 line ends with a comma");
    }

    #[test]
    fn summary_counts_match_the_files() {
        let d = tempfile::tempdir().unwrap();
        let s = gen(d.path(), 800, 3);
        let lines = |f: &str| std::fs::read_to_string(d.path().join(f)).unwrap().lines().count() as u64;
        assert_eq!(lines("truth/customers.csv"), 801);
        assert_eq!(lines("truth/purchases.csv"), s.purchases + 1);
        for f in ["sms_events.jsonl", "klaviyo_events.jsonl", "ga4_events.jsonl", "mailchimp_activity.jsonl"] {
            assert_eq!(lines(f), s.files[f].rows, "{f}");
        }
        for f in ["zendesk_tickets.csv", "freshdesk_tickets.csv", "pinduoduo_orders.csv", "shopify_customers.csv"] {
            assert_eq!(lines(f), s.files[f].rows + 1, "{f}");
        }
        assert_eq!(s.purchases - s.persons, s.repeat_purchases);
        let params: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.path().join("truth/params.json")).unwrap()).unwrap();
        assert_eq!(params["planted_rules"].as_array().unwrap().len(), 4);
        assert_eq!(params["counts"]["persons"], 800);
    }

    #[test]
    fn written_repeat_purchases_match_the_bgnbd_expectation() {
        // From the files alone: each person's true λ, p and acquisition (truth/customers.csv) give the
        // mean and variance of their repeat purchases up to the window end; the total written must be
        // within 4 standard deviations (noise orders must not count).
        let d = tempfile::tempdir().unwrap();
        let cfg = SampleConfig { customers: 4000, seed: 9, ..SampleConfig::default() };
        generate(&cfg, d.path()).unwrap();
        let end = cfg.end.and_hms_opt(16, 0, 0).unwrap().and_utc(); // window end: midnight China time
        let text = std::fs::read_to_string(d.path().join("truth/customers.csv")).unwrap();
        let (mut observed, mut expected, mut var) = (0.0, 0.0, 0.0);
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let (lambda, p): (f64, f64) = (f[2].parse().unwrap(), f[3].parse().unwrap());
            let acquired = chrono::DateTime::parse_from_rfc3339(f[6]).unwrap();
            let t = (end - acquired.with_timezone(&chrono::Utc)).num_seconds() as f64 / 86_400.0;
            let (m, v) = model::repeat_moments(lambda, p, t);
            observed += f[9].parse::<f64>().unwrap();
            expected += m;
            var += v;
        }
        let z = (observed - expected) / var.sqrt();
        assert!(z.abs() < 4.0, "observed {observed}, expected {expected:.1}, z = {z:.2}");
    }

    #[test]
    fn bad_params_are_named() {
        let mut p = GenParams::default();
        p.spend.q = 0.5;
        let err =
            generate(&SampleConfig { params: p, ..SampleConfig::default() }, Path::new("/nonexistent")).unwrap_err();
        assert!(err.to_string().contains("spend.q"), "{err}");
        let mut p = GenParams::default();
        p.noise.malformed_rate = 2.0;
        let err =
            generate(&SampleConfig { params: p, ..SampleConfig::default() }, Path::new("/nonexistent")).unwrap_err();
        assert!(err.to_string().contains("noise.malformed_rate"), "{err}");
    }
}
