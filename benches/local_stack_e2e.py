"""End to end on the local stack: N mails through moto + the tansu broker, mails/s and where the time goes.

    ~/.cache/leadpipe/venv/bin/python benches/local_stack_e2e.py [--mails 10000] [--keep DIR] [--up-arg=--flag=V ...]

The mails cycle through the 45 fixtures (keeping their lead / unmatched ratio), each copy with its own Message-ID;
the expected outcomes come from `leadpipe replay` of the same folder. moto_server (the venv's), a tansu broker and
`leadpipe local up` (its defaults, plus any --up-arg) are started; the clock starts with `leadpipe local send` and
stops when every expected lead is in Kafka (kafka-python, from the beginning) and in the archive (each Parquet
object the archive function logs is read from S3 with pyarrow as it appears) and every unmatched mail is
quarantined (extract's log), then every outcome is checked again from full bucket listings. Reported: mails/s, a
timeline, per function its invocations and their durations (an invocation's EMF line carries its start in
`_aws.Timestamp`; its end is when this script read the line, polled every 2 ms), the CPU time of each process over
the measured interval (/proc), and moto's requests by kind (its log). Exits 1 when an outcome differs from the
replay or Kafka holds a duplicate. The function binaries run through symlinks in the work folder, so that a
concurrent fault test's `pgrep -f target/release/forward` cannot hit them.
"""

import argparse
import collections
import io
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import boto3
import pyarrow.parquet as pq
from kafka import KafkaConsumer, TopicPartition

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))
from services import _tool, aws_env, free_port, wait_for_port  # noqa: E402
sys.path.insert(0, str(ROOT / "benches"))
from archive_efficiency import with_header  # noqa: E402  (one header rewrite for both benches)

BIN_DIR = Path(os.environ.get("LEADPIPE_FUNCTIONS_DIR", ROOT / "target" / "release"))
BIN = Path(os.environ.get("LEADPIPE_BIN", BIN_DIR / "leadpipe"))
KEY = '{"key_id":"test-bench","secret":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}'
STACK, TOPIC, ACCOUNT_REGION = "bench", "leads", "123456789012-us-east-1"
FUNCTIONS = ("extract", "forward", "archive")
SEND, UP, SELF = "leadpipe local send", "leadpipe local up", "this script (readers)"


def make_mails(folder: Path, n: int):
    fixtures = sorted((ROOT / "fixtures" / "emails").glob("*.eml"))
    for i in range(n):
        f = fixtures[i % len(fixtures)]
        raw = with_header(f.read_bytes(), b"Message-ID", b"<e2e-%d@leadpipe.test>" % i)
        (folder / f"m{i:06d}-{f.name}").write_bytes(raw)


def expected_outcomes(mails: Path, out: Path):
    """(the leads' event ids, number of quarantined mails, replay seconds) from an in-process replay."""
    t = time.perf_counter()
    proc = subprocess.run([str(BIN), "replay", str(mails), "--out", str(out), "--quiet"], cwd=ROOT,
                          env=dict(os.environ, LEADPIPE_KEY=KEY), capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"replay failed:\n{proc.stdout}{proc.stderr}")
    leads = {json.loads(l)["key"] for l in (out / "kafka" / f"{TOPIC}.jsonl").read_text().splitlines()}
    return leads, sum(json.loads((out / "report.json").read_text())["quarantined"].values()), time.perf_counter() - t


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sandboxes(up_pid: int):
    """(name, pid) of the function processes `local up` runs (its children)."""
    pids = {int(c) for t in Path(f"/proc/{up_pid}/task").iterdir() for c in (t / "children").read_text().split()}
    return [(Path(f"/proc/{p}/comm").read_text().strip(), p) for p in pids]


def cpu_times(procs: dict, up_pid: int):
    """CPU seconds by process, the sandboxes summed by function."""
    cpu = collections.Counter({name: cpu_seconds(p.pid) for name, p in procs.items()})
    for name, pid in sandboxes(up_pid):
        cpu[name] += cpu_seconds(pid)
    own = resource.getrusage(resource.RUSAGE_SELF)
    cpu[SELF] = own.ru_utime + own.ru_stime
    return cpu


