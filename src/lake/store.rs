//! Row storage of the big tables: in memory (a `Vec`), or spilled to disk (a growable array in a
//! shared mapping of an unlinked temporary file, which the kernel writes back and evicts when
//! memory runs short).
//!
//! ## Method
//! Ingest holds the lake's orders, lines, events, profiles, customers and identities as typed rows while it merges
//! files and resolves identities (~360 bytes per row at the peak). When that would not fit in the
//! memory available, [`Rows::spill`] moves a table's rows into a file-backed mapping: the same
//! bytes, the same slice, so every algorithm over `&[T]` runs unchanged, but its pages are the
//! kernel's to write back and drop, not anonymous memory that can only end in the OOM killer.
//! Strings of up to 24 bytes sit inline in the rows (`Text`), so they spill with them; longer ones
//! move to the text arena ([`super::arena`]) as their rows are spilled or appended ([`SpillRow`]).
//!
//! Written by hand because no maintained crate offers a growable, file-backed `Vec<T>` of
//! non-`Copy` rows (`memmap2` gives the mapping; growth, drops and moves are here).
//!
//! The file is created with `O_TMPFILE` (`tempfile::tempfile_in`), so it has no name and is gone
//! when the process ends, however it ends. Its blocks are allocated (`posix_fallocate`) before the
//! mapping grows over them, so a full disk is an error from [`Rows::try_reserve`], never a
//! `SIGBUS` on a later write.

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};

/// A table's rows: a `Vec<T>`, or the same array spilled to a disk-backed mapping.
///
/// Derefs to `[T]`; grows like a `Vec`. A spilled table stays spilled; clones are in memory.
///
/// ```
/// use custlens::lake::store::Rows;
/// let dir = tempfile::tempdir().unwrap();
/// let mut rows: Rows<String> = vec!["a".to_string()].into();
/// rows.spill(dir.path()).unwrap();
/// rows.push("b".to_string());
/// rows.retain(|s| s != "a");
/// assert!(rows.is_spilled());
/// assert_eq!(&rows[..], &["b".to_string()]);
/// ```
pub struct Rows<T>(Inner<T>);

enum Inner<T> {
    Heap(Vec<T>),
    Disk(Mapped<T>),
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows(Inner::Heap(Vec::new()))
    }
}

impl<T> Rows<T> {
    /// Whether the rows live in a disk-backed mapping.
    pub fn is_spilled(&self) -> bool {
        matches!(self.0, Inner::Disk(_))
    }

    /// The folder of the spill file, when spilled.
    pub fn spill_dir(&self) -> Option<&Path> {
        match &self.0 {
            Inner::Heap(_) => None,
            Inner::Disk(m) => Some(&m.dir),
        }
    }

    /// Moves the rows into a new disk-backed mapping in `dir` (a no-op when already spilled); the
    /// memory of the `Vec` is freed, and so is the rows' own heap memory ([`SpillRow`]).
    pub fn spill(&mut self, dir: &Path) -> std::io::Result<()>
    where
        T: SpillRow,
    {
        let Inner::Heap(v) = &mut self.0 else { return Ok(()) };
        let mut m = Mapped::new(dir)?;
        m.try_reserve(v.len().max(1))?;
        let mut v = std::mem::take(v);
        // SAFETY: room for `v.len()` rows was reserved; the rows are moved bit for bit and the
        // `Vec` forgets them (its length set to 0 before its buffer is freed).
        unsafe {
            std::ptr::copy_nonoverlapping(v.as_ptr(), m.ptr(), v.len());
            m.len = v.len();
            v.set_len(0);
        }
        drop(v);
        m.as_mut_slice().iter_mut().for_each(|row| row.spill_heap(dir));
        self.0 = Inner::Disk(m);
        Ok(())
    }

    /// An empty table stored like this one (spilled to the same folder, or in memory).
    pub fn empty_like<U>(&self) -> std::io::Result<Rows<U>> {
        Ok(match &self.0 {
            Inner::Heap(_) => Rows::default(),
            Inner::Disk(m) => Rows(Inner::Disk(Mapped::new(&m.dir)?)),
        })
    }

