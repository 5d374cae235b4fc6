//! Where replies come from: a Maildir, standard input, and IMAP ([`imap`]).
//!
//! Owns reading raw messages and acknowledging them to their source. A
//! message is acknowledged (Maildir `new/` → `cur/`) only after the caller
//! says its effects are committed. A message whose handling keeps failing
//! is moved, when the caller says so, to the Maildir's quarantine folder
//! ([`QUARANTINE_FOLDER`]), and back with `requeue`. Never interprets a
//! message.

use std::io::Read;
use std::path::{Path, PathBuf};

pub mod imap;

pub use imap::{EraseRequest, Handled, ImapError, ImapMessage, ImapReader};

/// Why an inbound source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error("cannot use the Maildir {}: {source}. Check that the folder exists and is writable by the service user", dir.display())]
    Maildir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the message from standard input: {0}")]
    Stdin(std::io::Error),
}

/// One message waiting in a Maildir's `new/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaildirMessage {
    pub path: PathBuf,
}

/// A Maildir (`new/`, `cur/`, `tmp/`) watched for replies.
#[derive(Clone, Debug)]
pub struct Maildir {
    dir: PathBuf,
}

impl Maildir {
    /// Opens the Maildir at `dir`, creating its three folders if missing.
    pub fn open(dir: &Path) -> Result<Maildir, InboundError> {
        use std::os::unix::fs::DirBuilderExt;
        for sub in ["new", "cur", "tmp"] {
            // Replies hold scores and notes: folders we create are 0700.
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir.join(sub))
                .map_err(|source| InboundError::Maildir {
                    dir: dir.to_path_buf(),
                    source,
                })?;
        }
        Ok(Maildir {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Messages in `new/`, oldest file name first (Maildir names start with
    /// the delivery time, so this is arrival order).
    pub fn pending(&self) -> Result<Vec<MaildirMessage>, InboundError> {
        let err = |source| InboundError::Maildir {
            dir: self.dir.clone(),
            source,
        };
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.dir.join("new")).map_err(err)? {
            let entry = entry.map_err(err)?;
            if entry.file_type().map_err(err)?.is_file()
                && !entry.file_name().to_string_lossy().starts_with('.')
            {
                out.push(MaildirMessage { path: entry.path() });
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Reads a message, at most `limit + 1` bytes (so an oversize message is
    /// seen as such without being read whole).
    pub fn read(&self, msg: &MaildirMessage, limit: usize) -> Result<Vec<u8>, InboundError> {
        let file = std::fs::File::open(&msg.path).map_err(|source| InboundError::Maildir {
            dir: self.dir.clone(),
            source,
        })?;
        read_bounded(file, limit).map_err(|source| InboundError::Maildir {
            dir: self.dir.clone(),
            source,
        })
    }

    /// Marks a message handled: moves it to `cur/` with the Seen flag.
    /// Call only after its effects are committed.
    pub fn acknowledge(&self, msg: &MaildirMessage) -> Result<(), InboundError> {
        let name = msg
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let base = name.split(":2,").next().unwrap_or(&name);
        let to = self.dir.join("cur").join(format!("{base}:2,S"));
        std::fs::rename(&msg.path, to).map_err(|source| InboundError::Maildir {
            dir: self.dir.clone(),
            source,
        })
    }

    /// Delivers a message into `new/` the Maildir way (write to `tmp/`,
    /// then rename). Used by the demo and tests to play a mail server.
    /// Deletes a message that must keep no copy (refused or ignored mail),
    /// once its log row is committed.
    pub fn discard(&self, msg: &MaildirMessage) -> Result<(), InboundError> {
        std::fs::remove_file(&msg.path).map_err(|source| InboundError::Maildir {
            dir: self.dir.clone(),
            source,
        })
    }

    /// Deletes the processed messages (in `cur/`) whose bytes `matches`
    /// picks: a forgotten PM's mail, or mail past retention.
    pub fn remove_processed(&self, matches: impl Fn(&[u8]) -> bool) -> Result<usize, InboundError> {
        let err = |source| InboundError::Maildir {
            dir: self.dir.clone(),
            source,
        };
        let mut removed = 0;
        for entry in std::fs::read_dir(self.dir.join("cur")).map_err(err)? {
            let path = entry.map_err(err)?.path();
            if !path.is_file() {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(err)?;
            if matches(&bytes) {
                std::fs::remove_file(&path).map_err(err)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    pub fn deliver(&self, unique: &str, bytes: &[u8]) -> Result<PathBuf, InboundError> {
        let err = |source| InboundError::Maildir {
            dir: self.dir.clone(),
            source,
        };
        let tmp = self.dir.join("tmp").join(unique);
        std::fs::write(&tmp, bytes).map_err(err)?;
        let new = self.dir.join("new").join(unique);
        std::fs::rename(&tmp, &new).map_err(err)?;
        Ok(new)
    }
}

/// The Maildir++ sub-folder quarantined messages are kept in, beside
/// `new/`, `cur/` and `tmp/`: IMAP servers such as Dovecot show it as a
/// folder named "Quarantine", and the service never reads it.
pub const QUARANTINE_FOLDER: &str = ".Quarantine";

impl MaildirMessage {
    /// The file name without its Maildir flags (`:2,…`).
    pub fn base_name(&self) -> String {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        name.split(":2,").next().unwrap_or(&name).to_string()
    }
}

impl Maildir {
    /// Moves a message that keeps failing out of `new/`, into the
    /// quarantine folder's `cur/` (unseen); returns its file name there.
    pub fn quarantine(&self, msg: &MaildirMessage) -> Result<String, InboundError> {
        use std::os::unix::fs::DirBuilderExt;
        let err = |source| InboundError::Maildir {
            dir: self.dir.clone(),
            source,
        };
        let folder = self.dir.join(QUARANTINE_FOLDER);
        for sub in ["new", "cur", "tmp"] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(folder.join(sub))
                .map_err(err)?;
        }
        let name = format!("{}:2,", msg.base_name());
        std::fs::rename(&msg.path, folder.join("cur").join(&name)).map_err(err)?;
        Ok(name)
    }

    /// Puts a quarantined message (by its file name, with or without its
    /// Maildir flags) back into `new/`, to be read again on the next pass.
    pub fn requeue(&self, file: &str) -> Result<PathBuf, InboundError> {
        let err = |source| InboundError::Maildir {
            dir: self.dir.clone(),
            source,
        };
        // A file name from the database, never a path.
        if file.is_empty() || file.contains('/') || file.starts_with('.') {
            return Err(err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a quarantined file name",
            )));
        }
        let base = file.split(":2,").next().unwrap_or(file);
        let cur = self.dir.join(QUARANTINE_FOLDER).join("cur");
        // The flags may have changed (an IMAP client marked it seen).
        let from = std::fs::read_dir(&cur)
            .map_err(err)?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .map(|n| n.to_string_lossy())
                    .is_some_and(|n| n.split(":2,").next() == Some(base))
            })
            .unwrap_or_else(|| cur.join(file));
        let to = self.dir.join("new").join(base);
        std::fs::rename(&from, &to).map_err(err)?;
        Ok(to)
    }

    /// How many messages wait in the quarantine folder.
    pub fn quarantined_files(&self) -> usize {
        std::fs::read_dir(self.dir.join(QUARANTINE_FOLDER).join("cur"))
            .map(|d| d.flatten().count())
            .unwrap_or(0)
    }
}

/// Reads at most `limit + 1` bytes from `r`.
pub fn read_bounded(r: impl Read, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(limit as u64 + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Reads one message from standard input (for `coachmail ingest`).
pub fn read_stdin(limit: usize) -> Result<Vec<u8>, InboundError> {
    read_bounded(std::io::stdin().lock(), limit).map_err(InboundError::Stdin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivered_message_is_pending_until_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::open(&dir.path().join("inbox")).unwrap();
        md.deliver("1700000000.1.host", b"Subject: a\r\n\r\nx")
            .unwrap();
        md.deliver("1700000001.2.host", b"Subject: b\r\n\r\ny")
            .unwrap();
        let pending = md.pending().unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!(md.read(&pending[0], 100).unwrap(), b"Subject: a\r\n\r\nx");
        md.acknowledge(&pending[0]).unwrap();
        assert_eq!(md.pending().unwrap(), vec![pending[1].clone()]);
        assert!(md.dir().join("cur/1700000000.1.host:2,S").exists());
    }

    #[test]
    fn a_quarantined_message_leaves_new_and_comes_back_on_requeue() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::open(&dir.path().join("inbox")).unwrap();
        md.deliver("1700000000.1.host", b"Subject: a\r\n\r\nx")
            .unwrap();
        let msg = md.pending().unwrap().remove(0);
        let name = md.quarantine(&msg).unwrap();
        assert!(md.pending().unwrap().is_empty());
        assert_eq!(md.quarantined_files(), 1);
        assert!(md.requeue("../../etc/passwd").is_err());
        assert_eq!(name, "1700000000.1.host:2,");
        md.requeue("1700000000.1.host").unwrap();
        assert_eq!(md.pending().unwrap()[0].base_name(), "1700000000.1.host");
        assert_eq!(md.quarantined_files(), 0);
    }

    #[test]
    fn bounded_read_stops_one_byte_past_the_limit() {
        let data = vec![b'x'; 1000];
        assert_eq!(read_bounded(&data[..], 10).unwrap().len(), 11);
        assert_eq!(read_bounded(&data[..], 5000).unwrap().len(), 1000);
    }
}
