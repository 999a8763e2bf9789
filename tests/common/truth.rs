//! Generated data against the generator's truth (`truth/identities.csv`, `purchases.csv`,
//! `customers.csv`): shared by the identity, events/tickets and generated-formats tests.

use super::read;
use polars::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// A string column as owned options.
pub fn str_col(df: &DataFrame, c: &str) -> Vec<Option<String>> {
    df.column(c).unwrap().str().unwrap().iter().map(|v| v.map(str::to_string)).collect()
}

/// A lake table.
pub fn table(lake: &Path, t: &str) -> DataFrame {
    read(&lake.join(format!("{t}/part-0.parquet")))
}

/// An identifier as the lake's `identities` table writes it: (key type, key), member ids as `source:key`.
pub type Key = (String, String);

/// Every truth key → its person (`truth/identities.csv` of the generated folder `g`).
pub fn person_of(g: &Path) -> HashMap<Key, String> {
    let truth = std::fs::read_to_string(g.join("truth/identities.csv")).unwrap();
    let mut out = HashMap::new();
    for line in truth.lines().skip(1) {
        let f: Vec<&str> = line.splitn(4, ',').collect();
        let (person, source, kind, key) = (f[0], f[1], f[2], f[3]);
        let key = match kind {
            "member_id" => format!("{source}:{key}"),
            _ => key.to_string(),
        };
        out.insert((kind.to_string(), key), person.to_string());
    }
    out
}

/// Per customer of the lake, the truth persons whose keys resolved to it.
pub fn people_by_customer(lake: &Path, person_of: &HashMap<Key, String>) -> HashMap<String, HashSet<String>> {
    let ids = table(lake, "identities");
    let mut people: HashMap<String, HashSet<String>> = HashMap::new();
    for ((kind, key), cid) in
        str_col(&ids, "key_type").into_iter().zip(str_col(&ids, "key")).zip(str_col(&ids, "customer_id"))
    {
        if let (Some(kind), Some(key), Some(cid)) = (kind, key, cid) {
            if let Some(person) = person_of.get(&(kind, key)) {
                people.entry(cid).or_default().insert(person.clone());
            }
        }
    }
    people
}

/// Pairwise figures of identity resolution against the truth.
#[derive(Debug)]
pub struct IdentityScores {
    /// Truth keys found in the lake, of all truth keys.
    pub found: (usize, usize),
    /// Pairs of identifiers put in one customer that are one person.
    pub precision: f64,
    /// Pairs of one person's identifiers that some chain of the lake's records links through keys
    /// of that person only, put in one customer.
    pub usable_recall: f64,
    /// All pairs of one person's identifiers put in one customer.
    pub recall: f64,
}

/// Identity resolution of the ingested lake against the truth of generated folder `g`.
///
/// Pairs of identifiers put in one customer that are one person (precision), and pairs of one
/// person's identifiers put in one customer (all-pairs recall). Pairs that share a usable key: one
/// person's identifiers that some chain of records links through keys of that person only (no
/// placeholder, masked or typo'd value in between) — what any resolver could recover from these
/// files, built from the lake's own records (orders, events, profiles).
pub fn identity_scores(g: &Path, lake: &Path) -> IdentityScores {
    let person_of = person_of(g);
    let ids = table(lake, "identities");
    let mut unit: BTreeMap<Key, (String, String)> = BTreeMap::new();
    for ((k, key), c) in
        str_col(&ids, "key_type").into_iter().zip(str_col(&ids, "key")).zip(str_col(&ids, "customer_id"))
    {
        let k = (k.unwrap(), key.unwrap());
        if let Some(person) = person_of.get(&k) {
            unit.insert(k, (person.clone(), c.unwrap()));
        }
    }
    let pairs = |f: &dyn Fn(&(String, String)) -> String| -> u64 {
        let mut counts: HashMap<String, u64> = HashMap::new();
        for v in unit.values() {
            *counts.entry(f(v)).or_default() += 1;
        }
        counts.values().map(|n| n * (n - 1) / 2).sum()
    };
    let predicted = pairs(&|(_, c)| c.clone());
    let true_pairs = pairs(&|(person, _)| person.clone());
    let both = pairs(&|(person, c)| format!("{person}|{c}"));
    let mut reach = UnionFind::default();
    for t in ["orders", "events", "profiles"] {
        let df = table(lake, t);
        let (src, key, email, phone) =
            (str_col(&df, "source"), str_col(&df, "customer_key"), str_col(&df, "email"), str_col(&df, "phone"));
        for i in 0..df.height() {
            let mut keys: Vec<Key> = Vec::new();
            if let (Some(s), Some(k)) = (&src[i], &key[i]) {
                keys.push(("member_id".into(), format!("{s}:{k}")));
            }
            keys.extend(email[i].clone().map(|e| ("email".to_string(), e)));
            keys.extend(phone[i].clone().map(|ph| ("phone".to_string(), ph)));
            let owned: Vec<&Key> = keys.iter().filter(|k| unit.contains_key(*k)).collect();
            for w in owned.windows(2) {
                if person_of[w[0]] == person_of[w[1]] {
                    reach.union(w[0].clone(), w[1].clone());
                }
            }
        }
    }
    let mut by_component: HashMap<Key, Vec<&String>> = HashMap::new();
    for (k, (_, c)) in &unit {
        by_component.entry(reach.find(k.clone())).or_default().push(c);
    }
    let (mut linkable, mut linked) = (0u64, 0u64);
    for customers in by_component.values() {
        for i in 0..customers.len() {
            for j in i + 1..customers.len() {
                linkable += 1;
                linked += u64::from(customers[i] == customers[j]);
            }
        }
    }
    let s = IdentityScores {
        found: (unit.len(), person_of.len()),
        precision: both as f64 / predicted as f64,
        usable_recall: linked as f64 / linkable as f64,
        recall: both as f64 / true_pairs as f64,
    };
    eprintln!(
        "identity: {} of {} truth keys found; precision {:.4}, recall over pairs sharing a usable key {:.4} ({linked} of {linkable}), all-pairs recall {:.4} ({both} of {true_pairs} true pairs)",
        s.found.0, s.found.1, s.precision, s.usable_recall, s.recall
    );
    s
}

