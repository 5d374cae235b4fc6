#!/usr/bin/env bash
# bench-smtp-source.sh DIR [MESSAGES] [SESSIONS...]
#
# Reference rate for issue #5's benchmark: Postfix's own load generator
# smtp-source(1) sending MESSAGES (default 10000) messages of ~4 KB to
# tom@example.org on the private relay started by `mail-servers.sh start DIR`
# (plain SMTP port: smtp-source has no TLS), once per SESSIONS value (parallel
# SMTP sessions, default "1 4 16" like the pool sizes of the Rust benchmark).
# For each it prints the rate at which the relay ACCEPTED the messages
# (250 after DATA) and the rate until all were DELIVERED into the Maildir.
# Output lines: "smtp-source sessions=S messages=N accepted_per_s=A delivered_per_s=D"
set -euo pipefail
DIR=$(realpath "${1:?usage: bench-smtp-source.sh DIR [MESSAGES] [SESSIONS...]}")
N=${2:-10000}
shift $(( $# >= 2 ? 2 : 1 ))
SESSIONS=("$@"); [ ${#SESSIONS[@]} -gt 0 ] || SESSIONS=(1 4 16)
PORT=$(sed -n 's/^MAIL_SMTP_PORT=//p' "$DIR/env")
SMTP_SOURCE=$(command -v smtp-source || echo /usr/sbin/smtp-source)
BOX=$DIR/mail/tom

count() { { find "$BOX/new" "$BOX/cur" -type f 2>/dev/null || true; } | wc -l; }
now() { date +%s.%N; }

for s in "${SESSIONS[@]}"; do
    base=$(count)
    t0=$(now)
    # -l: message size (bytes), -m: messages, -s: sessions,
    "$SMTP_SOURCE" -l 4096 -m "$N" -s "$s" -f pulse@example.org -t tom@example.org \
        -M client.example.org "127.0.0.1:$PORT"
    t1=$(now)
    deadline=$(( $(date +%s) + 600 ))
    while [ $(( $(count) - base )) -lt "$N" ]; do
        [ "$(date +%s)" -lt $deadline ] || { echo "not all delivered after 600 s" >&2; exit 1; }
        sleep 0.2
    done
    t2=$(now)
    python3 -c 'import sys; n,s,t0,t1,t2=sys.argv[1:]; n=int(n)
print("smtp-source sessions=%s messages=%d accepted_per_s=%.0f delivered_per_s=%.0f (%.1f s / %.1f s)" % (s, n, n/(float(t1)-float(t0)), n/(float(t2)-float(t0)), float(t1)-float(t0), float(t2)-float(t0)))' \
        "$N" "$s" "$t0" "$t1" "$t2"
done
