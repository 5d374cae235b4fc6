//! The operator's command line: commands, exit codes and next-step messages.
//!
//! Owns mapping every error to a sysexits code (0 ok, 64 usage, 65 bad
//! input, 74 I/O, 75 try again, 78 config) and a line that says what to do.
//! Never prints private content except where the operator asked for it
//! (`parse` shows what a message would do).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, snapshot};

mod error;
mod ops;

pub use error::{Caller, CliError, exit, exit_code};

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
        /// Also write the service's logs (to standard error) as it runs.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Read one message on standard input and apply it (for an MTA pipe).
    /// Exits 0 when done (or quarantined after failing three times), 65 for
    /// an empty message (recorded), 75 for every local fault (the MTA
    /// retries later).
    Ingest,
    /// Validate the config, framework and templates; print each PM's next
    /// form and digest times in their local time.
    Check {
        /// One JSON object instead of text, for scripts and monitoring.
        #[arg(long)]
        json: bool,
    },
    /// Show what each message would do, as one JSON line each, without
    /// writing anything. Reads standard input when no FILE is given.
    Parse { files: Vec<PathBuf> },
    /// What needs attention: the outbox (pending, dead letters), replies
    /// waiting in the inbox, quarantined messages, the last store error,
    /// and the last 7 days of inbound mail by kind and reason. Exits 1
    /// when something needs attention. Creates nothing.
    Status {
        /// One JSON object instead of text, for scripts and monitoring.
        #[arg(long)]
        json: bool,
    },
    /// Send this week's form to a PM now (onboarding a new PM, or trying
    /// the loop at once). The scheduled send then finds it done: never twice.
    SendForm {
        /// The PM's key in the config's roster.
        pm: String,
    },
    /// Write a sample reply from a PM to their latest form into the Maildir
    /// inbox, as their mail client would (to try the loop by hand).
    SampleReply {
        /// The PM's key in the config's roster.
        pm: String,
        /// The score given to every skill.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=5))]
        score: u8,
    },
    /// Copy the database to PATH with SQLite's online backup.
    Backup { path: PathBuf },
    /// Put a quarantined message back (after fixing what made it fail):
    /// into the Maildir's new/ to be read on the next pass, or, without a
    /// Maildir, applied at once. `coachmail status` lists the IDs.
    Requeue {
        /// The quarantine ID `coachmail status` shows.
        id: i64,
    },
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
    // The demo prints its summary; its logs only with -v.
    let level = match &cli.command {
        Command::Demo { verbose: false, .. } => "warn",
        _ => "info",
    };
    crate::daemon::init_logging(level);
    let caller = match cli.command {
        Command::Ingest => Caller::MailServer,
        _ => Caller::Operator,
    };
    // An MTA bounces a message to its sender on any exit code but 0 and 75:
    // an unexpected panic while ingesting must mean "try again later".
    let outcome = match std::panic::catch_unwind(|| run(cli)) {
        Ok(outcome) => outcome,
        Err(_) if caller == Caller::MailServer => {
            eprintln!("coachmail: internal error while ingesting; the MTA should retry (exit 75)");
            return ExitCode::from(exit::TEMPFAIL);
        }
        Err(_) => return ExitCode::from(exit::SOFTWARE),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        // The reader went away (`coachmail check | head -1`): not a failure.
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("coachmail: {e}");
            ExitCode::from(exit_code(&e, caller))
        }
    }
}

fn run(cli: Cli) -> Result<u8, CliError> {
    let config_path = cli.config.clone();
    let load = || Config::load(&config_path);
    match cli.command {
        Command::Parse { files } => ops::parse(load()?, &files),
        // `run` and `check` load the files and leave a snapshot of the
        // result beside the database; `ingest` uses it while the files
        // are unchanged (a large roster's TOML is the bulk of its start).
        Command::Check { json } => ops::check(snapshot::load_and_save(&config_path)?, json),
        Command::Ingest => ops::ingest(snapshot::load(&config_path)?.0),
        Command::Run => ops::run_service(snapshot::load_and_save(&config_path)?),
        Command::Demo {
            weeks, pms, dir, ..
        } => ops::demo(load()?, weeks, pms, &dir),
        Command::Status { json } => ops::status(load()?, json),
        Command::Backup { path } => ops::backup(load()?, &path),
        Command::Requeue { id } => ops::requeue(load()?, id),
        Command::SendForm { pm } => ops::send_form(load()?, &pm),
        Command::SampleReply { pm, score } => ops::sample_reply(load()?, &pm, score),
    }
}
