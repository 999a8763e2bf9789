//! The basket stage through the `custlens` binary: outputs on the bundled sample, planted rules
//! on generated data, and equality with pyFIM and mlxtend on committed fixtures.

mod common;
use common::{copy_dir, custlens, ok, read, repo};
use polars::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn lists(df: &DataFrame, c: &str) -> Vec<Vec<String>> {
    df.column(c)
        .unwrap()
        .list()
        .unwrap()
        .series_iter()
        .map(|s| s.unwrap().str().unwrap().iter().map(|v| v.unwrap().to_string()).collect())
        .collect()
}

fn floats(df: &DataFrame, c: &str) -> Vec<f64> {
    df.column(c).unwrap().f64().unwrap().iter().map(|v| v.unwrap()).collect()
}

fn ints(df: &DataFrame, c: &str) -> Vec<i64> {
    df.column(c).unwrap().i64().unwrap().iter().map(|v| v.unwrap()).collect()
}

fn strs(df: &DataFrame, c: &str) -> Vec<Option<String>> {
    df.column(c).unwrap().str().unwrap().iter().map(|v| v.map(str::to_string)).collect()
}

#[test]
fn sample_run_writes_sorted_itemsets_rules_and_recommendations() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("data/sample"), &tmp.path().join("data/sample"));
    ok(&custlens(tmp.path(), &["run"]));
    let out = tmp.path().join("out");
    let itemsets = read(&out.join("itemsets.parquet"));
    let rules = read(&out.join("rules.parquet"));
    let recs = read(&out.join("recommendations.parquet"));
    assert!(itemsets.height() > 20 && rules.height() > 10 && recs.height() > 100);

    // Itemsets: by length, then count descending, then items; support = count / baskets.
    let (items, len, count, support) =
        (lists(&itemsets, "items"), ints(&itemsets, "length"), ints(&itemsets, "count"), floats(&itemsets, "support"));
    let baskets = (count[0] as f64 / support[0]).round();
    for k in 0..items.len() {
        assert_eq!(items[k].len() as i64, len[k]);
        assert!(items[k].windows(2).all(|w| w[0] < w[1]), "items sorted within a set");
        assert!((count[k] as f64 / baskets - support[k]).abs() < 1e-12);
        if k > 0 {
            let prev = (len[k - 1], -count[k - 1], &items[k - 1]);
            assert!(prev < (len[k], -count[k], &items[k]), "itemsets order at row {k}");
        }
    }
    // Rules: single-item consequents, lift descending, confidence ≥ 0.1 (the defaults), and
    // every metric consistent with the itemset counts.
    let by_set: BTreeMap<Vec<String>, i64> = items.iter().cloned().zip(count.iter().copied()).collect();
    let (ante, cons) = (lists(&rules, "antecedent"), lists(&rules, "consequent"));
    let (conf, lift) = (floats(&rules, "confidence"), floats(&rules, "lift"));
    for k in 0..rules.height() {
        assert_eq!(cons[k].len(), 1);
        assert!(!ante[k].is_empty() && conf[k] >= 0.1);
        let mut all = ante[k].clone();
        all.extend(cons[k].clone());
        all.sort();
        let c_ac = by_set[&all] as f64;
        assert!((conf[k] - c_ac / by_set[&ante[k]] as f64).abs() < 1e-12);
        assert!((lift[k] - conf[k] / (by_set[&cons[k]] as f64 / baskets)).abs() < 1e-9);
        if k > 0 {
            assert!(lift[k - 1] >= lift[k], "rules sorted by lift");
        }
    }
    // Recommendations: sorted by customer and rank, at most 5 each, scores non-increasing.
    let (cust, rank, score) = (strs(&recs, "customer_id"), ints(&recs, "rank"), floats(&recs, "score"));
    for k in 1..recs.height() {
        assert!((&cust[k - 1], rank[k - 1]) < (&cust[k], rank[k]));
        if cust[k - 1] == cust[k] {
            assert_eq!(rank[k], rank[k - 1] + 1);
            assert!(score[k - 1] >= score[k]);
        }
    }
    assert!(rank.iter().all(|r| (1..=5).contains(r)));
    // Segments carry the recommended items in rank order.
    let seg = read(&out.join("segments.parquet"));
    let first = cust[0].clone().unwrap();
    let row = strs(&seg, "customer_id").iter().position(|c| c.as_deref() == Some(first.as_str())).unwrap();
    let want: Vec<String> = (0..recs.height())
        .filter(|&k| cust[k].as_deref() == Some(first.as_str()))
        .map(|k| strs(&recs, "item")[k].clone().unwrap())
        .collect();
    assert_eq!(strs(&seg, "recommended_items")[row].as_deref(), Some(want.join(", ").as_str()));

    // Deterministic: a second analysis writes byte-identical tables.
    let before: Vec<Vec<u8>> = ["itemsets", "rules", "recommendations"]
        .iter()
        .map(|t| std::fs::read(out.join(format!("{t}.parquet"))).unwrap())
        .collect();
    ok(&custlens(tmp.path(), &["analyze", "--config", "data/sample/custlens.toml"]));
    for (t, b) in ["itemsets", "rules", "recommendations"].iter().zip(before) {
        assert!(std::fs::read(out.join(format!("{t}.parquet"))).unwrap() == b, "{t} differs on a second run");
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert!(m["stages"].as_array().unwrap().iter().any(|s| s["stage"] == "basket"));
}

