"""The local stack end to end: `leadpipe local up` runs the three release-built function binaries behind a
Lambda Runtime API emulator on moto (S3/SNS/SQS/Secrets Manager) and tansu (Kafka), playing SNS's async invoke
and the SQS event source mappings; `leadpipe local send` delivers the fixtures as SES would (inline and via the
raw bucket). Outside clients check what the pipeline wrote: kafka-python reads Kafka, boto3 + pyarrow read S3
and the queues."""

import io
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest
from kafka import KafkaConsumer, TopicPartition

from services import aws_env, moto_server, tansu_broker

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("LEADPIPE_BIN", str(ROOT / "target" / "debug" / "leadpipe"))
FUNCTIONS = Path(os.environ.get("LEADPIPE_FUNCTIONS_DIR", str(ROOT / "target" / "release")))
STACK = "leadpipe-e2e"
ACCOUNT_REGION = "123456789012-us-east-1"
UNIQUE_FIXTURE_LEADS = 38  # 39 lead mails, one of them a second copy of another


def client(kind, endpoint):
    return boto3.client(kind, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def big_mail(tmp: Path) -> Path:
    """A lead mail over SES's 150 KB SNS limit (a real fixture with a long footer and its own Message-ID)."""
    src = (ROOT / "fixtures" / "emails" / "carportal-02.eml").read_bytes()
    src = src.replace(b"Message-ID: <cp.48377125.1795193319@mailer.cars.example>",
                      b"Message-ID: <cp.big.1@mailer.cars.example>")
    pad = b"".join(b"Archive footer line %05d: sent by CarPortal to its dealer network.\n" % i for i in range(2400))
    path = tmp / "big" / "carportal-big.eml"
    path.parent.mkdir()
    path.write_bytes(src.rstrip(b"\n") + b"\n\n" + pad)
    assert path.stat().st_size > 150 * 1024
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    for name in ("extract", "forward", "archive"):
        assert (FUNCTIONS / name).is_file() or (FUNCTIONS / name / "bootstrap").is_file(), (
            f"no {name} binary in {FUNCTIONS}: scripts/test.sh builds them (cargo build --release -p leadpipe-{name})")
    tmp = tmp_path_factory.mktemp("stack")
    logs = tmp / "logs"
    logs.mkdir()
    with moto_server(logs) as aws, tansu_broker(logs) as kafka:
        env = dict(aws_env(aws), AWS_ENDPOINT_URL=aws)
        up_log = open(logs / "up.log", "w")
        up = subprocess.Popen(
            [BIN, "local", "up", "--stack", STACK, "--aws-endpoint", aws, "--kafka-brokers", kafka,
             "--bin-dir", str(FUNCTIONS), "--logs", str(logs), "--visibility-timeout", "3",
             "--max-receive-count", "3", "--retry-delay-ms", "300"],
            cwd=ROOT, env=env, stdout=up_log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while "leadpipe local: ready" not in (logs / "up.log").read_text():
                assert up.poll() is None, (logs / "up.log").read_text()
                assert time.monotonic() < deadline, "local up did not get ready in 60 s"
                time.sleep(0.2)
            yield {"aws": aws, "kafka": kafka, "env": env, "tmp": tmp, "logs": logs, "up": up}
        finally:
            if up.poll() is None:
                up.send_signal(signal.SIGTERM)
                try:
                    up.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    up.kill()
            up_log.close()


def send(stack, *paths, store="auto", name="report"):
    report = stack["tmp"] / f"{name}.json"
    proc = subprocess.run([BIN, "local", "send", "--stack", STACK, "--aws-endpoint", stack["aws"], "--store", store,
                           "--timeout", "120", "--report", str(report), *map(str, paths)],
                          cwd=ROOT, env=stack["env"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr + (stack["logs"] / "up.log").read_text()[-3000:]
    return json.loads(report.read_text()), proc.stdout


def queue_url(stack, name):
    return client("sqs", stack["aws"]).get_queue_url(QueueName=f"{STACK}-{name}")["QueueUrl"]


def peek(stack, name):
    """Every message body in a queue, without consuming it (received with visibility timeout 0)."""
    sqs = client("sqs", stack["aws"])
    url = queue_url(stack, name)
    seen = {}
    for _ in range(5):
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", []):
            seen[m["MessageId"]] = m["Body"]
    return list(seen.values())


def wait_for(check, what, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def read_topic(kafka):
    consumer = KafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False, consumer_timeout_ms=5000,
                             api_version_auto_timeout_ms=10000)
    parts = [TopicPartition("leads", p) for p in sorted(consumer.partitions_for_topic("leads") or [])]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    records = list(consumer)
    consumer.close()
    return records


@pytest.fixture(scope="module")
def runs(stack):
    sqs = client("sqs", stack["aws"])
    # Poison: bodies that can never be processed, queued before the mails so they share batches with good ones.
    sqs.send_message(QueueUrl=queue_url(stack, "to-kafka"), MessageBody="poison: not a lead event")
    sqs.send_message(QueueUrl=queue_url(stack, "to-archive"), MessageBody='{"schema": "leadpipe.lead.v1"}')
    sns = client("sns", stack["aws"])
    inbound = f"arn:aws:sns:us-east-1:123456789012:{STACK}-inbound"
    # Not an SES notification: extract fails, is retried twice, then lands in the on-failure destination.
    sns.publish(TopicArn=inbound, Message='{"hello": "not SES"}')
    # One of leadpipe's own events on the inbound topic (a topic loop): the recursion guard skips it.
    sns.publish(TopicArn=inbound, Message='{"schema": "leadpipe.lead.v1", "event_id": "ev1_loop"}',
                MessageAttributes={"producer": {"DataType": "String", "StringValue": "leadpipe"}})
    # A captured SES notification with a virus FAIL verdict, published as SES would.
    virus = json.loads((ROOT / "fixtures" / "notifications" / "lambda-sns-virus.json").read_text())
    sns.publish(TopicArn=inbound, Message=virus["Records"][0]["Sns"]["Message"])
    first, first_out = send(stack, ROOT / "fixtures" / "emails", big_mail(stack["tmp"]), name="first")
    second, _ = send(stack, ROOT / "fixtures" / "emails", store="s3", name="second")
    return first, second, first_out


def test_every_mail_reaches_one_terminal_state(runs):
    first, second, out = runs
    assert "lost (no terminal state)  0" in out, out
    for report in (first, second):
        assert report["not_terminal"] == []
        assert report["extract_failed"] == 0
        assert report["quarantined"] == {"failed_auth": 1, "missing_required:email": 1, "no_rule_matched": 2,
                                         "unparseable": 2}
    assert first["mails_sent"] == 46 and first["mails_with_leads"] == 40
    assert first["sent_s3"] == 1 and first["sent_inline"] == 45, "the mail over 150 KB goes the S3 path"
    big = [m for m in first["mails"] if m["input"].endswith("carportal-big.eml")][0]
    assert big["sent"] == "s3" and big["state"] == "leads" and len(big["event_ids"]) == 1
    assert second["sent_s3"] == 45 and second["mails_with_leads"] == 39
    for report in (first, second):
        assert all(m["state"] in ("leads", "quarantined") for m in report["mails"])


def test_kafka_holds_every_lead_exactly_once(stack, runs):
    first, second, _ = runs
    records = read_topic(stack["kafka"])
    keys = [r.key.decode() for r in records]
    expected = {e for m in first["mails"] for e in m["event_ids"]}
    assert len(expected) == UNIQUE_FIXTURE_LEADS + 1
    assert len(keys) == len(set(keys)), "no duplicate after a second delivery of every mail via S3"
    assert set(keys) == expected == {e for m in second["mails"] for e in m["event_ids"]} | {
        e for m in first["mails"] if m["input"].endswith("carportal-big.eml") for e in m["event_ids"]}
    for r in records:
        event = json.loads(r.value)
        headers = {k: v.decode() for k, v in r.headers}
        assert r.key.decode() == event["event_id"] == headers["event_id"]
        assert headers["revision"] == event["revision"] and headers["rule_id"] == event["rule_id"]
        assert headers["schema"] == event["schema"] == "leadpipe.lead.v1"
        assert headers["content-type"] == "application/json"
        assert event["source"]["ses_message_id"].startswith("local")
        assert event["key_id"].startswith("local-"), "the functions use the key from Secrets Manager"


def test_archive_holds_every_lead(stack, runs):
    first, _, _ = runs
    s3 = client("s3", stack["aws"])
    bucket = f"{STACK}-archive-{ACCOUNT_REGION}"
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="leads/")
            for o in page.get("Contents", [])]
    assert keys and all(re.fullmatch(r"leads/dt=\d{4}-\d{2}-\d{2}/part-[0-9a-f]{32}\.parquet", k) for k in keys)
    ids = []
    for k in keys:
        table = pq.ParquetFile(io.BytesIO(s3.get_object(Bucket=bucket, Key=k)["Body"].read())).read()
        ids += table.column("event_id").to_pylist()
        assert k.split("/")[1] == "dt=" + str(table.column("dt")[0]) if "dt" in table.column_names else True
    assert set(ids) == {e for m in first["mails"] for e in m["event_ids"]}
    ledger = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="ledger/").get("Contents", [])]
    assert len(ledger) == UNIQUE_FIXTURE_LEADS + 1


