#!/usr/bin/env bash
# The kill -9 test of `coachmail run`, for as long as you like:
#
#   scripts/kill-test.sh [CYCLES] [SEED]
#
# Kills the service with SIGKILL at random moments CYCLES times (default
# 200) while replies and redeliveries are dropped into its Maildir, then
# checks that nothing was lost, applied twice or confirmed twice, and that
# the database passes `PRAGMA integrity_check` (tests/crash.rs; the suite
# runs 30 cycles). SEED picks another sequence of moments.
set -euo pipefail
cd "$(dirname "$0")/.."
export COACHMAIL_KILL_CYCLES="${1:-200}"
if [ -n "${2:-}" ]; then
  export COACHMAIL_KILL_SEED="$2"
fi
cargo test --release --locked --features sqlcipher --test crash -- --nocapture