    /// Makes room for `n` more rows; on disk this allocates the file's blocks, so it is where a
    /// full disk is reported.
    pub fn try_reserve(&mut self, n: usize) -> std::io::Result<()> {
        match &mut self.0 {
            Inner::Heap(v) => {
                v.reserve(n);
                Ok(())
            }
            Inner::Disk(m) => m.try_reserve(n),
        }
    }

    /// Appends a row.
    ///
    /// # Panics
    /// When a spilled table cannot grow its file (a full disk); ingest reserves each window's
    /// rows with [`Rows::try_reserve`] first, where that is an error.
    pub fn push(&mut self, row: T)
    where
        T: SpillRow,
    {
        match &mut self.0 {
            Inner::Heap(v) => v.push(row),
            Inner::Disk(m) => m.push_spilled(row),
        }
    }

    /// Replaces row `i` (a spilled table moves the new row's heap memory to disk, as [`Rows::push`]).
    ///
    /// # Panics
    /// When `i` is out of bounds.
    pub fn set(&mut self, i: usize, mut row: T)
    where
        T: SpillRow,
    {
        if let Inner::Disk(m) = &self.0 {
            row.spill_heap(&m.dir);
        }
        self[i] = row;
    }

    /// This table with room for `n` more rows made first (on disk: where a full disk is
    /// reported), then `rows` appended: `rows.empty_like()?.extended(n, iter)?` builds a table
    /// stored like another one.
    pub fn extended(mut self, n: usize, rows: impl IntoIterator<Item = T>) -> std::io::Result<Self>
    where
        T: SpillRow,
    {
        self.try_reserve(n)?;
        self.extend(rows);
        Ok(self)
    }

    /// Appends copies of `rows` (one copy of the bytes, not a push per row).
    ///
    /// # Panics
    /// As [`Rows::push`], when a spilled table cannot grow its file.
    pub fn extend_from_slice(&mut self, rows: &[T])
    where
        T: Copy,
    {
        match &mut self.0 {
            Inner::Heap(v) => v.extend_from_slice(rows),
            Inner::Disk(m) => {
                m.grow(rows.len());
                // SAFETY: there is room for `rows.len()` more rows; `T: Copy`, so a bit copy is a copy.
                unsafe { std::ptr::copy_nonoverlapping(rows.as_ptr(), m.ptr().add(m.len), rows.len()) };
                m.len += rows.len();
            }
        }
    }

    /// Keeps the rows for which `keep` is true, in order.
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        match &mut self.0 {
            Inner::Heap(v) => v.retain(keep),
            Inner::Disk(m) => m.retain(keep),
        }
    }

    /// The rows as a `Vec` (moved, not copied, when in memory).
    pub fn into_vec(self) -> Vec<T> {
        match self.0 {
            Inner::Heap(v) => v,
            disk => Rows(disk).into_iter().collect(),
        }
    }
}

impl<T> Deref for Rows<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match &self.0 {
            Inner::Heap(v) => v,
            Inner::Disk(m) => m.as_slice(),
        }
    }
}

impl<T> DerefMut for Rows<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match &mut self.0 {
            Inner::Heap(v) => v,
            Inner::Disk(m) => m.as_mut_slice(),
        }
    }
}

impl<T> From<Vec<T>> for Rows<T> {
    fn from(v: Vec<T>) -> Self {
        Rows(Inner::Heap(v))
    }
}

impl<T> FromIterator<T> for Rows<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Rows(Inner::Heap(iter.into_iter().collect()))
    }
}

impl<T: SpillRow> Extend<T> for Rows<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        match &mut self.0 {
            Inner::Heap(v) => v.extend(iter),
            Inner::Disk(m) => {
                let iter = iter.into_iter();
                m.grow(iter.size_hint().0);
                iter.for_each(|row| m.push_spilled(row));
            }
        }
    }
}

