#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a used one.
#
#   scripts/test.sh            everything: unit, corpus, loop, CLI, privacy,
#                              the encrypted store, and the real-mail tests
#                              against Postfix and Dovecot
#
# What the tests need beyond cargo (Postfix, Dovecot, and Chromium to lay
# emails out at a phone's width) is installed from Debian's packages by
# scripts/mail-servers.sh, which starts the servers on loopback in a
# throwaway folder that is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

# The SQLCipher build (at-rest encryption) links the system's libcrypto.
if ! dpkg -s libssl-dev pkg-config >/dev/null 2>&1; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libssl-dev pkg-config
fi

if [ -x scripts/mail-servers.sh ]; then
  scripts/mail-servers.sh install
  MAIL_DIR=$(mktemp -d)
  trap 'scripts/mail-servers.sh stop "$MAIL_DIR" >/dev/null 2>&1 || true; rm -rf "$MAIL_DIR"' EXIT
  scripts/mail-servers.sh start "$MAIL_DIR"
  export COACHMAIL_TEST_MAIL_ENV="$MAIL_DIR/env"
fi
# The real-mail and email-layout tests skip themselves when no servers are
# running or Chromium is missing (a plain `cargo test`); here they must run,
# so a missing server or browser fails them.
export COACHMAIL_REQUIRE_REAL_MAIL=1

cargo test --all-targets --locked --features sqlcipher
