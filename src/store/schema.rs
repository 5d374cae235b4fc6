//! The database schema as an ordered, append-only list of migrations,
//! tracked in `PRAGMA user_version`.
//!
//! Owns every `CREATE`. Never edit or reorder a shipped migration: append a
//! new one. All pending migrations apply in one transaction; a database newer
//! than this binary is refused, never touched.
//!
//! Conventions: times are INTEGER milliseconds since the Unix epoch (UTC),
//! weeks are TEXT `2026-W48` (sorts correctly), people are their config keys.
//! Big tables (answers, notes, inbound, outbox) carry no foreign keys, so a
//! `forget` never scans them for a parent check; the roster tables do.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::error::StoreError;

/// Each entry moves the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the weekly loop, PM commands and privacy.
    r#"
CREATE TABLE coaches (
    key      TEXT PRIMARY KEY,
    since    INTEGER NOT NULL,
    left_at  INTEGER
) STRICT;

CREATE TABLE pms (
    key      TEXT PRIMARY KEY,
    coach    TEXT NOT NULL REFERENCES coaches(key),
    since    INTEGER NOT NULL,
    left_at  INTEGER
) STRICT;

-- Who coached whom, when: one open row (until NULL) per active PM.
CREATE TABLE pairings (
    id     INTEGER PRIMARY KEY,
    pm     TEXT NOT NULL REFERENCES pms(key),
    coach  TEXT NOT NULL REFERENCES coaches(key),
    since  INTEGER NOT NULL,
    until  INTEGER
) STRICT;
CREATE INDEX pairings_by_pm ON pairings(pm, since);
CREATE INDEX pairings_by_coach ON pairings(coach);

