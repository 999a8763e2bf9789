//! [`Sym`]: the few-valued strings of the big tables' rows, interned for the process.
//!
//! An order's source, channel, status and currency take a handful of values across millions of
//! rows. As [`Sym`] each is 4 bytes in the row instead of a 24-byte inline string (80 bytes less
//! per order, 800 MB at 10M orders), and testing two for equality compares two integers.
//!
//! Written by hand: the interner crates (`lasso`, `string-interner`) hand out keys that need the
//! interner to resolve, so every `o.status == "refunded"` and every `&o.source` borrowed as `&str`
//! would need it passed along; a process-wide table lets a `Sym` deref to `&str` like the string
//! it replaces. Values are never removed (a batch process interns a few dozen), so only columns
//! with few values use it: mapped statuses, sources, channels, currency codes, event types,
//! countries, key types, rules and the `;`-joined sources and channels of a customer. A file with
//! millions of distinct channels would keep each in memory once, until the process ends.

use std::sync::{OnceLock, RwLock};

/// An interned string: derefs to `&str`, compares, orders and hashes like it (equal strings are
/// one `Sym`).
///
/// ```
/// use custlens::lake::sym::Sym;
/// let a = Sym::from("refunded");
/// assert_eq!(a, "refunded");
/// assert_eq!(a, Sym::from(String::from("refunded")));
/// assert!(Sym::from("CNY") < Sym::from("USD"));
/// assert_eq!(a.len(), 8);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sym(u32);

/// Bucket `b` holds ids `2^b - 1 .. 2^(b+1) - 1`: the table grows without moving what it holds,
/// so a reader needs no lock.
const BUCKETS: usize = 32;

struct Table {
    buckets: [OnceLock<Box<[OnceLock<&'static str>]>>; BUCKETS],
    /// String → id, for interning (readers of a `Sym` never take it).
    index: RwLock<rustc_hash::FxHashMap<&'static str, u32>>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| Table { buckets: std::array::from_fn(|_| OnceLock::new()), index: Default::default() })
}

/// Bucket and offset of an id.
fn slot(id: u32) -> (usize, usize) {
    let n = id as u64 + 1;
    let bucket = 63 - n.leading_zeros() as usize;
    (bucket, (n - (1 << bucket)) as usize)
}

fn bucket(b: usize) -> &'static [OnceLock<&'static str>] {
    table().buckets[b].get_or_init(|| (0..1usize << b).map(|_| OnceLock::new()).collect())
}

impl Sym {
    /// The string.
    pub fn as_str(&self) -> &'static str {
        let (b, i) = slot(self.0);
        // Set before the id was handed out (see `intern`), so always present.
        bucket(b)[i].get().copied().unwrap_or_default()
    }

    /// The symbol's number in this process (for compact encodings that do not outlive it).
    pub(crate) fn id(self) -> u32 {
        self.0
    }

    /// The symbol numbered `id` by [`Sym::id`] in this process.
    pub(crate) fn from_id(id: u32) -> Sym {
        Sym(id)
    }

    fn intern(s: &str) -> Sym {
        thread_local! {
            // Most lookups hit: a thread converting a file sees the same few values row after row.
            static SEEN: std::cell::RefCell<rustc_hash::FxHashMap<Box<str>, Sym>> = Default::default();
        }
        if let Some(sym) = SEEN.with(|m| m.borrow().get(s).copied()) {
            return sym;
        }
        let sym = Sym::intern_shared(s);
        SEEN.with(|m| m.borrow_mut().insert(s.into(), sym));
        sym
    }

    fn intern_shared(s: &str) -> Sym {
        let t = table();
        if let Some(&id) = t.index.read().unwrap_or_else(|e| e.into_inner()).get(s) {
            return Sym(id);
        }
        let mut index = t.index.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = index.get(s) {
            return Sym(id);
        }
        let id = index.len() as u32;
        let leaked: &'static str = Box::leak(s.into());
        let (b, i) = slot(id);
        // Only this writer sets this slot (ids are handed out under the lock).
        let _ = bucket(b)[i].set(leaked);
        index.insert(leaked, id);
        Sym(id)
    }
}

impl From<&str> for Sym {
    fn from(s: &str) -> Sym {
        Sym::intern(s)
    }
}

impl From<String> for Sym {
    fn from(s: String) -> Sym {
        Sym::intern(&s)
    }
}

impl From<&String> for Sym {
    fn from(s: &String) -> Sym {
        Sym::intern(s)
    }
}

impl std::ops::Deref for Sym {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Sym {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::hash::Hash for Sym {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialOrd for Sym {
    fn partial_cmp(&self, other: &Sym) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Sym {
    fn cmp(&self, other: &Sym) -> std::cmp::Ordering {
        if self.0 == other.0 {
            return std::cmp::Ordering::Equal;
        }
        self.as_str().cmp(other.as_str())
    }
}

impl PartialEq<str> for Sym {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Sym {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Sym {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl std::fmt::Debug for Sym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Sym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_cover_ids_without_gaps() {
        assert_eq!(slot(0), (0, 0));
        assert_eq!(slot(1), (1, 0));
        assert_eq!(slot(2), (1, 1));
        assert_eq!(slot(3), (2, 0));
        assert_eq!(slot(6), (2, 3));
        assert_eq!(slot(7), (3, 0));
        assert_eq!(slot(u32::MAX - 1), (31, (1 << 31) - 1));
    }

    #[test]
    fn equal_strings_are_one_sym_across_threads() {
        let names: Vec<String> = (0..500).map(|i| format!("sym-test-{i}")).collect();
        let syms: Vec<Vec<Sym>> = std::thread::scope(|s| {
            let handles: Vec<_> =
                (0..4).map(|_| s.spawn(|| names.iter().map(|n| Sym::from(n.as_str())).collect())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for other in &syms[1..] {
            assert_eq!(&syms[0], other);
        }
        for (n, s) in names.iter().zip(&syms[0]) {
            assert_eq!(s.as_str(), n);
            assert_eq!(format!("{s:?}"), format!("{n:?}"));
        }
        let mut sorted = syms[0].clone();
        sorted.sort();
        let mut by_str = names.clone();
        by_str.sort();
        assert_eq!(sorted.iter().map(|s| s.to_string()).collect::<Vec<_>>(), by_str);
    }
}
