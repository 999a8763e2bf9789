//! The generator's platform formats (WooCommerce, JD, Pinduoduo, Douyin orders; Shopify customers,
//! Mailchimp, Klaviyo, GA4 signals; Zendesk, Freshdesk tickets) through the `custlens` binary:
//! they ingest with exactly the planted rejects, and orders, events, tickets and consent land on
//! the right people (truth in the generated `truth/`). Run with `--nocapture` for the figures.

mod common;
use common::truth::{self, str_col, table};
use common::{custlens, ok};
use polars::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

const NEW_FILES: [&str; 14] = [
    "woocommerce_orders.csv",
    "jd_orders.csv",
    "pinduoduo_orders.csv",
    "douyin_orders.csv",
    "shopify_customers.csv",
    "mailchimp_subscribed.csv",
    "mailchimp_unsubscribed.csv",
    "mailchimp_cleaned.csv",
    "mailchimp_activity.jsonl",
    "klaviyo_events.jsonl",
    "ga4_events.jsonl",
    "sms_events.jsonl",
    "zendesk_tickets.csv",
    "freshdesk_tickets.csv",
];

fn int(v: &serde_json::Value, k: &str) -> i64 {
    v[k].as_i64().unwrap_or_else(|| panic!("{k} in {v}"))
}

/// Every new file is read whole and rejects exactly the rows the truth plants (malformed records,
/// and GA4 events sent while logged out, which have no user id).
fn check_rejects(g: &Path, lake: &Path) {
    let params: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(g.join("truth/params.json")).unwrap()).unwrap();
    let files = table(lake, "files");
    let paths = str_col(&files, "path");
    let ints = |c: &str| files.column(c).unwrap().i64().unwrap().iter().map(|v| v.unwrap()).collect::<Vec<_>>();
    let (rows, rejected, dup) = (ints("rows_read"), ints("rejected"), ints("duplicate"));
    for name in NEW_FILES {
        let i = paths.iter().position(|p| p.as_deref().is_some_and(|p| p.ends_with(name))).expect(name);
        let t = &params["counts"]["files"][name];
        eprintln!(
            "{name}: {} rows, {} rejected ({} planted malformed), {} duplicates",
            rows[i],
            rejected[i],
            int(t, "malformed"),
            dup[i]
        );
        assert!(rows[i] > 0, "{name} is empty");
        assert_eq!(rows[i], int(t, "rows"), "{name}");
        assert_eq!(rejected[i], int(t, "rejected_rows"), "{name}");
        assert_eq!(dup[i], int(t, "duplicate_rows"), "{name}");
        let malformed = int(t, "malformed");
        if name.contains("orders") {
            // A malformed row rejects its whole order.
            assert_eq!(rejected[i] > 0, malformed > 0, "{name}: only planted rejects");
        } else if name != "ga4_events.jsonl" {
            assert_eq!(rejected[i], malformed, "{name}: only planted rejects");
        }
    }
}

/// Orders of each new channel (the truth's purchases that reached the lake): an order that
/// identifies its buyer lands on a customer holding that person's keys and no one else's; an order
/// the platform masked stands alone (its customer holds no truth key).
fn check_orders(g: &Path, lake: &Path) {
    let person_of = truth::person_of(g);
    let people = truth::people_by_customer(lake, &person_of);
    let orders = table(lake, "orders");
    let customer_of: HashMap<String, String> = str_col(&orders, "order_id")
        .into_iter()
        .zip(str_col(&orders, "customer_id"))
        .filter_map(|(o, c)| Some((o?, c?)))
        .collect();
    // Sources of each customer (from its keys): does a new channel's buyer meet their other channels?
    let ids = table(lake, "identities");
    let mut sources: HashMap<String, std::collections::BTreeSet<String>> = HashMap::new();
    for (cid, src) in str_col(&ids, "customer_id").into_iter().zip(str_col(&ids, "source")) {
        sources.entry(cid.unwrap()).or_default().insert(src.unwrap());
    }
    let mut r = csv::Reader::from_path(g.join("truth/purchases.csv")).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (pi, oi, si, li, ii) = (col("person_id"), col("order_id"), col("source"), col("in_lake"), col("identified"));
    // Per channel: identified orders, on their person alone, on a customer seen on another source;
    // masked orders, standing alone.
    let mut fig: BTreeMap<String, [usize; 5]> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let source = &rec[si];
        if !["woocommerce", "jd", "pinduoduo", "douyin"].contains(&source) || &rec[li] != "true" {
            continue;
        }
        let f = fig.entry(source.to_string()).or_default();
        let cid = customer_of.get(&rec[oi]).unwrap_or_else(|| panic!("order {} not in the lake", &rec[oi]));
        let ps = people.get(cid);
        if &rec[ii] == "true" {
            f[0] += 1;
            f[1] += usize::from(ps.is_some_and(|ps| ps.len() == 1 && ps.contains(&rec[pi])));
            f[2] += usize::from(sources.get(cid).is_some_and(|s| s.iter().any(|x| x != source)));
        } else {
            f[3] += 1;
            f[4] += usize::from(ps.is_none());
        }
    }
    assert_eq!(fig.len(), 4, "{fig:?}");
    for (source, [ident, right, cross, masked, alone]) in fig {
        eprintln!(
            "orders from {source}: {ident} identify their buyer, {right} on that person alone ({:.4}), {cross} on a customer also seen on another source; {masked} masked, {alone} standing alone",
            right as f64 / ident.max(1) as f64
        );
        assert!(right as f64 >= 0.99 * ident as f64, "{source}: {right} of {ident}");
        assert_eq!(alone, masked, "{source}: masked orders stand alone");
        if source != "pinduoduo" && source != "douyin" {
            assert!(ident > masked, "{source}: most orders identify their buyer");
        }
    }
}

