"""`leadpipe replay` with its real adapters: records produced to a real Kafka-protocol broker (tansu) through
rdkafka and read back with kafka-python, an independent client; archive, ledger and quarantine written to S3
(moto server) through the AWS SDK and read back with boto3 and pyarrow. A second replay produces nothing twice."""

import io
import json
import os
import subprocess
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest
from kafka import KafkaConsumer, TopicPartition

from services import aws_env, moto_server, tansu_broker

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("LEADPIPE_BIN", str(ROOT / "target" / "debug" / "leadpipe"))
KEY = '{"key_id":"test-real-sinks","secret":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}'
BUCKET = "leadpipe-replay-test"


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    logs = tmp_path_factory.mktemp("logs")
    with moto_server(logs) as s3, tansu_broker(logs) as kafka:
        boto3.client("s3", endpoint_url=s3, region_name="us-east-1",
                     aws_access_key_id="testing", aws_secret_access_key="testing").create_bucket(Bucket=BUCKET)
        yield s3, kafka


def replay(services, out: Path) -> dict:
    s3, kafka = services
    env = dict(aws_env(s3), LEADPIPE_KEY=KEY)
    proc = subprocess.run(
        [BIN, "replay", "fixtures/emails", "fixtures/notifications", "--out", str(out), "--quiet",
         "--kafka-brokers", kafka, "--s3-bucket", BUCKET, "--s3-endpoint", s3],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((out / "report.json").read_text())


def read_topic(kafka: str):
    consumer = KafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False, consumer_timeout_ms=5000,
                             api_version_auto_timeout_ms=10000)
    parts = [TopicPartition("leads", p) for p in sorted(consumer.partitions_for_topic("leads") or [])]
    assert parts, "topic leads has partitions"
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    records = list(consumer)
    consumer.close()
    return records


@pytest.fixture(scope="module")
def runs(services, tmp_path_factory):
    out = tmp_path_factory.mktemp("real") / "out"
    first = replay(services, out)
    second = replay(services, out)
    return first, second


def test_kafka_holds_every_lead_once_with_key_and_headers(services, runs):
    _, kafka = services
    first, second = runs
    records = read_topic(kafka)
    assert first["leads_delivered"] == 38 and second["leads_delivered"] == 0
    keys = [r.key.decode() for r in records]
    assert len(keys) == len(set(keys)) == 38, "every lead once, also after the second replay"
    for r in records:
        event = json.loads(r.value)
        headers = {k: v.decode() for k, v in r.headers}
        assert r.key.decode() == event["event_id"] == headers["event_id"]
        assert headers["revision"] == event["revision"] and headers["schema"] == "leadpipe.lead.v1"
        assert headers["content-type"] == "application/json"
        assert all(not str(v).startswith("p1_") or len(v) == 27 for v in event["fields"].values() if isinstance(v, str))


def test_s3_holds_archive_ledger_and_quarantine(services, runs):
    s3, _ = services
    first, _ = runs
    client = boto3.client("s3", endpoint_url=s3, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            for o in page.get("Contents", [])]
    archive = [k for k in keys if k.startswith("leads/dt=") and k.endswith(".parquet")]
    ledger = [k for k in keys if k.startswith("ledger/")]
    quarantine = [k for k in keys if k.startswith("quarantine/")]
    assert len(archive) == first["archive_objects"]
    assert len(ledger) == 38
    assert len(quarantine) == 2 * sum(first["quarantined"].values())
    rows = 0
    for k in archive:
        body = client.get_object(Bucket=BUCKET, Key=k)["Body"].read()
        rows += pq.ParquetFile(io.BytesIO(body)).metadata.num_rows
    assert rows == first["archive_rows"]
    metas = [k for k in quarantine if k.startswith("quarantine/meta/dt=") and k.endswith(".json")]
    mails = [k for k in quarantine if k.startswith("quarantine/mail/") and k.endswith(".eml")]
    assert len(metas) == len(mails) == sum(first["quarantined"].values())
    for k in metas:
        body = client.get_object(Bucket=BUCKET, Key=k)["Body"].read().decode()
        assert body.count("\n") == 1, "one JSON object per line, as Athena's JSON SerDe reads it"
        meta = json.loads(body)
        assert k == f"quarantine/meta/dt={meta['received_at'][:10]}/{meta['quarantine_id']}.json"
        assert f"quarantine/mail/{meta['reason_kind']}/{meta['quarantine_id']}.eml" in mails


def test_key_from_secrets_manager_gives_the_same_pseudonyms(services, tmp_path):
    """The key comes from Secrets Manager (moto) as it will in Lambda; the same key document gives the same
    pseudonyms as when it is passed in the environment, and a missing secret is a clear error."""
    s3, _ = services
    sm = boto3.client("secretsmanager", endpoint_url=s3, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    arn = sm.create_secret(Name="leadpipe/test/pseudonym-key", SecretString=KEY)["ARN"]
    env = dict(aws_env(s3))
    env.pop("LEADPIPE_KEY", None)
    common = [BIN, "replay", "fixtures/emails/carportal-02.eml", "--quiet"]
    by_secret = subprocess.run(common + ["--out", str(tmp_path / "a"), "--key-secret", arn, "--secrets-endpoint", s3],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert by_secret.returncode == 0, by_secret.stdout + by_secret.stderr
    by_env = subprocess.run(common + ["--out", str(tmp_path / "b")], cwd=ROOT, env=dict(env, LEADPIPE_KEY=KEY),
                            capture_output=True, text=True, timeout=120)
    assert by_env.returncode == 0, by_env.stderr
    a = json.loads((tmp_path / "a" / "kafka" / "leads.jsonl").read_text().splitlines()[0])["value"]
    b = json.loads((tmp_path / "b" / "kafka" / "leads.jsonl").read_text().splitlines()[0])["value"]
    assert json.loads(a)["fields"] == json.loads(b)["fields"]
    assert json.loads(a)["key_id"] == "test-real-sinks"
    missing = subprocess.run(common + ["--out", str(tmp_path / "c"), "--key-secret", "no/such/secret",
                                       "--secrets-endpoint", s3], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=120)
    assert missing.returncode == 2
    assert "secret no/such/secret" in missing.stderr and "ResourceNotFound" in missing.stderr, missing.stderr
