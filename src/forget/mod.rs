//! `custlens forget`: erase a person from the lake and the outputs, and keep them erased.
//!
//! ## Method
//! 1. Find the customer: by id, or by email / phone (normalized like ingest) through `identities`.
//!    Ids merged into that customer (`customer_merges`) count as the same person.
//! 2. Remove from the lake every order (with its lines), event, ticket, profile, identity and
//!    customer row of theirs, the merge records, and every reject whose raw text contains one of
//!    their identifiers (emails, phones in E.164 and national form, member keys and order ids of
//!    six characters or more — shorter ones would match other people's lines).
//! 3. Record tombstones: SHA-256 of each normalized identifier and order id, never the value, so
//!    a later ingest of an old export rejects their records (reason "erased", raw text withheld).
//! 4. Filter every Parquet table under the output folder that has a `customer_id` column and
//!    rewrite its CSV copy from it; each file atomically.
//!
//! The lake is written only after every table is rebuilt and validated (as ingest does).

use crate::identity::{normalize_email, normalize_phone, PhoneRegion};
use crate::lake::records::Tombstone;
use crate::lake::{Lake, LakeError};
use crate::output::OutputError;
use polars::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Erasure failures.
#[derive(Debug, thiserror::Error)]
pub enum ForgetError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("no customer in the lake at {lake} matches {what}; check the id, email or phone (nothing was changed)")]
    NotFound { lake: PathBuf, what: String },
    #[error("{what} is not a usable {kind} (emails need x@y.z; phones need a country code or [identity] default_phone_region)")]
    BadKey { what: String, kind: &'static str },
    #[error("cannot rewrite {path}: {message}")]
    Rewrite { path: PathBuf, message: String },
}

/// Whom to forget.
#[derive(Debug, Clone)]
pub enum Who {
    Customer(String),
    Email(String),
    Phone(String),
}

/// What `forget` removed: rows per lake table and per output file.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ForgetReport {
    pub customers: Vec<String>,
    pub lake_rows: BTreeMap<String, usize>,
    pub output_rows: BTreeMap<String, usize>,
    pub tombstones: usize,
}

/// SHA-256 (hex) of a tombstone key: `kind` + NUL + the normalized key.
pub fn tombstone_hash(kind: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    crate::ingest::rows::hex(&h.finalize())
}

fn customers_of(
    lake: &Lake,
    who: &Who,
    region: Option<PhoneRegion>,
    dir: &Path,
) -> Result<HashSet<String>, ForgetError> {
    let by_key = |kind: &str, key: &str| -> HashSet<String> {
        lake.identities
            .iter()
            .filter(|i| i.key_type == kind && i.key == key)
            .map(|i| i.customer_id.to_string())
            .collect()
    };
    let (found, what) = match who {
        Who::Customer(id) => {
            let ids: HashSet<String> = lake
                .customers
                .iter()
                .filter(|c| c.customer_id == *id)
                .map(|c| c.customer_id.to_string())
                .chain(lake.merges.iter().filter(|m| &m.merged_id == id).map(|m| m.customer_id.clone()))
                .collect();
            (ids, format!("customer id {id}"))
        }
        Who::Email(e) => {
            let key = normalize_email(e)
                .ok_or_else(|| ForgetError::BadKey { what: "the --email value".into(), kind: "email" })?;
            (by_key("email", &key), "the given email".to_string())
        }
        Who::Phone(p) => {
            let key = normalize_phone(p, region)
                .ok_or_else(|| ForgetError::BadKey { what: "the --phone value".into(), kind: "phone" })?;
            (by_key("phone", &key), "the given phone".to_string())
        }
    };
    if found.is_empty() {
        return Err(ForgetError::NotFound { lake: dir.to_path_buf(), what });
    }
    Ok(found)
}

