//! Reading a source file into header + records with physical line numbers.
//!
//! ## Method
//! The file is decoded to UTF-8 first (polars and the csv crate read UTF-8 only): a UTF-8 BOM is
//! stripped; `auto` keeps valid UTF-8 and otherwise decodes GB18030 (a superset of GBK), the
//! encoding of most Chinese seller-center exports. CSV/TSV records come from the `csv` crate with
//! RFC quoting (fields may span lines), each with the 1-based line where it starts and its raw
//! text. JSONL: one object per line; top-level keys become columns (in sorted key order).
//! Structural problems (field-count mismatch, broken JSON) become [`RawReject`]s, never panics.
//!
//! Excel workbooks (`.xlsx`, `.xls`; recognised from their first bytes, whatever the file is
//! called) are read with `calamine` into the same [`RawTable`]: the first sheet (or the named
//! one), its first non-empty row as the header, every later non-empty row a record whose `line`
//! is the spreadsheet row number. Cells become text as a spreadsheet shows them: text as is,
//! whole numbers without `.0`, fractions with at most 15 significant digits, date cells as
//! `YYYY-MM-DD HH:MM:SS` (local time; the mapping's time zone applies, as for CSV). A number
//! beyond 2^53 has lost digits (spreadsheets store numbers as 64-bit floats), so its cell is
//! flagged in [`RawTable::cell_issues`] and a record that uses it is rejected naming the column;
//! so is a number with a fraction where an id is expected, and an error value (`#N/A`).

use crate::config::mapping::{Encoding, FileKind};
use std::collections::HashMap;

/// One record as read: where it starts, its cells by header index, its text.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRecord {
    pub line: u64,
    pub fields: Fields,
    pub raw: String,
}

/// A record's cells in one buffer: two allocations per record instead of one per cell (a Taobao
/// row has 37 cells, most of them non-empty).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fields {
    buf: String,
    ends: Vec<u32>,
}

impl Fields {
    /// Cell `i`; None past the last.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.buf.get(start..end)
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends a cell.
    pub fn push(&mut self, cell: &str) {
        self.buf.push_str(cell);
        self.ends.push(self.buf.len() as u32);
    }

    /// The first `n` cells of a csv record read from UTF-8 text (`n ≤ r.len()`): one copy of
    /// their bytes, allocated at their exact size (csv keeps a record's cells as one buffer
    /// already; pushing them one by one regrew both vectors several times per record).
    fn from_csv(r: &csv::ByteRecord, n: usize) -> Fields {
        let end = if n == 0 { 0 } else { r.range(n - 1).map_or(0, |x| x.end) };
        let ends = (0..n).map(|i| r.range(i).map_or(end, |x| x.end) as u32).collect();
        Fields { buf: field(&r.as_slice()[..end]).to_string(), ends }
    }