#[test]
fn planted_rules_are_found_within_four_standard_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    ok(&custlens(p, &["gen", "--customers", "5000", "--seed", "11", "--out", "g"]));
    ok(&custlens(
        p,
        &["run", "--config", "g/custlens.toml", "--lake", "lake", "--out", "out", "--set", "basket.min_count=5"],
    ));
    let rules = read(&p.join("out/rules.parquet"));
    let (ante, cons, conf) = (lists(&rules, "antecedent"), lists(&rules, "consequent"), floats(&rules, "confidence"));
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.join("g/truth/rules.json")).unwrap()).unwrap();
    let planted = truth.as_array().unwrap();
    assert_eq!(planted.len(), 4);
    for t in planted {
        let a: Vec<String> = serde_json::from_value(t["antecedent"].clone()).unwrap();
        let c = t["consequent"].as_str().unwrap().to_string();
        let k = (0..rules.height())
            .find(|&k| ante[k] == a && cons[k] == [c.clone()])
            .unwrap_or_else(|| panic!("planted rule {a:?} → {c} not found"));
        // Binomial SE of a confidence: sqrt(c (1 − c) / baskets with the antecedent).
        let expected = t["confidence"].as_f64().unwrap();
        let n_a = t["antecedent_support"].as_f64().unwrap() * t["baskets"].as_f64().unwrap();
        let se = (expected * (1.0 - expected) / n_a).sqrt();
        assert!(
            (conf[k] - expected).abs() <= 4.0 * se,
            "{a:?} → {c}: confidence {} vs expected {expected} (se {se}, {n_a:.0} antecedent baskets)",
            conf[k]
        );
    }
}

#[test]
fn basket_config_errors_exit_2_naming_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let o = custlens(tmp.path(), &["analyze", "--set", "basket.min_count=0"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("basket.min_count"), "{err}");
}

// ---- pyFIM and mlxtend fixtures (tests/fixtures/basket/, made by make_fixture.py) ----

fn fixture_dir() -> PathBuf {
    repo().join("tests/fixtures/basket")
}

fn load_json(name: &str) -> serde_json::Value {
    let p = fixture_dir().join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// The fixture's baskets as transactions.
fn fixture_baskets(case: &serde_json::Value) -> custlens::basket::transactions::Transactions {
    let baskets: Vec<Vec<String>> = serde_json::from_value(case["baskets"].clone()).unwrap();
    custlens::basket::transactions::Transactions::from_baskets(&baskets)
}

type Named = BTreeMap<Vec<String>, u64>;

fn named_itemsets(
    tx: &custlens::basket::transactions::Transactions,
    f: &custlens::basket::fpgrowth::Itemsets,
    keep: &[bool],
) -> Named {
    f.sets
        .iter()
        .zip(&f.counts)
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|((s, c), _)| (s.iter().map(|&i| tx.name(i).to_string()).collect(), *c))
        .collect()
}