def test_quarantine_holds_raw_mail_and_reasons(stack, runs):
    _, second, _ = runs
    s3 = client("s3", stack["aws"])
    bucket = f"{STACK}-quarantine-{ACCOUNT_REGION}"

    def listing():
        return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="quarantine/").get("Contents", [])]

    wait_for(lambda: len([k for k in listing() if "/meta/" in k]) == 7, "7 quarantine records (6 fixtures + virus)")
    keys = listing()
    metas = [json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys if "/meta/" in k]
    virus = [m for m in metas if m["ses_message_id"] == "vr9c2k1m0a7b3d5f8h4j6l2n0p1q3s5u7w9y1z3a"]
    assert len(virus) == 1 and virus[0]["reason"] == "virus", "SES virus FAIL verdict quarantines"
    metas = [m for m in metas if m not in virus]
    assert len(metas) == 6, "the same mail quarantined twice has one deterministic id (the latest delivery's metadata)"
    by_id = {m["ses_message_id"]: m for m in metas}
    for mail in second["mails"]:
        if mail["state"] == "quarantined":
            meta = by_id[mail["ses_message_id"]]
            assert meta["reason"] == mail["reason"]
            raw = f"quarantine/mail/{meta['reason_kind']}/{meta['quarantine_id']}.eml"
            assert raw in keys
            original = Path(mail["input"]).read_bytes()
            assert s3.get_object(Bucket=bucket, Key=raw)["Body"].read() == original