class Watch(threading.Thread):
    """Background readers: the functions' JSON log lines (with the wall time each was read) and the Kafka topic
    from the beginning (each key with the monotonic time it was first read; the number of records)."""

    def __init__(self, logs: Path, brokers: str):
        super().__init__(daemon=True)
        self.logs, self.brokers, self.stop = logs, brokers, threading.Event()
        self.lines, self.keys, self.records = {f: [] for f in FUNCTIONS}, {}, 0

    def run(self):
        consumer = KafkaConsumer(bootstrap_servers=self.brokers, enable_auto_commit=False,
                                 api_version_auto_timeout_ms=10000)
        parts = [TopicPartition(TOPIC, p) for p in sorted(consumer.partitions_for_topic(TOPIC) or [])]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        files, rest, polled = {}, {f: b"" for f in FUNCTIONS}, 0.0
        while not self.stop.is_set():
            now = time.time()
            for f in FUNCTIONS:
                if f not in files and (self.logs / f"{f}.log").exists():
                    files[f] = open(self.logs / f"{f}.log", "rb")
                chunk = files[f].read() if f in files else b""
                if chunk:
                    *lines, rest[f] = (rest[f] + chunk).split(b"\n")
                    self.lines[f] += [(now, json.loads(l)) for l in lines if l.startswith(b"{")]
            if now - polled > 0.1:
                polled = now
                for records in consumer.poll(timeout_ms=0).values():
                    for rec in records:
                        self.records += 1
                        self.keys.setdefault(rec.key.decode(), time.monotonic())
            time.sleep(0.002)
        consumer.close()


def invocations(watch: Watch, function: str):
    """(read time, EMF line) per invocation: its first metrics line (extract adds one per quarantine reason)."""
    return [(t, d) for t, d in list(watch.lines[function]) if {"mails", "records", "failures"} & d.keys()]


