//! The lake: canonical tables as zstd Parquet under `<lake>/<table>/part-0.parquet`.
//!
//! ## Method
//! Every write goes to a temporary file in the target folder and is renamed over the old file
//! ([`write_atomic`]), so a reader or an interrupted run never sees half a table. Rows are sorted
//! by the table's key before writing, so the same content gives byte-identical files. Frames are
//! validated against [`crate::schema`] on the way in and out.

pub mod records;

use crate::schema::{self, Table};
use polars::prelude::*;
use records::*;
use std::path::{Path, PathBuf};

/// Lake IO failures, naming the table and file.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("cannot read table `{table}` from {path}: {message}")]
    Read { table: &'static str, path: PathBuf, message: String },
    #[error("lake {lake} has no `{table}` table; run `custlens ingest --lake {lake}` first")]
    Missing { table: &'static str, lake: PathBuf },
    #[error("lake file {path} does not match the canonical schema: {source}")]
    Schema { path: PathBuf, source: schema::SchemaError },
}

/// A temporary file in `dir` for an atomic write, readable by everyone like a normal new file
/// (tempfile's default is owner-only).
pub fn temp_file_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut b = tempfile::Builder::new();
    b.prefix(".tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o644));
    }
    b.tempfile_in(dir)
}

/// Writes a file atomically: `write` fills a temporary file beside `path`, which is then renamed.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), String>,
) -> Result<(), LakeError> {
    let err = |message: String| LakeError::Write { path: path.to_path_buf(), message };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    let mut tmp = temp_file_in(dir).map_err(|e| err(e.to_string()))?;
    write(tmp.as_file_mut()).map_err(err)?;
    tmp.as_file().sync_all().map_err(|e| err(e.to_string()))?;
    tmp.persist(path).map_err(|e| err(e.error.to_string()))?;
    Ok(())
}