CREATE TABLE forms (
    id          INTEGER PRIMARY KEY,
    pm          TEXT NOT NULL,
    week        TEXT NOT NULL,
    reply_key   TEXT NOT NULL UNIQUE,
    message_id  TEXT NOT NULL UNIQUE,
    sent_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX forms_by_pm_week ON forms(pm, week);

-- One row per inbound message, whatever became of it. No body, no address.
CREATE TABLE inbound (
    id           INTEGER PRIMARY KEY,
    dedup_key    TEXT NOT NULL UNIQUE,
    pm           TEXT,
    kind         TEXT NOT NULL
                 CHECK (kind IN ('assessment', 'command', 'ignored', 'rejected')),
    reason       TEXT,
    week         TEXT,
    sender_hash  TEXT,
    received_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX inbound_by_sender ON inbound(sender_hash, received_at);
CREATE INDEX inbound_by_pm ON inbound(pm) WHERE pm IS NOT NULL;

-- Raw messages, kept only for retention_days.
CREATE TABLE raw_inbound (
    inbound_id   INTEGER PRIMARY KEY REFERENCES inbound(id) ON DELETE CASCADE,
    bytes        BLOB NOT NULL,
    received_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX raw_by_received ON raw_inbound(received_at);

-- A correction supersedes (superseded_at set), never deletes. score NULL =
-- skipped on purpose. Two partial indexes split current from superseded
-- rows, so the hot "current answers of a PM" reads stay small at 40M rows.
CREATE TABLE answers (
    id             INTEGER PRIMARY KEY,
    pm             TEXT NOT NULL,
    week           TEXT NOT NULL,
    skill          TEXT NOT NULL,
    score          INTEGER CHECK (score BETWEEN 1 AND 5),
    received_at    INTEGER NOT NULL,
    inbound_id     INTEGER,
    superseded_at  INTEGER
) STRICT;
CREATE UNIQUE INDEX answers_current ON answers(pm, week, skill)
    WHERE superseded_at IS NULL;
CREATE INDEX answers_superseded ON answers(pm, week, skill)
    WHERE superseded_at IS NOT NULL;

CREATE TABLE notes (
    id           INTEGER PRIMARY KEY,
    pm           TEXT NOT NULL,
    week         TEXT NOT NULL,
    text         TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    inbound_id   INTEGER
) STRICT;
CREATE INDEX notes_by_pm_week ON notes(pm, week);

-- Everything sent goes through here, in the transaction that caused it.
-- message is cleared once sent: only the idempotency key must stay.
CREATE TABLE outbox (
    id                INTEGER PRIMARY KEY,
    key               TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL,
    pm                TEXT,
    recipient         TEXT NOT NULL,
    message           BLOB,
    status            TEXT NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'sent', 'dead')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER NOT NULL,
    last_error_class  TEXT,
    created_at        INTEGER NOT NULL,
    sent_at           INTEGER,
    dead_at           INTEGER
) STRICT;
CREATE INDEX outbox_due ON outbox(next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_dead ON outbox(dead_at) WHERE status = 'dead';
CREATE INDEX outbox_by_created ON outbox(created_at);
CREATE INDEX outbox_by_pm ON outbox(pm) WHERE pm IS NOT NULL;

-- What a PM asked for (pause, export, forget...): kind and dates, no content.
CREATE TABLE events (
    id     INTEGER PRIMARY KEY,
    pm     TEXT NOT NULL,
    kind   TEXT NOT NULL,
    week   TEXT,
    until  INTEGER,
    at     INTEGER NOT NULL
) STRICT;
CREATE INDEX events_by_pm ON events(pm, at);

CREATE TABLE pauses (
    id          INTEGER PRIMARY KEY,
    pm          TEXT NOT NULL,
    starts_at   INTEGER NOT NULL,
    until       INTEGER NOT NULL,
    resumed_at  INTEGER
) STRICT;
CREATE INDEX pauses_by_pm ON pauses(pm, starts_at);

CREATE TABLE skips (
    pm    TEXT NOT NULL,
    week  TEXT NOT NULL,
    at    INTEGER NOT NULL,
    PRIMARY KEY (pm, week)
) STRICT, WITHOUT ROWID;

CREATE TABLE forget_tokens (
    token       TEXT PRIMARY KEY,
    pm          TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX forget_tokens_by_pm ON forget_tokens(pm);
"#,
    // 2: the schedule reads recent weeks for the whole roster every tick.
    r#"
CREATE INDEX forms_by_week ON forms(week, pm);
CREATE INDEX answers_current_by_week ON answers(week, pm) WHERE superseded_at IS NULL;
CREATE INDEX skips_by_week ON skips(week, pm);
-- Covering: the recent idempotency keys are read without touching the
-- table's pages (which hold the queued messages).
CREATE INDEX outbox_keys_by_created ON outbox(created_at, key);
"#,
    // 3: where the IMAP reader got to, per mailbox (server, user, folder).
    r#"
CREATE TABLE imap_state (
    mailbox       TEXT PRIMARY KEY,
    uid_validity  INTEGER NOT NULL,
    last_uid      INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
"#,
    // 4: a lean store for years of history.
    r#"
-- outbox_keys_by_created (created_at, key) serves every read by created_at.
DROP INDEX outbox_by_created;
-- A delivered row keeps what idempotency, forget and status need: no
-- address, no message.
UPDATE outbox SET recipient = '', message = NULL
 WHERE status = 'sent' AND (recipient <> '' OR message IS NOT NULL);
-- The PM-weeks with a current answer, recent weeks only (pruned with the
-- raw messages): the schedule reads these instead of a DISTINCT over
-- every answer of the recent weeks.
CREATE TABLE answered_weeks (
    week  TEXT NOT NULL,
    pm    TEXT NOT NULL,
    PRIMARY KEY (week, pm)
) STRICT, WITHOUT ROWID;
INSERT INTO answered_weeks (week, pm)
    SELECT DISTINCT week, pm FROM answers WHERE superseded_at IS NULL;
-- Pauses in force or recently over, found without reading every pause.
CREATE INDEX pauses_by_end ON pauses(COALESCE(resumed_at, until));
"#,
    // 5: privacy. Rate limits per authorized PM; a per-install secret for
    // the keyed sender hashes (the plain digests logged before are
    // dropped); history a PM chose to share with their current coach.
    r#"
CREATE INDEX inbound_by_pm_received ON inbound(pm, received_at) WHERE pm IS NOT NULL;
UPDATE inbound SET sender_hash = NULL;
CREATE TABLE install_secret (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    secret  BLOB NOT NULL
) STRICT;
INSERT INTO install_secret (id, secret) VALUES (1, randomblob(32));
CREATE TABLE history_shares (
    pm     TEXT NOT NULL,
    coach  TEXT NOT NULL,
    at     INTEGER NOT NULL,
    PRIMARY KEY (pm, coach)
) STRICT, WITHOUT ROWID;
"#,
    // 6: inbound messages whose handling failed for a reason of their own
    // (a panic, an error that is not the machine's): attempts counted per
    // message (the hash of its bytes), quarantined after too many. The raw
    // bytes are kept only for a quarantined message with no file of its
    // own (`ingest`, IMAP), so `requeue` can put it back.
    r#"
CREATE TABLE inbound_failures (
    id              INTEGER PRIMARY KEY,
    msg_hash        TEXT NOT NULL UNIQUE,
    source          TEXT NOT NULL CHECK (source IN ('maildir', 'ingest', 'imap')),
    file            TEXT,
    attempts        INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    first_at        INTEGER NOT NULL,
    last_at         INTEGER NOT NULL,
    quarantined_at  INTEGER,
    raw             BLOB
) STRICT;
CREATE INDEX inbound_failures_quarantined ON inbound_failures(quarantined_at)
    WHERE quarantined_at IS NOT NULL;
"#,
    // 7: the coach's side of the loop. Each digest's own secret reply key,
    // bound to the pairing it was sent in; what a coach's reply to it
    // recorded, per pairing: agreed actions (open until done or dropped),
    // private notes (the coach's only) and 1:1 changes. No foreign keys,
    // like the other per-PM tables: `forget` deletes these by `pm`.
    r#"
CREATE TABLE digest_keys (
    id          INTEGER PRIMARY KEY,
    reply_key   TEXT NOT NULL UNIQUE,
    pm          TEXT NOT NULL,
    coach       TEXT NOT NULL,
    pairing     INTEGER NOT NULL,
    week        TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    sent_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX digest_keys_by_pairing ON digest_keys(pairing, sent_at);
CREATE INDEX digest_keys_by_pm ON digest_keys(pm);
CREATE INDEX digest_keys_by_expiry ON digest_keys(expires_at);

CREATE TABLE actions (
    id          INTEGER PRIMARY KEY,
    pairing     INTEGER NOT NULL,
    pm          TEXT NOT NULL,
    coach       TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    inbound_id  INTEGER,
    status      TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'done', 'dropped')),
    closed_at   INTEGER
) STRICT;
CREATE INDEX actions_open_by_pairing ON actions(pairing, id) WHERE status = 'open';
CREATE INDEX actions_by_pm ON actions(pm, id);

CREATE TABLE coach_notes (
    id           INTEGER PRIMARY KEY,
    pairing      INTEGER NOT NULL,
    pm           TEXT NOT NULL,
    coach        TEXT NOT NULL,
    text         TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    inbound_id   INTEGER
) STRICT;
CREATE INDEX coach_notes_by_pairing ON coach_notes(pairing, received_at);
CREATE INDEX coach_notes_by_pm ON coach_notes(pm);

-- A 1:1 change as the coach wrote it (JSON of the reader's value); the
-- schedule applies a current pairing's changes in the order received.
CREATE TABLE schedule_changes (
    id           INTEGER PRIMARY KEY,
    pairing      INTEGER NOT NULL,
    pm           TEXT NOT NULL,
    coach        TEXT NOT NULL,
    change       TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    inbound_id   INTEGER
) STRICT;
CREATE INDEX schedule_changes_by_pairing ON schedule_changes(pairing, received_at);
CREATE INDEX schedule_changes_by_pm ON schedule_changes(pm);
"#,
    // 8: a PM's answers to the actions of their pairing, one row per answer
    // read from a reply (the newest per action counts).
    r#"
CREATE TABLE action_answers (
    id           INTEGER PRIMARY KEY,
    action       INTEGER NOT NULL,
    pairing      INTEGER NOT NULL,
    pm           TEXT NOT NULL,
    week         TEXT NOT NULL,
    answer       TEXT NOT NULL CHECK (answer IN ('done', 'partly', 'not_yet')),
    comment      TEXT,
    received_at  INTEGER NOT NULL,
    inbound_id   INTEGER
) STRICT;
CREATE INDEX action_answers_by_action ON action_answers(action, received_at);
CREATE INDEX action_answers_by_pm ON action_answers(pm);
"#,
    // 9, lean indexes: two indexes no statement needs, about a sixth of
    // the database at scale. Every read of answers starts from the PM
    // (answers_current), and the recent answered weeks the schedule reads
    // by week have their own table (answered_weeks); inbound_by_pm is the
    // prefix of inbound_by_pm_received.
    r#"
DROP INDEX answers_current_by_week;
DROP INDEX inbound_by_pm;
"#,
];

/// The schema version this binary writes.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database to [`latest_version`], or refuses one that is newer.
/// Returns the versions applied (empty when already current).
pub(crate) fn migrate(
    conn: &mut Connection,
    path: &Path,
) -> Result<std::ops::Range<i64>, StoreError> {
    let supported = latest_version();
    let found = user_version(conn).map_err(|e| StoreError::sql(path, e))?;
    check_not_newer(path, found, supported)?;
    if found == supported {
        return Ok(found..found);
    }
    // Immediate: take the write lock first, then re-read the version, so two
    // processes opening a fresh file at once do not both migrate it.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| StoreError::sql(path, e))?;
    let found = user_version(&tx).map_err(|e| StoreError::sql(path, e))?;
    check_not_newer(path, found, supported)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let version = i as i64 + 1;
        tx.execute_batch(sql)
            .map_err(|source| migration_error(path, version, source))?;
    }
    tx.pragma_update(None, "user_version", supported)
        .map_err(|source| migration_error(path, supported, source))?;
    tx.commit()
        .map_err(|source| migration_error(path, supported, source))?;
    Ok(found..supported)
}

fn migration_error(path: &Path, version: i64, source: rusqlite::Error) -> StoreError {
    match StoreError::sql(path, source) {
        StoreError::Sql { source, .. } => StoreError::Migration {
            path: path.to_path_buf(),
            version,
            source,
        },
        other => other,
    }
}

fn check_not_newer(path: &Path, found: i64, supported: i64) -> Result<(), StoreError> {
    if found > supported {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            supported,
        });
    }
    Ok(())
}

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}