def client(kind, endpoint):
    return boto3.client(kind, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def objects(s3, bucket, prefix):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            yield s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()


def event_ids(parquet: bytes):
    return pq.read_table(io.BytesIO(parquet), columns=["event_id"]).column(0).to_pylist()


def moto_requests(log: Path, start: int, end: int):
    """moto's requests between two offsets of its log by kind: SNS and SQS share `POST /`; S3 by method, bucket
    and first key segment."""
    with open(log, "rb") as f:
        f.seek(start)
        text = f.read(end - start).decode(errors="replace")
    counts = collections.Counter()
    for method, path in re.findall(r'"([A-Z]+) /([^ ?"]*)\S* HTTP', text):
        bucket, _, key = path.partition("/")
        segment = key.split("/")[0] or ("(list)" if method == "GET" else "(bucket)")
        counts[f"S3 {method} {bucket.split('-')[1]}/{segment}" if path else "SNS+SQS"] += 1
    return counts.most_common()


def start(cmd, log: Path, **kw):
    return subprocess.Popen([str(c) for c in cmd], stdout=open(log, "w"), stderr=subprocess.STDOUT, **kw)


def stop(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def p95(values):
    return sorted(values)[int(0.95 * len(values))] if values else 0.0


def run(args, work: Path, leads: set, n_quarantined: int) -> dict:
    """Starts the services and the stack, sends the mails, measures until every outcome is there, verifies."""
    logs, procs, watch, r = work / "logs", {}, None, {}
    try:
        port, kport = free_port(), free_port()
        aws, url, brokers = f"http://127.0.0.1:{port}", f"tcp://127.0.0.1:{kport}", f"127.0.0.1:{kport}"
        procs["moto_server"] = start([_tool("moto_server"), "-H", "127.0.0.1", "-p", port], logs / "moto.log")
        procs["tansu"] = start([_tool("tansu"), "broker", "--listener-url", url, "--advertised-listener-url", url,
                                "--storage-engine", "memory://tansu/"], logs / "tansu.log")
        wait_for_port(port, procs["moto_server"], "moto_server")
        wait_for_port(kport, procs["tansu"], "tansu broker")
        subprocess.run([_tool("tansu"), "topic", "create", TOPIC, "--partitions", "3", "--broker", url],
                       check=True, capture_output=True, timeout=30)
        env = dict(aws_env(aws), AWS_ENDPOINT_URL=aws)
        r["up"] = [BIN, "local", "up", "--stack", STACK, "--aws-endpoint", aws, "--kafka-brokers", brokers,
                   "--bin-dir", work / "bin", "--logs", logs, *args.up_arg]
        up = procs[UP] = start(r["up"], logs / "up.log", cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while "leadpipe local: ready" not in (logs / "up.log").read_text():
            if up.poll() is not None or time.monotonic() > deadline:
                sys.exit("local up did not get ready:\n" + (logs / "up.log").read_text())
            time.sleep(0.2)
        watch = r["watch"] = Watch(logs, brokers)
        watch.start()
        s3, sqs = client("s3", aws), client("sqs", aws)
        url_of = lambda q: sqs.get_queue_url(QueueName=f"{STACK}-{q}")["QueueUrl"]
        depth = lambda q: sum(int(v) for v in sqs.get_queue_attributes(QueueUrl=url_of(q), AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"].values())
        archive, quarantine = (f"{STACK}-{k}-{ACCOUNT_REGION}" for k in ("archive", "quarantine"))
        r["sandboxes"] = collections.Counter(name for name, _ in sandboxes(up.pid))
        cpu0, moto0 = cpu_times(procs, up.pid), (logs / "moto.log").stat().st_size
        r["send"] = [BIN, "local", "send", "--stack", STACK, "--aws-endpoint", aws, "--store", "auto",
                     "--timeout", args.timeout, "--report", work / "send-report.json", work / "mails"]
        t0, r["wall0"], r["load"] = time.monotonic(), time.time(), os.getloadavg()[0]
        send = procs[SEND] = start(r["send"], logs / "send.log", cwd=ROOT, env=env)
        archived, quarantined, marks, send_cpu, polled, read = {}, {}, {}, None, 0.0, {f: 0 for f in FUNCTIONS}
        while not ("end to end" in marks and send_cpu is not None or time.monotonic() - t0 > args.timeout):
            time.sleep(0.1)
            now = time.monotonic() - t0
            if send_cpu is None:  # wait4 rather than Popen.wait: the CPU time comes with it
                pid, status, usage = os.wait4(send.pid, os.WNOHANG)
                if pid:
                    send.returncode = os.waitstatus_to_exitcode(status)
                    send_cpu, marks["local send exited (it waits for every terminal state)"] = \
                        usage.ru_utime + usage.ru_stime, now
            if now - polled < 1.0:
                continue
            polled = now
            # Published = still in extract's invoke queue (the harness's SNS subscription) + invoked.
            if "publish" not in marks and depth("local-extract-invoke") + len(invocations(watch, "extract")) >= \
                    args.mails:
                marks["publish"] = now
            new = {f: watch.lines[f][read[f]:] for f in ("archive", "extract")}
            for f in new:
                read[f] += len(new[f])
            for t, d in new["archive"]:
                for o in d.get("objects", []) if d.get("message") == "batch done" else []:
                    for e in event_ids(s3.get_object(Bucket=archive, Key=o["key"])["Body"].read()):
                        archived.setdefault(e, t - r["wall0"])
            for t, d in new["extract"]:
                for q in d.get("quarantine_ids", []):
                    quarantined.setdefault(q, t - r["wall0"])
            if "end to end" not in marks and now - r.setdefault("sampled", -5) >= 5:  # moto's SQS costs grow with these
                r["sampled"], depths = now, r.setdefault("depths", {"to-kafka": 0, "local-observer": 0})
                depths.update({q: max(n, depth(q)) for q, n in depths.items()})
            if now - r.setdefault("progress", 0) >= 30:
                r["progress"] = now
                print(f"{now:6.0f} s: {len(invocations(watch, 'extract')):,} extracted, {len(watch.keys):,} in Kafka, "
                      f"{len(archived):,} archived, {len(quarantined):,} quarantined; deepest queues {r.get('depths')}",
                      file=sys.stderr, flush=True)
            if "end to end" not in marks and len(quarantined) >= n_quarantined and all(
                    k in watch.keys and k in archived for k in leads):
                marks["end to end"] = max([watch.keys[k] - t0 for k in leads] + [archived[k] for k in leads]
                                          + list(quarantined.values()))
                cpu1, moto1 = cpu_times(procs, up.pid), (logs / "moto.log").stat().st_size
        if "end to end" not in marks:  # timed out: stop sending before reading the outcomes
            cpu1, moto1 = cpu_times(procs, up.pid), (logs / "moto.log").stat().st_size
            stop(send)
        cpu1[SEND] = cpu1[SEND] or send_cpu or 0.0  # at the end of the interval, else its total
        r.update(marks=marks, archived=archived, quarantined_at=quarantined, t0=t0, moto=(moto0, moto1),
                 e2e=marks.get("end to end", time.monotonic() - t0), cpu=cpu1 - cpu0)
        time.sleep(5)  # past the visibility timeout: a late redelivery would show up as a duplicate
        watch.stop.set()
        watch.join()
        r["parquet"] = [event_ids(body) for body in objects(s3, archive, "leads/")]
        r["ids"] = {e for ids in r["parquet"] for e in ids}
        r["quarantined"] = {json.loads(b)["ses_message_id"] for b in objects(s3, quarantine, "quarantine/meta/")}
        r["dlqs"] = {q: depth(q) for q in ("to-kafka-dlq", "to-archive-dlq", "extract-failures")}
        r["send_status"], report = send.returncode, work / "send-report.json"
        r["send_report"] = json.loads(report.read_text()) if report.exists() else {}
        return r
    finally:
        if watch:
            watch.stop.set()
        for name in (SEND, UP, "tansu", "moto_server"):
            stop(procs.get(name))


def report(args, work, r, leads, n_quarantined, replay_s):
    watch, e2e, cpu, wall0, t0 = r["watch"], r["e2e"], r["cpu"], r["wall0"], r["t0"]
    tansu = subprocess.run([_tool("tansu"), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"machine: nproc {os.cpu_count()}, {platform.machine()}, load avg {r['load']:.2f} when the clock started; "
          f"moto {__import__('moto').__version__ if Path(_tool('moto_server')).parent == Path(sys.executable).parent else '(from PATH)'}, {tansu}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    for name in ("up", "send"):
        print(f"local {name}: {' '.join(map(str, r[name]))}".replace(str(work), "$WORK"))
    print(f"mails: {args.mails:,} (45 fixtures cycled, each with its own Message-ID); replay: {len(leads):,} leads, "
          f"{n_quarantined:,} quarantined, in {replay_s:.1f} s ({args.mails / replay_s:,.0f} mails/s)\n")
    sr, extracted = r["send_report"], len(invocations(watch, "extract"))
    if "end to end" in r["marks"]:
        print(f"**{args.mails / e2e:,.1f} mails/s end to end** ({args.mails:,} mails in {e2e:.1f} s, "
              f"{len(leads) / e2e:,.1f} leads/s); local send's own report: {sr.get('mails_per_second', 0):.1f} "
              f"mails/s over {sr.get('elapsed_ms', 0) / 1000:.1f} s\n")
    else:
        print(f"**TIMED OUT after {e2e:.0f} s**: {extracted:,} mails extracted ({extracted / e2e:.1f} mails/s), "
              f"{len(watch.keys):,} leads in Kafka, {len(r['archived']):,} archived\n")
    last = lambda times, base=0.0: max(times, default=base) - base
    timeline = [("all mails published by local send (polled every second)", r["marks"].get("publish")),
                ("last extract invocation done", last((t for t, _ in invocations(watch, "extract")), wall0)),
                ("last lead read from Kafka", last(watch.keys.values(), t0)),
                ("last lead archived (archive's log line for its object)", last(r["archived"].values())),
                ("last mail quarantined (extract's log line)", last(r["quarantined_at"].values())),
                *((k, v) for k, v in r["marks"].items() if k.startswith("local send")), ("end to end", e2e)]
    print("| timeline | s after `local send` started |\n|---|---:|")
    for label, s in timeline:
        print(f"| {label} | {'-' if s is None else f'{s:.1f}'} |")
    print(f"\n| where the time goes (over {e2e:.1f} s) | invocations | items/inv. | busy s | median ms | p95 ms "
          f"| CPU s | CPU % of wall |\n|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in (*FUNCTIONS, "moto_server", "tansu", UP, SEND, SELF):
        cells, label = [""] * 5, name
        if name in FUNCTIONS:
            inv = [(t, d) for t, d in invocations(watch, name) if d["_aws"]["Timestamp"] / 1000 >= wall0 - 1]
            ms = [1000 * (t - d["_aws"]["Timestamp"] / 1000) for t, d in inv]
            items = sum(d.get("mails", d.get("records", 0)) for _, d in inv)
            cells = [f"{len(inv):,}", f"{items / max(len(inv), 1):.1f}", f"{sum(ms) / 1000:.1f}",
                     f"{statistics.median(ms) if ms else 0:.1f}", f"{p95(ms):.1f}"]
            label = f"{name} ({r['sandboxes'][name]} sandbox{'es' * (r['sandboxes'][name] > 1)})"
        print(f"| {label} | {' | '.join(cells)} | {cpu[name]:.1f} | {100 * cpu[name] / e2e:.0f} |")
    fwd = [d["kafka_batch_latency"] for _, d in invocations(watch, "forward") if "kafka_batch_latency" in d]
    print(f"\nDurations: EMF start to the line read here (±2 ms). forward's own kafka_batch_latency: sum "
          f"{sum(fwd) / 1000:.1f} s, median {statistics.median(fwd) if fwd else 0:.1f} ms, p95 {p95(fwd):.1f} ms.")
    requests = moto_requests(work / "logs" / "moto.log", *r["moto"])
    total = max(sum(n for _, n in requests), 1)
    print(f"moto requests in that time: {total:,} ({total / e2e:,.0f}/s, {1000 * cpu['moto_server'] / total:.1f} ms "
          f"CPU each, {total / args.mails:.1f} per mail): " + ", ".join(f"{k} {n:,}" for k, n in requests))
    if r.get("depths"):
        print(f"Deepest queues until the end (sampled every ~5 s): {r['depths']}")

    checks = [("duplicates in Kafka", watch.records - len(watch.keys), 0),
              ("unique leads in Kafka", len(watch.keys), len(leads)),
              ("leads archived (unique event_id)", len(r["ids"]), len(leads)),
              ("quarantined mails (metadata objects)", len(r["quarantined"]), n_quarantined),
              ("Kafka keys == archived ids == replay's event ids", int(set(watch.keys) == r["ids"] == leads), 1),
              (f"messages in the DLQs {r['dlqs']}", sum(r["dlqs"].values()), 0),
              ("local send exit status", r["send_status"], 0)]
    print("\n| check | got | expected |\n|---|---:|---:|")
    for label, got, want in checks:
        print(f"| {label} | {got if got is None else f'{got:,}'} | {want:,} |{'' if got == want else ' **FAIL**'}")
    print(f"(archive: {sum(map(len, r['parquet'])):,} rows in {len(r['parquet']):,} objects; Kafka: "
          f"{watch.records:,} records)")
    return all(got == want for _, got, want in checks)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mails", type=int, default=10_000, help="mails to send (default 10000)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds to wait for the outcomes (default 3600)")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    ap.add_argument("--up-arg", action="append", default=[],
                    help="extra `local up` argument, e.g. --up-arg=--extract-concurrency=4 (repeatable)")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the processes
    work = args.keep or Path(tempfile.mkdtemp(prefix="leadpipe-e2e-bench-"))
    for d in ("mails", "logs", "bin", "replay"):
        shutil.rmtree(work / d, ignore_errors=True)
        (work / d).mkdir(parents=True)
    for f in FUNCTIONS:
        (work / "bin" / f).symlink_to((BIN_DIR / f).resolve())
    try:
        make_mails(work / "mails", args.mails)
        leads, n_quarantined, replay_s = expected_outcomes(work / "mails", work / "replay")
        ok = report(args, work, run(args, work, leads, n_quarantined), leads, n_quarantined, replay_s)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
