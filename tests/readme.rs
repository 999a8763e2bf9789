//! The README's examples work (issue 33): its TOML blocks parse as the real loaders parse them,
//! and its `custlens …` command lines run, in order, on the sample.
//!
//! Whatever the README holds when the test runs is checked; new examples must fit these rules.
//!
//! ## Fenced blocks, by tag
//! - `toml`: a block with a top-level `table` key is a mapping file: parsed and checked as
//!   `--mapping` reads one (unknown keys refused). Else, when its top-level keys are all
//!   `custlens.toml` sections, it is a config, parsed and checked as `--config` reads one (unknown
//!   keys refused); when they are all generator parameters, it is a `--params` file. Anything else
//!   fails: make the block a whole mapping or config, or tag it `text`.
//! - `sh`, `bash`, `shell`, `console`: every line starting with `custlens` (after an optional `$ `
//!   and `NAME=value` environment settings; a trailing `\` continues the line) is a command line.
//!   Other lines (cargo, python, duckdb, the fuzzing lines) are not custlens and are not run.
//! - `text`, `csv`, `tsv`, `json`, `jsonl`: shown, not checked.
//! - Any other tag, or none: the test fails; give the block one of these tags.
//!
//! ## Inline code
//! Outside blocks, a code span starting with `custlens ` is a command line, except one that is
//! just `custlens COMMAND` (the command table's first column): it names a command, and
//! `custlens COMMAND --help` must succeed.
//!
//! ## Running
//! Command lines run in README order with the real binary, each as one process (no pipes or
//! redirections), in one temporary copy of `data/sample`: its `custlens.toml` is the default
//! config there, and `lake/` and `out/` are made there, so an `ingest` line serves a later
//! `analyze` or `forget` line. `XDG_CACHE_HOME` points inside the copy (bench's cache). Each must
//! exit 0. Placeholders are replaced by [`SUBSTITUTIONS`]; very large runs are scaled down by
//! [`scale_down`].

