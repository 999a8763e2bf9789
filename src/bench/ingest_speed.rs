//! `custlens bench --suite ingest`: ingest throughput next to polars' own bare CSV → Parquet.
//!
//! ## Method
//! 1. Writes (once per (rows, seed), cached) `rows` Shopify line-item rows (UTF-8 CSV, the
//!    layout of Shopify's orders export) and `rows` Taobao 订单报表 rows in GBK, plus a UTF-8 copy of
//!    the Taobao file. Orders have 1–4 lines; customers recur (about 8 rows per customer), so
//!    identity resolution and the phone cache see realistic repetition.
//! 2. For each format, one after the other in the same run: polars reads the UTF-8 file (every
//!    column as text, no type inference: the cheapest conversion polars offers) and writes zstd
//!    Parquet — the *bare* baseline; then `custlens ingest` converts the real export (the GBK
//!    file for Taobao) into a fresh lake with the built-in adapter. Each conversion is a [`Step`]
//!    the caller measures: `custlens bench` runs each in a fresh process of its own, so the peak
//!    RSS it reports is that conversion's alone ([`measure`] in-process otherwise). Wall seconds,
//!    MB/s of the input file, rows/s and peak RSS are reported for both, and their ratio.
//!
//! The data writers are hand-written rather than `custlens gen`: the generator simulates
//! customers' lives (minutes for 10M rows), while this needs 10M rows fast and only the layout.

use super::{peak_rss_mb, reset_peak_rss, BenchError};
use crate::ingest::{self, Format, IngestOptions, InputSpec};
use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Bumped when the written data changes, so cached files are rewritten.
const DATA_VERSION: &str = "2";

/// One converter's measurements on one file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Conversion {
    /// `polars bare` or `custlens ingest`.
    pub tool: String,
    pub seconds: f64,
    pub rows: u64,
    pub rows_per_second: f64,
    /// Input file size / seconds (MB = 2^20 bytes).
    pub mb_per_second: f64,
    pub peak_rss_mb: Option<f64>,
    /// `custlens ingest`: rows written per lake table.
    #[serde(default)]
    pub lake_rows: Vec<(String, usize)>,
}

/// A converter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    /// polars: CSV (all columns as text) → zstd Parquet.
    PolarsBare,
    /// `custlens ingest` with a built-in adapter into a fresh lake.
    Custlens,
}

/// One conversion to measure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    pub tool: Tool,
    /// The adapter (`shopify`, `taobao-orders`) for custlens.
    pub format: String,
    pub input: PathBuf,
    /// A folder for the output (Parquet file or lake); removed by the caller.
    pub out_dir: PathBuf,
    /// custlens: `[ingest] spill` (default `auto`).
    #[serde(default)]
    pub spill: crate::config::Spill,
}

/// Runs a step in this process: seconds, rows, and the process's peak RSS since the last reset
/// (reset first where the OS allows; a fresh process gives the step's own peak either way).
pub fn measure(step: &Step) -> Result<Conversion, BenchError> {
    let file_mb = std::fs::metadata(&step.input)
        .map_err(|source| BenchError::Io { path: step.input.clone(), source })?
        .len() as f64
        / 1048576.0;
    reset_peak_rss();
    let t = Instant::now();
    match step.tool {
        Tool::PolarsBare => {
            let n = polars_bare(&step.input, &step.out_dir.join("bare.parquet"))
                .map_err(|e| BenchError::Invalid(format!("polars on {}: {e}", step.input.display())))?;
            Ok(conversion("polars bare", t.elapsed().as_secs_f64(), n as u64, file_mb))
        }
        Tool::Custlens => {
            let format = crate::ingest::adapters::by_name(&step.format)
                .ok_or_else(|| BenchError::Invalid(format!("no adapter `{}`", step.format)))?
                .name;
            let spec = InputSpec::new(step.input.clone(), Format::Adapter(format));
            let opts = IngestOptions { spill: step.spill, ..Default::default() };
            let report = ingest::ingest(&[spec], &step.out_dir.join("lake"), &opts)?;
            let read: i64 = report.files.iter().map(|f| f.rows_read).sum();
            let mut c = conversion("custlens ingest", t.elapsed().as_secs_f64(), read as u64, file_mb);
            c.lake_rows = report.tables;
            Ok(c)
        }
    }
}

