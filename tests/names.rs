//! Names people type (issue 33, part 5): encodings as WHATWG labels in mappings, format names in
//! any letter case on the command line and in `[[sources]]`.

mod common;
use common::{custlens, ok, read};
use polars::prelude::*;
use std::path::Path;

/// A column of a lake table as text, in row order.
fn texts(df: &DataFrame, column: &str) -> Vec<Option<String>> {
    df.column(column).unwrap().str().unwrap().iter().map(|v| v.map(str::to_string)).collect()
}

/// An orders mapping reading `encoding`; statuses are non-ASCII too, so a wrong decode is an
/// unmapped status (a reject), not just a garbled name.
fn mapping(encoding: &str, paid: &str) -> String {
    format!(
        r#"table = "orders"
source = "till"
encoding = "{encoding}"
currency = "CNY"
[columns]
order_id = "id"
customer_key = "buyer"
name = "name"
created_at = "at"
net_amount = "amount"
status = "status"
[status]
"{paid}" = "completed"
"#
    )
}

/// The CSV text of two orders by `names`, with status `paid`.
fn orders(names: [&str; 2], paid: &str) -> String {
    format!(
        "id,buyer,name,at,amount,status\n\
         1,b1,{},2024-05-01 10:00:00,10.50,{paid}\n\
         2,b2,\"{}\",2024-05-02 11:00:00,20.00,{paid}\n",
        names[0], names[1]
    )
}