/// Writes a frame as zstd Parquet, atomically.
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), LakeError> {
    write_atomic(path, |f| {
        ParquetWriter::new(f)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(df)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

/// The Parquet file of a table.
pub fn table_path(lake: &Path, table: Table) -> PathBuf {
    lake.join(table.name()).join("part-0.parquet")
}

/// A lazy scan of a lake table; fails with [`LakeError::Missing`] when it was never written.
pub fn scan(lake: &Path, table: Table) -> Result<LazyFrame, LakeError> {
    let path = table_path(lake, table);
    if !path.exists() {
        return Err(LakeError::Missing { table: table.name(), lake: lake.to_path_buf() });
    }
    let p = path.to_string_lossy().to_string();
    LazyFrame::scan_parquet(PlRefPath::new(p), ScanArgsParquet::default()).map_err(|e| LakeError::Read {
        table: table.name(),
        path: path.clone(),
        message: e.to_string(),
    })
}

/// Rows per table, from the Parquet footers (tables never written count 0).
pub fn row_counts(lake: &Path) -> Result<Vec<(String, usize)>, LakeError> {
    Table::ALL
        .iter()
        .map(|&t| {
            let path = table_path(lake, t);
            if !path.exists() {
                return Ok((t.name().to_string(), 0));
            }
            let rerr = |message: String| LakeError::Read { table: t.name(), path: path.clone(), message };
            let file = std::fs::File::open(&path).map_err(|e| rerr(e.to_string()))?;
            let n = ParquetReader::new(file).num_rows().map_err(|e| rerr(e.to_string()))?;
            Ok((t.name().to_string(), n))
        })
        .collect()
}

/// The `files` table alone.
pub fn load_files(lake: &Path) -> Result<Vec<FileEntry>, LakeError> {
    read_table(lake)
}

fn read_table<R: Row>(lake: &Path) -> Result<Vec<R>, LakeError> {
    let path = table_path(lake, R::TABLE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let rerr = |message: String| LakeError::Read { table: R::TABLE.name(), path: path.clone(), message };
    let file = std::fs::File::open(&path).map_err(|e| rerr(e.to_string()))?;
    let df = ParquetReader::new(file).finish().map_err(|e| rerr(e.to_string()))?;
    schema::validate(R::TABLE, &df).map_err(|source| LakeError::Schema { path: path.clone(), source })?;
    R::from_frame(&df).map_err(|e| rerr(e.to_string()))
}

/// Builds and validates a table's frame (no IO).
fn table_frame<R: Row>(lake: &Path, rows: &[R]) -> Result<(Table, PathBuf, DataFrame), LakeError> {
    let path = table_path(lake, R::TABLE);
    let df = R::to_frame(rows).map_err(|e| LakeError::Write { path: path.clone(), message: e.to_string() })?;
    schema::validate(R::TABLE, &df).map_err(|source| LakeError::Schema { path: path.clone(), source })?;
    Ok((R::TABLE, path, df))
}

/// All lake tables in memory, as typed rows.
#[derive(Debug, Default, Clone)]
pub struct Lake {
    pub orders: Vec<Order>,
    pub items: Vec<Item>,
    pub products: Vec<Product>,
    pub profiles: Vec<Profile>,
    pub events: Vec<Event>,
    pub tickets: Vec<Ticket>,
    pub rejects: Vec<Reject>,
    pub files: Vec<FileEntry>,
    pub customers: Vec<Customer>,
    pub identities: Vec<Identity>,
    pub merges: Vec<CustomerMerge>,
    pub tombstones: Vec<Tombstone>,
}

impl Lake {
    /// Loads every table that exists (missing tables are empty).
    pub fn load(dir: &Path) -> Result<Lake, LakeError> {
        Ok(Lake {
            orders: read_table(dir)?,
            items: read_table(dir)?,
            products: read_table(dir)?,
            profiles: read_table(dir)?,
            events: read_table(dir)?,
            tickets: read_table(dir)?,
            rejects: read_table(dir)?,
            files: read_table(dir)?,
            customers: read_table(dir)?,
            identities: read_table(dir)?,
            merges: read_table(dir)?,
            tombstones: read_table(dir)?,
        })
    }

    /// Sorts every table by its key, so equal content gives equal files.
    pub fn sort(&mut self) {
        // Unique keys, so an unstable sort gives the same order, without the stable sort's buffer
        // of half the table (gigabytes at 10M orders).
        self.orders.sort_unstable_by(|a, b| a.order_id.cmp(&b.order_id));
        self.items.sort_unstable_by(|a, b| (&a.order_id, a.line_no).cmp(&(&b.order_id, b.line_no)));
        self.products.sort_by(|a, b| a.sku.cmp(&b.sku));
        self.profiles.sort_by(|a, b| a.profile_id.cmp(&b.profile_id));
        self.events.sort_unstable_by(|a, b| (a.ts, &a.event_id).cmp(&(b.ts, &b.event_id)));
        self.tickets.sort_by(|a, b| a.ticket_id.cmp(&b.ticket_id));
        self.rejects.sort_by(|a, b| (&a.source_file, a.line).cmp(&(&b.source_file, b.line)));
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.customers.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
        self.merges.sort();
        self.merges.dedup();
        self.tombstones.sort_by(|a, b| (&a.key_type, &a.key_sha256).cmp(&(&b.key_type, &b.key_sha256)));
        self.tombstones.dedup_by(|a, b| (&a.key_type, &a.key_sha256) == (&b.key_type, &b.key_sha256));
        self.identities.sort_by(|a, b| {
            (&a.customer_id, &a.key_type, &a.key, &a.source).cmp(&(&b.customer_id, &b.key_type, &b.key, &b.source))
        });
    }

    /// Writes every table atomically (each file on its own); returns rows written per table.
    ///
    /// Every frame is built and validated before the first file is replaced, so a table that
    /// would not validate leaves the whole lake as it was.
    pub fn write(&mut self, dir: &Path) -> Result<Vec<(Table, usize)>, LakeError> {
        self.write_frames(dir, false)
    }

    /// [`Lake::write`] that empties each table once its frame is built, so typed rows and Arrow
    /// columns of the big tables are not all in memory at once. The lake is empty afterwards.
    pub fn write_releasing(&mut self, dir: &Path) -> Result<Vec<(Table, usize)>, LakeError> {
        self.write_frames(dir, true)
    }

    fn write_frames(&mut self, dir: &Path, release: bool) -> Result<Vec<(Table, usize)>, LakeError> {
        self.sort();
        fn frame<R: Row>(
            dir: &Path,
            rows: &mut Vec<R>,
            release: bool,
        ) -> Result<(Table, PathBuf, DataFrame), LakeError> {
            if !release {
                return table_frame(dir, rows);
            }
            let path = table_path(dir, R::TABLE);
            let df = R::into_frame(std::mem::take(rows))
                .map_err(|e| LakeError::Write { path: path.clone(), message: e.to_string() })?;
            schema::validate(R::TABLE, &df).map_err(|source| LakeError::Schema { path: path.clone(), source })?;
            Ok((R::TABLE, path, df))
        }
        let frames = vec![
            frame(dir, &mut self.orders, release)?,
            frame(dir, &mut self.items, release)?,
            frame(dir, &mut self.products, release)?,
            frame(dir, &mut self.profiles, release)?,
            frame(dir, &mut self.customers, release)?,
            frame(dir, &mut self.identities, release)?,
            frame(dir, &mut self.merges, release)?,
            frame(dir, &mut self.tombstones, release)?,
            frame(dir, &mut self.events, release)?,
            frame(dir, &mut self.tickets, release)?,
            frame(dir, &mut self.rejects, release)?,
            frame(dir, &mut self.files, release)?,
        ];
        let mut written = Vec::with_capacity(frames.len());
        for (table, path, mut df) in frames {
            let t = std::time::Instant::now();
            write_parquet(&path, &mut df)?;
            tracing::debug!(
                table = table.name(),
                rows = df.height(),
                seconds = t.elapsed().as_secs_f64(),
                "table written"
            );
            written.push((table, df.height()));
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_old_file_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.txt");
        std::fs::write(&p, "old").unwrap();
        let r = write_atomic(&p, |f| {
            use std::io::Write;
            f.write_all(b"half").unwrap();
            Err("interrupted".into())
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "temp file cleaned up");
    }

    #[test]
    fn lake_roundtrip_is_byte_stable() {
        let dir = tempfile::tempdir().unwrap();
        let mut lake = Lake::default();
        lake.products.push(Product {
            sku: "b".into(),
            product_name: None,
            category: Some("x".into()),
            price: Some(2.0),
            cost: None,
        });
        lake.products.push(Product {
            sku: "a".into(),
            product_name: Some("A".into()),
            category: None,
            price: None,
            cost: Some(1.0),
        });
        lake.write(dir.path()).unwrap();
        let first = std::fs::read(table_path(dir.path(), Table::Products)).unwrap();
        let mut again = Lake::load(dir.path()).unwrap();
        assert_eq!(again.products[0].sku, "a");
        again.write(dir.path()).unwrap();
        assert_eq!(first, std::fs::read(table_path(dir.path(), Table::Products)).unwrap());
    }
}