/// A row's own heap memory, which a spilled table moves to disk as the row joins it: the long
/// strings of the lake's rows go to the text arena ([`super::arena`]); numbers have none, and a
/// `String` keeps its heap (it cannot point into the arena: tests only). A string
/// the arena cannot take (its file cannot grow) stays on the heap, still correct; the first such
/// failure is logged.
pub trait SpillRow {
    /// Moves what the row holds on the heap to disk-backed memory in the spill folder `dir`.
    fn spill_heap(&mut self, dir: &Path) {
        let _ = dir;
    }
}

macro_rules! no_heap {
    ($($t:ty),*) => { $(impl SpillRow for $t {})* };
}
no_heap!(u8, u32, u64, i64, bool, String, (u32, u32));

impl SpillRow for super::records::Text {
    fn spill_heap(&mut self, dir: &Path) {
        spill_texts(dir, [self]);
    }
}

/// [`super::arena::spill_text`] of each of `texts`, logging the first failure of the process.
pub fn spill_texts<'a>(dir: &Path, texts: impl IntoIterator<Item = &'a mut super::records::Text>) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    for t in texts {
        if let Err(e) = super::arena::spill_text(t, dir) {
            if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::warn!(dir = %dir.display(), error = %e, "long strings of spilled rows stay in memory: their arena cannot grow");
            }
            return;
        }
    }
}

impl<T: Clone> Clone for Rows<T> {
    fn clone(&self) -> Self {
        Rows(Inner::Heap(self.to_vec()))
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Rows<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq> PartialEq for Rows<T> {
    fn eq(&self, other: &Self) -> bool {
        self[..] == other[..]
    }
}

impl<T: PartialEq> PartialEq<Vec<T>> for Rows<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        self[..] == other[..]
    }
}

impl<T> IntoIterator for Rows<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        match self.0 {
            Inner::Heap(v) => IntoIter(IntoInner::Heap(v.into_iter())),
            Inner::Disk(mut m) => {
                let len = std::mem::replace(&mut m.len, 0);
                IntoIter(IntoInner::Disk { m, next: 0, len })
            }
        }
    }
}

/// The rows of a [`Rows`], by value, in order.
pub struct IntoIter<T>(IntoInner<T>);

enum IntoInner<T> {
    Heap(std::vec::IntoIter<T>),
    /// Rows `next..len` are still owned here (`m.len` is 0, so the mapping drops none).
    Disk {
        m: Mapped<T>,
        next: usize,
        len: usize,
    },
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        match &mut self.0 {
            IntoInner::Heap(it) => it.next(),
            IntoInner::Disk { m, next, len } => (*next < *len).then(|| {
                *next += 1;
                // SAFETY: row `next - 1` is initialized and read exactly once.
                unsafe { m.ptr().add(*next - 1).read() }
            }),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.0 {
            IntoInner::Heap(it) => it.len(),
            IntoInner::Disk { next, len, .. } => len - next,
        };
        (n, Some(n))
    }
}

impl<T> Drop for IntoIter<T> {
    fn drop(&mut self) {
        if let IntoInner::Disk { m, next, len } = &mut self.0 {
            // SAFETY: rows `next..len` are initialized and owned here, and dropped once.
            unsafe { std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(m.ptr().add(*next), *len - *next)) };
            *next = *len;
        }
    }
}

/// A growable array of `T` in a shared mapping of an unlinked file: rows `0..len` are
/// initialized, room for `cap`.
struct Mapped<T> {
    dir: PathBuf,
    file: std::fs::File,
    /// `None` until the first reservation (a mapping cannot be empty).
    map: Option<memmap2::MmapMut>,
    len: usize,
    cap: usize,
    _rows: PhantomData<T>,
}

impl<T> Mapped<T> {
    fn new(dir: &Path) -> std::io::Result<Self> {
        assert!(std::mem::size_of::<T>() > 0, "zero-sized rows are not stored");
        Ok(Mapped {
            dir: dir.to_path_buf(),
            file: tempfile::tempfile_in(dir)?,
            map: None,
            len: 0,
            cap: 0,
            _rows: PhantomData,
        })
    }