    /// The cells in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

impl<S: AsRef<str>> FromIterator<S> for Fields {
    fn from_iter<I: IntoIterator<Item = S>>(cells: I) -> Fields {
        let mut f = Fields::default();
        for c in cells {
            f.push(c.as_ref());
        }
        f
    }
}

impl std::ops::Index<usize> for Fields {
    type Output = str;
    fn index(&self, i: usize) -> &str {
        self.get(i).unwrap_or_else(|| panic!("cell {i} of a {}-cell record", self.len()))
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for Fields {
    fn eq(&self, other: &Vec<S>) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

/// A record that could not be split into fields.
#[derive(Debug, Clone, PartialEq)]
pub struct RawReject {
    pub line: u64,
    pub raw: String,
    pub reason: String,
}

/// A file read into memory.
#[derive(Debug, Default)]
pub struct RawTable {
    /// Trimmed header names.
    pub headers: Vec<String>,
    pub records: Vec<RawRecord>,
    pub rejects: Vec<RawReject>,
    /// Spreadsheet cells whose text cannot be trusted, by (record line, header index). Empty for
    /// text files.
    pub cell_issues: HashMap<(u64, usize), CellIssue>,
}

/// Why a spreadsheet cell's text cannot be trusted.
#[derive(Debug, Clone, PartialEq)]
pub enum CellIssue {
    /// A number beyond 2^53: a 64-bit float keeps only ~16 significant digits.
    Imprecise,
    /// A number with a fraction: fine as an amount, never an id.
    Fraction,
    /// An error value such as `#N/A`.
    Error(String),
}

impl CellIssue {
    /// The reject reason when the cell is used as `canonical` (`id_like`: an id, key or phone);
    /// None when the cell is fine for that use.
    pub fn reason(&self, text: &str, id_like: bool) -> Option<String> {
        match self {
            CellIssue::Imprecise => Some(format!(
                "numeric cell lost precision ({text} is beyond the 2^53 a spreadsheet number holds exactly); format the column as text in the export"
            )),
            CellIssue::Fraction if id_like => Some(format!(
                "numeric cell {text} has a fraction where an id is expected; format the column as text in the export"
            )),
            CellIssue::Fraction => None,
            CellIssue::Error(e) => Some(format!("the cell holds the spreadsheet error {e}")),
        }
    }
}

impl RawTable {
    /// Index of a header (already trimmed).
    pub fn index(&self, header: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == header.trim())
    }
}

/// Decodes bytes to text. Errors say which encoding failed and roughly where.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, String> {
    decode_at(bytes, encoding, 1)
}

/// [`decode`] for a part of a file whose first line is line `first_line` (for error messages).
pub fn decode_at(bytes: &[u8], encoding: Encoding, first_line: u64) -> Result<String, String> {
    let mut buf = String::new();
    Ok(match decode_into(bytes, encoding, first_line, &mut buf)? {
        Some(text) => text.to_string(),
        None => buf,
    })
}

/// [`decode_at`] without a copy of text that is already UTF-8 (returned borrowed) and into a
/// buffer the caller keeps otherwise (None: the text is `buf`), so the threads decoding a file's
/// parts reuse their memory instead of faulting in fresh pages for every part.
pub fn decode_into<'a>(
    bytes: &'a [u8],
    encoding: Encoding,
    first_line: u64,
    buf: &mut String,
) -> Result<Option<&'a str>, String> {
    let before = first_line.saturating_sub(1) as usize;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    let mut with = |enc: &'static encoding_rs::Encoding, name: &str| -> Result<Option<&'a str>, String> {
        // A UTF-16 file's own BOM goes too (encodings without a BOM are unaffected).
        let mut decoder = enc.new_decoder_with_bom_removal();
        buf.clear();
        buf.reserve(decoder.max_utf8_buffer_length_without_replacement(bytes.len()).ok_or("the part is too large")?);
        match decoder.decode_to_string_without_replacement(bytes, buf, true) {
            (encoding_rs::DecoderResult::InputEmpty, _) => Ok(None),
            (encoding_rs::DecoderResult::Malformed(..), _) => {
                // `buf` holds the text before the bad bytes (in any encoding, even UTF-16, whose
                // bytes count line feeds wrongly).
                let at = before + memchr::memchr_iter(b'\n', buf.as_bytes()).count() + 1;
                Err(format!("not valid {name} (first bad byte on line {at}); set `encoding` in the mapping"))
            }
            (encoding_rs::DecoderResult::OutputFull, _) => Err(format!("cannot decode {name}: output buffer full")),
        }
    };
    match encoding {
        Encoding::Fixed(enc) if enc == encoding_rs::UTF_8 => std::str::from_utf8(bytes).map(Some).map_err(|e| {
            let line = before + memchr::memchr_iter(b'\n', &bytes[..e.valid_up_to()]).count() + 1;
            format!(
                "not valid UTF-8 (first bad byte on line {line}); set `encoding = \"gbk\"` or another in the mapping"
            )
        }),
        Encoding::Fixed(enc) => with(enc, enc.name()),
        Encoding::Auto => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Some(s)),
            Err(_) => with(encoding_rs::GB18030, "UTF-8 or GB18030"),
        },
        Encoding::AutoLatin => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Some(s)),
            Err(_) => {
                *buf = shift_jis_japanese(bytes)
                    .unwrap_or_else(|| encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned());
                Ok(None)
            }
        },
    }
}

/// The fixed encoding an `auto` encoding means for a file, decided on a part of it holding
/// non-ASCII bytes (ASCII reads the same in every supported encoding, so an ASCII part decides
/// nothing and None is returned); a fixed encoding is returned as is.
pub fn settle_encoding(encoding: Encoding, bytes: &[u8]) -> Option<Encoding> {
    let auto = matches!(encoding, Encoding::Auto | Encoding::AutoLatin);
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    if !auto {
        return Some(encoding);
    }
    if bytes.is_ascii() {
        return None;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return Some(Encoding::Fixed(encoding_rs::UTF_8));
    }
    Some(Encoding::Fixed(match encoding {
        Encoding::Auto => encoding_rs::GB18030,
        _ if shift_jis_japanese(bytes).is_some() => encoding_rs::SHIFT_JIS,
        _ => encoding_rs::WINDOWS_1252,
    }))
}

