//! Helpers shared by the integration tests: run the binary, check its exit.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

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