/// Consent of each customer that is one person agrees with the person's truth (email: opted in and
/// not unsubscribed; SMS: opted in) wherever the lake states one.
fn check_consent(g: &Path, lake: &Path) {
    let person_of = truth::person_of(g);
    let people = truth::people_by_customer(lake, &person_of);
    let text = std::fs::read_to_string(g.join("truth/customers.csv")).unwrap();
    let mut want: HashMap<String, (Option<bool>, bool)> = HashMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        want.insert(f[0].to_string(), (f[10].parse().ok(), f[11] == "true"));
    }
    // Email consent is about the customer that holds the person's address (a person whose till
    // purchases share no key with their online orders is also a second, email-less customer).
    let ids = table(lake, "identities");
    let with_email: std::collections::HashSet<String> = str_col(&ids, "key_type")
        .into_iter()
        .zip(str_col(&ids, "key"))
        .zip(str_col(&ids, "customer_id"))
        .filter(|((k, key), _)| {
            k.as_deref() == Some("email") && person_of.contains_key(&("email".to_string(), key.clone().unwrap()))
        })
        .filter_map(|(_, c)| c)
        .collect();
    let customers = table(lake, "customers");
    let bools = |c: &str| customers.column(c).unwrap().bool().unwrap().iter().collect::<Vec<_>>();
    let (email, sms) = (bools("email_opt_in"), bools("sms_opt_in"));
    let (mut stated, mut agree, mut sms_stated, mut sms_agree, mut truth_yes, mut found_yes) = (0, 0, 0, 0, 0, 0);
    for (i, cid) in str_col(&customers, "customer_id").into_iter().enumerate() {
        let cid = cid.unwrap();
        let Some(ps) = people.get(&cid) else { continue };
        if ps.len() != 1 {
            continue;
        }
        let (want_email, want_sms) = want[ps.iter().next().unwrap()];
        if let (Some(got), Some(w)) = (email[i], want_email) {
            stated += 1;
            agree += usize::from(got == w);
        }
        if want_email == Some(true) && with_email.contains(&cid) {
            truth_yes += 1;
            found_yes += usize::from(email[i] == Some(true));
        }
        if let Some(got) = sms[i] {
            sms_stated += 1;
            sms_agree += usize::from(got == want_sms);
        }
    }
    eprintln!(
        "consent: email stated for {stated} customers, {agree} agree with the truth; {found_yes} of {truth_yes} opted-in persons' email customers opted in; SMS stated for {sms_stated}, {sms_agree} agree"
    );
    assert!(stated > 100 && sms_stated > 100, "{stated} {sms_stated}");
    assert!(agree as f64 >= 0.99 * stated as f64 && sms_agree == sms_stated);
    assert!(found_yes as f64 >= 0.95 * truth_yes as f64);
}

