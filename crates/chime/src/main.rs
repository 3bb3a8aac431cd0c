//! The `chime` binary: command line, configuration and wiring.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
