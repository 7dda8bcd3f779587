#!/usr/bin/env bash
# The cost of `run --check-determinism` in a pass: `run --all --full` over one generated
# SQLite log, alternately without and with the check, N rounds; prints each time and the
# ratio of the medians (the machine's noise hits both sides alike).
# Usage: bench/scripts/check-determinism.sh [EVENTS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
events=${1:-300000}
rounds=${2:-3}
cargo build --release -q -p projections --bin replay
replay=target/release/replay
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db="$dir/log.db"
"$replay" --database-url "$db" generate --users 200 --events "$events" --seed 5 >/dev/null
plain=() checked=()
seconds() { local start end; start=$(date +%s.%N); "$replay" --database-url "$db" run --all --full "$@" >/dev/null; end=$(date +%s.%N); echo "$end - $start" | bc; }
for _ in $(seq "$rounds"); do
    plain+=("$(seconds)")
    checked+=("$(seconds --check-determinism)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
p=$(median "${plain[@]}") c=$(median "${checked[@]}")
echo "without: ${plain[*]} s (median $p)"
echo "with --check-determinism: ${checked[*]} s (median $c)"
echo "ratio: $(echo "scale=2; $c / $p" | bc)"
