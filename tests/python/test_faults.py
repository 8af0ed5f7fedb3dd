"""Fault injection on the local stack: each scenario sends 50 mails through the three functions (release
binaries behind the Runtime API emulator) while a fault is injected with a loopback TCP proxy between the
functions and a service (moto, the Kafka broker) - refuse, then heal - or by killing a function process, and
checks the accounting with outside readers: inputs = delivered + quarantined + DLQ, nothing lost; Kafka unique
event ids = delivered leads; duplicates only where a crash allows them; after a redrive, every lead delivered
once. A table per scenario is written to $LEADPIPE_FAULT_REPORT (default target/fault-report.txt)."""

import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest
from kafka import KafkaConsumer, TopicPartition

from faultproxy import FaultProxy
from services import _tool, aws_env, free_port, moto_server, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("LEADPIPE_BIN", str(ROOT / "target" / "debug" / "leadpipe"))
FUNCTIONS = Path(os.environ.get("LEADPIPE_FUNCTIONS_DIR", str(ROOT / "target" / "release")))
REPORT = Path(os.environ.get("LEADPIPE_FAULT_REPORT", str(ROOT / "target" / "fault-report.txt")))
ACCOUNT_REGION = "123456789012-us-east-1"
LEAD_FIXTURES = ["carportal-01.eml", "carportal-03.eml", "autolead-01.eml", "webform-01.eml", "rentals-01.eml"]