#[test]
fn generated_platform_formats_land_on_the_right_people() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    ok(&custlens(p, &["gen", "--customers", "3000", "--seed", "21", "--out", "g"]));
    ok(&custlens(p, &["ingest", "--config", "g/custlens.toml", "--lake", "lake"]));
    let (g, lake) = (p.join("g"), p.join("lake"));
    check_rejects(&g, &lake);
    check_orders(&g, &lake);
    for t in ["events", "tickets"] {
        let by_source = truth::landing(&g, &lake, t);
        let want: &[&str] =
            if t == "events" { &["crm", "klaviyo", "mailchimp", "shopify"] } else { &["freshdesk", "zendesk"] };
        assert_eq!(by_source.keys().map(String::as_str).collect::<Vec<_>>(), want);
        for (source, l) in by_source {
            assert!(l.known as f64 > 0.9 * l.rows as f64, "{t} from {source}: {} of {}", l.known, l.rows);
            assert!(l.precision() >= 0.99 && l.linked() >= 0.99, "{t} from {source}: {} {}", l.precision(), l.linked());
        }
    }
    check_consent(&g, &lake);
    let s = truth::identity_scores(&g, &lake);
    assert!(s.precision >= 0.99 && s.usable_recall >= 0.95 && s.recall >= 0.9, "{s:?}");
    let orders = table(&lake, "orders");
    let n =
        orders.lazy().group_by([col("source")]).agg([len()]).sort(["source"], Default::default()).collect().unwrap();
    eprintln!("{n}");
}

/// Issue 33 (part 4): every file of a fresh `gen` folder is detected with no config, the folder's
/// unused `custlens.toml` is named once at ingest and again by the currency error it would have
/// prevented, and with `--config` the run succeeds, reading each file as the config says.
#[test]
fn a_generated_folder_is_detected_without_a_config_which_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    ok(&custlens(p, &["gen", "--customers", "60", "--out", "g"]));
    let cfg: toml::Table = std::fs::read_to_string(p.join("g/custlens.toml")).unwrap().parse().unwrap();
    // What the generator's config says each file is: a format, or a mapping named after the
    // built-in adapter it copies (`taobao_orders.toml` → `taobao-orders`).
    let said: BTreeMap<String, String> = cfg["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let path = s["path"].as_str().unwrap().to_string();
            let how = match (s.get("format"), s.get("mapping")) {
                (Some(f), _) => f.as_str().unwrap().to_string(),
                (None, Some(m)) => {
                    m.as_str().unwrap().trim_start_matches("mappings/").trim_end_matches(".toml").replace('_', "-")
                }
                (None, None) => panic!("{s}"),
            };
            (path, how)
        })
        .collect();
    let mut written: Vec<String> = std::fs::read_dir(p.join("g"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|f| f.is_file() && f.extension().is_some_and(|x| x != "toml"))
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, said.keys().cloned().collect::<Vec<_>>(), "the config lists every file written");

    let o = custlens(p, &["ingest", "--input", "g", "--lake", "l"]);
    ok(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.matches("is not the config in use").count(), 1, "{stderr}");
    assert!(stderr.contains("pass --config g/custlens.toml"), "{stderr}");
    let files = table(&p.join("l"), "files");
    let formats: BTreeMap<String, String> = str_col(&files, "path")
        .into_iter()
        .zip(str_col(&files, "format"))
        .map(|(path, f)| (path.unwrap().trim_start_matches("g/").to_string(), f.unwrap()))
        .collect();
    assert_eq!(formats.keys().collect::<Vec<_>>(), said.keys().collect::<Vec<_>>(), "every file ingested");
    for (file, how) in &said {
        assert_eq!(&formats[file], how, "{file} detected as the config reads it");
    }
    let events = table(&p.join("l"), "events");
    let sms = events.lazy().filter(col("channel").eq(lit("sms"))).collect().unwrap();
    assert!(sms.height() > 0 && str_col(&sms, "source").iter().all(|s| s.as_deref() == Some("crm")));
    assert!(str_col(&sms, "phone").iter().all(|ph| ph.as_deref().is_some_and(|ph| ph.starts_with("+86"))));

    // Analyzing it without the config stops at the second currency, pointing at the config.
    let o = custlens(p, &["analyze", "--lake", "l", "--out", "o"]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("several currencies") && stderr.contains("pass --config g/custlens.toml"), "{stderr}");
    let o = custlens(p, &["analyze", "--lake", "l", "--out", "o", "--set", "currency.base=CNY"]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("currency.rates.USD") && stderr.contains("pass --config g/custlens.toml"), "{stderr}");

    // With the config: no warning, GA4 through the generator's mapping (its user ids are Shopify's).
    let o = custlens(p, &["run", "--config", "g/custlens.toml", "--input", "g", "--lake", "l2", "--out", "o2"]);
    ok(&o);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("is not the config in use"));
    let files = table(&p.join("l2"), "files");
    let ga4 = str_col(&files, "path").iter().position(|f| f.as_deref() == Some("g/ga4_events.jsonl")).unwrap();
    assert_eq!(str_col(&files, "format")[ga4].as_deref(), Some("g/mappings/ga4.toml"));
    assert!(p.join("o2/segments.parquet").exists());
}