/// One format's comparison.
#[derive(Debug, Clone, Serialize)]
pub struct FormatResult {
    /// `shopify` or `taobao-orders`.
    pub format: String,
    /// The file custlens read (GBK for Taobao) and the UTF-8 file polars read.
    pub file: PathBuf,
    pub utf8_file: PathBuf,
    pub file_mb: f64,
    pub polars: Conversion,
    pub custlens: Conversion,
    /// custlens rows/s ÷ polars rows/s.
    pub throughput_ratio: f64,
    /// Rows custlens wrote per lake table.
    pub lake_rows: Vec<(String, usize)>,
}

/// The whole ingest benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct IngestBenchReport {
    pub rows: usize,
    pub seed: u64,
    pub build_profile: String,
    pub machine: super::Machine,
    pub formats: Vec<FormatResult>,
}

/// Runs the ingest benchmark on `rows` rows per format, data cached under `cache`; `measure`
/// runs each conversion (see [`measure`]).
pub fn run(
    rows: usize,
    seed: u64,
    cache: &Path,
    measure: &dyn Fn(&Step) -> Result<Conversion, BenchError>,
) -> Result<IngestBenchReport, BenchError> {
    if rows == 0 {
        return Err(BenchError::Invalid("--rows must be at least 1".into()));
    }
    let dir = cache.join(format!("ingest-r{rows}-s{seed}-v{DATA_VERSION}"));
    std::fs::create_dir_all(&dir).map_err(|source| BenchError::Io { path: dir.clone(), source })?;
    let shopify = dir.join("shopify_orders.csv");
    let taobao = dir.join("taobao_orders_gbk.csv");
    let taobao_utf8 = dir.join("taobao_orders_utf8.csv");
    if !shopify.exists() {
        let t = Instant::now();
        write_cached(&shopify, |w| write_shopify(w, rows, seed))?;
        tracing::info!(rows, seconds = t.elapsed().as_secs_f64(), "wrote the Shopify bench file");
    }
    if !taobao.exists() || !taobao_utf8.exists() {
        let t = Instant::now();
        write_cached(&taobao, |gbk| {
            write_cached(&taobao_utf8, |utf8| write_taobao(&mut Tee { utf8, gbk }, rows, seed))
                .map_err(|e| std::io::Error::other(e.to_string()))
        })?;
        tracing::info!(rows, seconds = t.elapsed().as_secs_f64(), "wrote the Taobao bench files");
    }
    let formats = vec![
        compare("shopify", &shopify, &shopify, rows, measure)?,
        compare("taobao-orders", &taobao, &taobao_utf8, rows, measure)?,
    ];
    Ok(IngestBenchReport {
        rows,
        seed,
        build_profile: if cfg!(debug_assertions) { "debug" } else { "release" }.into(),
        machine: super::Machine::detect(),
        formats,
    })
}

fn write_cached(path: &Path, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), BenchError> {
    crate::lake::write_atomic(path, |f| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        write(&mut w).and_then(|()| w.flush()).map_err(|e| e.to_string())
    })
    .map_err(|e| BenchError::Invalid(e.to_string()))
}

fn compare(
    format: &str,
    file: &Path,
    utf8: &Path,
    rows: usize,
    measure: &dyn Fn(&Step) -> Result<Conversion, BenchError>,
) -> Result<FormatResult, BenchError> {
    let io = |path: &Path, source| BenchError::Io { path: path.to_path_buf(), source };
    let file_mb = std::fs::metadata(file).map_err(|e| io(file, e))?.len() as f64 / 1048576.0;
    let work = tempfile::tempdir().map_err(|e| io(Path::new("temporary folder"), e))?;
    let step = |tool, input: &Path, sub: &str| -> Result<Conversion, BenchError> {
        let out_dir = work.path().join(sub);
        std::fs::create_dir_all(&out_dir).map_err(|e| io(&out_dir, e))?;
        let c = measure(&Step {
            tool,
            format: format.into(),
            input: input.to_path_buf(),
            out_dir: out_dir.clone(),
            spill: Default::default(),
        })?;
        // Free the disk before the next step.
        let _ = std::fs::remove_dir_all(&out_dir);
        Ok(c)
    };
    let polars = step(Tool::PolarsBare, utf8, "polars")?;
    let custlens = step(Tool::Custlens, file, "custlens")?;
    if custlens.rows as usize != rows || polars.rows as usize != rows {
        return Err(BenchError::Invalid(format!(
            "read {} (custlens) and {} (polars) rows of {rows} in {}",
            custlens.rows,
            polars.rows,
            file.display()
        )));
    }
    Ok(FormatResult {
        format: format.into(),
        file: file.to_path_buf(),
        utf8_file: utf8.to_path_buf(),
        file_mb,
        throughput_ratio: custlens.rows_per_second / polars.rows_per_second,
        lake_rows: custlens.lake_rows.clone(),
        polars,
        custlens,
    })
}

