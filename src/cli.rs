//! The operator's command line: commands, exit codes and next-step messages.
//!
//! Owns mapping every error to a sysexits code (0 ok, 64 usage, 65 bad
//! input, 74 I/O, 75 try again, 78 config) and a line that says what to do.
//! Never prints private content except where the operator asked for it
//! (`parse` shows what a message would do).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError};

/// sysexits(3) codes used by coachmail.
pub mod exit {
    pub const OK: u8 = 0;
    pub const USAGE: u8 = 64;
    pub const DATAERR: u8 = 65;
    pub const SOFTWARE: u8 = 70;
    pub const IOERR: u8 = 74;
    pub const TEMPFAIL: u8 = 75;
    pub const CONFIG: u8 = 78;
}

#[derive(Debug, Parser)]
#[command(
    name = "coachmail",
    version,
    about = "Weekly self-assessment for product managers and their coaches, entirely by email"
)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, global = true, env = "COACHMAIL_CONFIG", default_value = crate::config::DEFAULT_PATH)]
    pub config: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: send forms, reminders and digests on schedule, read
    /// replies, deliver the outbox. Stops cleanly on SIGTERM or Ctrl-C.
    Run,
    /// Simulate weeks of the loop in seconds, with simulated PM replies, in a
    /// scratch folder (the real database is not touched).
    Demo {
        /// How many weeks to simulate.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=520))]
        weeks: u32,
        /// Simulate this many PMs instead of the config's roster (for load tests).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        pms: Option<u32>,
        /// Where to put the demo's database, outbox and inbox.
        #[arg(long, default_value = "var/demo")]
        dir: PathBuf,
    },
    /// Read one message on standard input and apply it (for an MTA pipe).
    /// Exits 0 when done, 65 for malformed input (recorded), 75 when the
    /// store is busy (the MTA should retry).
    Ingest,
    /// Validate the config, framework and templates; print each PM's next
    /// form and digest times in their local time.
    Check,
    /// Show what each message would do, as one JSON line each, without
    /// writing anything. Reads standard input when no FILE is given.
    Parse { files: Vec<PathBuf> },
    /// Show the outbox: queue depth, oldest pending, dead letters.
    Status,
    /// Copy the database to PATH with SQLite's online backup.
    Backup { path: PathBuf },
}

/// Every way a command can fail, each with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Malformed(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) => exit::CONFIG,
            CliError::Engine(e) => e.exit_code(),
            CliError::Io(_) => exit::IOERR,
            CliError::Malformed(_) => exit::DATAERR,
        }
    }
}

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::OK
                }
                _ => exit::USAGE,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    crate::daemon::init_logging();
    let is_ingest = matches!(cli.command, Command::Ingest);
    // An MTA bounces a message to its sender on any exit code but 0 and 75:
    // an unexpected panic while ingesting must mean "try again later".
    let outcome = match std::panic::catch_unwind(|| run(cli)) {
        Ok(outcome) => outcome,
        Err(_) if is_ingest => {
            eprintln!("coachmail: internal error while ingesting; the MTA should retry (exit 75)");
            return ExitCode::from(exit::TEMPFAIL);
        }
        Err(_) => return ExitCode::from(exit::SOFTWARE),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("coachmail: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<u8, CliError> {
    let config_path = cli.config.clone();
    let load = || Config::load(&config_path);
    match cli.command {
        Command::Parse { files } => crate::commands::parse(load()?, &files),
        Command::Check => crate::commands::check(load()?),
        Command::Ingest => crate::commands::ingest(load()?),
        Command::Run => crate::commands::run_service(load()?),
        Command::Demo { weeks, pms, dir } => crate::commands::demo(load()?, weeks, pms, &dir),
        Command::Status => crate::commands::status(load()?),
        Command::Backup { path } => crate::commands::backup(load()?, &path),
    }
}