/// `text` in `encoding`: UTF-16 with its BOM, others as `encoding_rs` encodes (every character
/// must be encodable).
fn encode(text: &str, encoding: &'static encoding_rs::Encoding) -> Vec<u8> {
    if encoding == encoding_rs::UTF_16LE {
        return [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    }
    let (bytes, used, unmappable) = encoding.encode(text);
    assert!(!unmappable && used == encoding, "{text} is not all {}", encoding.name());
    bytes.into_owned()
}

#[test]
fn mappings_name_encodings_by_whatwg_label_and_each_ingests_its_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &'static encoding_rs::Encoding, [&str; 2], &str); 10] = [
        ("utf-8", encoding_rs::UTF_8, ["José Müller", "李雷"], "交易成功"),
        ("UTF-8", encoding_rs::UTF_8, ["Zoë", "山田"], "✓ paid"),
        ("windows-1252", encoding_rs::WINDOWS_1252, ["José Müller", "Zoë, “Ms” Œuvre"], "bezahlt"),
        ("latin1", encoding_rs::WINDOWS_1252, ["François", "Ærøskøbing"], "payé"),
        ("gbk", encoding_rs::GBK, ["李雷", "韩梅梅"], "交易成功"),
        // 𠮷 is outside GBK: only GB18030's four-byte sequences hold it.
        ("GB18030", encoding_rs::GB18030, ["𠮷野家", "李雷"], "交易成功"),
        ("shift_jis", encoding_rs::SHIFT_JIS, ["山田太郎", "ｶﾀｶﾅ"], "支払済"),
        ("big5", encoding_rs::BIG5, ["陳大文", "林小美"], "已付款"),
        ("euc-kr", encoding_rs::EUC_KR, ["김철수", "이영희"], "결제완료"),
        ("utf-16le", encoding_rs::UTF_16LE, ["José 李雷", "𠮷"], "交易成功"),
    ];
    for (i, (label, enc, names, paid)) in cases.into_iter().enumerate() {
        let dir = tmp.path().join(format!("case{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("orders.csv"), encode(&orders(names, paid), enc)).unwrap();
        std::fs::write(dir.join("till.toml"), mapping(label, paid)).unwrap();
        let o = custlens(&dir, &["ingest", "--input", "orders.csv", "--mapping", "till.toml", "--lake", "lake"]);
        ok(&o);
        let lake = dir.join("lake");
        assert_eq!(read(&lake.join("rejects/part-0.parquet")).height(), 0, "{label}");
        let df = read(&lake.join("orders/part-0.parquet")).sort(["order_id"], Default::default()).unwrap();
        assert_eq!(texts(&df, "name"), names.map(|n| Some(n.to_string())).to_vec(), "{label}");
        assert_eq!(texts(&df, "status"), vec![Some("completed".into()); 2], "{label}");
        let amounts: Vec<Option<f64>> = df.column("net_amount").unwrap().f64().unwrap().iter().collect();
        assert_eq!(amounts, [Some(10.5), Some(20.0)], "{label}");
    }
}

#[test]
fn a_wrong_or_unknown_encoding_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("orders.csv"), encode(&orders(["李雷", "韩梅梅"], "交易成功"), encoding_rs::GBK)).unwrap();
    // GBK bytes read as UTF-8: a data error naming the file, the encoding and the line.
    std::fs::write(dir.join("utf8.toml"), mapping("utf-8", "交易成功")).unwrap();
    let o = custlens(dir, &["ingest", "--input", "orders.csv", "--mapping", "utf8.toml", "--lake", "lake"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("orders.csv") && err.contains("not valid UTF-8 (first bad byte on line 2)"), "{err}");
    // A name no encoding has: a usage error naming the mapping, the line and examples.
    std::fs::write(dir.join("bad.toml"), mapping("utf-9", "交易成功")).unwrap();
    let o = custlens(dir, &["ingest", "--input", "orders.csv", "--mapping", "bad.toml", "--lake", "lake"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    for want in ["bad.toml", "line 3", "`utf-9` is not an encoding", "utf-8, gbk, gb18030", "windows-1252"] {
        assert!(err.contains(want), "{want} in {err}");
    }
}

/// (format, rows read) per file in the lake's `files` table.
fn formats(lake: &Path) -> Vec<(String, i64)> {
    let files = read(&lake.join("files/part-0.parquet"));
    let rows = files.column("rows_read").unwrap().i64().unwrap();
    texts(&files, "format").into_iter().flatten().zip(rows.iter().flatten()).collect()
}

#[test]
fn format_names_are_read_in_any_letter_case() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shopify_orders.csv");
    let fixture = fixture.to_str().unwrap();
    let region = ["--set", "identity.default_phone_region=CN"];
    let ingest = |format: &str, lake: &str| {
        custlens(dir, &[&["ingest", "--input", fixture, "--format", format, "--lake", lake][..], &region].concat())
    };
    ok(&ingest("shopify", "lower"));
    ok(&ingest("Shopify", "title"));
    ok(&ingest("SHOPIFY", "upper"));
    let want = formats(&dir.join("lower"));
    assert_eq!(want.first().map(|(f, _)| f.as_str()), Some("shopify"));
    assert!(want[0].1 > 0);
    for lake in ["title", "upper"] {
        assert_eq!(formats(&dir.join(lake)), want, "--format in another case reads the same");
        let (a, b) =
            (read(&dir.join("lower/orders/part-0.parquet")), read(&dir.join(lake).join("orders/part-0.parquet")));
        assert!(a.equals_missing(&b), "{lake}: same orders");
    }
    // A misspelt name is still an error listing the names.
    let o = ingest("Shopfy", "typo");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown format `Shopfy`") && err.contains("shopify-customers"), "{err}");

    // [[sources]] format: any case too, for adapters and `canonical`.
    std::fs::write(
        dir.join("four.csv"),
        "order_id,customer_id,created_at,net_amount,currency\nA-1,c1,2024-05-01T10:00:00Z,25.00,EUR\n",
    )
    .unwrap();
    let cfg = format!(
        "[identity]\ndefault_phone_region = \"CN\"\n\n[[sources]]\npath = \"{fixture}\"\nformat = \"Shopify\"\n\n\
         [[sources]]\npath = \"four.csv\"\nformat = \"Canonical\"\n"
    );
    std::fs::write(dir.join("custlens.toml"), cfg).unwrap();
    let o = custlens(dir, &["ingest", "--lake", "config"]);
    ok(&o);
    let got: Vec<String> = formats(&dir.join("config")).into_iter().map(|(f, _)| f).collect();
    assert_eq!(got, ["shopify", "canonical"]);
}