/// The text when `bytes` are valid Shift-JIS holding Japanese (kana or kanji), as Amazon's JP
/// reports are. Western Windows-1252 text almost never passes: its accented letters are Shift-JIS
/// lead bytes that ASCII cannot follow, and what does decode holds no kana.
fn shift_jis_japanese(bytes: &[u8]) -> Option<String> {
    let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
    let japanese = |c: char| matches!(c, '\u{3040}'..='\u{30FF}' | '\u{4E00}'..='\u{9FFF}' | '\u{FF66}'..='\u{FF9F}');
    (!had_errors && text.chars().any(japanese)).then(|| text.into_owned())
}

/// Reads decoded text as CSV/TSV or JSONL.
pub fn read_text(text: &str, kind: FileKind, delimiter: Option<u8>) -> Result<RawTable, String> {
    read_part(text, kind, delimiter, None, 1)
}

/// Reads a part of a file: its text, the header when the part does not start with it (CSV/TSV;
/// JSONL parts carry their keys), and the line number of the part's first line.
pub fn read_part(
    text: &str,
    kind: FileKind,
    delimiter: Option<u8>,
    headers: Option<&[String]>,
    first_line: u64,
) -> Result<RawTable, String> {
    let mut table = match kind {
        FileKind::Jsonl => read_jsonl(text),
        FileKind::Csv => read_csv(text, delimiter.unwrap_or(b','), headers)?,
        FileKind::Tsv => read_csv(text, delimiter.unwrap_or(b'\t'), headers)?,
    };
    if first_line > 1 {
        let shift = first_line - 1;
        table.records.iter_mut().for_each(|r| r.line += shift);
        table.rejects.iter_mut().for_each(|r| r.line += shift);
    }
    Ok(table)
}

fn read_csv(text: &str, delimiter: u8, given: Option<&[String]>) -> Result<RawTable, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(given.is_none())
        .from_reader(text.as_bytes());
    let headers = match given {
        Some(h) => h.to_vec(),
        None => {
            let mut headers: Vec<String> = rdr
                .headers()
                .map_err(|e| format!("cannot read the header line: {e}"))?
                .iter()
                .map(|h| h.trim().to_string())
                .collect();
            // A trailing delimiter on every line gives an empty last header: not a column.
            while headers.last().is_some_and(|h| h.is_empty()) && headers.len() > 1 {
                headers.pop();
            }
            if headers.iter().all(|h| h.is_empty()) {
                return Err("the file has no header line".into());
            }
            headers
        }
    };
    let mut table = RawTable { headers, ..Default::default() };
    // Byte records: the text is already UTF-8 (see `field`), so csv's check of every record
    // again is skipped (5% of a Taobao conversion).
    let mut rec = csv::ByteRecord::new();
    let mut pending: Option<(u64, usize)> = None;
    let push = |table: &mut RawTable,
                line: u64,
                start: usize,
                end: usize,
                rec: Option<(Fields, usize)>,
                err: Option<String>| {
        let raw = text.get(start..end).unwrap_or("");
        // Blank lines before a record belong to it in csv's positions: the record starts after them.
        let body = raw.trim_start_matches(['\r', '\n']);
        let line = line + raw[..raw.len() - body.len()].matches('\n').count() as u64;
        let raw = body.trim_end_matches(['\r', '\n']).to_string();
        match (rec, err) {
            (_, Some(reason)) => table.rejects.push(RawReject { line, raw, reason }),
            (Some((fields, found)), None) => {
                let n = table.headers.len();
                if fields.len() < n {
                    table.rejects.push(RawReject { line, raw, reason: format!("expected {n} fields, found {found}") });
                } else {
                    table.records.push(RawRecord { line, fields, raw });
                }
            }
            (None, None) => {}
        }
    };
    let n = table.headers.len();
    // The header's cells of a record (None when it has too few, or non-empty cells past the
    // header), and how many cells it had.
    let cells = |r: &csv::ByteRecord| -> (Fields, usize) {
        let extra_nonempty = r.iter().skip(n).any(|f| !field(f).trim().is_empty());
        if r.len() < n || extra_nonempty {
            (Fields::default(), r.len())
        } else {
            (Fields::from_csv(r, n), r.len())
        }
    };
    let mut last_rec: Option<(Fields, usize)> = None;
    loop {
        let res = rdr.read_byte_record(&mut rec);
        let pos = rdr.position().byte() as usize;
        match res {
            Ok(more) => {
                if let Some((line, start)) = pending.take() {
                    push(&mut table, line, start, pos_start(&rec, pos, more), last_rec.take(), None);
                }
                if !more {
                    break;
                }
                let p = rec.position().expect("csv records carry positions");
                pending = Some((p.line(), p.byte() as usize));
                last_rec = Some(cells(&rec));
            }
            Err(e) => {
                if let Some((line, start)) = pending.take() {
                    push(&mut table, line, start, pos, last_rec.take(), None);
                }
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                let reason = format!("unreadable record: {e}");
                let start = e.position().map(|p| p.byte() as usize).unwrap_or(pos);
                push(&mut table, line, start, pos, None, Some(reason));
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
            }
        }
    }
    Ok(table)
}

