#!/usr/bin/env bash
# Extract throughput, Rust vs the Python baseline, in one run (issue 8, item 1). Usage:
#   benches/run.sh                     # BENCH_SECS=3 per measurement; PYTHON=python3 (needs `phonenumbers`)
# Builds with the release profile (cargo bench). CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export BENCH_SECS=${BENCH_SECS:-3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# rustc: $(rustc --version); python: $($PY --version 2>&1), phonenumbers $($PY -c 'import phonenumbers; print(phonenumbers.__version__)')"
cargo bench -q --bench extract -- --tsv > "$tmp/rust.tsv"
"$PY" benches/python_baseline.py --tsv > "$tmp/py.tsv" 2> "$tmp/py.err"
cat "$tmp/py.err"
cat "$tmp/rust.tsv" "$tmp/py.tsv" | awk -F'\t' '
  $2=="agreement" { agree=$3"/"$4; next }
  { key=$1"/"$2"/"$3; mps[key]=$7; mbs[key]=$8; n[$2]=$4; bytes[$2]=$5; leads[$1"/"$2]=$6; det[key]=$9 }
  END {
    printf "\n%-9s %-8s %-26s %12s %10s %6s %s\n", "corpus", "impl", "what", "mails/s", "MB/s", "leads", "deterministic"
    split("fixtures mime", cs, " ")
    for (i = 1; i <= 2; i++) { c = cs[i]
      printf "%-9s %-8s %-26s %12.0f %10.2f %6s %s\n", c, "rust", "extract + JSON", mps["rust/"c"/extract"], mbs["rust/"c"/extract"], leads["rust/"c], det["rust/"c"/extract"]
      printf "%-9s %-8s %-26s %12.0f %10.2f %6s %s\n", c, "rust", "ceiling: mail-parser+body", mps["rust/"c"/ceiling"], mbs["rust/"c"/ceiling"], "-", det["rust/"c"/ceiling"]
      printf "%-9s %-8s %-26s %12.0f %10.2f %6s %s\n", c, "python", "extract + json.dumps", mps["python/"c"/extract"], mbs["python/"c"/extract"], leads["python/"c], det["python/"c"/extract"]
      printf "%-9s %-8s %-26s %12.0f %10.2f %6s %s\n", c, "python", "stdlib email parse+body", mps["python/"c"/parse"], mbs["python/"c"/parse"], "-", "-"
    }
    printf "\n%-9s %22s %22s %26s\n", "corpus", "rust/python extract", "rust extract/ceiling", "ceiling/python parse"
    for (i = 1; i <= 2; i++) { c = cs[i]
      printf "%-9s %21.1fx %21.2f %25.1fx\n", c, mps["rust/"c"/extract"]/mps["python/"c"/extract"], mps["rust/"c"/extract"]/mps["rust/"c"/ceiling"], mps["rust/"c"/ceiling"]/mps["python/"c"/parse"]
    }
    printf "\ntargets: rust/python >= 50x; rust extract/ceiling >= 0.50. python agreement with fixtures/expected: %s\n", agree
  }'