mod common;
use common::{copy_dir, read, repo};
use custlens::config::mapping::MappingFile;
use custlens::config::Config;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Placeholders in command lines: (command or "" for any, the flag the token follows or "" for
/// any, placeholder, value). The placeholder is a whole token (`exports/`, `FILE.toml`) or an
/// upper-case word inside one (`GEN_DIR` in `GEN_DIR/custlens.toml`). A value in braces is read
/// when the command runs: `{input}` is a file of the sample in the command's format (with
/// `--format canonical`, the canonical `products.csv`; else `shopify_orders.csv`, which
/// `--format NAME` and `--mapping FILE` below read); `{customer}`, `{email}`, `{phone}` are the first customer of `lake/`
/// (by id) with an id, email or phone; `{gen}` is the folder `gen`, written by `custlens gen
/// --out gen` first if no earlier line did; `{params}` is `gen-params.toml`, written empty (the
/// generator's defaults).
///
/// Every other upper-case word (two letters or more, or one alone as a token) fails the test,
/// unless [`LITERALS`] lists it as a real value.
const SUBSTITUTIONS: &[(&str, &str, &str, &str)] = &[
    // Inputs: "your exports" are the sample's, read with its custlens.toml.
    ("", "--input", "exports/", "."),
    ("", "--input", "exports", "."),
    ("", "--input", "PATH", "."),
    ("", "--input", "DIR", "."),
    ("", "--input", "FILE", "{input}"),
    ("", "--format", "NAME", "shopify"),
    ("", "--mapping", "FILE", "mappings/shopify.toml"),
    ("", "--mapping", "FILE.toml", "mappings/shopify.toml"),
    ("", "--config", "FILE", "custlens.toml"),
    ("", "--set", "section.key=value", "rfm.monetary=average"),
    ("", "--set", "SECTION.KEY=VALUE", "rfm.monetary=average"),
    // Folders.
    ("gen", "--out", "DIR", "gen"),
    ("", "--out", "DIR", "out"),
    ("", "--lake", "DIR", "lake"),
    ("", "--previous", "DIR", "out"),
    ("", "", "GEN_DIR", "{gen}"),
    // Times.
    ("", "--as-of", "TIMESTAMP", "2024-06-30T00:00:00Z"),
    ("", "--as-of", "DATE", "2024-06-30"),
    ("", "--calibration-end", "DATE", "2024-09-30"),
    ("gen", "--start", "DATE", "2023-01-01"),
    ("gen", "--end", "DATE", "2023-12-31"),
    // Sizes and seeds (small: see `scale_down`).
    ("gen", "--customers", "N", "120"),
    ("bench", "--customers", "N", "200"),
    ("bench", "--rows", "N", "2000"),
    ("", "--seed", "S", "7"),
    ("gen", "--params", "FILE", "{params}"),
    ("gen", "--params", "FILE.toml", "{params}"),
    ("bench", "--json", "FILE", "bench.json"),
    ("bench", "--cache", "DIR", "bench-cache"),
    // People, from the lake.
    ("forget", "--customer", "ID", "{customer}"),
    ("forget", "--email", "EMAIL", "{email}"),
    ("forget", "--phone", "PHONE", "{phone}"),
];

/// Upper-case words that are values, not placeholders.
const LITERALS: &[&str] = &["CNY", "USD", "EUR", "GBP", "JPY", "XXX", "CN", "US", "GB", "JP", "DE", "UTC"];

/// The largest runs the test makes: `gen --customers` above [`MAX_GEN_CUSTOMERS`] is cut to it;
/// `bench` runs `--customers` [`MAX_BENCH_CUSTOMERS`] at most (a `--scale` becomes that, and a
/// bench without a size gets it), and `--suite ingest` at most [`MAX_BENCH_ROWS`] rows.
const MAX_GEN_CUSTOMERS: u64 = 600;
const MAX_BENCH_CUSTOMERS: u64 = 200;
const MAX_BENCH_ROWS: u64 = 2000;

fn scale_down(args: &mut Vec<String>) {
    let cap = |args: &mut Vec<String>, flag: &str, max: u64| {
        if let Some(i) = args.iter().position(|a| a == flag) {
            if let Some(v) = args.get_mut(i + 1) {
                if v.parse::<u64>().is_ok_and(|n| n > max) {
                    *v = max.to_string();
                }
            }
        }
    };
    match args.first().map(String::as_str) {
        Some("gen") => cap(args, "--customers", MAX_GEN_CUSTOMERS),
        Some("bench") => {
            if let Some(i) = args.iter().position(|a| a == "--scale") {
                args.drain(i..(i + 2).min(args.len()));
            }
            let ingest_suite = args.windows(2).any(|w| w[0] == "--suite" && w[1] == "ingest");
            if ingest_suite && !args.iter().any(|a| a == "--rows") {
                args.extend(["--rows".into(), MAX_BENCH_ROWS.to_string()]);
            }
            if !ingest_suite && !args.iter().any(|a| a == "--customers") {
                args.extend(["--customers".into(), MAX_BENCH_CUSTOMERS.to_string()]);
            }
            cap(args, "--customers", MAX_BENCH_CUSTOMERS);
            cap(args, "--rows", MAX_BENCH_ROWS);
        }
        _ => {}
    }
}

/// Something the README shows, with the line it starts on.
#[derive(Debug)]
enum Example {
    Toml { line: usize, text: String },
    Command { line: usize, text: String },
}

/// Splits the README into the TOML blocks and custlens command lines it holds, in order.
fn examples(readme: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut lines = readme.lines().enumerate().map(|(i, l)| (i + 1, l));
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim_start();
        let fence: String = trimmed.chars().take_while(|c| *c == '`' || *c == '~').collect();
        if fence.len() < 3 || fence.chars().any(|c| c != fence.chars().next().unwrap()) {
            out.extend(
                spans(line)
                    .into_iter()
                    .filter(|s| s.starts_with("custlens "))
                    .map(|text| Example::Command { line: n, text }),
            );
            continue;
        }
        let tag = trimmed[fence.len()..].split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        let mut body = Vec::new();
        for (m, l) in lines.by_ref() {
            let t = l.trim_start();
            if t.starts_with(&fence) && t.trim_end().chars().all(|c| c == fence.chars().next().unwrap()) {
                break;
            }
            body.push((m, l));
        }
        match tag.as_str() {
            "toml" => {
                out.push(Example::Toml { line: n + 1, text: body.iter().map(|(_, l)| format!("{l}\n")).collect() })
            }
            "sh" | "bash" | "shell" | "console" => {
                let mut pending: Option<(usize, String)> = None;
                for (m, l) in body {
                    let l = l.trim();
                    let (start, mut text) = match pending.take() {
                        Some((start, before)) => (start, format!("{before} {l}")),
                        None => (m, l.strip_prefix("$ ").unwrap_or(l).to_string()),
                    };
                    if text.ends_with('\\') {
                        text.pop();
                        pending = Some((start, text));
                        continue;
                    }
                    let command = text.split_whitespace().find(|w| !is_env(w));
                    if command == Some("custlens") {
                        out.push(Example::Command { line: start, text });
                    }
                }
            }
            "text" | "csv" | "tsv" | "json" | "jsonl" => {}
            other => panic!(
                "README.md:{n}: a fenced block tagged `{other}`; tag it toml, sh, text, csv, tsv, json or jsonl \
                 (tests/readme.rs checks toml and runs custlens lines in sh)"
            ),
        }
    }
    out
}

