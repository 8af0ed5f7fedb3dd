#!/usr/bin/env bash
# The project's whole test suite, from a fresh machine: installs what the tests need (reusing what is already
# installed), then runs formatting and lint checks, unit/integration tests, and the golden fixture check.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
step() { printf '\n==> [%dm%02ds] %s\n' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) "$*"; }

step "toolchain"
cargo --version
rustup component list --installed 2>/dev/null | grep -qE '^(rustfmt|clippy)' || rustup component add rustfmt clippy

step "cargo fmt --check"
cargo fmt --all -- --check

step "python packages for the tests (pytest, pyarrow, duckdb, jsonschema, moto, kafka-python, cfn-lint, checkov, sam, cargo-lambda)"
VENV="${LEADPIPE_VENV:-$HOME/.cache/leadpipe/venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/python/requirements-infra.txt

# Two CPU-bound jobs that no test waits for run beside the rest at the lowest priority (nice 19: they take only
# the CPU the builds and tests leave idle, so the foreground is not slowed): the fuzz targets' build (its own
# workspace and target directory, started now), and `sam build` of the three functions (cargo-lambda, its own
# target triple and profile settings; started after the release build, since cargo locks target/ for a whole
# build). The short fuzz run itself is in the foreground after pytest, so that a starved build cannot distort it.
step "background (nice 19): the fuzz targets' build now, sam build of the three functions after the release build; logs in target/"
sam_build() {
  echo "== sam build: the three functions for provided.al2023 x86_64 with cargo-lambda (one shared target directory)"
  # arm64 needs the aarch64 standard library, which this machine's toolchain lacks: build x86_64 here.
  (cd infra && PATH="$VENV/bin:$PATH" SAM_CLI_TELEMETRY=0 "$VENV/bin/sam" build --beta-features \
    --parameter-overrides Architecture=x86_64) || return 1
  for fn in Extract Forward Archive; do
    file "infra/.aws-sam/build/${fn}Function/bootstrap" | grep 'ELF 64-bit LSB.*x86-64' || return 1
  done
}
mkdir -p target
background() { # NAME COMMAND...: runs COMMAND at nice 19, output in target/NAME.log, exit status in target/NAME.rc
  local name=$1; shift
  rm -f "target/$name.rc"
  (set +e; renice -n 19 -p "$BASHPID" >/dev/null; "$@" > "target/$name.log" 2>&1; echo $? > "target/$name.rc") &
  bg_pids+=($!)
}
kill_tree() { # stopped first, so that it cannot start a new child while its children are killed
  local child
  kill -STOP "$1" 2>/dev/null || return 0
  for child in $(pgrep -P "$1"); do kill_tree "$child"; done
  kill -TERM "$1" 2>/dev/null; kill -CONT "$1" 2>/dev/null || true
}
bg_pids=()
trap 'for pid in "${bg_pids[@]}"; do kill_tree "$pid"; done' EXIT
background fuzz-build fuzz/run.sh --build

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

# One optimized build serves everything after clippy: the Rust tests, the CLI, and the three Lambda functions
# the end-to-end suites run (a separate debug build would compile every dependency a second time).
step "cargo test (release profile)"
cargo test --workspace --locked --release

step "release binaries: leadpipe and the three Lambda functions (extract, forward, archive)"
cargo build --workspace --locked --release
ls -l target/release/leadpipe target/release/extract target/release/forward target/release/archive
background sam-build sam_build

step "golden fixtures: leadpipe rules test --strict"
target/release/leadpipe rules test --strict --quiet --rules fixtures/rules/default.toml fixtures/emails

step "tansu, the Kafka-protocol broker the tests start (built once, about 12 minutes on 2 cores; reused after)"
TANSU_VERSION=0.6.0
if ! "$HOME/.cargo/bin/tansu" --version 2>/dev/null | grep -q "$TANSU_VERSION"; then
  cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore
fi
export PATH="$HOME/.cargo/bin:$PATH"

step "pytest: replay outputs, real sinks, the stack template, the local stack end to end, fault injection"
LEADPIPE_BIN="$PWD/target/release/leadpipe" LEADPIPE_FUNCTIONS_DIR="$PWD/target/release" \
  LEADPIPE_FAULT_REPORT="$PWD/target/fault-report.txt" "$VENV/bin/python" -m pytest -q tests/python

step "fault-injection accounting (tests/python/test_faults.py)"
cat target/fault-report.txt

step "fuzz: a short coverage-guided run of each target (extract_mail, rules_load, html_text) (cargo-fuzz on stable, no sanitizer; longer: fuzz/README.md)"
wait "${bg_pids[0]}" || true
unset 'bg_pids[0]' # reaped: its pid may be reused, so the exit trap must not kill it
cat target/fuzz-build.log | grep -vE '^ +(Compiling|Downloaded|Downloading) ' || true
[ "$(cat target/fuzz-build.rc)" = 0 ] || { echo "the fuzz targets failed to build (see above)"; exit 1; }
fuzz/run.sh "${LEADPIPE_FUZZ_SECONDS:-20}"

step "waiting for the background sam build"
wait "${bg_pids[1]}" || true
unset 'bg_pids[1]'
cat target/sam-build.log
[ "$(cat target/sam-build.rc)" = 0 ] || { echo "sam build failed (see above)"; exit 1; }
step "done"