fn conversion(tool: &str, seconds: f64, rows: u64, file_mb: f64) -> Conversion {
    let s = seconds.max(1e-9);
    Conversion {
        tool: tool.into(),
        seconds,
        rows,
        rows_per_second: rows as f64 / s,
        mb_per_second: file_mb / s,
        peak_rss_mb: peak_rss_mb(),
        lake_rows: Vec::new(),
    }
}

/// polars' bare conversion: every column read as text (no inference), zstd Parquet out.
fn polars_bare(csv: &Path, out: &Path) -> PolarsResult<usize> {
    let mut df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(csv.to_path_buf()))?
        .finish()?;
    let f = std::fs::File::create(out)?;
    ParquetWriter::new(f).with_compression(crate::lake::COMPRESSION).finish(&mut df)?;
    Ok(df.height())
}

/// A markdown table of the results.
pub fn render(r: &IngestBenchReport) -> String {
    let mut s = format!(
        "ingest bench: {} rows per format, seed {}, {} build, {} CPUs\n\n| format | tool | seconds | rows/s | MB/s | peak RSS MB |\n|---|---|---:|---:|---:|---:|\n",
        r.rows, r.seed, r.build_profile, r.machine.nproc
    );
    for f in &r.formats {
        for c in [&f.polars, &f.custlens] {
            s += &format!(
                "| {} ({:.0} MB) | {} | {:.2} | {:.0} | {:.1} | {} |\n",
                f.format,
                f.file_mb,
                c.tool,
                c.seconds,
                c.rows_per_second,
                c.mb_per_second,
                c.peak_rss_mb.map(|m| format!("{m:.0}")).unwrap_or_else(|| "—".into())
            );
        }
    }
    s += "\n";
    for f in &r.formats {
        s += &format!("{}: custlens at {:.0}% of polars' bare throughput\n", f.format, 100.0 * f.throughput_ratio);
    }
    s
}

const SHOPIFY_HEADER: &str = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Phone,Shipping Name,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Refunded Amount,Vendor,Id,Tags,Risk Level,Source,Phone";

const FIRST: [&str; 12] =
    ["Jane", "John", "Maria", "Wei", "Aiko", "Liam", "Emma", "Noah", "Olivia", "Lucas", "Mia", "Ethan"];
const LAST: [&str; 10] = ["Doe", "Smith", "Garcia", "Chen", "Tanaka", "Brown", "Miller", "Lopez", "Wilson", "Moore"];
const PRODUCTS: [&str; 8] =
    ["Ceramic Mug", "Teapot", "Linen Towel", "Oak Board", "Candle", "Steel Pan", "Wool Throw", "Glass Jar"];

