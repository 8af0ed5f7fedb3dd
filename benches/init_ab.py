#!/usr/bin/env python3
"""Before/after of one function's init (issue "Performance", item 2): the same harness as lambda_footprint.py
(moto, tansu, its Runtime API sandbox), two builds of the function measured alternately in one run, so a noisy
machine affects both alike. Prints the medians, minimums and the ratio.

    ~/.cache/leadpipe/venv/bin/python benches/init_ab.py --before DIR --after DIR [--function extract] [--runs 15]
"""
import argparse, os, shutil, statistics, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lambda_footprint as lf  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="directory with the old binary")
    ap.add_argument("--after", default=os.path.join(lf.ROOT, "target/release"), help="directory with the new one")
    ap.add_argument("--function", default="extract", choices=["extract", "forward", "archive"])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="init-ab-")
    home = os.path.join(work, "home")
    os.makedirs(home)
    svc = lf.Services(work)
    samples = {"before": [], "after": []}
    try:
        env = lf.function_env(svc, args.function, home)
        for _ in range(args.runs):
            for label in ("before", "after"):
                cmd = [os.path.join(getattr(args, label), args.function)]
                samples[label] += lf.measure_init(cmd, env, 1)
    finally:
        svc.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.function} init, {args.runs} alternating runs each (after one discarded warm-up per run)\n")
    print("| build | init median | min | VmRSS median |\n|---|---:|---:|---:|")
    med = {}
    for label, s in samples.items():
        med[label] = statistics.median(x["ms"] for x in s)
        print(f"| {label} | {med[label]:.1f} ms | {min(x['ms'] for x in s):.1f} ms | "
              f"{statistics.median(x['rss'] for x in s):.1f} MiB |")
    print(f"\nafter / before: {med['after'] / med['before']:.2f}")


if __name__ == "__main__":
    main()
