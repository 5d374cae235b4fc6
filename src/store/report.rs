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