/// Seconds since 2022-01-01 00:00 UTC → `YYYY-MM-DD HH:MM:SS`.
fn datetime(secs: i64) -> String {
    let t = chrono::DateTime::from_timestamp(1_640_995_200 + secs, 0).unwrap_or_default().naive_utc();
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Shopify orders export rows: the first line of an order carries the order's fields, the
/// others only the order name, creation time and the line's fields, as Shopify writes them.
fn write_shopify(w: &mut dyn Write, rows: usize, seed: u64) -> std::io::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let customers = (rows / 8).max(1);
    writeln!(w, "{SHOPIFY_HEADER}")?;
    let (mut written, mut order) = (0usize, 1000usize);
    while written < rows {
        order += 1;
        let c = rng.gen_range(0..customers);
        let lines = [1, 1, 2, 2, 3, 4][rng.gen_range(0..6)].min(rows - written);
        let created = datetime(rng.gen_range(0..3 * 365 * 86_400));
        let name = format!("{} {}", FIRST[c % 12], LAST[(c / 12) % 10]);
        let email = if c % 3 == 0 { format!("User{c}@Example.com") } else { format!("user{c}@example.com") };
        let phone = if c % 2 == 0 {
            format!("'+1 (212) {:03}-{:04}", 200 + (c / 10_000) % 800, c % 10_000)
        } else {
            String::new()
        };
        let status = ["paid", "paid", "paid", "refunded", "partially_refunded", "pending"][rng.gen_range(0..6)];
        let fulfilled = if status == "pending" { "unfulfilled" } else { "fulfilled" };
        let mut subtotal = 0.0;
        let items: Vec<(usize, usize, f64)> = (0..lines)
            .map(|_| {
                let p = rng.gen_range(0..PRODUCTS.len() * 25);
                let q = rng.gen_range(1..4);
                let price = 5.0 + (p % 40) as f64 * 2.5;
                subtotal += price * q as f64;
                (p, q, price)
            })
            .collect();
        let refund = if status.contains("refunded") { subtotal / 2.0 } else { 0.0 };
        for (i, (p, q, price)) in items.into_iter().enumerate() {
            let product = PRODUCTS[p % PRODUCTS.len()];
            if i == 0 {
                writeln!(
                    w,
                    "#{order},{email},{status},{created} -0500,{fulfilled},{created} -0500,{},USD,{subtotal:.2},6.95,{:.2},{:.2},,0.00,Standard,{created} -0500,{q},{product} {p},{price:.2},,SKU-{p},true,true,{fulfilled},{name},{phone},{name},,,,,Shopify Payments,{refund:.2},Acme,{},,Low,web,",
                    if c % 4 == 0 { "no" } else { "yes" },
                    subtotal * 0.08,
                    subtotal * 1.08 + 6.95,
                    4_500_000_000_000u64 + order as u64,
                )?;
            } else {
                writeln!(
                    w,
                    "#{order},{email},,,,,,,,,,,,,,{created} -0500,{q},{product} {p},{price:.2},,SKU-{p},true,true,{fulfilled},,,,,,,,,,Acme,,,,,"
                )?;
            }
        }
        written += lines;
    }
    Ok(())
}

/// Writes UTF-8 text to one writer and its GBK encoding to another.
struct Tee<'a> {
    utf8: &'a mut dyn Write,
    gbk: &'a mut dyn Write,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = std::str::from_utf8(buf).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let (bytes, _, bad) = encoding_rs::GBK.encode(text);
        if bad {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "text GBK cannot hold"));
        }
        self.gbk.write_all(&bytes)?;
        self.utf8.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.utf8.flush()?;
        self.gbk.flush()
    }
}

const TAOBAO_HEADER: &str = "订单编号,买家会员名,买家支付宝账号,支付单号,买家应付货款,买家应付邮费,买家支付积分,总金额,返点积分,买家实际支付金额,买家实际支付积分,订单状态,买家留言,收货人姓名,收货地址 ,运送方式,联系电话 ,联系手机,订单创建时间,订单付款时间 ,宝贝标题 ,宝贝种类 ,物流单号 ,物流公司,订单备注,宝贝总数量,店铺Id,店铺名称,订单关闭原因,卖家服务费,买家服务费,发票抬头,是否手机订单,退款金额,确认收货时间,发货时间,商家备忘";

const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
const GIVEN: [&str; 10] = ["芳", "强", "伟", "娜", "敏", "静", "磊", "洋", "艳", "杰"];
const TITLES: [&str; 6] = ["不粘煎锅", "香薰蜡烛", "陶瓷马克杯", "亚麻毛巾", "橡木砧板", "玻璃储物罐"];

