//! The only place that reads the time: [`SystemClock`] for the daemon,
//! [`ManualClock`] for tests and `coachmail demo`, which move weeks in
//! milliseconds.
//!
//! Owns nothing but "what time is it". The pure core (schedule, analysis,
//! understand) never calls a clock: it is handed `now` as a value.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};

/// A source of the current instant.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to. Clones share one time: set or
/// advance it through any clone and every holder sees the new instant.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock to `t` (backwards too: tests may need it).
    pub fn set(&self, t: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = t;
    }

    /// Moves the clock forward by `by` and returns the new instant.
    pub fn advance(&self, by: Duration) -> DateTime<Utc> {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
        *now
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        // A poisoned lock still holds a valid instant: a panic elsewhere
        // cannot leave a half-written DateTime behind.
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn manual_clock_clones_share_one_time() {
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let a = ManualClock::new(start);
        let b = a.clone();
        assert_eq!(b.advance(Duration::days(7)), start + Duration::days(7));
        assert_eq!(a.now(), start + Duration::days(7));
        a.set(start);
        assert_eq!(b.now(), start);
    }

    #[test]
    fn manual_clock_works_behind_a_trait_object() {
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let manual = ManualClock::new(start);
        let clock: Arc<dyn Clock> = Arc::new(manual.clone());
        manual.advance(Duration::minutes(5));
        assert_eq!(clock.now(), start + Duration::minutes(5));
    }

    #[test]
    fn system_clock_reads_the_present_not_the_epoch() {
        let floor = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        assert!(SystemClock.now() > floor);
    }
}
