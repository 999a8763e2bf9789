//! Reading a text export in parts, so ingest holds a few megabytes of a file at a time instead
//! of the whole file (and can decode, split and convert the parts in parallel).
//!
//! ## Method
//! [`Parts`] reads a file block by block and cuts each part at the last record boundary in it:
//! the last line feed outside a quoted field for CSV/TSV (quotes open only at a field's start and
//! `""` is an escaped quote, as the `csv` crate reads them), the last line feed for JSONL. A record
//! longer than the block makes the part grow until it ends. A line feed or quote byte is never
//! part of a multi-byte character in an ASCII-compatible encoding (UTF-8, GB18030, Big5, Shift-JIS,
//! EUC-JP, EUC-KR, single-byte ones), so the cut never splits a character and each part decodes on
//! its own. A file in an encoding that is not ASCII-compatible (UTF-16, ISO-2022-JP) is decoded to
//! UTF-8 as it is read ([`Parts::decoding`]) and cut in UTF-8. Parts carry the number of their
//! first line, so every record keeps its physical line number, and the file's SHA-256 is computed
//! over the file's bytes as they are read.
//!
//! Written by hand: the `csv` crate's readers parse a stream but cannot hand out independent
//! parts for parallel decoding and conversion.

use crate::config::mapping::FileKind;
use sha2::{Digest, Sha256};
use std::io::Read;

/// Default size of a part: large enough to amortize per-part setup, small enough that a window of
/// parts per core stays a few tens of megabytes.
pub const PART_BYTES: usize = 8 << 20;

/// Size of a part once the lake is spilled (memory is short), given the memory available (MB):
/// a 256th of it, between 1 MB and [`PART_BYTES`]. The ~16 parts in flight (read ahead, parsed
/// and converted a window ahead of the merge, merged) take ~3.5 times their bytes: a 5M-customer
/// list held 450–550 MB of anonymous memory throughout its merge with 8 MB parts, ~200 MB with
/// 2 MB parts (`benches/README.md`), at a cost in speed, so parts shrink only as memory does.
pub fn spilled_part_bytes(available_mb: Option<u64>) -> usize {
    available_mb.map_or(PART_BYTES, |mb| ((mb << 20) / 256) as usize).clamp(1 << 20, PART_BYTES)
}

/// A part of a file: whole records, and the physical line number of its first line.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub bytes: Vec<u8>,
    pub first_line: u64,
}

/// Splits a reader into [`Part`]s at record boundaries.
pub struct Parts<R: Read> {
    src: R,
    kind: FileKind,
    delimiter: u8,
    target: usize,
    buf: Vec<u8>,
    eof: bool,
    next_line: u64,
    hasher: Sha256,
    /// Decodes the bytes read to UTF-8 before they are cut ([`Parts::decoding`]).
    decoder: Option<encoding_rs::Decoder>,
    /// The bytes read before they are decoded (with a decoder).
    raw: Vec<u8>,
}

impl<R: Read> Parts<R> {
    /// Parts of about `target` bytes (at least one record each).
    pub fn new(src: R, kind: FileKind, delimiter: u8, target: usize) -> Parts<R> {
        Parts {
            src,
            kind,
            delimiter,
            target: target.max(1),
            buf: Vec::new(),
            eof: false,
            next_line: 1,
            hasher: Sha256::new(),
            decoder: None,
            raw: Vec::new(),
        }
    }

    /// Parts of a file in `encoding` decoded to UTF-8 as it is read (a BOM of the encoding's own
    /// removed), for encodings whose line feeds and quotes are not single ASCII bytes (UTF-16,
    /// ISO-2022-JP). The hash stays the file's bytes'. A byte sequence the encoding cannot hold is
    /// an `InvalidData` error naming the encoding and the line.
    pub fn decoding(mut self, encoding: &'static encoding_rs::Encoding) -> Parts<R> {
        self.decoder = Some(encoding.new_decoder_with_bom_removal());
        self
    }

    /// Parts of about `target` bytes from the next one on.
    pub fn set_target(&mut self, target: usize) {
        self.target = target.max(1);
    }