fn expected_itemsets(v: &serde_json::Value) -> Named {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut items: Vec<String> = serde_json::from_value(r["items"].clone()).unwrap();
            items.sort();
            (items, r["count"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn itemsets_equal_pyfim_all_closed_maximal() {
    use custlens::basket::fpgrowth::frequent_itemsets;
    let fx = load_json("fixture.json");
    let mut checked = 0;
    for case in fx["cases"].as_array().unwrap() {
        let tx = fixture_baskets(case);
        let min_count = case["min_count"].as_u64().unwrap();
        let max_len = case["max_len"].as_u64().unwrap() as usize;
        let f = frequent_itemsets(&tx, min_count, max_len);
        let flags = f.closed_maximal();
        let all = vec![true; f.len()];
        let closed: Vec<bool> = flags.iter().map(|x| x.0).collect();
        let maximal: Vec<bool> = flags.iter().map(|x| x.1).collect();
        let name = case["name"].as_str().unwrap();
        assert_eq!(named_itemsets(&tx, &f, &all), expected_itemsets(&case["pyfim_all"]), "{name}: all itemsets");
        if f.sets.iter().all(|s| s.len() < max_len) {
            // pyFIM's closed/maximal are absolute; ours are relative to max_len: compare where it does not bind.
            assert_eq!(named_itemsets(&tx, &f, &closed), expected_itemsets(&case["pyfim_closed"]), "{name}: closed");
            assert_eq!(named_itemsets(&tx, &f, &maximal), expected_itemsets(&case["pyfim_maximal"]), "{name}: maximal");
        }
        checked += f.len();
    }
    assert!(checked > 100, "fixtures too small: {checked}");
}

#[test]
fn rules_equal_mlxtend_and_pyfim_rules() {
    use custlens::basket::fpgrowth::frequent_itemsets;
    use custlens::basket::rules::{rules, RuleOptions};
    let fx = load_json("fixture.json");
    for case in fx["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let tx = fixture_baskets(case);
        let min_count = case["min_count"].as_u64().unwrap();
        let max_len = case["max_len"].as_u64().unwrap() as usize;
        let min_conf = case["min_confidence"].as_f64().unwrap();
        let f = frequent_itemsets(&tx, min_count, max_len);
        for multi in [false, true] {
            let got =
                rules(&f, &RuleOptions { min_confidence: min_conf, multi_consequent: multi, ..Default::default() });
            let key = if multi { "mlxtend_rules" } else { "mlxtend_rules_single" };
            let want = case[key].as_array().unwrap();
            let named = |v: &[u32]| -> Vec<String> { v.iter().map(|&i| tx.name(i).to_string()).collect() };
            let got: BTreeMap<(Vec<String>, Vec<String>), &custlens::basket::rules::Rule> =
                got.iter().map(|r| ((named(&r.antecedent), named(&r.consequent)), r)).collect();
            let mut seen = BTreeSet::new();
            for w in want {
                let mut a: Vec<String> = serde_json::from_value(w["antecedent"].clone()).unwrap();
                let mut c: Vec<String> = serde_json::from_value(w["consequent"].clone()).unwrap();
                a.sort();
                c.sort();
                let r = got
                    .get(&(a.clone(), c.clone()))
                    .unwrap_or_else(|| panic!("{name}: mlxtend rule {a:?} → {c:?} missing"));
                seen.insert((a.clone(), c.clone()));
                let m = &r.metrics;
                let close = |x: f64, key: &str| {
                    let y = w[key].as_f64().unwrap_or_else(|| panic!("{key} in {w}"));
                    assert!((x - y).abs() <= 1e-9 * (1.0 + y.abs()), "{name} {a:?}→{c:?} {key}: {x} vs {y}");
                };
                close(m.support, "support");
                close(m.antecedent_support, "antecedent support");
                close(m.consequent_support, "consequent support");
                close(m.confidence, "confidence");
                close(m.lift, "lift");
                close(m.leverage, "leverage");
                close(m.zhang, "zhangs_metric");
                close(m.jaccard, "jaccard");
                close(m.kulczynski, "kulczynski");
                match m.conviction {
                    Some(v) => close(v, "conviction"),
                    None => {
                        assert!(w["conviction"].is_null(), "{name}: infinite conviction written as null by the script")
                    }
                }
                // mlxtend's certainty is (conf − s(C)) / (1 − s(C)) for both signs; ours follows
                // Berzal et al. below s(C): compare where they agree.
                if m.confidence >= m.consequent_support {
                    close(m.certainty, "certainty");
                }
            }
            assert_eq!(seen.len(), got.len(), "{name} (multi {multi}): custlens has rules mlxtend does not");
        }
        // pyFIM rules (mode 'o': support of the whole rule; single-item consequents).
        let got = rules(&f, &RuleOptions { min_confidence: min_conf, ..Default::default() });
        let want = case["pyfim_rules"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name}: pyFIM rule count");
        let got: BTreeMap<(Vec<String>, String), (u64, f64)> = got
            .iter()
            .map(|r| {
                (
                    (
                        r.antecedent.iter().map(|&i| tx.name(i).to_string()).collect(),
                        tx.name(r.consequent[0]).to_string(),
                    ),
                    (r.count, r.metrics.confidence),
                )
            })
            .collect();
        for w in want {
            let mut a: Vec<String> = serde_json::from_value(w["antecedent"].clone()).unwrap();
            a.sort();
            let c = w["consequent"].as_str().unwrap().to_string();
            let (count, conf) =
                got.get(&(a.clone(), c.clone())).unwrap_or_else(|| panic!("{name}: pyFIM rule {a:?} → {c}"));
            assert_eq!(*count, w["count"].as_u64().unwrap(), "{name}: {a:?} → {c}");
            assert!((conf - w["confidence"].as_f64().unwrap()).abs() < 1e-9);
        }
    }
}