/// `NAME=value`: an environment setting before a command.
fn is_env(word: &str) -> bool {
    word.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    })
}

/// The inline code spans of a line (a GFM table's `\|` read as `|`).
fn spans(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'`' {
            i += 1;
            continue;
        }
        let n = b[i..].iter().take_while(|c| **c == b'`').count();
        let open = i + n;
        let mut j = open;
        let mut close = None;
        while j < b.len() {
            if b[j] == b'`' {
                let m = b[j..].iter().take_while(|c| **c == b'`').count();
                if m == n {
                    close = Some(j);
                    break;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        match close {
            Some(c) => {
                out.push(line[open..c].trim().replace("\\|", "|"));
                i = c + n;
            }
            None => i = open,
        }
    }
    out
}

/// Shell words of a command line: quotes and backslashes as sh reads them; `#` starts a comment.
/// Pipes, redirections, `;`, `&` and substitutions are refused: a line is one command.
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                out.extend(cur.take());
            }
            '#' if cur.is_none() => break,
            '\'' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("an unclosed ' quote".into()),
                    }
                }
            }
            '"' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') if matches!(chars.peek(), Some('"' | '\\' | '$' | '`')) => {
                            w.extend(chars.next());
                        }
                        Some('$' | '`') => return Err("a substitution in double quotes".into()),
                        Some(c) => w.push(c),
                        None => return Err("an unclosed \" quote".into()),
                    }
                }
            }
            '\\' => cur.get_or_insert_with(String::new).extend(chars.next()),
            '|' | '>' | '<' | ';' | '&' | '$' | '`' | '(' | ')' => {
                return Err(format!("`{c}`: a README command line must be one command, without pipes or redirections"));
            }
            c => cur.get_or_insert_with(String::new).push(c),
        }
    }
    out.extend(cur);
    Ok(out)
}

/// The upper-case words of a token: maximal runs of `[A-Za-z0-9_]` that start with an upper-case
/// letter and hold no lower-case one.
fn upper_words(token: &str) -> Vec<&str> {
    token
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| {
            w.starts_with(|c: char| c.is_ascii_uppercase())
                && w.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && (w.len() >= 2 || *w == token)
        })
        .collect()
}

