#!/usr/bin/env bash
# The project's whole test suite, from a fresh machine: installs what the tests need (reusing what is already
# installed), then runs formatting and lint checks, unit/integration tests, and the golden fixture check.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
cargo --version
rustup component list --installed 2>/dev/null | grep -qE '^(rustfmt|clippy)' || rustup component add rustfmt clippy

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

# One optimized build serves everything after clippy: the Rust tests, the CLI, and the three Lambda functions
# the end-to-end suites run (a separate debug build would compile every dependency a second time).
step "cargo test (release profile)"
cargo test --workspace --locked --release

step "release binaries: leadpipe and the three Lambda functions (extract, forward, archive)"
cargo build --workspace --locked --release
ls -l target/release/leadpipe target/release/extract target/release/forward target/release/archive

step "golden fixtures: leadpipe rules test --strict"
target/release/leadpipe rules test --strict --quiet --rules fixtures/rules/default.toml fixtures/emails

step "tansu, the Kafka-protocol broker the tests start (built once, about 12 minutes on 2 cores; reused after)"
TANSU_VERSION=0.6.0
if ! "$HOME/.cargo/bin/tansu" --version 2>/dev/null | grep -q "$TANSU_VERSION"; then
  cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore
fi
export PATH="$HOME/.cargo/bin:$PATH"

step "outside readers (pyarrow, duckdb, jsonschema, kafka-python, boto3) on replay output, local and on real services"
VENV="${LEADPIPE_VENV:-$HOME/.cache/leadpipe/venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/python/requirements-infra.txt

# Two CPU-bound jobs that no test waits for run beside pytest at the lowest priority (nice 19: they take only
# the CPU the tests leave idle, so the timing of the local-stack suites is not disturbed): `sam build` of the
# three functions, and a short coverage-guided fuzz run. Their output is printed after pytest.
step "background (nice 19): sam build of the three functions, then a short fuzz run; logs in target/"
background() {
  echo "== sam build: the three functions for provided.al2023 x86_64 with cargo-lambda (one shared target directory)"
  # arm64 needs the aarch64 standard library, which this machine's toolchain lacks: build x86_64 here.
  (cd infra && PATH="$VENV/bin:$PATH" SAM_CLI_TELEMETRY=0 "$VENV/bin/sam" build --beta-features \
    --parameter-overrides Architecture=x86_64) || return 1
  for fn in Extract Forward Archive; do
    file "infra/.aws-sam/build/${fn}Function/bootstrap" | grep 'ELF 64-bit LSB.*x86-64' || return 1
  done
  echo "== fuzz: a short coverage-guided run of both targets (cargo-fuzz on stable, no sanitizer; longer: fuzz/README.md)"
  fuzz/run.sh "${LEADPIPE_FUZZ_SECONDS:-20}"
}
mkdir -p target
rm -f target/background.rc
(set +e; renice -n 19 -p "$BASHPID" >/dev/null; background > target/background.log 2>&1; echo $? > target/background.rc) &
bg_pid=$!

step "pytest: replay outputs, real sinks, the stack template, the local stack end to end, fault injection"
LEADPIPE_BIN="$PWD/target/release/leadpipe" LEADPIPE_FUNCTIONS_DIR="$PWD/target/release" \
  LEADPIPE_FAULT_REPORT="$PWD/target/fault-report.txt" "$VENV/bin/python" -m pytest -q tests/python

step "fault-injection accounting (tests/python/test_faults.py)"
cat target/fault-report.txt

step "waiting for the background jobs (sam build, fuzz run)"
wait "$bg_pid" || true
cat target/background.log
[ "$(cat target/background.rc)" = 0 ] || { echo "background jobs failed (see above)"; exit 1; }
