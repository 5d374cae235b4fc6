#!/usr/bin/env bash
# bench-mail.sh — coachmail's mail throughput on this machine, on loopback.
#
#   scripts/bench-mail.sh [N]     (N = 10000 by default)
#
# 1. Reference: Postfix's own smtp-source pushing N messages into the same
#    Postfix (plain SMTP port, one message per transaction, connections
#    reused, 1, 4 and 16 sessions). Uses scripts/bench-smtp-source.sh when
#    it exists, smtp-source directly otherwise.
# 2. coachmail: N form-sized outbox rows delivered by deliver_due through
#    the SmtpTransport at pool sizes 1, 4 and 16 (plain, like smtp-source),
#    then pool 16 over STARTTLS + AUTH on the submission port.
# 3. coachmail: N replies put in the service mailbox, picked up over IMAP
#    (implicit TLS) and applied (understood, stored, confirmation queued,
#    \Seen set) — end to end through the engine.
# Postfix's queue is drained between runs so each starts from quiet.
#
# Uses the servers at COACHMAIL_TEST_MAIL_ENV if set; otherwise installs and
# starts them (scripts/mail-servers.sh) in a throwaway folder, stopped after.
# Every message goes to 127.0.0.1 only. Prints one line per measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}

cargo build --release --quiet --features sqlcipher --example bench_mail
BIN=${CARGO_TARGET_DIR:-target}/release/examples/bench_mail

if [ -z "${COACHMAIL_TEST_MAIL_ENV:-}" ]; then
    scripts/mail-servers.sh install
    MAIL_DIR=$(mktemp -d)
    trap 'scripts/mail-servers.sh stop "$MAIL_DIR" >/dev/null 2>&1 || true; rm -rf "$MAIL_DIR"' EXIT
    scripts/mail-servers.sh start "$MAIL_DIR" >/dev/null </dev/null 2>&1
    export COACHMAIL_TEST_MAIL_ENV="$MAIL_DIR/env"
fi
get() { sed -n "s/^$1=//p" "$COACHMAIL_TEST_MAIL_ENV" | tail -1; }
DIR=$(get MAIL_DIR)
PORT=$(get MAIL_SMTP_PORT)

drain() {   # wait (at most 10 min) until Postfix has delivered everything
    local i
    for i in $(seq 600); do
        if postqueue -c "$DIR/postfix" -p 2>/dev/null | grep -q 'Mail queue is empty'; then return 0; fi
        sleep 1
    done
    echo "bench-mail: Postfix queue still not empty" >&2
}

echo "# $(nproc) cores; N=$N; Postfix $(postconf -d -h mail_version 2>/dev/null), Dovecot $(dovecot --version 2>/dev/null | cut -d' ' -f1)"
for s in 1 4 16; do
    drain
    if [ -x scripts/bench-smtp-source.sh ]; then
        scripts/bench-smtp-source.sh "$DIR" "$N" "$s"
    else
        t0=$(date +%s.%N)
        smtp-source -d -s "$s" -m "$N" -l 4096 -f pulse@example.org -t alice@example.org "127.0.0.1:$PORT"
        t1=$(date +%s.%N)
        python3 -c "import sys; n,s,a,b=int(sys.argv[1]),sys.argv[2],float(sys.argv[3]),float(sys.argv[4]); print('smtp-source sessions=%s n=%d secs=%.2f msgs_per_sec=%.0f' % (s,n,b-a,n/(b-a)))" "$N" "$s" "$t0" "$t1"
    fi
done
for pool in 1 4 16; do
    drain
    "$BIN" smtp "$N" "$pool"
done
drain
"$BIN" smtp "$N" 16 starttls
drain
"$BIN" imap "$N"