    fn ptr(&self) -> *mut T {
        match &self.map {
            // The mapping is page-aligned, which is aligned for every row type.
            Some(m) => m.as_ptr() as *mut T,
            None => std::ptr::NonNull::dangling().as_ptr(),
        }
    }

    fn as_slice(&self) -> &[T] {
        // SAFETY: rows `0..len` are initialized; the pointer is aligned and non-null.
        unsafe { std::slice::from_raw_parts(self.ptr(), self.len) }
    }

    fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr(), self.len) }
    }

    /// Room for `n` more rows: capacity at least doubles, so pushes are amortized O(1).
    fn try_reserve(&mut self, n: usize) -> std::io::Result<()> {
        let need = self.len.checked_add(n).ok_or_else(|| std::io::Error::other("row count overflow"))?;
        if need <= self.cap {
            return Ok(());
        }
        let size = std::mem::size_of::<T>();
        // At least a megabyte of rows at a time.
        let cap = need.max(self.cap * 2).max((1 << 20) / size);
        let bytes = cap.checked_mul(size).ok_or_else(|| std::io::Error::other("spill file too large"))?;
        allocate(&self.file, bytes)?;
        match &mut self.map {
            // SAFETY: the file is ours alone (unlinked) and at least `bytes` long; the rows move
            // with the mapping bit for bit (they hold no pointers into it).
            Some(m) => unsafe { m.remap(bytes, memmap2::RemapOptions::new().may_move(true))? },
            None => self.map = Some(unsafe { memmap2::MmapMut::map_mut(&self.file)? }),
        }
        self.cap = cap;
        Ok(())
    }

    fn grow(&mut self, n: usize) {
        if let Err(e) = self.try_reserve(n) {
            panic!("cannot grow the lake's spill file in {}: {e} (free disk space there)", self.dir.display());
        }
    }

    /// Appends a row, its heap memory moved to disk first ([`SpillRow`]).
    fn push_spilled(&mut self, mut row: T)
    where
        T: SpillRow,
    {
        row.spill_heap(&self.dir);
        self.push(row);
    }

    fn push(&mut self, row: T) {
        self.grow(1);
        // SAFETY: there is room for one more row.
        unsafe { self.ptr().add(self.len).write(row) };
        self.len += 1;
    }

    fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let (n, p) = (self.len, self.ptr());
        // Leak rather than drop twice should `keep` panic.
        self.len = 0;
        let mut kept = 0;
        for i in 0..n {
            // SAFETY: row `i` is initialized; rows below `kept` are the kept ones, moved once.
            unsafe {
                if keep(&*p.add(i)) {
                    if i != kept {
                        std::ptr::copy_nonoverlapping(p.add(i), p.add(kept), 1);
                    }
                    kept += 1;
                } else {
                    std::ptr::drop_in_place(p.add(i));
                }
            }
        }
        self.len = kept;
    }
}

impl<T> Drop for Mapped<T> {
    fn drop(&mut self) {
        // SAFETY: rows `0..len` are initialized and dropped once.
        unsafe { std::ptr::drop_in_place(self.as_mut_slice() as *mut [T]) };
    }
}