/// A field of a record read from UTF-8 text, as text.
fn field(bytes: &[u8]) -> &str {
    // SAFETY: the reader's input is a `&str`, and csv cuts and unquotes it only at ASCII bytes
    // (delimiter, quote, CR, LF), which never occur inside a multi-byte UTF-8 sequence; so
    // every field is whole UTF-8 sequences. (The property tests of the readers feed arbitrary
    // text through here.)
    debug_assert!(std::str::from_utf8(bytes).is_ok());
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// The byte where the record just read starts, or the end of input: the previous record ends there.
fn pos_start(rec: &csv::ByteRecord, end_of_input: usize, more: bool) -> usize {
    if more {
        rec.position().map(|p| p.byte() as usize).unwrap_or(end_of_input)
    } else {
        end_of_input
    }
}

/// Array elements flattened per array (`items.0.item_id` … `items.9.item_id`).
const MAX_ARRAY_ITEMS: usize = 10;

/// Flattens one JSON value under `key`: scalars as text (null → empty); an object or array keeps
/// its JSON text under `key` and adds its members as `key.member` / `key.0.member`; an array of
/// `{key, value}` pairs (GA4's `event_params`, `user_properties`) becomes `key.<pair key>` with the
/// first non-null of the value's fields (`string_value`, `int_value`, …).
pub fn flatten(key: String, v: serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    match v {
        Value::Null => out.push((key, String::new())),
        Value::String(s) => out.push((key, s)),
        Value::Number(_) | Value::Bool(_) => out.push((key, v.to_string())),
        Value::Object(map) => {
            out.push((key.clone(), Value::Object(map.clone()).to_string()));
            for (k, child) in map {
                flatten(format!("{key}.{k}"), child, out);
            }
        }
        Value::Array(items) => {
            out.push((key.clone(), Value::Array(items.clone()).to_string()));
            let pairs = !items.is_empty()
                && items.iter().all(|i| i.get("key").is_some_and(Value::is_string) && i.get("value").is_some());
            if pairs {
                for item in items {
                    let name = item.get("key").and_then(Value::as_str).unwrap_or_default().to_string();
                    let value = match item.get("value") {
                        Some(Value::Object(fields)) => {
                            fields.values().find(|f| !f.is_null()).cloned().unwrap_or(Value::Null)
                        }
                        Some(other) => other.clone(),
                        None => Value::Null,
                    };
                    flatten(format!("{key}.{name}"), value, out);
                }
            } else {
                for (i, item) in items.into_iter().take(MAX_ARRAY_ITEMS).enumerate() {
                    flatten(format!("{key}.{i}"), item, out);
                }
            }
        }
    }
}

fn read_jsonl(text: &str) -> RawTable {
    let mut table = RawTable::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    // (line, cells by header index, raw text)
    type Row = (u64, Vec<(usize, String)>, String);
    let mut rows: Vec<Row> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(map)) => {
                let mut flat = Vec::with_capacity(map.len());
                for (k, v) in map {
                    flatten(k, v, &mut flat);
                }
                let mut cells = Vec::with_capacity(flat.len());
                for (k, s) in flat {
                    let next = index.len();
                    let idx = match index.get(&k) {
                        Some(&i) => i,
                        None => {
                            index.insert(k.clone(), next);
                            table.headers.push(k);
                            next
                        }
                    };
                    cells.push((idx, s));
                }
                rows.push((line_no, cells, line.to_string()));
            }
            Ok(_) => table.rejects.push(RawReject {
                line: line_no,
                raw: line.to_string(),
                reason: "a JSONL line must be a JSON object".into(),
            }),
            Err(e) => table.rejects.push(RawReject {
                line: line_no,
                raw: line.to_string(),
                reason: format!("invalid JSON: {e}"),
            }),
        }
    }
    let n = table.headers.len();
    for (line, cells, raw) in rows {
        let mut fields = vec![String::new(); n];
        for (i, s) in cells {
            fields[i] = s;
        }
        table.records.push(RawRecord { line, fields: fields.into_iter().collect(), raw });
    }
    table
}

