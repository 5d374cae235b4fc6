//! Where replies come from: a Maildir, standard input, and IMAP ([`imap`]).
//!
//! Owns reading raw messages and acknowledging them to their source. A
//! message is acknowledged (Maildir `new/` → `cur/`) only after the caller
//! says its effects are committed. Never interprets a message.

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
    fn bounded_read_stops_one_byte_past_the_limit() {
        let data = vec![b'x'; 1000];
        assert_eq!(read_bounded(&data[..], 10).unwrap().len(), 11);
        assert_eq!(read_bounded(&data[..], 5000).unwrap().len(), 1000);
    }
}