    /// The next part; None after the last.
    pub fn next_part(&mut self) -> std::io::Result<Option<Part>> {
        let mut want = self.target;
        loop {
            self.fill(want)?;
            if self.buf.is_empty() {
                return Ok(None);
            }
            let cut = if self.eof { Some(self.buf.len()) } else { self.boundary() };
            match cut {
                Some(end) => {
                    let rest = self.buf.split_off(end);
                    let bytes = std::mem::replace(&mut self.buf, rest);
                    let first_line = self.next_line;
                    self.next_line += memchr::memchr_iter(b'\n', &bytes).count() as u64;
                    return Ok(Some(Part { bytes, first_line }));
                }
                // One record longer than the part: read on until it ends.
                None => want = self.buf.len() * 2,
            }
        }
    }

    /// SHA-256 (hex) of every byte read so far: the file's, once the last part was taken.
    pub fn sha256(&self) -> String {
        super::rows::hex(&self.hasher.clone().finalize())
    }

    fn fill(&mut self, want: usize) -> std::io::Result<()> {
        while !self.eof && self.buf.len() < want {
            if self.decoder.is_some() {
                self.fill_decoded(want - self.buf.len())?;
                continue;
            }
            let have = self.buf.len();
            self.buf.resize(want, 0);
            let n = match read_some(&mut self.src, &mut self.buf[have..]) {
                Ok(n) => n,
                Err(e) => {
                    self.buf.truncate(have);
                    return Err(e);
                }
            };
            self.buf.truncate(have + n);
            self.hasher.update(&self.buf[have..]);
            self.eof = n == 0;
        }
        Ok(())
    }

    /// Reads up to `n` bytes and appends them to the buffer decoded to UTF-8.
    fn fill_decoded(&mut self, n: usize) -> std::io::Result<()> {
        let Some(decoder) = self.decoder.as_mut() else { return Ok(()) };
        self.raw.resize(n.max(1), 0);
        let got = read_some(&mut self.src, &mut self.raw)?;
        self.hasher.update(&self.raw[..got]);
        let last = got == 0;
        let mut input = &self.raw[..got];
        loop {
            let have = self.buf.len();
            let room = decoder.max_utf8_buffer_length_without_replacement(input.len()).unwrap_or(input.len() + 64);
            self.buf.resize(have + room, 0);
            let (result, read, written) =
                decoder.decode_to_utf8_without_replacement(input, &mut self.buf[have..], last);
            self.buf.truncate(have + written);
            input = &input[read..];
            match result {
                encoding_rs::DecoderResult::InputEmpty => break,
                encoding_rs::DecoderResult::OutputFull => continue,
                encoding_rs::DecoderResult::Malformed(..) => {
                    let line = self.next_line + memchr::memchr_iter(b'\n', &self.buf).count() as u64;
                    let name = decoder.encoding().name();
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("not valid {name} (first bad byte on line {line}); set `encoding` in the mapping"),
                    ));
                }
            }
        }
        self.eof = last;
        Ok(())
    }

    /// The end of the last whole record in the buffer (just after its line feed).
    fn boundary(&self) -> Option<usize> {
        match self.kind {
            FileKind::Jsonl => memchr::memrchr(b'\n', &self.buf).map(|i| i + 1),
            FileKind::Csv | FileKind::Tsv => last_record_end(&self.buf, self.delimiter),
        }
    }
}