def test_poison_messages_reach_their_dlqs_while_the_rest_is_delivered(stack, runs):
    wait_for(lambda: "poison: not a lead event" in peek(stack, "to-kafka-dlq"), "the to-kafka DLQ")
    wait_for(lambda: '{"schema": "leadpipe.lead.v1"}' in peek(stack, "to-archive-dlq"), "the to-archive DLQ")
    assert len(peek(stack, "to-kafka-dlq")) == 1 and len(peek(stack, "to-archive-dlq")) == 1
    failures = [json.loads(b) for b in peek(stack, "extract-failures")]
    assert len(failures) == 1, "only the non-SES message fails extract; the loop message is skipped"
    f = failures[0]
    assert f["requestContext"]["condition"] == "RetriesExhausted" and f["requestContext"]["approximateInvokeCount"] == 3
    assert "not an SES receipt notification" in f["responsePayload"]["errorMessage"]
    assert json.loads(f["requestPayload"]["Records"][0]["Sns"]["Message"]) == {"hello": "not SES"}


def leadpipe(stack, *args):
    proc = subprocess.run([BIN, *args, "--aws-endpoint", stack["aws"]], cwd=ROOT, env=stack["env"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_dlq_tool_lists_shows_and_redrives_without_losing_messages(stack, runs):
    dlq = f"{STACK}-to-kafka-dlq"
    wait_for(lambda: len(peek(stack, "to-kafka-dlq")) == 1, "the poison message in the to-kafka DLQ")
    listing = leadpipe(stack, "dlq", "list", "--queue", dlq)
    assert "1 message(s)" in listing and "unreadable body (24 bytes, not JSON)" in listing, listing
    assert len(peek(stack, "to-kafka-dlq")) == 1, "listing does not consume"
    message_id = listing.splitlines()[1].split()[0]
    assert "poison: not a lead event" in leadpipe(stack, "dlq", "show", "--queue", dlq, message_id)
    assert "moved 1 of 1" in leadpipe(stack, "dlq", "redrive", "--queue", dlq)
    assert peek(stack, "to-kafka-dlq") == []
    # Still poison: forward fails it again and SQS moves it back after maxReceiveCount receives.
    wait_for(lambda: len(peek(stack, "to-kafka-dlq")) == 1, "the redriven poison back in the DLQ")
    failures = f"{STACK}-extract-failures"
    listing = leadpipe(stack, "dlq", "list", "--queue", failures)
    assert "extract failed after 3 attempts (SES message unknown): event is not an SES receipt notification" in listing
    inbound = f"arn:aws:sns:us-east-1:123456789012:{STACK}-inbound"
    assert "moved 1 of 1" in leadpipe(stack, "dlq", "redrive", "--queue", failures, "--to-topic", inbound)
    assert peek(stack, "extract-failures") == []
    wait_for(lambda: len(peek(stack, "extract-failures")) == 1, "extract re-invoked, failing again")


def test_functions_log_metrics_and_no_pii(stack, runs):
    logs = {name: (stack["logs"] / f"{name}.log").read_text() for name in ("extract", "forward", "archive")}
    emf = [json.loads(line) for text in logs.values() for line in text.splitlines() if line.startswith('{"_aws"')]
    # The function dimension is the deployed name (<stack>-<function>), so stacks sharing an account do not mix.
    assert {d["function"] for d in emf} == {f"{STACK}-extract", f"{STACK}-forward", f"{STACK}-archive"}
    assert sum(d.get("leads", 0) for d in emf if d["function"] == f"{STACK}-extract" and "reason" not in d) >= 40 + 39
    assert sum(d.get("own_outputs_skipped", 0) for d in emf) == 1
    # Every invocation's log line says how long it took (extract per invocation, archive and forward per batch).
    for name, message, metric in (("extract", "done", "invocation_duration"), ("archive", "batch done", "batch_duration"),
                                  ("forward", "batch done", "kafka_batch_latency")):
        lines = [json.loads(line) for line in logs[name].splitlines() if line.startswith("{")]
        done = [d for d in lines if d.get("message") == message]
        assert done and all(isinstance(d.get("duration_ms"), int) for d in done), (name, done[:2])
        assert any(metric in d for d in emf if d["function"] == f"{STACK}-{name}"), (name, metric)
    manifest = json.loads((ROOT / "fixtures" / "pii-manifest.json").read_text())["mails"]
    hay = "\n".join(logs.values()).lower() + (stack["logs"] / "up.log").read_text().lower()
    for mail, values in manifest.items():
        for v in values:
            if len(v["value"]) >= 6 and v["class"] in ("email", "phone", "name"):
                assert v["value"].lower() not in hay, f"{mail}: {v['class']} in a function log"


def test_up_stops_cleanly_on_sigterm(stack, runs):
    up = stack["up"]
    up.send_signal(signal.SIGTERM)
    assert up.wait(timeout=60) == 0
    assert "leadpipe local: stopping" in (stack["logs"] / "up.log").read_text()


def function_binary(name):
    return FUNCTIONS / name / "bootstrap" if (FUNCTIONS / name / "bootstrap").is_file() else FUNCTIONS / name


def test_functions_refuse_test_keys_and_name_bad_configuration(stack):
    """Init fails before the first invocation, with the reason: a `test-` key from Secrets Manager, a missing
    or malformed variable. (The Runtime API is never contacted.)"""
    sm = client("secretsmanager", stack["aws"])
    sm.create_secret(Name="e2e/test-key",
                     SecretString='{"key_id":"test-e2e","secret":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}')
    base = {k: v for k, v in stack["env"].items() if not k.startswith("LEADPIPE_")}
    extract_env = dict(base, LEADPIPE_RULES_S3_URI=f"s3://{STACK}-config-{ACCOUNT_REGION}/rules/rules.toml",
                       LEADPIPE_KEY_SECRET_ARN="e2e/test-key",
                       LEADPIPE_LEADS_TOPIC_ARN=f"arn:aws:sns:us-east-1:123456789012:{STACK}-leads",
                       LEADPIPE_QUARANTINE_BUCKET=f"{STACK}-quarantine-{ACCOUNT_REGION}")
    cases = [
        ("extract", extract_env, 'key "test-e2e" is a test key'),
        ("extract", dict(extract_env, LEADPIPE_KEY_SECRET_ARN="no/such/secret"), "secret no/such/secret"),
        ("extract", dict(extract_env, LEADPIPE_MAILBOXES="[1]"), "LEADPIPE_MAILBOXES: not a JSON object"),
        ("forward", base, "LEADPIPE_KAFKA_BROKERS: not set"),
        ("forward", dict(base, LEADPIPE_KAFKA_BROKERS="x:1", LEADPIPE_LEDGER_BUCKET="b",
                         LEADPIPE_KAFKA_SECURITY_PROTOCOL="tls"), "LEADPIPE_KAFKA_SECURITY_PROTOCOL"),
        ("archive", base, "LEADPIPE_ARCHIVE_BUCKET: not set"),
    ]
    for name, env, expected in cases:
        proc = subprocess.run([str(function_binary(name))], env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode != 0, (name, expected)
        assert expected in proc.stderr, (name, proc.stderr)
        assert "AAECAwQF" not in proc.stderr + proc.stdout, "a secret's value never reaches a log"
