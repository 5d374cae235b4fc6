//! Every way an operator's command can fail, and the one table that turns
//! a failure into a sysexits code.
//!
//! Owns the exit codes: nothing below the CLI knows them. The table asks
//! the errors what they are (`is_config`, `is_busy`, …) instead of parsing
//! their text, so a new error variant lands in the right row by saying what
//! it is.

use crate::config::ConfigError;
use crate::daemon::ServiceError;
use crate::demo::DemoError;
use crate::engine::EngineError;
use crate::inbound::InboundError;
use crate::store::StoreError;

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

/// Every way a command can fail: the real errors, wrapped.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Inbound(#[from] InboundError),
    #[error(transparent)]
    Demo(#[from] DemoError),
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    /// Standard output was closed or failed (e.g. `coachmail check | head -1`).
    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),
    /// Another `coachmail run` holds this database.
    #[error("another `coachmail run` is already using this database (it holds {}); stop it first, or point this one at another service.database", path.display())]
    AlreadyRunning { path: std::path::PathBuf },
    #[error("cannot take the lock {}: {source}. Check that the database folder is writable by this user", path.display())]
    Lock {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// Handling the message failed for a reason of its own (counted; it is
    /// quarantined after a few tries).
    #[error(
        "the message could not be applied ({reason}, try {attempts} of {limit}){detail}; nothing was applied. After {limit} tries it is quarantined (`coachmail status` lists it)"
    )]
    MessageFailed {
        reason: &'static str,
        attempts: u32,
        limit: u32,
        detail: String,
    },
    /// The operator's arguments name something that does not exist.
    #[error("{0}")]
    Usage(String),
    /// The input could not be read as a message at all.
    #[error("{0}")]
    Malformed(String),
}

impl CliError {
    /// A fault the operator fixes in the configuration or its secrets.
    pub fn is_config(&self) -> bool {
        match self {
            CliError::Config(_) => true,
            CliError::Service(e) => e.is_config(),
            CliError::Engine(e) => e.is_config(),
            CliError::Store(e) => e.is_config(),
            CliError::Demo(e) => e.is_config(),
            CliError::Inbound(_)
            | CliError::AlreadyRunning { .. }
            | CliError::Lock { .. }
            | CliError::Usage(_)
            | CliError::Runtime(_)
            | CliError::Output(_)
            | CliError::MessageFailed { .. }
            | CliError::Malformed(_) => false,
        }
    }

    /// The machine's trouble with the store (disk full, read-only, …), when
    /// this is one.
    pub fn machine_fault(&self) -> Option<&'static str> {
        match self {
            CliError::Service(e) => e.machine_fault(),
            CliError::Engine(EngineError::Store(e)) | CliError::Store(e) => e.machine_fault(),
            _ => None,
        }
    }

    /// A passing condition: the same command later will work.
    pub fn is_busy(&self) -> bool {
        match self {
            CliError::AlreadyRunning { .. } => true,
            CliError::Service(e) => e.is_busy(),
            CliError::Engine(e) => e.is_busy(),
            CliError::Store(e) => e.is_busy(),
            _ => false,
        }
    }

    /// The operator's arguments are off.
    pub fn is_usage(&self) -> bool {
        matches!(self, CliError::Usage(_)) || matches!(self, CliError::Demo(e) if e.is_usage())
    }
}

/// What kind of command failed: `ingest` answers a mail server, which
/// bounces the message to its sender on anything but 0 and 75.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Operator,
    MailServer,
}

/// The one exit-code table.
///
/// | failure | operator | mail server (`ingest`) |
/// | --- | --- | --- |
/// | unreadable input | 65 | 65 |
/// | configuration (config file, templates, secrets, database key) | 78 | 75 |
/// | busy database, another `run` on it | 75 | 75 |
/// | bad arguments | 64 | 75 |
/// | anything else local (disk, permissions, runtime), a message that failed | 74 | 75 |
pub fn exit_code(e: &CliError, caller: Caller) -> u8 {
    if let CliError::Malformed(_) = e {
        return exit::DATAERR;
    }
    if caller == Caller::MailServer {
        // Every local fault is a retry, never a bounce to the sender.
        return exit::TEMPFAIL;
    }
    if e.is_config() {
        exit::CONFIG
    } else if e.is_busy() {
        exit::TEMPFAIL
    } else if e.is_usage() {
        exit::USAGE
    } else {
        exit::IOERR
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn config_error() -> CliError {
        CliError::Config(ConfigError::Invalid {
            path: PathBuf::from("c.toml"),
            line: Some(1),
            key: "k".into(),
            problem: "p".into(),
            fix: "f".into(),
        })
    }

    #[test]
    fn configuration_faults_exit_78_for_the_operator_and_75_for_the_mail_server() {
        assert_eq!(exit_code(&config_error(), Caller::Operator), exit::CONFIG);
        assert_eq!(
            exit_code(&config_error(), Caller::MailServer),
            exit::TEMPFAIL
        );
        let key = CliError::Service(ServiceError::DatabaseKey { var: "K".into() });
        assert_eq!(exit_code(&key, Caller::Operator), exit::CONFIG);
    }

    #[test]
    fn a_busy_store_exits_75_for_everyone() {
        let busy = CliError::Store(StoreError::Busy {
            path: PathBuf::from("db"),
        });
        assert_eq!(exit_code(&busy, Caller::Operator), exit::TEMPFAIL);
        assert_eq!(exit_code(&busy, Caller::MailServer), exit::TEMPFAIL);
    }

    #[test]
    fn unreadable_input_exits_65_even_for_the_mail_server() {
        let e = CliError::Malformed("empty".into());
        assert_eq!(exit_code(&e, Caller::MailServer), exit::DATAERR);
    }

    #[test]
    fn local_faults_exit_74_for_the_operator_and_75_for_the_mail_server() {
        let e = CliError::Output(std::io::Error::other("closed"));
        assert_eq!(exit_code(&e, Caller::Operator), exit::IOERR);
        assert_eq!(exit_code(&e, Caller::MailServer), exit::TEMPFAIL);
    }

    #[test]
    fn a_folder_the_demo_must_not_touch_is_a_usage_error() {
        let e = CliError::Demo(DemoError::NotADemoFolder {
            dir: PathBuf::from("/x"),
        });
        assert_eq!(exit_code(&e, Caller::Operator), exit::USAGE);
    }
}
