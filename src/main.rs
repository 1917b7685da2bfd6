//! The `artifetch` binary: a thin shell over the library (see `lib.rs` for the map).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    artifetch::run::main_with(&args, &|key| std::env::var(key).ok())
}
