#!/usr/bin/env bash
# Benchmark of the weekly loop: `coachmail demo` with many simulated PMs for a
# year of hourly passes. Prints wall time, emails written per second and peak
# memory (RSS).
#
#   scripts/bench-demo.sh [PMS] [WEEKS] [DIR]     defaults: 1000 52, a temp dir
#
# DIR on a tmpfs (e.g. /dev/shm/coachmail-bench) measures coachmail rather
# than the disk's inode allocator (each email is one .eml file).
set -euo pipefail
cd "$(dirname "$0")/.."
pms=${1:-1000}
weeks=${2:-52}
dir=${3:-$(mktemp -d)/demo}
command -v /usr/bin/time >/dev/null || apt-get install -y -q time >/dev/null
cargo build --release --locked --quiet
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/coachmail
log=$(mktemp)
COACHMAIL_LOG=warn /usr/bin/time -v "$bin" demo --pms "$pms" --weeks "$weeks" --dir "$dir" 2>"$log" | tee "$log.out"
echo
grep -E "Elapsed \(wall|User time|System time|Maximum resident" "$log"
emails=$(grep -E "^  (form|reminder|digest|confirm|help)" "$log.out" | awk '{s+=$2} END {print s}')
cpu=$(awk -F': ' '/User time|System time/ {s+=$2} END {print s}' "$log")
echo "emails: $emails, per CPU-second: $(python3 -c "print(round($emails/$cpu))")"
rm -rf "$dir" "$log" "$log.out"