/// A spreadsheet container format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workbook {
    /// Office Open XML (a zip): `.xlsx`, `.xlsm`.
    Xlsx,
    /// BIFF in a compound file: `.xls`.
    Xls,
}

/// The workbook format the bytes start with, if any (text files never start so).
pub fn workbook_kind(bytes: &[u8]) -> Option<Workbook> {
    if bytes.starts_with(b"PK\x03\x04") {
        Some(Workbook::Xlsx)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Some(Workbook::Xls)
    } else {
        None
    }
}

/// Largest integer a 64-bit float holds exactly; above it, digits are lost.
const EXACT_INT: f64 = 9_007_199_254_740_992.0;

/// A non-empty cell as text, and what is wrong with it if anything.
type SheetCell = (String, Option<CellIssue>);

fn number_text(f: f64) -> SheetCell {
    if !f.is_finite() || f.abs() > EXACT_INT {
        return (format!("{f:.0}"), Some(CellIssue::Imprecise));
    }
    if f.fract() == 0.0 {
        return (format!("{}", f as i64), None);
    }
    // Spreadsheets show at most 15 significant digits: 0.1 + 0.2 is 0.3 there.
    let shown: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    if shown.fract() == 0.0 {
        return (format!("{}", shown as i64), None);
    }
    (format!("{shown}"), Some(CellIssue::Fraction))
}

fn int_text(i: i64) -> SheetCell {
    let issue = (i.unsigned_abs() > EXACT_INT as u64).then_some(CellIssue::Imprecise);
    (i.to_string(), issue)
}

/// An Excel date serial as `YYYY-MM-DD HH:MM:SS[.mmm]`; the number itself when out of range.
fn date_text(d: &calamine::ExcelDateTime) -> SheetCell {
    let v = d.as_f64();
    // 2958466 is 10000-01-01; calamine's conversion is only defined on Excel's own range.
    if !d.is_datetime() || !(0.0..2_958_466.0).contains(&v) {
        return number_text(v);
    }
    let (y, mo, day, h, mi, s, ms) = d.to_ymd_hms_milli();
    let mut t = format!("{y:04}-{mo:02}-{day:02} {h:02}:{mi:02}:{s:02}");
    if ms > 0 {
        t.push_str(&format!(".{ms:03}"));
    }
    (t, None)
}

/// A cell streamed from an `.xlsx` sheet, read as [`data_cell`] reads it.
fn sheet_cell(v: &calamine::DataRef<'_>) -> Option<SheetCell> {
    data_cell(&calamine::Data::from(v.clone()))
}

fn data_cell(v: &calamine::Data) -> Option<SheetCell> {
    use calamine::Data as D;
    let cell = match v {
        D::Empty => return None,
        D::String(s) => (s.clone(), None),
        D::Int(i) => int_text(*i),
        D::Float(f) => number_text(*f),
        D::Bool(b) => (b.to_string(), None),
        D::DateTime(d) => date_text(d),
        D::DateTimeIso(s) | D::DurationIso(s) => (s.clone(), None),
        D::Error(e) => (String::new(), Some(CellIssue::Error(e.to_string()))),
    };
    Some(cell)
}

fn pick_sheet(names: &[String], wanted: Option<&str>) -> Result<String, String> {
    match wanted {
        Some(w) => names
            .iter()
            .find(|n| n.trim() == w.trim())
            .cloned()
            .ok_or_else(|| format!("the workbook has no sheet `{w}`; its sheets are: {}", names.join(", "))),
        None => names.first().cloned().ok_or_else(|| "the workbook has no sheets".to_string()),
    }
}

/// Column letters of a 0-based index (0 → A, 27 → AB), for messages.
fn column_letters(mut c: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

/// Reads a worksheet of an Excel workbook (the first, or `sheet`) into a table.
///
/// Cells are collected sparsely (row → cells), so memory follows the cells present, not the
/// sheet's claimed dimensions.
///
/// calamine 0.35 panics on some damaged files (its compound-file reader slices out of bounds on
/// a truncated `.xls`; found by the property tests). Validating the container ourselves would
/// mean re-implementing it, so this is the one place custlens catches a panic: the read runs under
/// `catch_unwind` and a panic becomes a clean error naming the file as damaged. (The default panic
/// hook still prints the panic to stderr.)
pub fn read_workbook(bytes: &[u8], kind: Workbook, sheet: Option<&str>) -> Result<RawTable, String> {
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_sheet(bytes, kind, sheet)));
    read.unwrap_or_else(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(format!("the workbook is damaged: the Excel reader failed on it ({why}); export the file again"))
    })
}

