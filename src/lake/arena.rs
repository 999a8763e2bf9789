//! Long strings of spilled rows, moved out of the heap into a file-backed arena.
//!
//! ## Method
//! A [`Text`] of up to 24 bytes is inline in its row, so it spills with the row; a longer one
//! (an email such as `firstname.lastname1234@example.com`, a product name, an identity key) is a
//! heap allocation that a spilled row only points to: 32–64 bytes of anonymous memory per string,
//! which the kernel cannot write back, so a spilled customer list of 5M rows still held hundreds
//! of MB of them. A spilled table hands such strings to [`spill_text`]: their bytes are copied
//! into this arena (pages of a shared mapping of an unlinked file in the spill folder, which the
//! kernel writes back and drops like the rows' own pages), the heap copy is freed, and the row's
//! `Text` becomes compact_str's static-string form pointing into the arena: no heap, nothing
//! freed on drop, clones share the bytes.
//!
//! The arena's mappings are never unmapped and its bytes never written twice, which is what makes
//! the `&'static str`s sound; it lives until the process ends. Bytes of a string later replaced
//! are not reused: the price is disk space (the strings' bytes once more), not memory. Each thread
//! carves strings out of a megabyte chunk of its own, so spilling rows in parallel takes no lock
//! per string.
//!
//! Written by hand: allocator crates (`bumpalo`, arena allocators) allocate from the heap, and the
//! point here is memory the kernel can drop; the mapping itself is `memmap2`'s.

use super::records::Text;
use std::cell::Cell;
use std::path::Path;
use std::sync::Mutex;

/// Bytes mapped (and allocated on disk) at a time.
const REGION: usize = 64 << 20;
/// Bytes a thread takes from a region at a time.
const CHUNK: usize = 1 << 20;
/// Longer strings stay on the heap (a stray multi-megabyte note is not worth a region of its own).
const LONGEST: usize = 64 << 10;
/// Strings of at most this length are inline in a `Text` already.
const INLINE: usize = std::mem::size_of::<String>();

/// The arena's file and the part of its current region not yet handed out.
struct Arena {
    file: std::fs::File,
    /// Bytes of the file mapped so far (whole regions).
    mapped: u64,
    /// The current region's free part, as addresses (start, end).
    free: (usize, usize),
}

static ARENA: Mutex<Option<Arena>> = Mutex::new(None);

thread_local! {
    /// This thread's chunk: addresses of its free part (start, end).
    static OWN: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// Moves a long `t` (over 24 bytes, at most 64 KB) out of the heap into the arena of the spill
/// folder `dir` (the process's first spill folder, if several are used); shorter and longer
/// strings, and strings in the arena already, are left as they are.
///
/// The arena is created on first use: an error (no such folder, a full disk) leaves `t` on the
/// heap, where it is still correct, and is returned for the caller to report.
///
/// ```
/// use custlens::lake::{arena::spill_text, records::Text};
/// let dir = tempfile::tempdir().unwrap();
/// let mut t = Text::from("a.rather.long.email.address@example.com");
/// assert!(t.is_heap_allocated());
/// spill_text(&mut t, dir.path()).unwrap();
/// assert!(!t.is_heap_allocated());
/// assert_eq!(t, "a.rather.long.email.address@example.com");
/// ```
pub fn spill_text(t: &mut Text, dir: &Path) -> std::io::Result<()> {
    let n = t.len();
    if !t.is_heap_allocated() || n <= INLINE || n > LONGEST {
        return Ok(());
    }
    let at = take(n, dir)?;
    // SAFETY: `take` gave `n` bytes of a mapping that is never unmapped, handed out once (to this
    // call only) and never written again after this copy; the bytes are a `str`'s, so UTF-8.
    let s: &'static str = unsafe {
        std::ptr::copy_nonoverlapping(t.as_ptr(), at, n);
        std::str::from_utf8_unchecked(std::slice::from_raw_parts(at, n))
    };
    *t = Text::const_new(s);
    Ok(())
}

/// `n` bytes (at most [`LONGEST`]) of the arena for this thread to fill.
fn take(n: usize, dir: &Path) -> std::io::Result<*mut u8> {
    OWN.with(|own| {
        let (mut start, mut end) = own.get();
        if end - start < n {
            (start, end) = chunk(dir)?;
        }
        own.set((start + n, end));
        Ok(start as *mut u8)
    })
}

/// A new chunk of [`CHUNK`] bytes for a thread, mapping a new region when the current one is used up.
fn chunk(dir: &Path) -> std::io::Result<(usize, usize)> {
    let mut arena = ARENA.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if arena.is_none() {
        *arena = Some(Arena { file: tempfile::tempfile_in(dir)?, mapped: 0, free: (0, 0) });
    }
    let a = arena.as_mut().expect("created above");
    if a.free.1 - a.free.0 < CHUNK {
        a.free = map_region(&a.file, a.mapped)?;
        a.mapped += REGION as u64;
    }
    let start = a.free.0;
    a.free.0 += CHUNK;
    Ok((start, start + CHUNK))
}

/// Allocates the file's blocks for the region at `offset` (so a full disk is an error here, not a
/// `SIGBUS` on a later write) and maps it for good; its addresses (start, end).
fn map_region(file: &std::fs::File, offset: u64) -> std::io::Result<(usize, usize)> {
    use std::os::fd::AsRawFd;
    let too_large = || std::io::Error::other("text arena too large");
    let (off, len) = (
        libc::off_t::try_from(offset).map_err(|_| too_large())?,
        libc::off_t::try_from(REGION).map_err(|_| too_large())?,
    );
    // SAFETY: a plain system call on an open file descriptor.
    match unsafe { libc::posix_fallocate(file.as_raw_fd(), off, len) } {
        0 => {}
        e => return Err(std::io::Error::from_raw_os_error(e)),
    }
    // SAFETY: the file is ours alone (unlinked) and now covers the region; the mapping is leaked
    // below, so it stays for the process's life.
    let map = unsafe { memmap2::MmapOptions::new().offset(offset).len(REGION).map_mut(file)? };
    let start = map.as_ptr() as usize;
    std::mem::forget(map);
    Ok((start, start + REGION))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_move_to_the_arena_and_keep_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<String> =
            (0..100_000).map(|i| format!("customer.number.{i}@example-{}.com{}", i % 7, "é".repeat(i % 5))).collect();
        let mut spilled: Vec<Text> = texts.iter().map(Text::from).collect();
        // In parallel, as the lake spills rows: each thread fills chunks of its own.
        use rayon::prelude::*;
        spilled.par_iter_mut().for_each(|t| spill_text(t, dir.path()).unwrap());
        assert!(spilled.iter().all(|t| !t.is_heap_allocated()));
        assert_eq!(spilled, texts);
        // Clones share the bytes; a changed text goes back to the heap, the others stay.
        let mut c = spilled[5].clone();
        assert!(!c.is_heap_allocated());
        c.push_str("!");
        assert_eq!(c, format!("{}!", texts[5]));
        assert_eq!(spilled[5], texts[5]);
        drop(spilled);
    }

    #[test]
    fn short_and_very_long_texts_stay_where_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let mut short = Text::from("short@example.com");
        spill_text(&mut short, dir.path()).unwrap();
        assert_eq!(short, "short@example.com");
        let long = "x".repeat(LONGEST + 1);
        let mut t = Text::from(long.as_str());
        spill_text(&mut t, dir.path()).unwrap();
        assert!(t.is_heap_allocated());
        assert_eq!(t, long);
    }
}
