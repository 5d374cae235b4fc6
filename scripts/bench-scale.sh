#!/usr/bin/env bash
# Benchmark at scale: a deployment of PMS PMs (one coach per 50) with YEARS
# of weekly answers, built in bulk through the store's own code (one
# transaction, examples/bench_scale.rs), then measured:
#
# * the build itself, the database size and bytes per PM-week;
# * start-up (config, templates, store, roster) and the first pass, which
#   finds every PM's digest due at once; CPU per digest;
# * an idle pass right after; idle and peak RSS of that process;
# * REPLIES PMs' replies to a fresh form (real client shapes, the form's
#   reply key) dropped into the Maildir and read by one pass of the
#   service's reader: replies per second;
# * TRENDS PMs sending `trend`, then `trend <skill> 52`: CPU per command;
# * RUNS `coachmail ingest` processes (a PM's `help` each), CPU per message
#   and peak RSS of one (`/usr/bin/time`), reading the config snapshot the
#   first of them leaves beside the database; then RUNS/10 more with the
#   snapshot removed before each (the first message after a config edit).
#
#   PMS=10000 YEARS=10 RUNS=1000 scripts/bench-scale.sh [DIR]
#
# Defaults: PMS=500 YEARS=2 RUNS=200 REPLIES=PMS TRENDS=min(PMS,1000) (a
# couple of minutes), DIR a temp dir (removed unless given). The figures in
# README.md say which size and commit they were measured on.
set -euo pipefail
cd "$(dirname "$0")/.."
pms=${PMS:-500}
years=${YEARS:-2}
runs=${RUNS:-200}
replies=${REPLIES:-$pms}
trends=${TRENDS:-$(( pms < 1000 ? pms : 1000 ))}
keep=${1:+yes}
dir=${1:-$(mktemp -d)/scale}
mkdir -p "$dir"
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
cargo build --release --locked --quiet --features sqlcipher --bin coachmail --example bench_scale
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin=$target/release/coachmail
ex=$target/release/examples/bench_scale
echo "commit $(git rev-parse --short HEAD), $pms PMs, $years years, $(nproc) cores"

echo "== build"
"$ex" build "$dir" "$pms" "$years"

echo "== start-up, the digest pass, an idle pass"
COACHMAIL_LOG=warn "$ex" passes "$dir"

echo "== $replies replies through the Maildir"
COACHMAIL_LOG=warn "$ex" replies "$dir" "$replies"

echo "== $trends trend commands of each kind"
COACHMAIL_LOG=warn "$ex" trends "$dir" "$trends"

echo "== $runs ingest processes"
msgs=$dir/replies
mkdir -p "$msgs"
for i in $(seq 1 "$runs"); do
  pm=$(( (i * 7919) % pms ))
  cat >"$msgs/$i.eml" <<EOF
From: PM $pm <pm$pm@example.org>
To: pulse@example.org
Subject: help
Message-ID: <bench-$i-$RANDOM@example.org>
Date: $(date -R)

help
EOF
done
log=$(mktemp)
export COACHMAIL_LOG=warn
/usr/bin/time -f "%U %S %M" -o "$log" bash -c '
  for f in "$1"/*.eml; do "$2" --config "$3" ingest <"$f" >/dev/null 2>&1 || true; done
' _ "$msgs" "$bin" "$dir/coachmail.toml"
read -r user sys peak <"$log"
python3 - "$user" "$sys" "$runs" <<'EOF'
import sys
u, s, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
print(f"ingest_cpu_per_message {(u + s) * 1000 / n:.1f} ms ({u:.2f} s user + {s:.2f} s sys over {n})")
EOF
/usr/bin/time -f "%M" -o "$log" "$bin" --config "$dir/coachmail.toml" ingest <"$msgs/1.eml" >/dev/null 2>&1 || true
echo "ingest_peak_rss $(cat "$log") KiB"
full=$(( runs / 10 > 0 ? runs / 10 : 1 ))
/usr/bin/time -f "%U %S %M" -o "$log" bash -c '
  for f in $(ls "$1"/*.eml | head -n "$5"); do
    rm -f "$4"; "$2" --config "$3" ingest <"$f" >/dev/null 2>&1 || true
  done
' _ "$msgs" "$bin" "$dir/coachmail.toml" "$dir/coachmail.db.config-snapshot" "$full"
read -r user sys peak <"$log"
python3 - "$user" "$sys" "$full" "$peak" <<'EOF'
import sys
u, s, n, p = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
print(f"ingest_cpu_per_message_without_snapshot {(u + s) * 1000 / n:.1f} ms ({u:.2f} s user + {s:.2f} s sys over {n}); peak {p} KiB")
EOF
echo "database_bytes_after $(stat -c %s "$dir/coachmail.db") B"
rm -f "$log"
[ -n "$keep" ] || rm -rf "$dir"
