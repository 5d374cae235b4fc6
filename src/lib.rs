//! coachmail: weekly self-assessment for product managers and their coaches,
//! entirely by email.
//!
//! A pure core with thin edges around it. Module roles:
//!
//! * [`config`], [`framework`] — `coachmail.toml` and `framework.toml` → validated values.
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
//! * [`engine`] — one step of the loop: apply due actions and inbound messages to the store.
//! * [`pm_commands`] — a PM's commands by email (trend, pause, skip, export, forget…): effects and answers.
//! * [`daemon`] — tokio tasks, ticks and clean shutdown for `coachmail run`.
//! * [`cli`] — commands, exit codes and messages for the operator.

pub mod analysis;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod engine;
pub mod framework;
pub mod inbound;
pub mod outbound;
pub mod pm_commands;
pub mod render;
pub mod replies;
pub mod schedule;
pub mod store;
pub mod understand;
pub mod week;