def client(kind, endpoint):
    return boto3.client(kind, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def mails(tmp_path_factory):
    """50 mails: the 45 fixtures plus 5 lead fixtures re-sent as new mails (own Message-ID)."""
    folder = tmp_path_factory.mktemp("mails")
    for p in sorted((ROOT / "fixtures" / "emails").glob("*.eml")):
        (folder / p.name).write_bytes(p.read_bytes())
    for i, name in enumerate(LEAD_FIXTURES):
        raw = (ROOT / "fixtures" / "emails" / name).read_bytes()
        head, sep, body = raw.partition(b"\n\n") if b"\r\n\r\n" not in raw else raw.partition(b"\r\n\r\n")
        lines = [l for l in head.splitlines() if not l.lower().startswith(b"message-id:")]
        head = b"\n".join(lines + [b"Message-ID: <fault-variant-%d@leadpipe.test>" % i])
        (folder / f"variant-{i}.eml").write_bytes(head + b"\n\n" + body)
    assert len(list(folder.glob("*.eml"))) == 50
    return folder


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    logs = tmp_path_factory.mktemp("fault-logs")
    with moto_server(logs) as aws:
        # tansu advertises the proxy's address, so every Kafka connection of the functions crosses the proxy.
        broker_port = free_port()
        kafka_proxy = FaultProxy(broker_port)
        log = open(logs / "tansu.log", "w")
        tansu = subprocess.Popen([_tool("tansu"), "broker", "--listener-url", f"tcp://127.0.0.1:{broker_port}",
                                  "--advertised-listener-url", f"tcp://{kafka_proxy.address}",
                                  "--storage-engine", "memory://tansu/"], stdout=log, stderr=log)
        try:
            wait_for_port(broker_port, tansu, "tansu broker")
            yield {"aws": aws, "aws_port": int(aws.rsplit(":", 1)[1]), "broker_port": broker_port,
                   "kafka_proxy": kafka_proxy, "logs": logs}
        finally:
            tansu.terminate()
            tansu.wait(timeout=10)
            log.close()
            kafka_proxy.close()


class Stack:
    """One `leadpipe local up` with its own stack name and Kafka topic, each function's AWS traffic through
    its own fault proxy."""

    def __init__(self, services, name, tmp):
        self.s, self.name, self.tmp = services, name, tmp
        self.topic = f"{name}-leads"
        subprocess.run([_tool("tansu"), "topic", "create", self.topic, "--partitions", "3", "--broker",
                        f"tcp://127.0.0.1:{services['broker_port']}"], check=True, capture_output=True, timeout=30)
        self.proxies = {f: FaultProxy(services["aws_port"]) for f in ("extract", "forward", "archive")}
        config = tmp / f"{name}.toml"
        config.write_text(f'kafka_topic = "{self.topic}"\n')
        self.env = dict(aws_env(services["aws"]), AWS_ENDPOINT_URL=services["aws"])
        self.log = services["logs"] / f"{name}-up.log"
        endpoints = [a for f, p in self.proxies.items() for a in ("--function-endpoint", f"{f}=http://{p.address}")]
        self.up = subprocess.Popen(
            [BIN, "local", "up", "--stack", name, "--aws-endpoint", services["aws"], "--kafka-brokers",
             services["kafka_proxy"].address, "--config", str(config), "--bin-dir", str(FUNCTIONS),
             "--logs", str(services["logs"] / name), "--visibility-timeout", "3", "--max-receive-count", "3",
             "--retry-delay-ms", "1000", "--kafka-message-timeout-ms", "3000", "--function-timeout", "20", *endpoints],
            cwd=ROOT, env=self.env, stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while "leadpipe local: ready" not in self.log.read_text():
            assert self.up.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "local up did not get ready"
            time.sleep(0.2)

    def send(self, mails, store="auto", background=False):
        report = self.tmp / f"{self.name}-{time.monotonic_ns()}.json"
        cmd = [BIN, "local", "send", "--stack", self.name, "--aws-endpoint", self.s["aws"], "--store", store,
               "--timeout", "180", "--report", str(report), str(mails)]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if background:
            return proc, report
        return self.finish(proc, report)

    def finish(self, proc, report):
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + self.log.read_text()[-4000:]
        return json.loads(report.read_text())

    def queue(self, name):
        return client("sqs", self.s["aws"]).get_queue_url(QueueName=f"{self.name}-{name}")["QueueUrl"]

    def peek(self, name):
        sqs, url, seen = client("sqs", self.s["aws"]), self.queue(name), {}
        for _ in range(8):
            for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", []):
                seen[m["MessageId"]] = m["Body"]
        return list(seen.values())

    def kafka_keys(self):
        consumer = KafkaConsumer(bootstrap_servers=self.s["kafka_proxy"].address, enable_auto_commit=False,
                                 consumer_timeout_ms=3000, api_version_auto_timeout_ms=10000)
        parts = [TopicPartition(self.topic, p) for p in sorted(consumer.partitions_for_topic(self.topic) or [])]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        keys = [r.key.decode() for r in consumer]
        consumer.close()
        return keys

    def archived(self):
        s3, bucket, ids = client("s3", self.s["aws"]), f"{self.name}-archive-{ACCOUNT_REGION}", []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="leads/"):
            for o in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
                ids += pq.ParquetFile(io.BytesIO(body)).read(columns=["event_id"]).column("event_id").to_pylist()
        return ids

    def redrive_all(self):
        for dlq in ("to-kafka-dlq", "to-archive-dlq"):
            subprocess.run([BIN, "dlq", "redrive", "--queue", f"{self.name}-{dlq}", "--aws-endpoint", self.s["aws"]],
                           cwd=ROOT, env=self.env, check=True, capture_output=True, timeout=120)
        subprocess.run([BIN, "dlq", "redrive", "--queue", f"{self.name}-extract-failures", "--aws-endpoint",
                        self.s["aws"], "--to-topic", f"arn:aws:sns:us-east-1:123456789012:{self.name}-inbound"],
                       cwd=ROOT, env=self.env, check=True, capture_output=True, timeout=120)

    def stop(self):
        for p in self.proxies.values():
            p.close()
        if self.up.poll() is None:
            self.up.send_signal(signal.SIGTERM)
            try:
                self.up.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.up.kill()


def accounting(stack, reports, title, allowed_duplicates=0):
    """Counts every input mail's terminal state from outside reads, prints the scenario's table, and checks the
    invariants."""
    keys = stack.kafka_keys()
    archived = set(stack.archived())
    kafka_dlq = {json.loads(b)["event_id"] for b in stack.peek("to-kafka-dlq") if b.startswith("{") and "event_id" in b}
    archive_dlq = {json.loads(b)["event_id"] for b in stack.peek("to-archive-dlq") if b.startswith("{") and "event_id" in b}
    mails = {}
    for r in reports:  # the last delivery of a mail decides (a re-send after a redrive)
        for m in r["mails"]:
            mails[m["input"].rsplit("/", 1)[-1] + ("" if len(reports) == 1 else "")] = m
    row = {"inputs": len(mails), "delivered": 0, "quarantined": 0, "dlq": 0, "lost": 0}
    for m in mails.values():
        events = set(m["event_ids"])
        if m["state"] == "quarantined":
            row["quarantined"] += 1
        elif m["state"] == "leads" and events <= set(keys) and events <= archived:
            row["delivered"] += 1
        elif m["state"] == "extract_failed" or (events and events <= (set(keys) | kafka_dlq) and events <= (archived | archive_dlq)):
            row["dlq"] += 1
        else:
            row["lost"] += 1
    row["duplicates"] = len(keys) - len(set(keys))
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    with REPORT.open("a") as f:
        f.write(f"{title:<58} {row['inputs']:>6} {row['delivered']:>9} {row['quarantined']:>11} {row['dlq']:>4} "
                f"{row['duplicates']:>10} {row['lost']:>4}\n")
    assert row["lost"] == 0, row
    assert row["inputs"] == row["delivered"] + row["quarantined"] + row["dlq"], row
    assert row["duplicates"] <= allowed_duplicates, row
    delivered_events = {e for m in mails.values() if m["state"] == "leads" for e in m["event_ids"]} & set(keys)
    assert set(keys) == delivered_events | (set(keys) - delivered_events), "Kafka holds only known events"
    return row, set(keys), archived


def wait_until(check, what, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    raise AssertionError(f"timed out: {what}")


def settle_after_redrive(stack, expected_events):
    stack.redrive_all()
    wait_until(lambda: expected_events <= set(stack.kafka_keys()) and expected_events <= set(stack.archived()),
               "every lead in Kafka and the archive after the redrive", timeout=180)


@pytest.fixture(scope="module", autouse=True)
def table_header():
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(f"{'scenario':<58} {'inputs':>6} {'delivered':>9} {'quarantined':>11} {'DLQ':>4} "
                      f"{'duplicates':>10} {'lost':>4}\n")


def expected_events(report):
    return {e for m in report["mails"] if m["state"] == "leads" for e in m["event_ids"]}


def run_scenario(services, tmp_path, mails, name, inject, heal, store="auto", allowed_duplicates=0):
    stack = Stack(services, name, tmp_path)
    try:
        inject(stack)
        proc, report_path = stack.send(mails, store=store, background=True)
        time.sleep(6)
        heal(stack)
        report = stack.finish(proc, report_path)
        accounting(stack, [report], f"{name}: during the fault", allowed_duplicates)
        # Quarantined and unmatched mails are final; every lead must reach Kafka and the archive once redriven.
        events = expected_events(report)
        if report["extract_failed"]:
            settle_after_redrive(stack, set())
            wait_until(lambda: stack.peek("extract-failures") == [], "extract failures redriven and processed")
        else:
            settle_after_redrive(stack, events)
        keys = stack.kafka_keys()
        assert len(keys) - len(set(keys)) <= allowed_duplicates
        return stack, report, keys
    except BaseException:
        stack.stop()
        raise


def test_1_kafka_unreachable_then_back(services, tmp_path, mails):
    kafka = services["kafka_proxy"]
    stack, report, keys = run_scenario(services, tmp_path, mails, "f1-kafka-down",
                                       inject=lambda s: kafka.refuse(), heal=lambda s: kafka.heal())
    try:
        assert set(keys) == expected_events(report) and len(keys) == len(set(keys))
        assert set(stack.archived()) == expected_events(report)
        accounting(stack, [report], "f1-kafka-down: after redrive")
    finally:
        stack.stop()


def test_2_s3_unreachable_for_archive_and_ledger_then_back(services, tmp_path, mails):
    def inject(s):
        s.proxies["forward"].refuse()
        s.proxies["archive"].refuse()

    def heal(s):
        s.proxies["forward"].heal()
        s.proxies["archive"].heal()

    stack, report, keys = run_scenario(services, tmp_path, mails, "f2-s3-down", inject, heal)
    try:
        assert set(keys) == expected_events(report) and len(keys) == len(set(keys))
        accounting(stack, [report], "f2-s3-down: after redrive")
    finally:
        stack.stop()
