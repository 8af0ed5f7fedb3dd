"""Archive efficiency (docs/PERFORMANCE.md, item 6): Parquet bytes per lead against the same events as JSON lines
(plain and gzip), and DuckDB time for the stack's own Athena SQL (the `leads_latest` view and the named queries,
translated by the same sqlglot step the infra tests use) over N replayed leads.

    ~/.cache/leadpipe/venv/bin/python benches/archive_efficiency.py [--leads 100000] [--runs 5] [--keep DIR]

The mails are the fixture lead mails whose customer e-mail address is written verbatim in the raw mail, each
re-sent many times as a new mail: its own Message-ID (so its own event id), its customer address made unique
(`local.g<i>@domain`, so the pseudonym join pairs only the copies that share an address on purpose: every 50th
mail repeats the previous one's address), and a Date spread over 30 days. They go through
`target/release/leadpipe replay` (the whole pipeline in one process: extract, anonymize, Kafka JSON lines, the
Parquet archive), whose wall time is reported as well.
"""

import argparse
import gzip
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))
from test_infra import athena_sql, connect, to_duckdb  # noqa: E402  (the translation the tests check)

BIN = Path(os.environ.get("LEADPIPE_BIN", ROOT / "target" / "release" / "leadpipe"))
KEY = '{"key_id":"test-bench","secret":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}'
QUERIES = [("leads_per_rule_per_day", ("2000-01-01",)), ("leads_per_campaign", ("2000-01-01",)),
           ("pseudonym_join", ())]


def lead_templates():
    """(name, raw bytes, customer e-mail addresses) of fixture leads whose addresses appear verbatim."""
    manifest = json.loads((ROOT / "fixtures" / "pii-manifest.json").read_text())["mails"]
    out = []
    for name, values in sorted(manifest.items()):
        expected = json.loads((ROOT / "fixtures" / "expected" / name.replace(".eml", ".expected.json")).read_text())
        raw = (ROOT / "fixtures" / "emails" / name).read_bytes()
        emails = [v["value"].encode() for v in values if v["class"] == "email"]
        if expected.get("outcome") == "lead" and emails and all(e in raw for e in emails):
            out.append((name, raw, emails))
    return out


def with_header(raw: bytes, name: bytes, value: bytes) -> bytes:
    """`raw` with header `name` replaced by (or given) `value`."""
    sep = b"\r\n" if raw.find(b"\r\n") == raw.find(b"\n") - 1 >= 0 else b"\n"
    head, _, body = raw.partition(sep + sep)
    lines = [l for l in head.split(sep) if not l.lower().startswith(name.lower() + b":")]
    return sep.join(lines + [name + b": " + value]) + sep + sep + body


def make_mails(folder: Path, n: int):
    """Writes n mails (see the module doc) and returns how many templates they cycle through."""
    templates = lead_templates()
    start = datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)
    for i in range(n):
        tag = i - 1 if i % 50 == 1 else i  # every 50th pair: the same person again, so the join finds pairs
        name, raw, emails = templates[tag % len(templates)]
        for e in emails:
            local, _, domain = e.partition(b"@")
            raw = raw.replace(e, local + b".g%d@" % tag + domain)
        raw = with_header(raw, b"Message-ID", b"<bench-%d@leadpipe.test>" % i)
        raw = with_header(raw, b"Date", format_datetime(start + timedelta(minutes=i * 43200 // n)).encode())
        (folder / f"m{i:06d}.eml").write_bytes(raw)
    return len(templates)


def timed(fn, runs):
    """Median and min wall seconds of `runs` calls."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--leads", type=int, default=100_000, help="mails to generate and replay (default 100000)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per query (default 5)")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="leadpipe-archive-bench-"))
    mails, out = work / "mails", work / "out"
    shutil.rmtree(mails, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    mails.mkdir(parents=True)
    n_templates = make_mails(mails, args.leads)
    t = time.perf_counter()
    proc = subprocess.run([str(BIN), "replay", str(mails), "--out", str(out), "--quiet"], cwd=ROOT,
                          env=dict(os.environ, LEADPIPE_KEY=KEY), capture_output=True, text=True)
    replay_s = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"replay failed:\n{proc.stdout}{proc.stderr}")
    report = json.loads((out / "report.json").read_text())
    leads = report["archive_rows"]

    parquet = sum(p.stat().st_size for p in (out / "archive").rglob("*.parquet"))
    files = len(list((out / "archive").rglob("*.parquet")))
    values = b"".join(json.loads(line)["value"].encode() + b"\n"
                      for line in (out / "kafka" / "leads.jsonl").read_text().splitlines())
    gz = len(gzip.compress(values, compresslevel=6))

    con = connect(out / "archive")
    con.execute(to_duckdb(athena_sql("create_view_leads_latest")))
    (count,) = con.execute("SELECT count(*) FROM leads").fetchone()
    (unique,) = con.execute("SELECT count(*) FROM leads_latest").fetchone()
    assert count == leads == unique, (count, leads, unique)
    timings = [("count(*) over the archive", timed(lambda: con.execute("SELECT count(*) FROM leads").fetchall(),
                                                   args.runs), count)]
    timings.append(("leads_latest (dedup view), all rows",
                    timed(lambda: con.execute("SELECT count(*) FROM leads_latest").fetchall(), args.runs), unique))
    for name, params in QUERIES:
        sql = to_duckdb(athena_sql(name))
        rows = len(con.execute(sql, list(params)).fetchall())
        timings.append((name, timed(lambda: con.execute(sql, list(params)).fetchall(), args.runs), rows))

    print(f"machine: nproc {os.cpu_count()}, {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}, duckdb {__import__('duckdb').__version__}")
    print(f"mails: {args.leads} from {n_templates} fixture templates; replay wall {replay_s:.1f} s "
          f"({args.leads / replay_s:,.0f} mails/s, whole pipeline in one process incl. writing every output)\n")
    print("| format | bytes | bytes per lead | vs Parquet |\n|---|---:|---:|---:|")
    for label, size in (("Parquet archive (%d objects)" % files, parquet), ("JSON lines (event values)", len(values)),
                        ("JSON lines, gzip -6", gz)):
        print(f"| {label} | {size:,} | {size / leads:,.0f} | {size / parquet:.2f}x |")
    print(f"\n| DuckDB query over {leads:,} leads | rows | median s | min s |\n|---|---:|---:|---:|")
    for label, (median, best), rows in timings:
        print(f"| {label} | {rows:,} | {median:.3f} | {best:.3f} |")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