/// One `read`, retried when interrupted.
fn read_some(src: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match src.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// The position just after the last line feed that ends a record, reading `bytes` from a record
/// start with the `csv` crate's quoting rules; None when no record ends in `bytes`.
///
/// ## Method
/// Jumps from quote to line feed with `memchr` instead of stepping through every byte (a part is
/// cut on the one thread that reads the file, so this scan is on every conversion's critical
/// path). A quote opens a field when the last byte before it other than `\r` is the delimiter, a
/// line feed or the start; inside, the field closes at a quote not followed by another (`""` is
/// an escaped quote); any other quote is text.
pub fn last_record_end(bytes: &[u8], delimiter: u8) -> Option<usize> {
    let mut end = None;
    let mut at = 0;
    while let Some(off) = memchr::memchr2(b'"', b'\n', &bytes[at..]) {
        let i = at + off;
        at = i + 1;
        if bytes[i] == b'\n' {
            end = Some(at);
        } else if opens_field(bytes, i, delimiter) {
            at = match quoted_field_end(bytes, at) {
                Some(after) => after,
                // The quoted field runs past the bytes read.
                None => return end,
            };
        }
    }
    end
}

/// Whether the quote at `i` (outside a quoted field) opens one: it starts a field.
fn opens_field(bytes: &[u8], i: usize, delimiter: u8) -> bool {
    let before = bytes[..i].iter().rposition(|&b| b != b'\r');
    before.is_none_or(|k| bytes[k] == delimiter || bytes[k] == b'\n')
}

/// The position after the closing quote of a quoted field whose text starts at `from`; None when
/// it does not close in `bytes`.
fn quoted_field_end(bytes: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let q = from + memchr::memchr(b'"', &bytes[from..])?;
        if bytes.get(q + 1) == Some(&b'"') {
            from = q + 2;
        } else {
            return Some(q + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parts(text: &[u8], kind: FileKind, target: usize) -> Vec<Part> {
        let mut p = Parts::new(text, kind, b',', target);
        std::iter::from_fn(|| p.next_part().unwrap()).collect()
    }

    #[test]
    fn spilled_parts_shrink_with_the_memory_available() {
        assert_eq!(spilled_part_bytes(None), PART_BYTES);
        assert_eq!(spilled_part_bytes(Some(16 << 10)), PART_BYTES);
        assert_eq!(spilled_part_bytes(Some(512)), 2 << 20);
        assert_eq!(spilled_part_bytes(Some(100)), 1 << 20);
    }

    #[test]
    fn cuts_outside_quotes_only() {
        let text = b"a,b\n1,\"x\ny\"\n2,\"q\"\"\nr\"\n3,z\n";
        assert_eq!(last_record_end(text, b','), Some(text.len()));
        assert_eq!(last_record_end(b"1,\"x\ny", b','), None);
        assert_eq!(last_record_end(b"1,\"x\"\"\n", b','), None, "an escaped quote keeps the field open");
        assert_eq!(last_record_end(b"5\" screen,1\n2", b','), Some(12), "a quote inside a field is text");
        let ps = parts(text, FileKind::Csv, 3);
        let lines: Vec<u64> = ps.iter().map(|p| p.first_line).collect();
        assert_eq!(lines, [1, 2, 4], "each part ends at the last record end in what was read");
        assert_eq!(ps.concat_bytes(), text.to_vec());
    }

    trait Concat {
        fn concat_bytes(&self) -> Vec<u8>;
    }
    impl Concat for Vec<Part> {
        fn concat_bytes(&self) -> Vec<u8> {
            self.iter().flat_map(|p| p.bytes.iter().copied()).collect()
        }
    }

    #[test]
    fn hash_covers_every_byte() {
        let text = b"a\n1\n2\n";
        let mut p = Parts::new(&text[..], FileKind::Csv, b',', 2);
        while p.next_part().unwrap().is_some() {}
        assert_eq!(p.sha256(), super::super::rows::hex(&Sha256::digest(text)));
    }

    /// `text` in UTF-16LE with its BOM.
    fn utf16le(text: &str) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    }

    #[test]
    fn utf16_is_decoded_as_read_and_cut_in_utf8() {
        let text = "订单,金额\n\"A,\n1\",9.5\nB,3\nC,4\n";
        let bytes = utf16le(text);
        for target in [1, 3, 7, 1000] {
            let mut p = Parts::new(&bytes[..], FileKind::Csv, b',', target).decoding(encoding_rs::UTF_16LE);
            let ps: Vec<Part> = std::iter::from_fn(|| p.next_part().unwrap()).collect();
            assert_eq!(ps.concat_bytes(), text.as_bytes().to_vec(), "target {target}: BOM removed, UTF-8 out");
            assert!(ps.iter().all(|p| std::str::from_utf8(&p.bytes).is_ok()), "target {target}");
            let mut line = 1;
            for p in &ps {
                assert_eq!(p.first_line, line, "target {target}");
                assert_eq!(last_record_end(&p.bytes, b','), Some(p.bytes.len()), "whole records: {p:?}");
                line += memchr::memchr_iter(b'\n', &p.bytes).count() as u64;
            }
            if target == 1 {
                assert!(ps.len() > 1, "small targets cut the file");
            }
            assert_eq!(p.sha256(), super::super::rows::hex(&Sha256::digest(&bytes)), "the hash is the file's");
        }
    }

    #[test]
    fn bad_utf16_names_the_encoding_and_line() {
        let mut bytes = utf16le("a\nb\nc");
        bytes.extend([0x00, 0xD8, b'x', 0x00]); // an unpaired high surrogate on line 3
        let mut p = Parts::new(&bytes[..], FileKind::Csv, b',', 1 << 20).decoding(encoding_rs::UTF_16LE);
        let err = p.next_part().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert_eq!(err.to_string(), "not valid UTF-16LE (first bad byte on line 3); set `encoding` in the mapping");
        let mut odd = utf16le("a\n");
        odd.push(b'b'); // half a code unit at the end
        let mut p = Parts::new(&odd[..], FileKind::Csv, b',', 1 << 20).decoding(encoding_rs::UTF_16LE);
        assert!(p.next_part().unwrap_err().to_string().contains("line 2"));
    }

    /// The byte-by-byte reading of the `csv` crate's quoting rules that [`last_record_end`] jumps
    /// through.
    fn last_record_end_bytewise(bytes: &[u8], delimiter: u8) -> Option<usize> {
        let (mut quoted, mut field_start, mut closed) = (false, true, false);
        let mut end = None;
        for (i, &b) in bytes.iter().enumerate() {
            if quoted {
                if b == b'"' {
                    quoted = false;
                    closed = true;
                }
                continue;
            }
            if b == b'"' && (field_start || closed) {
                quoted = true;
                closed = false;
                field_start = false;
                continue;
            }
            closed = false;
            if b == b'\n' {
                end = Some(i + 1);
                field_start = true;
            } else if b == delimiter {
                field_start = true;
            } else if b != b'\r' {
                field_start = false;
            }
        }
        end
    }

    proptest! {
        /// The jumping scan cuts where the byte-by-byte one does.
        #[test]
        fn jumping_scan_cuts_like_the_bytewise_one(text in proptest::collection::vec(prop::sample::select(b"a\",\n\r\t".to_vec()), 0..80)) {
            prop_assert_eq!(last_record_end(&text, b','), last_record_end_bytewise(&text, b','));
            prop_assert_eq!(last_record_end(&text, b'\t'), last_record_end_bytewise(&text, b'\t'));
        }

        /// Reading a CSV in parts gives the records (and lines) of reading it whole.
        #[test]
        fn parts_read_like_the_whole(cells in proptest::collection::vec("[a-c\",\\n ]{0,6}", 1..40), target in 1usize..50) {
            let mut text = String::from("h1,h2\n");
            for pair in cells.chunks(2) {
                let q: Vec<String> = pair.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
                text += &q.join(",");
                text.push('\n');
            }
            let whole = crate::ingest::read::read_text(&text, FileKind::Csv, None).unwrap();
            let ps = parts(text.as_bytes(), FileKind::Csv, target);
            prop_assert_eq!(ps.concat_bytes(), text.as_bytes().to_vec());
            let mut records = Vec::new();
            for (i, p) in ps.iter().enumerate() {
                let t = std::str::from_utf8(&p.bytes).unwrap();
                let h = (i > 0).then_some(whole.headers.as_slice());
                let part = crate::ingest::read::read_part(t, FileKind::Csv, None, h, p.first_line).unwrap();
                records.extend(part.records);
            }
            prop_assert_eq!(records, whole.records);
        }
    }
}
