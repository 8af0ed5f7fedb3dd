#!/usr/bin/env bash
# Runs the fuzz targets on the stable toolchain (cargo-fuzz, no sanitizer) for SECONDS each (default 60).
#   fuzz/run.sh [SECONDS] [TARGET...]      targets default to all of them (extract_mail rules_load html_text)
#   fuzz/run.sh --build                    only builds the targets (the same build a later run reuses)
# The checked-in seeds (fuzz/corpus/TARGET) are read, and the dictionary fuzz/TARGET.dict when there is one;
# new inputs go to fuzz/corpus-work/TARGET (not checked in).
# Prints each run's final libFuzzer lines (`#N DONE ...`, `Done N runs in T second(s)`); exits non-zero if a
# target crashes, hangs (-timeout) or fails to build, and prints where the failing input was written.
set -uo pipefail

build_only=false
if [ "${1:-}" = "--build" ]; then build_only=true; shift; fi
seconds="${1:-60}"
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(extract_mail rules_load html_text)
case "$seconds" in '' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS] [TARGET...]" >&2; exit 2 ;; esac

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$fuzz_dir/.."

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked || exit 1
fi

if $build_only; then
    exec cargo fuzz build --fuzz-dir "$fuzz_dir" -s none -O
fi

# -s none: sanitizers need nightly; coverage instrumentation works on stable. -O: without it cargo-fuzz forces
# debug assertions on for every crate; debug assertions and overflow checks come from fuzz/Cargo.toml's release
# profile instead (off for mail-parser's debug assertions only, see there). -timeout: one input taking longer
# than this is reported as a hang (the extract function has a time limit too).
status=0
for target in "${targets[@]}"; do
    work="$fuzz_dir/corpus-work/$target"
    log="$fuzz_dir/corpus-work/logs/$target.log"
    mkdir -p "$work" "$(dirname "$log")"
    echo "== $target: ${seconds}s (log: $log)"
    dict=()
    [ -f "$fuzz_dir/$target.dict" ] && dict=(-dict="$fuzz_dir/$target.dict")
    cargo fuzz run --fuzz-dir "$fuzz_dir" -s none -O "$target" "$work" "$fuzz_dir/corpus/$target" -- \
        -max_total_time="$seconds" -timeout=20 -print_final_stats=1 "${dict[@]}" >"$log" 2>&1
    rc=$?
    grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs in' "$log"
    if [ $rc -ne 0 ]; then
        status=1
        echo "!! $target FAILED (exit $rc); last status before it:"
        grep -E '^#[0-9]+[[:space:]]' "$log" | tail -n 1
        grep -A1 -E 'panicked at' "$log"
        grep -E '^==[0-9]+== ERROR|^SUMMARY|ALARM|Test unit written to' "$log" || tail -n 40 "$log"
        grep -oE 'Test unit written to [^ ]+' "$log" | sed 's/^Test unit written to /crash input: /'
    fi
done
exit $status
