#!/usr/bin/env bash
# Instructions per pass of the extract path over the fixtures (valgrind, deterministic: the figure to compare two
# builds by on a noisy machine). Usage:
#   benches/instructions.sh [BENCH_BINARY]     # default: builds `cargo bench --bench extract` and uses it
#   CORPORA=both benches/instructions.sh       # fixtures + ../shared/corpus/mime per pass
# Runs the bench with BENCH_PASSES=30 and =10 (extract only) and prints (I30 - I10) / 20: set-up, warm-up and the
# determinism passes cancel out.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [ -z "$bin" ]; then
  bin=$(cargo bench -q --bench extract --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -1)
fi
mime=()
[ "${CORPORA:-fixtures}" = both ] || mime=(env LEADPIPE_MIME_CORPUS=/nonexistent)
run() {
  BENCH_PASSES=$1 BENCH_ONLY=extract "${mime[@]}" valgrind --tool=cachegrind --cache-sim=no \
    --cachegrind-out-file=/dev/null "$bin" --tsv 2>&1 >/dev/null | sed -n 's/.*I *refs: *//p' | tr -d ','
}
lo=$(run 10); hi=$(run 30)
echo "$bin: $(( (hi - lo) / 20 )) instructions per pass (${CORPORA:-fixtures})"
