//! Privacy through the CLI: `forget` erases a person everywhere and keeps them out; (with the
//! segment tables) pseudonymized outputs carry no raw email.

mod common;
use common::{custlens, ok, read, repo};
use std::path::{Path, PathBuf};

fn run_sample(dir: &Path) {
    let cfg = repo().join("data/sample/custlens.toml");
    ok(&custlens(dir, &["run", "--config", cfg.to_str().unwrap(), "--lake", "lake", "--out", "out"]));
}

/// Every text under `dir`, lower-cased: string cells of every Parquet file, and whole text files.
fn texts(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            texts(&p, out);
        } else if p.extension().is_some_and(|x| x == "parquet") {
            let df = read(&p);
            for c in df.columns() {
                if let Ok(s) = c.str() {
                    out.extend(s.iter().flatten().map(|v| (p.clone(), v.to_lowercase())));
                }
            }
        } else if let Ok(t) = std::fs::read_to_string(&p) {
            out.push((p.clone(), t.to_lowercase()));
        }
    }
}

fn found(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut all = Vec::new();
    texts(dir, &mut all);
    let mut hits: Vec<PathBuf> = all.into_iter().filter(|(_, t)| t.contains(needle)).map(|(p, _)| p).collect();
    hits.dedup();
    hits
}

#[test]
fn forget_erases_a_person_everywhere_and_keeps_them_out() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    run_sample(p);
    // A buyer known by email and phone.
    let seg = read(&p.join("out/segments.parquet"));
    let (ids, emails, phones) = (
        seg.column("customer_id").unwrap().str().unwrap().clone(),
        seg.column("email").unwrap().str().unwrap().clone(),
        seg.column("phone").unwrap().str().unwrap().clone(),
    );
    let i = (0..seg.height()).find(|&i| emails.get(i).is_some() && phones.get(i).is_some()).unwrap();
    let (id, email, phone) =
        (ids.get(i).unwrap().to_string(), emails.get(i).unwrap().to_string(), phones.get(i).unwrap().to_string());
    assert!(!found(&p.join("lake"), &email).is_empty(), "the email is in the lake before");
    let o = custlens(p, &["forget", "--email", &email.to_uppercase(), "--lake", "lake", "--out", "out"]);
    ok(&o);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["customers"][0], serde_json::json!(id));
    assert!(report["lake_rows"]["orders"].as_u64().unwrap() > 0, "{report}");
    assert!(report["output_rows"]["segments.parquet"].as_u64() == Some(1), "{report}");
    for dir in ["lake", "out"] {
        assert!(found(&p.join(dir), &email).is_empty(), "{dir}: {:?}", found(&p.join(dir), &email));
        assert!(found(&p.join(dir), &phone).is_empty(), "{dir}: phone {:?}", found(&p.join(dir), &phone));
        assert!(
            found(&p.join(dir), &id.to_lowercase()).is_empty(),
            "{dir}: id {:?}",
            found(&p.join(dir), &id.to_lowercase())
        );
    }
    assert_eq!(
        read(&p.join("lake/tombstones/part-0.parquet")).height(),
        report["tombstones"].as_u64().unwrap() as usize
    );
    // Ingesting the same exports again does not bring them back; their rows are withheld rejects.
    run_sample(p);
    assert!(found(&p.join("lake"), &email).is_empty(), "re-ingest brought the email back");
    assert!(found(&p.join("out"), &email).is_empty());
    let rejects = read(&p.join("lake/rejects/part-0.parquet"));
    let erased =
        rejects.column("reason").unwrap().str().unwrap().iter().flatten().filter(|r| r.starts_with("erased")).count();
    assert!(erased > 0);
    // Unknown people are a clear error that changes nothing.
    let o = custlens(p, &["forget", "--customer", "C999999999", "--lake", "lake", "--out", "out"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no customer"));
    let o = custlens(p, &["forget", "--email", "not-an-email", "--lake", "lake"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn pseudonymized_outputs_carry_no_raw_contact_anywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    let cfg = repo().join("data/sample/custlens.toml");
    let o =
        custlens(p, &["run", "--config", cfg.to_str().unwrap(), "--lake", "lake", "--out", "out", "--pseudonymize"]);
    ok(&o);
    let customers = read(&p.join("lake/customers/part-0.parquet"));
    let contacts: Vec<String> = ["email", "phone", "name"]
        .iter()
        .flat_map(|c| {
            customers.column(c).unwrap().str().unwrap().iter().flatten().map(str::to_lowercase).collect::<Vec<_>>()
        })
        .filter(|v| v.chars().count() >= 3)
        .collect();
    assert!(contacts.len() > 500);
    let mut all = Vec::new();
    texts(&p.join("out"), &mut all);
    let log = String::from_utf8_lossy(&o.stderr).to_lowercase();
    for c in &contacts {
        assert!(!all.iter().any(|(_, t)| t.contains(c.as_str())), "raw contact in out/: {c}");
        assert!(!log.contains(c.as_str()), "raw contact in the logs: {c}");
    }
    // The hashes are the ad-platform form: SHA-256 of the normalized email.
    let seg = read(&p.join("out/segments.parquet"));
    let hashed: Vec<&str> = seg.column("email").unwrap().str().unwrap().iter().flatten().collect();
    let first_email = customers.column("email").unwrap().str().unwrap().iter().flatten().next().unwrap();
    assert!(hashed.contains(&custlens::output::contact_hash(first_email, None).as_str()));
}