fn read_sheet(bytes: &[u8], kind: Workbook, sheet: Option<&str>) -> Result<RawTable, String> {
    use calamine::Reader as _;
    let mut rows: std::collections::BTreeMap<u32, Vec<(u32, SheetCell)>> = Default::default();
    let cursor = std::io::Cursor::new(bytes);
    match kind {
        Workbook::Xlsx => {
            let mut wb: calamine::Xlsx<_> =
                calamine::open_workbook_from_rs(cursor).map_err(|e| format!("cannot open the .xlsx workbook: {e}"))?;
            let name = pick_sheet(&wb.sheet_names(), sheet)?;
            let mut cells = wb.worksheet_cells_reader(&name).map_err(|e| format!("cannot read sheet `{name}`: {e}"))?;
            loop {
                match cells.next_cell() {
                    Ok(Some(cell)) => {
                        if let Some(c) = sheet_cell(cell.get_value()) {
                            let (r, col) = cell.get_position();
                            rows.entry(r).or_default().push((col, c));
                        }
                    }
                    Ok(None) => break,
                    Err(e) => return Err(format!("cannot read sheet `{name}`: {e}")),
                }
            }
        }
        Workbook::Xls => {
            let mut wb: calamine::Xls<_> =
                calamine::open_workbook_from_rs(cursor).map_err(|e| format!("cannot open the .xls workbook: {e}"))?;
            let name = pick_sheet(&wb.sheet_names(), sheet)?;
            let range = wb.worksheet_range(&name).map_err(|e| format!("cannot read sheet `{name}`: {e}"))?;
            let (r0, c0) = range.start().unwrap_or((0, 0));
            for (r, c, v) in range.used_cells() {
                if let Some(cell) = data_cell(v) {
                    rows.entry(r0.saturating_add(r as u32)).or_default().push((c0.saturating_add(c as u32), cell));
                }
            }
        }
    }
    let nonempty = |cells: &Vec<(u32, SheetCell)>| cells.iter().any(|(_, (t, i))| !t.trim().is_empty() || i.is_some());
    let mut rows = rows.into_iter().filter(|(_, cells)| nonempty(cells));
    let Some((_, mut header_cells)) = rows.next() else {
        return Err("the sheet is empty: no header row".into());
    };
    header_cells.sort_by_key(|(c, _)| *c);
    let width = header_cells.iter().filter(|(_, (t, _))| !t.trim().is_empty()).map(|(c, _)| *c as usize + 1).max();
    let Some(width) = width else {
        return Err("the sheet's first row has no header names".into());
    };
    let mut headers = vec![String::new(); width];
    for (c, (t, _)) in header_cells {
        if let Some(h) = headers.get_mut(c as usize) {
            *h = t.trim().to_string();
        }
    }
    let mut table = RawTable { headers, ..Default::default() };
    for (r, mut cells) in rows {
        cells.sort_by_key(|(c, _)| *c);
        let line = r as u64 + 1;
        let mut fields = vec![String::new(); width];
        let mut outside = None;
        for (c, (text, issue)) in cells {
            match fields.get_mut(c as usize) {
                Some(f) => {
                    *f = text;
                    if let Some(issue) = issue {
                        table.cell_issues.insert((line, c as usize), issue);
                    }
                }
                None if !text.trim().is_empty() && outside.is_none() => outside = Some(c),
                None => {}
            }
        }
        let raw = fields.join("\t");
        match outside {
            Some(c) => {
                for i in 0..width {
                    table.cell_issues.remove(&(line, i));
                }
                table.rejects.push(RawReject {
                    line,
                    raw,
                    reason: format!("a value in column {} is outside the header's {width} columns", column_letters(c)),
                })
            }
            None => table.records.push(RawRecord { line, fields: fields.into_iter().collect(), raw }),
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spreadsheet_numbers_as_text() {
        assert_eq!(number_text(13925130165.0), ("13925130165".to_string(), None));
        assert_eq!(number_text(9_007_199_254_740_992.0).1, None, "2^53 is exact");
        let (t, issue) = number_text(35153131473293579.0);
        assert_eq!((t.as_str(), issue), ("35153131473293580", Some(CellIssue::Imprecise)));
        assert_eq!(number_text(0.1 + 0.2), ("0.3".to_string(), Some(CellIssue::Fraction)));
        assert_eq!(number_text(95.4).0, "95.4");
        assert_eq!(number_text(-3.0).0, "-3");
        assert_eq!(number_text(f64::NAN).1, Some(CellIssue::Imprecise));
        assert_eq!(int_text(1 << 60).1, Some(CellIssue::Imprecise));
        assert!(CellIssue::Fraction.reason("1.5", false).is_none());
        assert!(CellIssue::Fraction.reason("1.5", true).unwrap().contains("format the column as text"));
        assert!(CellIssue::Imprecise.reason("1", false).unwrap().starts_with("numeric cell lost precision"));
    }

    #[test]
    fn excel_date_serials() {
        use calamine::{ExcelDateTime, ExcelDateTimeType::DateTime};
        let d = |v: f64, is_1904: bool| date_text(&ExcelDateTime::new(v, DateTime, is_1904)).0;
        assert_eq!(d(45943.5, false), "2025-10-13 12:00:00");
        assert_eq!(d(42924.029537037, false), "2017-07-08 00:42:32");
        assert_eq!(d(61.0, false), "1900-03-01 00:00:00");
        assert_eq!(d(0.0, true), "1904-01-01 00:00:00");
        assert_eq!(d(1e300, false), format!("{:.0}", 1e300), "out of range: the number, flagged");
        assert_eq!(d(-1.0, false), "-1");
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(27), "AB");
    }

    #[test]
    fn workbook_magic() {
        assert_eq!(workbook_kind(b"PK\x03\x04rest"), Some(Workbook::Xlsx));
        assert_eq!(workbook_kind(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0]), Some(Workbook::Xls));
        assert_eq!(workbook_kind(b"order_id,sku"), None);
        assert!(read_workbook(b"PK\x03\x04junk", Workbook::Xlsx, None).unwrap_err().contains(".xlsx"));
        assert!(read_workbook(b"junk", Workbook::Xls, None).unwrap_err().contains(".xls"));
    }

    #[test]
    fn csv_lines_and_multiline_fields() {
        let text = "a,b\n1,2\n3,\"x\ny\"\n5,6\n";
        let t = read_text(text, FileKind::Csv, None).unwrap();
        assert_eq!(t.headers, vec!["a", "b"]);
        let lines: Vec<u64> = t.records.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 3, 5]);
        assert_eq!(&t.records[1].fields[1], "x\ny");
        assert_eq!(t.records[1].raw, "3,\"x\ny\"");
        assert_eq!(t.records[2].raw, "5,6");
    }

    #[test]
    fn short_record_is_a_reject_with_its_line() {
        let t = read_text("a,b\n1,2\n3\n4,5", FileKind::Csv, None).unwrap();
        assert_eq!(t.records.len(), 2);
        assert_eq!(
            t.rejects,
            vec![RawReject { line: 3, raw: "3".into(), reason: "expected 2 fields, found 1".into() }]
        );
    }

    #[test]
    fn trailing_comma_and_header_spaces() {
        let t = read_text("订单编号,标题 ,\n=\"1\",锅,\n", FileKind::Csv, None).unwrap();
        assert_eq!(t.headers, vec!["订单编号", "标题"]);
        assert_eq!(t.records[0].fields, vec!["=\"1\"", "锅"]);
        assert!(t.rejects.is_empty());
    }

    #[test]
    fn gbk_auto_detected_and_bom_stripped() {
        let (bytes, _, _) = encoding_rs::GBK.encode("订单编号,状态\n1,交易成功\n");
        assert_eq!(decode(&bytes, Encoding::Auto).unwrap(), "订单编号,状态\n1,交易成功\n");
        assert!(decode(&bytes, Encoding::Fixed(encoding_rs::UTF_8)).unwrap_err().contains("UTF-8"));
        assert_eq!(decode(b"\xEF\xBB\xBFa,b", Encoding::Auto).unwrap(), "a,b");
    }

    #[test]
    fn whatwg_encodings_decode_and_bad_bytes_name_the_encoding_and_line() {
        let text = "name,city\nJosé,Zürich\n李雷,北京\n";
        for enc in [encoding_rs::GB18030, encoding_rs::BIG5, encoding_rs::UTF_16BE, encoding_rs::EUC_JP] {
            let text = if enc == encoding_rs::EUC_JP || enc == encoding_rs::BIG5 { "a,b\n李,北\n" } else { text };
            let bytes: Vec<u8> = if enc == encoding_rs::UTF_16BE {
                [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect()
            } else {
                enc.encode(text).0.into_owned()
            };
            assert_eq!(decode(&bytes, Encoding::Fixed(enc)).unwrap(), text, "{}", enc.name());
        }
        let cp1252 = encoding_rs::WINDOWS_1252.encode("a\nJosé\n").0.into_owned();
        assert_eq!(decode(&cp1252, Encoding::Fixed(encoding_rs::WINDOWS_1252)).unwrap(), "a\nJosé\n");
        let mut sjis = encoding_rs::SHIFT_JIS.encode("a\nマグ\n").0.into_owned();
        sjis.extend(b"\x81\n"); // a lead byte with no trail byte, on line 3
        let err = decode_at(&sjis, Encoding::Fixed(encoding_rs::SHIFT_JIS), 10).unwrap_err();
        assert_eq!(err, "not valid Shift_JIS (first bad byte on line 12); set `encoding` in the mapping");
        let err = decode(b"a\nb\n\xff\xfe", Encoding::Fixed(encoding_rs::UTF_8)).unwrap_err();
        assert!(err.starts_with("not valid UTF-8 (first bad byte on line 3)"), "{err}");
    }

    #[test]
    fn auto_latin_reads_utf8_shift_jis_and_windows_1252() {
        let sjis = encoding_rs::SHIFT_JIS.encode("product-name\nマグカップ 陶器\n").0.into_owned();
        assert_eq!(decode(&sjis, Encoding::AutoLatin).unwrap(), "product-name\nマグカップ 陶器\n");
        let cp1252 = encoding_rs::WINDOWS_1252.encode("product-name\nCafé Becher, München\n").0.into_owned();
        assert_eq!(decode(&cp1252, Encoding::AutoLatin).unwrap(), "product-name\nCafé Becher, München\n");
        assert_eq!(decode("Café".as_bytes(), Encoding::AutoLatin).unwrap(), "Café");
    }

    #[test]
    fn jsonl_nested_values_are_flattened() {
        let line = r#"{"event_name":"add_to_cart","event_timestamp":1700000000000000,"user":{"id":"u1"},"event_params":[{"key":"campaign","value":{"string_value":"bf","int_value":null}},{"key":"n","value":{"string_value":null,"int_value":3}}],"items":[{"item_id":"S1"},{"item_id":"S2"}]}"#;
        let t = read_text(line, FileKind::Jsonl, None).unwrap();
        let get = |h: &str| t.index(h).map(|i| t.records[0].fields[i].to_string());
        assert_eq!(get("event_timestamp").as_deref(), Some("1700000000000000"));
        assert_eq!(get("user.id").as_deref(), Some("u1"));
        assert_eq!(get("event_params.campaign").as_deref(), Some("bf"));
        assert_eq!(get("event_params.n").as_deref(), Some("3"));
        assert_eq!((get("items.0.item_id").as_deref(), get("items.1.item_id").as_deref()), (Some("S1"), Some("S2")));
        assert!(get("items").unwrap().starts_with('['), "the array's JSON text is kept too");
    }

    #[test]
    fn jsonl_union_of_keys_and_bad_lines() {
        // Keys come out sorted (serde_json's map), which here is also first-seen order.
        let t = read_text("{\"a\":1}\n\nnot json\n{\"b\":\"x\",\"a\":null}\n[1]\n", FileKind::Jsonl, None).unwrap();
        assert_eq!(t.headers, vec!["a", "b"]);
        assert_eq!(t.records[0].fields, vec!["1", ""]);
        assert_eq!(t.records[1].line, 4);
        assert_eq!(t.records[1].fields, vec!["", "x"]);
        assert_eq!(t.rejects.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 5]);
    }

    proptest! {
        #[test]
        fn csv_reader_never_panics_and_accounts_every_record(s in "[a-c,\"\n\r;\t]{0,60}") {
            let text = format!("h1,h2\n{s}");
            if let Ok(t) = read_text(&text, FileKind::Csv, None) {
                for r in &t.records { prop_assert_eq!(r.fields.len(), t.headers.len()); }
            }
            let _ = read_text(&s, FileKind::Jsonl, None);
            let _ = decode(s.as_bytes(), Encoding::Fixed(encoding_rs::GBK));
        }
    }
}
