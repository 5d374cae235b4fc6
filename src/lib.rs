//! coachmail: weekly self-assessment for product managers and their coaches,
//! entirely by email.
//!
//! A pure core with thin edges around it. Module roles:
//!
//! * [`config`], [`framework`] — `coachmail.toml` and `framework.toml` → validated values;
//!   [`config_file`], the file text and the error both become.
//! * [`week`] — the ISO week every form, answer and digest belongs to.
//! * [`understand`] — pure: raw message bytes → what it is, who sent it, what it says.
//! * [`schedule`] — pure: what is due at `now` (forms, reminders, digests), catch-up included.
//! * [`analysis`] — pure: baselines, dips, streaks, missed weeks, trends.
//! * [`render`] — minijinja templates → complete email values.
//! * [`store`] — SQLite: people, forms, answers with history, notes, inbound log, outbox.
//! * [`outbound`] — the outbox worker and the transports that deliver (file, SMTP).
//! * [`inbound`] — where replies come from (Maildir, IMAP, stdin).
//! * [`replies`] — simulated PM replies in real clients' shapes, for `demo` and the loop tests.
//! * [`clock`] — the only place that reads the time: system or manual.
//! * [`engine`] — one step of the loop: apply due actions and inbound messages to the store;
//!   `engine::pm_commands`, one file per PM command (trend, pause, skip, export, forget…).
//! * [`reply_key`] — the secret key a form carries: made (from injected randomness), written, found again.
//! * [`daemon`] — tokio tasks, ticks and clean shutdown for `coachmail run`.
//! * [`cli`] — the operator's commands, the one exit-code table, and next-step messages.

pub mod analysis;
pub mod cli;
pub mod clock;
pub mod config;
pub mod config_file;
pub mod daemon;
pub mod demo;
pub mod engine;
pub mod framework;
pub mod inbound;
pub mod outbound;
pub mod render;
pub mod replies;
pub mod reply_key;
pub mod schedule;
pub mod store;
pub mod understand;
pub mod watchdog;
pub mod week;
