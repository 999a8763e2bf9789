//! Helpers shared by the integration tests: run the binary, check its exit.

#![allow(dead_code)]

pub mod truth;

use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A Parquet file as a DataFrame.
pub fn read(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).expect("file exists")).finish().expect("valid Parquet")
}

/// Runs `custlens ARGS` in `dir` with info logs on stderr.
pub fn custlens(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custlens"))
        .current_dir(dir)
        .args(args)
        .env("RUST_LOG", "custlens=info")
        .output()
        .expect("binary runs")
}

/// Asserts a zero exit, showing stderr otherwise.
pub fn ok(o: &Output) {
    assert!(o.status.success(), "exit {:?}\nstderr:\n{}", o.status.code(), String::from_utf8_lossy(&o.stderr));
}

/// Copies a folder tree (e.g. `data/sample` into a temporary repo).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}