/// Taobao 订单报表 rows (one per order), as the seller backend exports them: `="…"` guards on ids,
/// `'` before phones, 元 suffixes on paid amounts, Chinese statuses.
fn write_taobao(w: &mut dyn Write, rows: usize, seed: u64) -> std::io::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7a0b);
    let customers = (rows / 8).max(1);
    writeln!(w, "{TAOBAO_HEADER}")?;
    for i in 0..rows {
        let c = rng.gen_range(0..customers);
        let nick = if c % 2 == 0 { format!("tb_{c}") } else { format!("快乐的鱼{c}") };
        let name = format!("{}{}", SURNAMES[c % 10], GIVEN[(c / 10) % 10]);
        let phone = format!("'1{}{:08}", [39, 38, 86, 58][c % 4], c % 100_000_000);
        let created = rng.gen_range(0..3 * 365 * 86_400);
        let goods = rng.gen_range(20..400) as f64;
        let (status, reason, refund) = match rng.gen_range(0..10) {
            0 => ("交易关闭", "退款", goods),
            1 => ("交易关闭", "买家未付款", 0.0),
            2 => ("等待买家付款", "订单未关闭", 0.0),
            3 => ("卖家已发货，等待买家确认", "订单未关闭", 0.0),
            _ => ("交易成功", "订单未关闭", 0.0),
        };
        let paid = if status == "等待买家付款" || reason == "买家未付款" {
            String::from("=\"\"")
        } else {
            datetime(created + 40)
        };
        let title = TITLES[rng.gen_range(0..TITLES.len())];
        writeln!(
            w,
            "=\"{}\",{nick},=\"\",=\"\",{goods:.2},0.00,=\"\",{goods:.2},=\"\",{goods:.2}元,=\"\",{status},=\"\",{name},浙江省 杭州市 西湖区 文三路{}号,=\"\",=\"\",{phone},{},{paid},{title},=\"\",=\"\",=\"\",=\"\",1,=\"\",悦家生活旗舰店,{reason},=\"\",=\"\",=\"\",=\"\",{refund:.2},=\"\",=\"\",=\"\"",
            35_153_131_473_000_000u64 + i as u64,
            c % 500,
            datetime(created),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ingest_bytes(format: &'static str, name: &str, bytes: &[u8]) -> (ingest::IngestReport, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let spec = InputSpec::new(path, Format::Adapter(format));
        let r = ingest::ingest(&[spec], &dir.path().join("lake"), &IngestOptions::default()).unwrap();
        (r, dir)
    }

    #[test]
    fn written_files_ingest_without_rejects() {
        let mut shopify = Vec::new();
        write_shopify(&mut shopify, 500, 3).unwrap();
        let (r, _d) = ingest_bytes("shopify", "s.csv", &shopify);
        assert_eq!((r.files[0].rows_read, r.files[0].rejected), (500, 0));
        let (mut utf8, mut gbk) = (Vec::new(), Vec::new());
        write_taobao(&mut Tee { utf8: &mut utf8, gbk: &mut gbk }, 300, 3).unwrap();
        assert_eq!(encoding_rs::GBK.decode(&gbk).0, String::from_utf8(utf8).unwrap());
        let (r, _d) = ingest_bytes("taobao-orders", "t.csv", &gbk);
        assert_eq!((r.files[0].rows_read, r.files[0].rejected, r.files[0].new), (300, 0, 300));
    }

    #[test]
    fn the_suite_measures_both_tools_on_both_formats() {
        let cache = tempfile::tempdir().unwrap();
        let r = run(400, 2, cache.path(), &measure).unwrap();
        assert_eq!(r.formats.len(), 2);
        for f in &r.formats {
            assert_eq!((f.polars.rows, f.custlens.rows), (400, 400), "{}", f.format);
            assert!(f.throughput_ratio > 0.0 && f.file_mb > 0.0);
            assert!(f.lake_rows.iter().any(|(t, n)| t == "orders" && *n > 0));
        }
        assert!(render(&r).contains("taobao-orders"));
    }

    #[test]
    fn polars_reads_the_utf8_files() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("s.csv");
        let mut f = std::fs::File::create(&csv).unwrap();
        write_shopify(&mut f, 200, 1).unwrap();
        assert_eq!(polars_bare(&csv, &dir.path().join("s.parquet")).unwrap(), 200);
    }
}