/// Texts whose presence in a reject's raw line marks it as the person's.
fn needles(lake: &Lake, ids: &HashSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    for i in lake.identities.iter().filter(|i| ids.contains(i.customer_id.as_str())) {
        match i.key_type.as_str() {
            "email" => out.push(i.key.to_lowercase().to_string()),
            "phone" => {
                out.push(i.key.trim_start_matches('+').to_string());
                if let Ok(n) = phonenumber::parse(None, &i.key) {
                    out.push(n.national().value().to_string());
                }
            }
            _ => {
                let k = i.key.split_once(':').map(|(_, k)| k).unwrap_or(&i.key);
                if k.chars().count() >= 6 {
                    out.push(k.to_lowercase());
                }
            }
        }
    }
    for o in lake.orders.iter().filter(|o| o.customer_id.as_deref().is_some_and(|c| ids.contains(c))) {
        let k = o.order_id.split_once(':').map(|(_, k)| k).unwrap_or(&o.order_id);
        if k.chars().count() >= 6 {
            out.push(k.to_lowercase());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Erases `who` from the lake at `lake_dir` and from the outputs under `out_dir` (if it exists).
///
/// ## Parameters
/// - `region`: the default phone region for `--phone` values without a country code.
/// - `now`: µs since the epoch, recorded on the tombstones.
pub fn forget(
    lake_dir: &Path,
    out_dir: Option<&Path>,
    who: &Who,
    region: Option<PhoneRegion>,
    now: i64,
) -> Result<ForgetReport, ForgetError> {
    let mut lake = Lake::load(lake_dir)?;
    let mut ids = customers_of(&lake, who, region, lake_dir)?;
    ids.extend(
        lake.merges.iter().filter(|m| ids.contains(&m.customer_id)).map(|m| m.merged_id.clone()).collect::<Vec<_>>(),
    );
    let mut report = ForgetReport { customers: ids.iter().cloned().collect(), ..Default::default() };
    report.customers.sort();
    let needles = needles(&lake, &ids);
    let mine = |c: Option<&str>| c.is_some_and(|c| ids.contains(c));
    let mut stones: Vec<(String, String)> = lake
        .identities
        .iter()
        .filter(|i| ids.contains(i.customer_id.as_str()))
        .filter(|i| i.key_type != "record")
        .map(|i| (i.key_type.to_string(), i.key.to_string()))
        .collect();
    let orders: HashSet<String> =
        lake.orders.iter().filter(|o| mine(o.customer_id.as_deref())).map(|o| o.order_id.to_string()).collect();
    stones.extend(orders.iter().map(|o| ("order".to_string(), o.clone())));
    stones.sort();
    stones.dedup();
    let mut count = |table: &str, before: usize, after: usize| {
        report.lake_rows.insert(table.to_string(), before - after);
    };
    macro_rules! drop_rows {
        ($field:ident, $name:expr, $keep:expr) => {{
            let before = lake.$field.len();
            lake.$field.retain($keep);
            count($name, before, lake.$field.len());
        }};
    }
    drop_rows!(orders, "orders", |o| !mine(o.customer_id.as_deref()));
    drop_rows!(items, "order_items", |i| !orders.contains(i.order_id.as_str()));
    drop_rows!(events, "events", |e| !mine(e.customer_id.as_deref()));
    drop_rows!(tickets, "tickets", |t| !mine(t.customer_id.as_deref())
        && !t.order_id.as_ref().is_some_and(|o| orders.contains(o)));
    drop_rows!(profiles, "profiles", |p| !mine(p.customer_id.as_deref()));
    drop_rows!(identities, "identities", |i| !ids.contains(i.customer_id.as_str()));
    drop_rows!(customers, "customers", |c| !ids.contains(c.customer_id.as_str()));
    drop_rows!(merges, "customer_merges", |m| !ids.contains(&m.customer_id) && !ids.contains(&m.merged_id));
    drop_rows!(rejects, "rejects", |r| {
        let raw = r.raw.to_lowercase();
        !needles.iter().any(|n| raw.contains(n.as_str()))
    });
    report.tombstones = stones.len();
    lake.tombstones.extend(stones.into_iter().map(|(kind, key)| Tombstone {
        key_sha256: tombstone_hash(&kind, &key),
        key_type: kind,
        forgotten_at: now,
    }));
    lake.write(lake_dir)?;
    if let Some(out) = out_dir.filter(|o| o.is_dir()) {
        report.output_rows = forget_outputs(out, &ids)?;
    }
    Ok(report)
}

/// Parquet files under `dir`, recursively, sorted.
fn parquet_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            parquet_files(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "parquet") {
            out.push(p);
        }
    }
    Ok(())
}

/// Drops the customers' rows from every output table with a `customer_id` column; returns rows
/// removed per file (relative path).
fn forget_outputs(out: &Path, ids: &HashSet<String>) -> Result<BTreeMap<String, usize>, ForgetError> {
    let rewrite = |path: &Path, message: String| ForgetError::Rewrite { path: path.to_path_buf(), message };
    let mut files = Vec::new();
    parquet_files(out, &mut files).map_err(|e| rewrite(out, e.to_string()))?;
    let list = Series::new("ids".into(), ids.iter().cloned().collect::<Vec<_>>());
    let mut removed = BTreeMap::new();
    for path in files {
        let file = std::fs::File::open(&path).map_err(|e| rewrite(&path, e.to_string()))?;
        let df = ParquetReader::new(file).finish().map_err(|e| rewrite(&path, e.to_string()))?;
        if df.column("customer_id").is_err() {
            continue;
        }
        let mut kept = df
            .clone()
            .lazy()
            .filter(col("customer_id").is_in(lit(list.clone()), false).not())
            .collect()
            .map_err(|e| rewrite(&path, e.to_string()))?;
        let n = df.height() - kept.height();
        if n == 0 {
            continue;
        }
        crate::output::parquet(&path, &mut kept)?;
        let csv = path.with_extension("csv");
        if csv.exists() {
            crate::output::csv(&csv, &mut kept)?;
        }
        let shown = path.strip_prefix(out).unwrap_or(&path).display().to_string();
        removed.insert(shown, n);
    }
    Ok(removed)
}
