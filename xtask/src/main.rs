//! Project tasks: `cargo xtask demo`, `cargo xtask summaries` and `cargo xtask bench` (see README).
//!
//! No argument parser on purpose: a handful of flags, read by hand.

mod bench;
mod demo;
mod summaries;
mod util;

use anyhow::{Result, bail};

const USAGE: &str = "\
usage: cargo xtask <task> [flags]

tasks:
  demo [--path DIR]     start the fake GitHub with sample artifacts, fetch them with the
                        release artifetch binary, print the files and the job summary
  summaries             render every job-summary snapshot (tests/snapshots/*.snap) to
                        target/summaries/index.html, to look at them as GitHub shows them
  bench [flags]         benchmark the release binary against the fake GitHub on loopback
                        (cargo xtask bench --help lists the flags)
";

fn main() {
    if let Err(e) = real_main() {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    match task.as_deref() {
        Some("demo") => demo::main(&rest),
        Some("bench") => bench::main(&rest),
        Some("summaries") => summaries::main(),
        // Internal: run by the benchmark to spawn and measure one child (see bench::measure).
        Some("__measure") => bench::measure_child(&rest),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown task '{other}'\n{USAGE}"),
    }
}
