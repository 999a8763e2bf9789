//! Frequent itemsets by FP-growth (Han, Pei & Yin 2000), exact counts, mined in parallel.
//!
//! Written here rather than taken from a crate: no mature Rust FP-growth exists (the `fp-growth`
//! crate, 0.1, is small, single-threaded and has no rules), and this stage must be at least as
//! fast as Borgelt's C implementation (pyFIM).
//!
//! ## Method
//! 1. Count every item (in parallel over chunks of baskets); keep items with count ≥ `min_count`
//!    and recode them by descending count (ties by item code, so the result does not depend on
//!    the order of the baskets): rank 0 is the most frequent item.
//! 2. Build the FP-tree: each basket's frequent items, sorted by rank, are inserted as a path
//!    from the root; shared prefixes share nodes whose counts add up. The tree is a compact arena
//!    (struct of arrays: item, count, parent, a child; `u32` indices), built without any child
//!    lookup by recursive partitioning: the baskets sharing a prefix are grouped by their next
//!    item, and each group becomes one child node. The baskets are first split by their first
//!    item (a counting sort) and those subtrees are built in parallel, then concatenated. Then
//!    a header table links every node of an item.
//! 3. Mine: for each item `i` (the header), `prefix ∪ {i}` is frequent with the item's total
//!    count; the *conditional pattern base* of `i` (the paths from each of its nodes up to the
//!    root, weighted by the node's count) is counted, its infrequent items dropped, and built
//!    (by the same partitioning) into a conditional FP-tree that is mined recursively with the
//!    longer prefix. A tree that is
//!    a single path yields every combination of its nodes directly (count = the deepest node's).
//!    The header items of the top tree — and of any conditional tree with many nodes — are
//!    mined in parallel with rayon; the results are concatenated, so the set is exact and the
//!    same for any number of threads.
//! 4. Optionally keep closed itemsets (no proper superset with the same count) or maximal ones
//!    (no frequent proper superset). Checking the supersets with one more item suffices: if
//!    `X ⊂ Y` with `count(X) = count(Y)`, then every `X ∪ {y}` with `y ∈ Y` has that count too.
//!
//! Memory stays proportional to the distinct paths of the tree: there is never a basket × item
//! matrix.
//!
//! ## Reference
//! J. Han, J. Pei, Y. Yin (2000). *Mining frequent patterns without candidate generation.*
//! Proc. ACM SIGMOD, 1–12. doi:10.1145/342009.335372

use super::transactions::Transactions;
use rayon::prelude::*;
use std::collections::HashMap;

const NIL: u32 = u32::MAX;
/// Conditional trees with more nodes than this mine their header items in parallel.
const PAR_NODES: usize = 4096;

/// Frequent itemsets: each a sorted list of item codes (see [`Transactions::name`]) and its
/// count (baskets that contain every item).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Itemsets {
    pub sets: Vec<Vec<u32>>,
    pub counts: Vec<u64>,
    /// Baskets mined (the support denominator).
    pub baskets: u64,
}

impl Itemsets {
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Count by itemset (sorted codes).
    pub fn index(&self) -> HashMap<&[u32], u64> {
        self.sets.iter().map(|s| s.as_slice()).zip(self.counts.iter().copied()).collect()
    }

    /// For each itemset, (closed, maximal), relative to the mined itemsets (with a `max_len`,
    /// itemsets of that length have no mined supersets and count as both).
    pub fn closed_maximal(&self) -> Vec<(bool, bool)> {
        let pos: HashMap<&[u32], usize> = self.sets.iter().enumerate().map(|(i, s)| (s.as_slice(), i)).collect();
        let mut flags = vec![(true, true); self.sets.len()];
        let mut sub = Vec::new();
        for (i, s) in self.sets.iter().enumerate() {
            if s.len() < 2 {
                continue;
            }
            for skip in 0..s.len() {
                sub.clear();
                sub.extend(s.iter().enumerate().filter(|(k, _)| *k != skip).map(|(_, x)| *x));
                if let Some(&j) = pos.get(sub.as_slice()) {
                    flags[j].1 = false;
                    if self.counts[j] == self.counts[i] {
                        flags[j].0 = false;
                    }
                }
            }
        }
        flags
    }
}

