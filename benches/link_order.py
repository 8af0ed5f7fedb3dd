#!/usr/bin/env python3
"""Writes functions/extract/init.order: the functions extract runs from its start to its first Runtime API request,
which functions/extract/build.rs asks LLD to place first (issue "Performance", item 2: RSS at init).

It runs the release binary once under valgrind's callgrind (symbol names not demangled) against moto with the
bench environment of lambda_footprint.py and no Runtime API listening, so the process exits right after init, and
keeps every function of the binary that executed. The names carry the crates' build hashes, which depend on the
features each build unifies: record from the workspace build that CI and the benches use (`cargo build --workspace
--release`; `-p leadpipe-extract` alone builds other hashes), and again after a toolchain or dependency update
(stale names are skipped by the linker, and the gain fades; `--check` counts them). Then rebuild; the build script
reruns when the file changes.

    ~/.cache/leadpipe/venv/bin/python benches/link_order.py [--binary target/release/extract]
    ~/.cache/leadpipe/venv/bin/python benches/link_order.py --check [--binary ...]   # names the binary has

Needs valgrind (callgrind_annotate), moto_server (in the venv) and tansu (~/.cargo/bin, started with moto).
"""
import argparse, os, re, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lambda_footprint as lf  # noqa: E402

OUT = os.path.join(lf.ROOT, "functions/extract/init.order")


def executed_functions(binary, env, work):
    """The mangled names of the binary's functions that ran, with callgrind's recursion marks (`'2`) removed."""
    profile = os.path.join(work, "callgrind.out")
    run = subprocess.run(["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={profile}",
                          binary], env=env, capture_output=True, text=True, timeout=600)
    # A whole init ends at the Runtime API's refused connection; a failed one (moto not up) logs "init failed".
    api = env["AWS_LAMBDA_RUNTIME_API"]
    whole = api in run.stderr and "ConnectionRefused" in run.stderr and "init failed" not in run.stderr
    if not whole:
        sys.exit(f"extract did not end at the Runtime API request:\n{run.stderr[-2000:]}")
    listing = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", profile],
                             capture_output=True, text=True, check=True).stdout
    real = os.path.realpath(binary)
    names = set()
    for line in listing.splitlines():
        m = re.match(r"^\s*[\d,]+ \([\d. ]+%\)\s+\S*?:(\S+) \[(.+)\]$", line)
        if m and os.path.realpath(m.group(2)) == real and not m.group(1).startswith("0x"):
            names.add(re.sub(r"'\d+$", "", m.group(1)))
    return sorted(names)


def check(binary):
    """Prints how many names of the file the binary defines (a build with other crate hashes matches fewer)."""
    with open(OUT) as f:
        wanted = [line.strip() for line in f if line.strip()]
    symbols = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    defined = {line.split()[-1] for line in symbols.splitlines() if line.strip()}
    found = sum(name in defined for name in wanted)
    print(f"{found} of {len(wanted)} names of {os.path.relpath(OUT, lf.ROOT)} are in {binary}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(lf.ROOT, "target/release/extract"))
    ap.add_argument("--check", action="store_true", help="only count the file's names found in the binary")
    args = ap.parse_args()
    if args.check:
        return check(args.binary)
    work = tempfile.mkdtemp(prefix="link-order-")
    home = os.path.join(work, "home")
    os.makedirs(home)
    svc = lf.Services(work)
    try:
        env = lf.function_env(svc, "extract", home)
        env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{lf.free_port()}"  # nothing listens: exit after init
        names = executed_functions(args.binary, env, work)
    finally:
        svc.stop()
        shutil.rmtree(work, ignore_errors=True)
    if len(names) < 500:
        sys.exit(f"only {len(names)} functions recorded: is {args.binary} a release build with symbols?")
    with open(OUT, "w") as f:
        f.write("".join(n + "\n" for n in names))
    print(f"{len(names)} functions -> {os.path.relpath(OUT, lf.ROOT)}")


if __name__ == "__main__":
    main()