/// Union-find over identifier keys, for the reachable-pairs oracle above.
#[derive(Default)]
struct UnionFind {
    parent: HashMap<Key, Key>,
}

impl UnionFind {
    fn find(&mut self, k: Key) -> Key {
        let p = self.parent.get(&k).cloned().unwrap_or_else(|| k.clone());
        if p == k {
            return k;
        }
        let root = self.find(p);
        self.parent.insert(k, root.clone());
        root
    }

    fn union(&mut self, a: Key, b: Key) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent.insert(ra, rb);
        }
    }
}

/// How the rows of one source of an events or tickets table landed.
#[derive(Debug, Default, Clone)]
pub struct Landing {
    pub rows: usize,
    /// Rows with a key (email, phone or member id) of a truth person.
    pub known: usize,
    /// Of those, rows on a customer that is their person and no one else.
    pub own: usize,
    /// Rows whose email or phone is on one of the person's orders; of those, on the orders' customer.
    pub with_orders: usize,
    pub joined: usize,
}

impl Landing {
    pub fn precision(&self) -> f64 {
        self.own as f64 / self.known.max(1) as f64
    }

    pub fn linked(&self) -> f64 {
        if self.with_orders == 0 {
            1.0
        } else {
            self.joined as f64 / self.with_orders as f64
        }
    }
}

/// Events or tickets (`table`) of the lake against the truth of generated folder `g`, per source:
/// each row lands on a customer that is its own person and no one else (the person is known from
/// the truth: email, phone or member id → person; a customer's people are those whose keys
/// resolved to it), and on the customer of the person's orders whenever the row's own email or
/// phone is on one of those orders. Prints one line per source.
pub fn landing(g: &Path, lake: &Path, table_name: &str) -> BTreeMap<String, Landing> {
    let person_of = person_of(g);
    let people = people_by_customer(lake, &person_of);
    let orders = table(lake, "orders");
    let mut order_customer: HashMap<String, String> = HashMap::new();
    let ocid = str_col(&orders, "customer_id");
    for c in ["email", "phone"] {
        for (k, cid) in str_col(&orders, c).into_iter().zip(&ocid) {
            if let (Some(k), Some(cid)) = (k, cid) {
                order_customer.insert(k, cid.clone());
            }
        }
    }
    let df = table(lake, table_name);
    let (emails, phones, cids) = (str_col(&df, "email"), str_col(&df, "phone"), str_col(&df, "customer_id"));
    let (sources, members) = (str_col(&df, "source"), str_col(&df, "customer_key"));
    let mut out: BTreeMap<String, Landing> = BTreeMap::new();
    for i in 0..df.height() {
        let l = out.entry(sources[i].clone().unwrap_or_default()).or_default();
        l.rows += 1;
        let member = match (&sources[i], &members[i]) {
            (Some(s), Some(k)) => Some(("member_id".to_string(), format!("{s}:{k}"))),
            _ => None,
        };
        let keys: Vec<Key> = [("email", &emails[i]), ("phone", &phones[i])]
            .into_iter()
            .filter_map(|(kind, v)| v.clone().map(|v| (kind.to_string(), v)))
            .chain(member)
            .collect();
        let Some(key) = keys.iter().find(|k| person_of.contains_key(*k)) else { continue };
        let Some(cid) = &cids[i] else { continue };
        l.known += 1;
        let person = &person_of[key];
        l.own += usize::from(people.get(cid).is_some_and(|ps| ps.len() == 1 && ps.contains(person)));
        if let Some(oc) = keys.iter().filter(|k| k.0 != "member_id").find_map(|k| order_customer.get(&k.1)) {
            l.with_orders += 1;
            l.joined += usize::from(oc == cid);
        }
    }
    for (source, l) in &out {
        eprintln!(
            "{table_name} from {source}: {} rows, {} with a truth person, {} on a customer that is their person alone ({:.4}); {} of {} with their orders ({:.4})",
            l.rows,
            l.known,
            l.own,
            l.precision(),
            l.joined,
            l.with_orders,
            l.linked()
        );
    }
    out
}