/// Mines every itemset with count ≥ `min_count` (at least 1) and at most `max_len` items.
///
/// ## Parameters
/// - `tx`: the baskets, items coded `0..tx.n_items()`.
/// - `min_count`: minimum number of baskets containing the itemset (0 is taken as 1).
/// - `max_len`: longest itemset (0 gives none).
///
/// Itemsets come sorted by length, then by their item codes.
///
/// ## Example
/// ```
/// use custlens::basket::{fpgrowth::frequent_itemsets, transactions::Transactions};
/// let tx = Transactions::from_baskets(&[vec!["a", "b"], vec!["a", "b", "c"], vec!["a"]]);
/// let f = frequent_itemsets(&tx, 2, 10);
/// let named: Vec<(Vec<&str>, u64)> = f.sets.iter().zip(&f.counts)
///     .map(|(s, c)| (s.iter().map(|&i| tx.name(i)).collect(), *c)).collect();
/// assert_eq!(named, vec![(vec!["a"], 3), (vec!["b"], 2), (vec!["a", "b"], 2)]);
/// ```
pub fn frequent_itemsets(tx: &Transactions, min_count: u64, max_len: usize) -> Itemsets {
    let min_count = min_count.max(1);
    let n = tx.len();
    let n_items = tx.n_items();
    let mut out = Itemsets { baskets: n as u64, ..Default::default() };
    if max_len == 0 || n == 0 {
        return out;
    }
    // 1. Item counts and ranks.
    // Item counts over chunks of baskets, one per thread.
    let chunk = n.div_ceil(rayon::current_num_threads().max(1)).max(1024);
    let counts: Vec<u64> = (0..n)
        .into_par_iter()
        .step_by(chunk)
        .map(|start| {
            let mut c = vec![0u64; n_items];
            for b in start..(start + chunk).min(n) {
                for &i in tx.basket(b) {
                    c[i as usize] += 1;
                }
            }
            c
        })
        .reduce(
            || vec![0u64; n_items],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let mut frequent: Vec<u32> = (0..n_items as u32).filter(|&i| counts[i as usize] >= min_count).collect();
    frequent.sort_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
    if frequent.is_empty() {
        return out;
    }
    let mut rank = vec![NIL; n_items];
    for (r, &i) in frequent.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    // 2. The tree: recoded baskets (ranks ascending), partitioned by their first item; the
    //    subtree of each first item is built in parallel, then the subtrees are concatenated.
    let m = frequent.len();
    let mut paths =
        Paths { items: Vec::with_capacity(tx.pairs()), offs: Vec::with_capacity(n + 1), weights: Vec::new() };
    paths.offs.push(0);
    for b in 0..n {
        let start = paths.items.len();
        paths.items.extend(tx.basket(b).iter().map(|&i| rank[i as usize]).filter(|&r| r != NIL));
        paths.items[start..].sort_unstable();
        paths.offs.push(paths.items.len());
    }
    let mut first_count = vec![0usize; m + 1];
    for q in 0..n {
        if paths.offs[q] < paths.offs[q + 1] {
            first_count[paths.items[paths.offs[q]] as usize + 1] += 1;
        }
    }
    for r in 0..m {
        first_count[r + 1] += first_count[r];
    }
    let mut fill = first_count.clone();
    let mut idx = vec![0u32; first_count[m]];
    for q in 0..n {
        if paths.offs[q] < paths.offs[q + 1] {
            let r = paths.items[paths.offs[q]] as usize;
            idx[fill[r]] = q as u32;
            fill[r] += 1;
        }
    }
    let mut parts: Vec<(u32, &mut [u32])> = Vec::with_capacity(m);
    let mut rest: &mut [u32] = &mut idx;
    for r in 0..m {
        let (part, tail) = rest.split_at_mut(first_count[r + 1] - first_count[r]);
        if !part.is_empty() {
            parts.push((r as u32, part));
        }
        rest = tail;
    }
    let subtrees: Vec<Tree> = parts
        .into_par_iter()
        .map(|(r, part)| {
            let mut t = Tree::new(m);
            let node = t.add_node(0, r, part.len() as u64);
            t.grow(&paths, part, node, 1);
            t
        })
        .collect();
    drop(paths);
    let tree = Tree::concat(m, subtrees);
    let tree = tree.with_header();
    // 3. Mine.
    let ctx = Ctx { min_count, max_len };
    let found = tree.mine_all(&ctx, &mut Vec::new(), 0);
    // Back to item codes, sorted.
    let mut pairs: Vec<(Vec<u32>, u64)> = found
        .into_iter()
        .map(|(s, c)| {
            let mut s: Vec<u32> = s.into_iter().map(|r| frequent[r as usize]).collect();
            s.sort_unstable();
            (s, c)
        })
        .collect();
    pairs.par_sort_unstable_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
    out.sets.reserve(pairs.len());
    out.counts.reserve(pairs.len());
    for (s, c) in pairs {
        out.sets.push(s);
        out.counts.push(c);
    }
    out
}

struct Ctx {
    min_count: u64,
    max_len: usize,
}

/// Paths (strictly ascending local items) in CSR form, with weights (none: 1 each).
struct Paths {
    items: Vec<u32>,
    offs: Vec<usize>,
    weights: Vec<u64>,
}

impl Paths {
    #[inline]
    fn weight(&self, q: u32) -> u64 {
        if self.weights.is_empty() {
            1
        } else {
            self.weights[q as usize]
        }
    }

    /// The item of path `q` at `depth`, or NIL past its end.
    #[inline]
    fn at(&self, q: u32, depth: usize) -> u32 {
        let (s, e) = (self.offs[q as usize], self.offs[q as usize + 1]);
        if s + depth < e {
            self.items[s + depth]
        } else {
            NIL
        }
    }
}

/// Sorts `seg` by `key` (values `0..m`, or NIL last) in O(len + m): for long ranges of few
/// distinct keys, where a comparison sort on an indirect key is the bottleneck.
fn counting_sort(seg: &mut [u32], key: impl Fn(u32) -> u32, m: usize, scratch: &mut Vec<(u32, u32)>) {
    scratch.clear();
    scratch.extend(seg.iter().map(|&q| (key(q), q)));
    let slot = |k: u32| if k == NIL { m } else { k as usize };
    let mut start = vec![0usize; m + 2];
    for &(k, _) in scratch.iter() {
        start[slot(k) + 1] += 1;
    }
    for r in 0..=m {
        start[r + 1] += start[r];
    }
    for &(k, q) in scratch.iter() {
        let s = &mut start[slot(k)];
        seg[*s] = q;
        *s += 1;
    }
}

/// An FP-tree over local items `0..m` (ascending local index = descending frequency in the
/// parent tree); node 0 is the root. Nodes are created after their parent.
struct Tree {
    m: usize,
    item: Vec<u32>,
    count: Vec<u64>,
    parent: Vec<u32>,
    /// Some child of each node (the only one in a single-path tree), or NIL.
    child: Vec<u32>,
    /// True while no node has two children (the tree is one path).
    single_path: bool,
    /// Header: first node of each item, next node of the same item, total count per item.
    head: Vec<u32>,
    next: Vec<u32>,
    total: Vec<u64>,
}

impl Tree {
    fn new(m: usize) -> Tree {
        Tree {
            m,
            item: vec![NIL],
            count: vec![0],
            parent: vec![NIL],
            child: vec![NIL],
            single_path: true,
            head: Vec::new(),
            next: Vec::new(),
            total: Vec::new(),
        }
    }

    fn nodes(&self) -> usize {
        self.item.len()
    }

    fn n_items(&self) -> usize {
        self.m
    }

    #[inline]
    fn add_node(&mut self, parent: u32, item: u32, w: u64) -> u32 {
        let id = self.item.len() as u32;
        self.item.push(item);
        self.count.push(w);
        self.parent.push(parent);
        self.child.push(NIL);
        if self.child[parent as usize] != NIL {
            self.single_path = false;
        }
        self.child[parent as usize] = id;
        id
    }

    /// Adds the subtree of the paths `idx`, which share their first `depth` items (ending at
    /// `node`): the paths are grouped by their next item (sorting the index range by it), each
    /// group becomes one child whose count is the group's weight, recursively. No child lookup
    /// is ever needed; a group of one path becomes a chain directly.
    fn grow(&mut self, p: &Paths, idx: &mut [u32], node: u32, depth: usize) {
        let mut stack = vec![(node, depth, 0usize, idx.len())];
        let mut scratch = Vec::new();
        while let Some((parent, d, lo, hi)) = stack.pop() {
            if hi - lo == 1 {
                let q = idx[lo];
                let w = p.weight(q);
                let mut cur = parent;
                for &it in &p.items[p.offs[q as usize] + d..p.offs[q as usize + 1]] {
                    cur = self.add_node(cur, it, w);
                }
                continue;
            }
            let seg = &mut idx[lo..hi];
            if seg.len() > 8 * self.m + 64 {
                counting_sort(seg, |q| p.at(q, d), self.m, &mut scratch);
            } else {
                seg.sort_unstable_by_key(|&q| p.at(q, d));
            }
            let mut i = 0;
            while i < seg.len() {
                let k = p.at(seg[i], d);
                if k == NIL {
                    break;
                }
                let mut j = i;
                let mut w = 0u64;
                while j < seg.len() && p.at(seg[j], d) == k {
                    w += p.weight(seg[j]);
                    j += 1;
                }
                let child = self.add_node(parent, k, w);
                stack.push((child, d + 1, lo + i, lo + j));
                i = j;
            }
        }
    }

    /// One tree from subtrees built separately under their own roots (same items).
    fn concat(m: usize, parts: Vec<Tree>) -> Tree {
        let mut t = Tree::new(m);
        let total: usize = parts.iter().map(|p| p.nodes() - 1).sum();
        t.item.reserve(total);
        t.count.reserve(total);
        t.parent.reserve(total);
        t.child.reserve(total);
        t.single_path = parts.len() <= 1 && parts.iter().all(|p| p.single_path);
        for p in parts {
            let offset = t.nodes() as u32 - 1;
            let shift = |x: u32| if x == NIL || x == 0 { x } else { x + offset };
            if p.child[0] != NIL {
                t.child[0] = p.child[0] + offset;
            }
            t.item.extend_from_slice(&p.item[1..]);
            t.count.extend_from_slice(&p.count[1..]);
            t.parent.extend(p.parent[1..].iter().map(|&x| shift(x)));
            t.child.extend(p.child[1..].iter().map(|&x| shift(x)));
        }
        t
    }

    /// Builds the header table (node links and totals).
    fn with_header(mut self) -> Tree {
        let m = self.n_items();
        self.head = vec![NIL; m];
        self.next = vec![NIL; self.nodes()];
        self.total = vec![0; m];
        for n in 1..self.nodes() {
            let it = self.item[n] as usize;
            self.next[n] = self.head[it];
            self.head[it] = n as u32;
            self.total[it] += self.count[n];
        }
        self
    }

    /// Every frequent itemset of this tree with `prefix` (item ids of the top tree); `map` turns
    /// local items into top-tree ranks (`None`: the identity).
    fn mine_all(&self, ctx: &Ctx, prefix: &mut Vec<u32>, depth: usize) -> Vec<(Vec<u32>, u64)> {
        self.mine_mapped(ctx, prefix, None, depth)
    }

    fn mine_mapped(&self, ctx: &Ctx, prefix: &mut Vec<u32>, map: Option<&[u32]>, depth: usize) -> Vec<(Vec<u32>, u64)> {
        let global = |i: u32| map.map_or(i, |m| m[i as usize]);
        let mut out = Vec::new();
        if self.single_path {
            self.single_path_sets(ctx, prefix, &global, &mut out);
            return out;
        }
        let m = self.n_items();
        let one = |i: usize, prefix: &mut Vec<u32>, out: &mut Vec<(Vec<u32>, u64)>| {
            if self.total[i] < ctx.min_count {
                return;
            }
            prefix.push(global(i as u32));
            out.push((prefix.clone(), self.total[i]));
            if prefix.len() < ctx.max_len {
                if let Some((cond, cmap)) = self.conditional(i as u32, ctx.min_count) {
                    let gmap: Vec<u32> = cmap.iter().map(|&l| global(l)).collect();
                    out.extend(cond.mine_mapped(ctx, prefix, Some(&gmap), depth + 1));
                }
            }
            prefix.pop();
        };
        if self.nodes() > PAR_NODES || depth == 0 {
            let base: &Vec<u32> = prefix;
            let parts: Vec<Vec<(Vec<u32>, u64)>> = (0..m)
                .into_par_iter()
                .map(|i| {
                    let mut p = base.clone();
                    let mut o = Vec::new();
                    one(i, &mut p, &mut o);
                    o
                })
                .collect();
            out.extend(parts.into_iter().flatten());
        } else {
            for i in 0..m {
                one(i, prefix, &mut out);
            }
        }
        out
    }

    /// A single-path tree: every non-empty combination of its nodes, up to `max_len` items in all.
    fn single_path_sets(
        &self,
        ctx: &Ctx,
        prefix: &mut Vec<u32>,
        global: &dyn Fn(u32) -> u32,
        out: &mut Vec<(Vec<u32>, u64)>,
    ) {
        // Nodes from the root down; counts never increase along the path.
        let mut path = Vec::new();
        let mut c = self.child[0];
        while c != NIL {
            if self.count[c as usize] >= ctx.min_count {
                path.push((global(self.item[c as usize]), self.count[c as usize]));
            }
            c = self.child[c as usize];
        }
        let room = ctx.max_len.saturating_sub(prefix.len());
        // Depth-first over combinations: choose the next node index > the last chosen.
        fn rec(path: &[(u32, u64)], from: usize, room: usize, prefix: &mut Vec<u32>, out: &mut Vec<(Vec<u32>, u64)>) {
            if room == 0 {
                return;
            }
            for k in from..path.len() {
                prefix.push(path[k].0);
                out.push((prefix.clone(), path[k].1));
                rec(path, k + 1, room - 1, prefix, out);
                prefix.pop();
            }
        }
        rec(&path, 0, room, prefix, out);
    }

    /// The conditional FP-tree of local item `i`, with its items' map to this tree's items;
    /// None when no item of its pattern base is frequent.
    fn conditional(&self, i: u32, min_count: u64) -> Option<(Tree, Vec<u32>)> {
        let mut cnt = vec![0u64; i as usize];
        // Visits of ancestors: an upper bound on the conditional tree's nodes.
        let mut visits = 0usize;
        let mut n = self.head[i as usize];
        while n != NIL {
            let w = self.count[n as usize];
            let mut p = self.parent[n as usize];
            while p != 0 {
                cnt[self.item[p as usize] as usize] += w;
                visits += 1;
                p = self.parent[p as usize];
            }
            n = self.next[n as usize];
        }
        let mut local = vec![NIL; i as usize];
        let mut map = Vec::new();
        for (it, &c) in cnt.iter().enumerate() {
            if c >= min_count {
                local[it] = map.len() as u32;
                map.push(it as u32);
            }
        }
        if map.is_empty() {
            return None;
        }
        let mut paths = Paths { items: Vec::with_capacity(visits), offs: vec![0], weights: Vec::new() };
        let mut n = self.head[i as usize];
        while n != NIL {
            let start = paths.items.len();
            let mut p = self.parent[n as usize];
            while p != 0 {
                let l = local[self.item[p as usize] as usize];
                if l != NIL {
                    paths.items.push(l);
                }
                p = self.parent[p as usize];
            }
            if paths.items.len() > start {
                paths.items[start..].reverse();
                paths.offs.push(paths.items.len());
                paths.weights.push(self.count[n as usize]);
            }
            n = self.next[n as usize];
        }
        let mut idx: Vec<u32> = (0..paths.weights.len() as u32).collect();
        let mut tree = Tree::new(map.len());
        tree.grow(&paths, &mut idx, 0, 0);
        Some((tree.with_header(), map))
    }
}

/// Every itemset with count ≥ `min_count` and at most `max_len` items by enumeration: for tests.
/// Exponential in the number of items; only for tiny inputs.
pub fn brute_force(tx: &Transactions, min_count: u64, max_len: usize) -> Itemsets {
    let m = tx.n_items();
    assert!(m <= 20, "brute force is for tiny inputs");
    let mut found = Vec::new();
    for mask in 1u32..(1 << m) {
        let set: Vec<u32> = (0..m as u32).filter(|i| mask & (1 << i) != 0).collect();
        if set.len() > max_len {
            continue;
        }
        let c = (0..tx.len()).filter(|&b| set.iter().all(|i| tx.basket(b).contains(i))).count() as u64;
        if c >= min_count.max(1) {
            found.push((set, c));
        }
    }
    found.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
    let (sets, counts) = found.into_iter().unzip();
    Itemsets { sets, counts, baskets: tx.len() as u64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn named(tx: &Transactions, f: &Itemsets) -> Vec<(String, u64)> {
        f.sets
            .iter()
            .zip(&f.counts)
            .map(|(s, c)| (s.iter().map(|&i| tx.name(i)).collect::<Vec<_>>().join(","), *c))
            .collect()
    }

    /// The textbook example of Han, Pei & Yin (2000), Table 1, at min support 3.
    #[test]
    fn han_pei_yin_example() {
        let b = |s: &str| s.split(',').map(str::to_string).collect::<Vec<_>>();
        let tx = Transactions::from_baskets(&[
            b("f,a,c,d,g,i,m,p"),
            b("a,b,c,f,l,m,o"),
            b("b,f,h,j,o"),
            b("b,c,k,s,p"),
            b("a,f,c,e,l,p,m,n"),
        ]);
        let f = frequent_itemsets(&tx, 3, 10);
        assert_eq!(f, brute_force(&tx, 3, 10));
        let got = named(&tx, &f);
        // Single items f:4 c:4 a:3 b:3 m:3 p:3; e.g. {f,c,a,m} appears in 3 baskets, {c,p} in 3.
        for want in [("f", 4), ("c", 4), ("a,c,f,m", 3), ("c,p", 3), ("b", 3)] {
            assert!(got.contains(&(want.0.to_string(), want.1)), "{want:?} in {got:?}");
        }
        assert_eq!(f.len(), 18);
    }

    #[test]
    fn max_len_and_thresholds() {
        let tx = Transactions::from_baskets(&[vec!["a", "b", "c"], vec!["a", "b", "c"], vec!["a", "b"]]);
        let f = frequent_itemsets(&tx, 2, 2);
        assert_eq!(
            named(&tx, &f),
            [("a", 3), ("b", 3), ("c", 2), ("a,b", 3), ("a,c", 2), ("b,c", 2)].map(|(s, c)| (s.to_string(), c))
        );
        assert!(frequent_itemsets(&tx, 4, 10).is_empty());
        assert!(frequent_itemsets(&tx, 1, 0).is_empty());
        assert!(frequent_itemsets(&Transactions::from_baskets::<&str>(&[]), 1, 3).is_empty());
    }

    #[test]
    fn closed_and_maximal() {
        // {a,b}: 3 with a: 3 and b: 3 → a, b not closed; {a,b,c}: 2 → maximal; {a,b} closed? no
        // superset with count 3 → closed.
        let tx = Transactions::from_baskets(&[vec!["a", "b", "c"], vec!["a", "b", "c"], vec!["a", "b"]]);
        let f = frequent_itemsets(&tx, 2, 10);
        let flags = f.closed_maximal();
        let names = named(&tx, &f);
        let pick = |want: bool, k: usize| -> Vec<String> {
            names
                .iter()
                .zip(&flags)
                .filter(|(_, fl)| (if k == 0 { fl.0 } else { fl.1 }) == want)
                .map(|(n, _)| n.0.clone())
                .filter(|_| want)
                .collect()
        };
        assert_eq!(pick(true, 0), ["a,b", "a,b,c"]);
        assert_eq!(pick(true, 1), ["a,b,c"]);
    }

    /// Enough baskets for many subtrees built in parallel and concatenated; skewed popularity.
    #[test]
    fn many_baskets_equal_brute_force() {
        use rand::prelude::*;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let baskets: Vec<Vec<String>> = (0..5000)
            .map(|_| {
                (0..12)
                    .filter(|i| rng.gen::<f64>() < 0.6 / (1.0 + *i as f64 * 0.4))
                    .map(|i| format!("i{i:02}"))
                    .collect()
            })
            .collect();
        let tx = Transactions::from_baskets(&baskets);
        for (min_count, max_len) in [(40, 10), (5, 3), (400, 10)] {
            assert_eq!(frequent_itemsets(&tx, min_count, max_len), brute_force(&tx, min_count, max_len));
        }
    }

    fn arb_baskets() -> impl Strategy<Value = Vec<Vec<u8>>> {
        prop::collection::vec(prop::collection::vec(0u8..8, 0..6), 0..40)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn equals_brute_force(baskets in arb_baskets(), min_count in 1u64..5, max_len in 1usize..6) {
            let named: Vec<Vec<String>> = baskets.iter().map(|b| b.iter().map(|i| format!("i{i}")).collect()).collect();
            let tx = Transactions::from_baskets(&named);
            let f = frequent_itemsets(&tx, min_count, max_len);
            prop_assert_eq!(&f, &brute_force(&tx, min_count, max_len));
            // Closed/maximal against their definitions over the brute-force sets.
            let flags = f.closed_maximal();
            for (k, s) in f.sets.iter().enumerate() {
                let supers: Vec<usize> = (0..f.len())
                    .filter(|&j| f.sets[j].len() > s.len() && s.iter().all(|x| f.sets[j].contains(x)))
                    .collect();
                prop_assert_eq!(flags[k].1, supers.is_empty());
                prop_assert_eq!(flags[k].0, supers.iter().all(|&j| f.counts[j] < f.counts[k]));
            }
        }
    }
}
