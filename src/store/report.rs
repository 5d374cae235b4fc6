//! What `coachmail status` reports about inbound mail: counts by kind and
//! reason, never content (reasons are content-free by construction).

use chrono::{DateTime, Utc};

use super::error::At;
use super::{Store, StoreError, ms};

/// Inbound messages of one kind and reason since a moment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InboundCount {
    pub kind: String,
    pub reason: Option<String>,
    pub count: u64,
}

impl Store {
    /// Inbound messages received at or after `since`, by kind and reason,
    /// most frequent first.
    pub fn inbound_summary(&self, since: DateTime<Utc>) -> Result<Vec<InboundCount>, StoreError> {
        let p = &self.path;
        let mut s = self
            .conn
            .prepare(
                "SELECT kind, reason, count(*) FROM inbound WHERE received_at >= ?1
                 GROUP BY kind, reason ORDER BY count(*) DESC, kind, reason",
            )
            .at(p)?;
        let rows = s
            .query_map([ms(since)], |r| {
                Ok(InboundCount {
                    kind: r.get(0)?,
                    reason: r.get(1)?,
                    count: r.get::<_, i64>(2)?.max(0) as u64,
                })
            })
            .at(p)?;
        rows.map(|r| r.at(p)).collect()
    }
}

/// What coaches recorded, counted over every pairing (for `demo`'s
/// summary): never any text.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CoachCounts {
    pub actions: u64,
    pub actions_done: u64,
    pub actions_dropped: u64,
    pub private_notes: u64,
    pub schedule_changes: u64,
}

impl Store {
    /// Counts of the coach's side of the loop.
    pub fn coach_counts(&self) -> Result<CoachCounts, StoreError> {
        let p = &self.path;
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM actions),
                        (SELECT count(*) FROM actions WHERE status = 'done'),
                        (SELECT count(*) FROM actions WHERE status = 'dropped'),
                        (SELECT count(*) FROM coach_notes),
                        (SELECT count(*) FROM schedule_changes)",
                [],
                |r| {
                    let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
                    Ok(CoachCounts {
                        actions: n(0)?,
                        actions_done: n(1)?,
                        actions_dropped: n(2)?,
                        private_notes: n(3)?,
                        schedule_changes: n(4)?,
                    })
                },
            )
            .at(p)
    }
}
