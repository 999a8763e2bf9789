//! The `custlens` binary: parse arguments, run, map errors to exit codes.

use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use custlens::cli::{self, Cli};

fn main() {
    let cli = Cli::parse();
    cli::init_logging(&cli.global);
    if let Err(e) = cli::run(cli) {
        let code = e.exit_code();
        eprintln!("error: {:#}", anyhow::Error::from(e));
        std::process::exit(code);
    }
}