/// The value a placeholder takes in `command` after `flag`, if the table knows it.
fn substitution(command: &str, flag: &str, placeholder: &str) -> Option<&'static str> {
    SUBSTITUTIONS
        .iter()
        .filter(|(c, f, p, _)| (c.is_empty() || *c == command) && (f.is_empty() || *f == flag) && *p == placeholder)
        // The most specific entry wins: command and flag named before either alone.
        .max_by_key(|(c, f, _, _)| (!c.is_empty(), !f.is_empty()))
        .map(|(_, _, _, v)| *v)
}

/// A command line to run: `NAME=value` settings and the arguments after `custlens`.
struct Invocation {
    env: Vec<(String, String)>,
    args: Vec<String>,
}

/// The command line's arguments (after `custlens`) and environment, placeholders replaced by
/// [`SUBSTITUTIONS`] (values in braces left for [`resolve`]).
fn substitute(line: &str) -> Result<Invocation, String> {
    let mut tokens = words(line)?;
    let at = tokens.iter().position(|w| !is_env(w)).ok_or("no command")?;
    let env = tokens.drain(..at).map(|w| w.split_once('=').map(|(k, v)| (k.into(), v.into())).unwrap()).collect();
    if tokens.first().map(String::as_str) != Some("custlens") {
        return Err("not a custlens command".into());
    }
    tokens.remove(0);
    let command = tokens.first().cloned().unwrap_or_default();
    let mut args = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let flag = if i > 0 && tokens[i - 1].starts_with("--") { tokens[i - 1].as_str() } else { "" };
        // `--flag=VALUE`: the value after its flag.
        let (prefix, flag, value) = match token.split_once('=') {
            Some((f, v)) if token.starts_with("--") => (format!("{f}="), f, v),
            _ => (String::new(), flag, token.as_str()),
        };
        if let Some(v) = substitution(&command, flag, value) {
            args.push(format!("{prefix}{v}"));
            continue;
        }
        let mut out = value.to_string();
        for word in upper_words(value) {
            if LITERALS.contains(&word) {
                continue;
            }
            let v = substitution(&command, flag, word).ok_or_else(|| {
                format!(
                    "placeholder `{word}` (in `{token}`) has no value: add it to SUBSTITUTIONS in tests/readme.rs, \
                     or to LITERALS if it is a real value"
                )
            })?;
            out = out.replace(word, v);
        }
        args.push(format!("{prefix}{out}"));
    }
    let canonical = args.windows(2).any(|w| w[0] == "--format" && w[1].eq_ignore_ascii_case("canonical"));
    let input = if canonical { "products.csv" } else { "shopify_orders.csv" };
    args.iter_mut().for_each(|a| *a = a.replace("{input}", input));
    scale_down(&mut args);
    Ok(Invocation { env, args })
}

/// The first customer of the lake (by id) with a value in `column`.
fn first_customer(dir: &Path, column: &str) -> String {
    let path = dir.join("lake/customers/part-0.parquet");
    assert!(path.exists(), "a README line names a customer before any line ingested the sample");
    let df = read(&path).sort(["customer_id"], Default::default()).unwrap();
    let values = df.column(column).unwrap().str().unwrap().clone();
    let first = values.iter().flatten().next().map(str::to_string);
    first.unwrap_or_else(|| panic!("no customer has a {column}"))
}

/// Values in braces, read from the working folder now.
fn resolve(dir: &Path, arg: &str) -> String {
    let mut arg = arg.to_string();
    for (key, column) in [("{customer}", "customer_id"), ("{email}", "email"), ("{phone}", "phone")] {
        if arg.contains(key) {
            arg = arg.replace(key, &first_customer(dir, column));
        }
    }
    if arg.contains("{gen}") {
        if !dir.join("gen/custlens.toml").exists() {
            run(dir, &[], &["gen".into(), "--out".into(), "gen".into()], "custlens gen --out gen (for GEN_DIR)");
        }
        arg = arg.replace("{gen}", "gen");
    }
    if arg.contains("{params}") {
        std::fs::write(dir.join("gen-params.toml"), "# the generator's defaults\n").unwrap();
        arg = arg.replace("{params}", "gen-params.toml");
    }
    arg
}