/// Allocates the file's blocks up to `bytes` (a sparse file would fail on a later write to a full
/// disk, as a `SIGBUS` in whatever code touched the page).
fn allocate(file: &std::fs::File, bytes: usize) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let len = libc::off_t::try_from(bytes).map_err(|_| std::io::Error::other("spill file too large"))?;
    // SAFETY: a plain system call on an open file descriptor.
    match unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) } {
        0 => Ok(()),
        e => Err(std::io::Error::from_raw_os_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spilled_rows_behave_like_a_vec() {
        let dir = tempfile::tempdir().unwrap();
        let mut rows: Rows<String> = (0..10).map(|i| i.to_string()).collect();
        let mut v: Vec<String> = rows.to_vec();
        rows.spill(dir.path()).unwrap();
        assert!(rows.is_spilled());
        assert_eq!(rows, v);
        // Growth past the first megabyte remaps (and may move) the rows.
        for i in 10..200_000 {
            rows.push(format!("{i}-a long string that lives on the heap"));
            v.push(format!("{i}-a long string that lives on the heap"));
        }
        assert_eq!(rows, v);
        rows.retain(|s| s.len() % 3 == 0);
        v.retain(|s| s.len() % 3 == 0);
        assert_eq!(rows, v);
        rows.sort_unstable_by(|a, b| b.cmp(a));
        v.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(rows, v);
        rows.extend(v[..5].to_vec());
        v.extend(v[..5].to_vec());
        assert_eq!(rows, v);
        let mut bytes: Rows<u8> = Rows::default();
        bytes.spill(dir.path()).unwrap();
        let long: Vec<u8> = (0..3_000_000u32).map(|i| i as u8).collect();
        bytes.extend_from_slice(b"ab");
        bytes.extend_from_slice(&long);
        assert_eq!(&bytes[..2], b"ab");
        assert_eq!(&bytes[2..], &long[..]);
        let like: Rows<u32> = rows.empty_like().unwrap().extended(3, 0..3).unwrap();
        assert!(like.is_spilled());
        assert_eq!(like, vec![0, 1, 2]);
        let mut it = rows.into_iter();
        assert_eq!(it.next(), v.first().cloned());
        assert_eq!(it.size_hint().0, v.len() - 1);
        // The rest are dropped with the iterator.
    }

    #[test]
    fn spilled_rows_hold_no_long_string_on_the_heap() {
        use crate::lake::records::{Identity, Text};
        let dir = tempfile::tempdir().unwrap();
        let row = |i: usize| Identity {
            source: "shop".into(),
            key_type: "email".into(),
            key: Text::from(format!("customer.number.{i}@a-long-domain.example.com")),
            customer_id: Text::from(format!("c{i}")),
            rule: "email".into(),
        };
        // Rows in memory keep heap strings; spilling moves them out, and so do pushes, extends
        // and replacements of a spilled table.
        let mut rows: Rows<Identity> = (0..1000).map(row).collect();
        assert!(rows.iter().all(|r| r.key.is_heap_allocated()));
        rows.spill(dir.path()).unwrap();
        rows.push(row(1000));
        rows.extend((1001..1100).map(row));
        rows.set(3, row(3333));
        let like = rows.empty_like().unwrap().extended(10, (2000..2010).map(row)).unwrap();
        assert!(rows.iter().chain(like.iter()).all(|r| !r.key.is_heap_allocated()));
        let want: Vec<Identity> = (0..1100).map(|i| if i == 3 { row(3333) } else { row(i) }).collect();
        assert_eq!(rows, want);
        assert_eq!(like, (2000..2010).map(row).collect::<Vec<_>>());
        // Copies out of a spilled table are plain rows.
        let mut back = rows.into_vec();
        back[0].key.push_str(".cn");
        assert_eq!(back[0].key, "customer.number.0@a-long-domain.example.com.cn");
    }

    #[test]
    fn empty_spilled_rows_and_their_likes() {
        let dir = tempfile::tempdir().unwrap();
        let mut rows: Rows<u64> = Rows::default();
        rows.spill(dir.path()).unwrap();
        assert!(rows.is_empty());
        let like: Rows<u8> = rows.empty_like().unwrap();
        assert!(like.is_spilled());
        assert_eq!(like.spill_dir(), Some(dir.path()));
        assert_eq!(rows.into_iter().count(), 0);
        let heap: Rows<u64> = Rows::default();
        assert!(!heap.empty_like::<u8>().unwrap().is_spilled());
    }

    #[test]
    fn the_spill_file_has_no_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut rows: Rows<u64> = (0..1000).collect();
        rows.spill(dir.path()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
