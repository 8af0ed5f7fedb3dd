#!/usr/bin/env python3
"""What forward's unmarked window costs (docs/idempotency.md): the time of one SQS batch of lead events through
the forward binary (Runtime API sandbox of lambda_footprint.py; moto and tansu on loopback) for several
`LEADPIPE_UNMARKED_WINDOW` values, with the function's S3 traffic (the ledger) delayed by a TCP proxy to look like
S3 over a network. Every event must reach Kafka with no batchItemFailures, else the run aborts.

    ~/.cache/leadpipe/venv/bin/python benches/forward_window.py [--batch 10] [--delay-ms 10] [--runs 5]

`--delay-ms` holds every chunk each way, so a ledger request takes about twice that longer.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, shutil, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "tests", "python")]
import lambda_footprint as lf  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

KEY = '{"key_id":"test-bench","secret":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=10, help="records per SQS batch (default 10, the ESM default)")
    ap.add_argument("--delay-ms", type=float, default=10, help="proxy delay per chunk and direction (default 10)")
    ap.add_argument("--windows", default="1,10", help="LEADPIPE_UNMARKED_WINDOW values (default 1,10)")
    ap.add_argument("--runs", type=int, default=5, help="batches per window (default 5)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="forward-window-")
    home = os.path.join(work, "home")
    os.makedirs(home)
    svc = lf.Services(work)
    proxy = FaultProxy(svc.moto_port)
    if args.delay_ms:
        proxy.slow(args.delay_ms / 1000)
    replay = os.path.join(work, "replay")
    subprocess.run([os.path.join(lf.ROOT, "target/release/leadpipe"), "replay", os.path.join(lf.ROOT, "fixtures/emails"),
                    "--out", replay, "-q"], check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, LEADPIPE_KEY=KEY))
    cmd = [os.path.join(lf.ROOT, "target/release/forward")]
    times = {w: [] for w in args.windows.split(",")}
    try:
        for run in range(args.runs):
            for window in times:  # alternating, so machine noise hits every window alike
                # Two batches in one process: the first warms the producer (broker connection, producer id).
                batches = [lf.lead_events(os.path.join(replay, "kafka/leads.jsonl"), args.batch,
                                          f"w{window}-{run}-{i}-{time.time()}") for i in (0, 1)]
                env = lf.function_env(svc, "forward", home, endpoint=f"http://{proxy.address}",
                                      LEADPIPE_UNMARKED_WINDOW=window)
                box = lf.Sandbox(cmd, env, events=[lf.sqs_event(b, "bench-to-forward") for b in batches])
                box.wait("result")
                keys = svc.kafka_keys()
                for bodies, result in zip(batches, box.results):
                    failed = json.loads(result["body"]).get("batchItemFailures")
                    got = len({json.loads(b)["event_id"] for b in bodies} & keys)
                    if failed or got != args.batch:
                        raise RuntimeError(f"window {window}: {len(failed or [])} failures, {got}/{args.batch} in Kafka")
                times[window].append(box.results[1]["ms"])
    finally:
        proxy.close()
        svc.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"forward, {args.batch}-record batches, S3 delayed {args.delay_ms} ms per chunk and direction, "
          f"{args.runs} runs per window, the second batch of a warm process (medians)\n")
    print("| LEADPIPE_UNMARKED_WINDOW | batch time | per record | most duplicates one crash can cause |")
    print("|---:|---:|---:|---:|")
    for window, t in times.items():
        med = statistics.median(t)
        print(f"| {window} | {med:.0f} ms | {med / args.batch:.1f} ms | {min(int(window), args.batch)} |")


if __name__ == "__main__":
    main()