/// Runs `custlens ARGS` in `dir`; panics with the README line, the command and its stderr unless it exits 0.
fn run(dir: &Path, env: &[(String, String)], args: &[String], what: &str) {
    eprintln!("{what}\n  runs: custlens {}", args.join(" "));
    let o = Command::new(env!("CARGO_BIN_EXE_custlens"))
        .current_dir(dir)
        .args(args)
        .env("XDG_CACHE_HOME", dir.join(".cache"))
        .env("RUST_LOG", "custlens=warn")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("binary runs");
    assert!(
        o.status.success(),
        "{what}\nran: custlens {}\nexit {:?}\nstderr:\n{}",
        args.join(" "),
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Top-level keys of a default value's TOML form.
fn keys<T: serde::Serialize>(value: &T) -> BTreeSet<String> {
    toml::Table::try_from(value).unwrap().keys().cloned().collect()
}

/// Checks a TOML block as the loader it is meant for reads it.
fn check_toml(line: usize, text: &str, scratch: &Path) {
    let at = format!("README.md:{line}");
    let table: toml::Table = text.parse().unwrap_or_else(|e| panic!("{at}: not TOML: {e}"));
    let top: BTreeSet<String> = table.keys().cloned().collect();
    if top.contains("table") {
        let file = toml::from_str::<MappingFile>(text).unwrap_or_else(|e| panic!("{at}: not a mapping file: {e}"));
        file.check(&at).unwrap_or_else(|e| panic!("{e}"));
    } else if top.is_subset(&keys(&Config::default())) {
        Config::from_str_with_overrides(text, Some(Path::new(&at)), &[]).unwrap_or_else(|e| panic!("{e}"));
    } else if top.is_subset(&keys(&custlens::sample::GenParams::default())) {
        let path = scratch.join(format!("readme-{line}.toml"));
        std::fs::write(&path, text).unwrap();
        custlens::sample::GenParams::load(&path).unwrap_or_else(|e| panic!("{at}: {e}"));
    } else {
        panic!(
            "{at}: a toml block that is no mapping (no `table` key), no config and no generator parameters \
             (top-level keys {top:?}); make it whole, or tag it `text`"
        );
    }
}

#[test]
fn readme_toml_blocks_parse_and_its_custlens_lines_run_on_the_sample() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let examples = examples(&readme);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sample");
    copy_dir(&repo().join("data/sample"), &dir);
    let (mut tomls, mut commands, mut names) = (0, 0, BTreeSet::new());
    for e in &examples {
        match e {
            Example::Toml { line, text } => {
                check_toml(*line, text, tmp.path());
                tomls += 1;
            }
            Example::Command { line, text } => {
                let what = format!("README.md:{line}: `{text}`");
                let parts: Vec<&str> = text.split_whitespace().collect();
                if let ["custlens", name] = parts[..] {
                    // The command table's first column: a command's name.
                    if names.insert(name.to_string()) {
                        run(&dir, &[], &[name.to_string(), "--help".into()], &format!("{what} names no command"));
                    }
                    continue;
                }
                let Invocation { env, args } = substitute(text).unwrap_or_else(|e| panic!("{what}: {e}"));
                let args: Vec<String> = args.iter().map(|a| resolve(&dir, a)).collect();
                run(&dir, &env, &args, &what);
                commands += 1;
            }
        }
    }
    // What the README holds today, at least: the config, a mapping and the triggers; an ingest and a forget.
    assert!(tomls >= 3, "{tomls} toml blocks found");
    assert!(commands >= 2, "{commands} command lines found");
    assert!(names.len() >= 5, "command names: {names:?}");
}

#[test]
fn fences_spans_and_words_are_read_as_markdown_and_sh_do() {
    let md = "Run `custlens run --as-of DATE` or `custlens gen`; not `custlens.toml`.\n\
              | `custlens forget` | `--scale s\\|m\\|l` |\n\
              ```sh\n$ custlens ingest \\\n  --input exports/   # a comment\ncargo test\nRUST_LOG=debug custlens analyze\n```\n\
              ```toml\n[rfm]\nmonetary = \"total\"\n```\n\
              ````text\n```toml\nnot = checked\n```\n````\n";
    let got: Vec<String> = examples(md)
        .into_iter()
        .map(|e| match e {
            Example::Toml { line, text } => format!("toml@{line}: {text}"),
            Example::Command { line, text } => format!("cmd@{line}: {text}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            "cmd@1: custlens run --as-of DATE",
            "cmd@1: custlens gen",
            "cmd@2: custlens forget",
            "cmd@4: custlens ingest  --input exports/   # a comment",
            "cmd@7: RUST_LOG=debug custlens analyze",
            "toml@10: [rfm]\nmonetary = \"total\"\n",
        ]
    );
    let panics = |md: &'static str| std::panic::catch_unwind(|| examples(md)).is_err();
    assert!(panics("```\nuntagged\n```\n"), "an untagged block fails");
    assert!(panics("```yaml\na: 1\n```\n"), "an unknown tag fails");

    assert_eq!(words("a 'b c' \"d \\\"e\\\"\" f\\ g # h").unwrap(), ["a", "b c", "d \"e\"", "f g"]);
    assert!(words("custlens run | head").unwrap_err().contains("one command"));
    assert!(words("custlens run > log").is_err());

    let sub = |line: &str| substitute(line).map(|i| (i.env, i.args.join(" ")));
    assert_eq!(sub("custlens ingest --input exports/").unwrap().1, "ingest --input .");
    assert_eq!(sub("custlens gen --out DIR --customers 100000").unwrap().1, "gen --out gen --customers 600");
    assert_eq!(
        sub("custlens analyze --out DIR --as-of=TIMESTAMP").unwrap().1,
        "analyze --out out --as-of=2024-06-30T00:00:00Z"
    );
    assert_eq!(sub("custlens forget --customer ID").unwrap().1, "forget --customer {customer}");
    assert_eq!(
        sub("custlens run --input GEN_DIR --config GEN_DIR/custlens.toml --set currency.base=CNY").unwrap().1,
        "run --input {gen} --config {gen}/custlens.toml --set currency.base=CNY"
    );
    assert_eq!(sub("custlens bench --scale m --json FILE").unwrap().1, "bench --json bench.json --customers 200");
    assert_eq!(sub("custlens bench --suite ingest").unwrap().1, "bench --suite ingest --rows 2000");
    let (env, args) = sub("RUST_LOG=debug custlens analyze").unwrap();
    assert_eq!((env, args.as_str()), (vec![("RUST_LOG".to_string(), "debug".to_string())], "analyze"));
    assert_eq!(
        sub("custlens ingest --input FILE --format NAME").unwrap().1,
        "ingest --input shopify_orders.csv --format shopify"
    );
    assert_eq!(
        sub("custlens ingest --input FILE --format canonical").unwrap().1,
        "ingest --input products.csv --format canonical"
    );
    let err = sub("custlens ingest --input FILE --mapping MAPPING").unwrap_err();
    assert!(err.contains("`MAPPING`") && err.contains("SUBSTITUTIONS"), "{err}");
    let err = sub("custlens forget --email ID").unwrap_err();
    assert!(err.contains("`ID`"), "a placeholder is known after its own flag only: {err}");
}
