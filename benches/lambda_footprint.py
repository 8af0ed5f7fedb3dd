#!/usr/bin/env python3
"""Lambda footprint of the three function binaries (issue "Performance", items 2 and 3).

(2) init: time from process start to the first `GET /2018-06-01/runtime/invocation/next` and VmRSS/VmHWM at that
    moment, for target/release/{extract,forward,archive}, against Python handlers doing the same init the usual way
    (boto3 clients at module level, the same secret / rules object fetched) under a minimal Python runtime loop.
    extract is also run with LEADPIPE_RULES (a local file) and through a timing proxy that splits its init.
(3) peak RSS (VmHWM read when the response is posted): extract on a 10 MiB lead mail (inline BASE64 in an SES
    notification in an SNS event, and via the S3 action) and on a 10 MiB HTML lead mail (via the S3 action),
    forward and archive on a 1,000-record SQS batch.
Every invocation is checked (a lead on the leads topic, records in Kafka, Parquet rows in S3); failures abort.

    ~/.cache/leadpipe/venv/bin/python benches/lambda_footprint.py [--runs 10] [--out FILE]

Needs moto_server (in the venv), tansu (~/.cargo/bin) and the release binaries (cargo build --release).
"""
import argparse, base64, hashlib, http.server, io, json, os, platform, re, shutil, socket, statistics, subprocess
import sys, tempfile, threading, time, tomllib, uuid

import boto3
import pyarrow.parquet as pq
from kafka import KafkaConsumer, TopicPartition

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)
DEADLINE_S = 60
INIT_MS, INIT_MIB, PEAK_MIB = 15, 16, 64
PREFIX = "/2018-06-01/runtime"

PY_COMMON = "import base64, boto3, json, os, re, tomllib\n"
PY_HANDLERS = {
    "extract": PY_COMMON + '''
s3, sns, secrets = boto3.client("s3"), boto3.client("sns"), boto3.client("secretsmanager")
KEY = json.loads(secrets.get_secret_value(SecretId=os.environ["LEADPIPE_KEY_SECRET_ARN"])["SecretString"])
if KEY["key_id"].startswith("test-"):
    raise RuntimeError("deployed functions refuse test keys")
KEY["secret"] = base64.b64decode(KEY["secret"])
if os.environ.get("LEADPIPE_RULES_S3_URI"):
    bucket, key = os.environ["LEADPIPE_RULES_S3_URI"][5:].split("/", 1)
    text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
else:
    text = open(os.environ["LEADPIPE_RULES"], encoding="utf-8").read()
label = lambda l: re.compile(r"^[ \\t*_]*" + re.escape(l) + r"[ \\t*_]*(?:[:=]|\\s-\\s?)[ \\t]*(.*)$", re.I | re.M)
RULES = [({k: re.compile(v) for k, v in r["match"].items() if k in ("sender", "sender_domain", "subject")},
          {k: re.compile(v) for k, v in r["match"].get("headers", {}).items()},
          [(re.compile(f["regex"], re.M) if "regex" in f else None,
            [label(l) for l in ([f["label"]] if isinstance(f.get("label"), str) else f.get("label", []))])
           for f in r["fields"]]) for r in tomllib.loads(text)["rules"]]
MAILBOXES = json.loads(os.environ.get("LEADPIPE_MAILBOXES") or "{}")
PII = [re.compile(p) for p in (r"[\\w.+-]+@[\\w-]+(\\.[\\w-]+)+", r"\\+?\\d[\\d ()./-]{6,}\\d",
                               r"\\b(?:\\d[ -]?){13,19}\\b", r"\\b[A-Z]{2}\\d{2}[A-Z0-9]{11,30}\\b",
                               r"\\b\\d{1,3}(\\.\\d{1,3}){3}\\b", r"https?://\\S+")]

def handler(event, context):
    return {"mails": 0}
''',
    "forward": PY_COMMON + '''from kafka import KafkaProducer
s3 = boto3.client("s3")
producer = KafkaProducer(bootstrap_servers=os.environ["LEADPIPE_KAFKA_BROKERS"].split(","), acks="all", linger_ms=5)

def handler(event, context):
    return {"batchItemFailures": []}
''',
    "archive": PY_COMMON + '''import pyarrow, pyarrow.parquet
s3 = boto3.client("s3")

def handler(event, context):
    return {"batchItemFailures": []}
''',
}
PY_BOOTSTRAP = '''import importlib, json, os, sys, urllib.request
base = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
def post(path, body):
    urllib.request.urlopen(urllib.request.Request(base + path, json.dumps(body).encode(), method="POST")).read()
sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
module, name = os.environ["_HANDLER"].rsplit(".", 1)
try:
    handler = getattr(importlib.import_module(module), name)
except Exception as e:
    post("/init/error", {"errorType": type(e).__name__, "errorMessage": str(e)})
    sys.exit(1)
while True:
    with urllib.request.urlopen(base + "/invocation/next") as r:
        rid, event = r.headers["Lambda-Runtime-Aws-Request-Id"], json.loads(r.read())
    try:
        post(f"/invocation/{rid}/response", handler(event, None))
    except Exception as e:
        post(f"/invocation/{rid}/error", {"errorType": type(e).__name__, "errorMessage": str(e)})
'''


def free_port():
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    """Waits until something listens on 127.0.0.1:port."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def mem_kib(pid):
    """(VmRSS, VmHWM) of a process in KiB."""
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


class Sandbox:
    """One execution environment: a Runtime API server on its own port and one function process."""

    def __init__(self, cmd, env, event=None, events=()):
        """`event`: one invocation; `events`: several, in order, in the same process (`results` collects them)."""
        self.events = [event] if event is not None else list(events)
        self.expected = len(self.events)
        # `started`: set once `proc` exists (a fast init can reach /next before Popen returns).
        self.done, self.stop, self.started = threading.Event(), threading.Event(), threading.Event()
        self.init = self.result = None
        self.results = []
        sandbox = self

        class Api(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, code, body, headers=()):
                self.send_response(code)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def body(self):
                if self.headers.get("Transfer-Encoding"):
                    raise RuntimeError("chunked request bodies are not supported")  # both runtimes send a length
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self):
                t = time.perf_counter()
                sandbox.started.wait(10)
                if self.path != PREFIX + "/invocation/next":
                    return self.reply(404, b"{}")
                if sandbox.init is None:  # the process waits for this answer: its memory is as at the end of init
                    sandbox.init = {"ms": (t - sandbox.t0) * 1000, "mem": mem_kib(sandbox.proc.pid)}
                    sandbox.done.set()
                if not sandbox.events:
                    sandbox.stop.wait(DEADLINE_S)  # init only: the process is killed meanwhile
                    return
                event = sandbox.events.pop(0)
                self.reply(200, event, [("Lambda-Runtime-Aws-Request-Id", str(uuid.uuid4())),
                                        ("Lambda-Runtime-Deadline-Ms", str(int((time.time() + DEADLINE_S) * 1000))),
                                        ("Lambda-Runtime-Invoked-Function-Arn",
                                         "arn:aws:lambda:us-east-1:123456789012:function:bench"),
                                        ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")])
                sandbox.event_sent = time.perf_counter()

            def do_POST(self):
                sandbox.started.wait(10)
                body = self.body()
                kind = self.path.rsplit("/", 1)[-1]
                if self.path == PREFIX + "/init/error":
                    sandbox.init = {"error": body.decode(errors="replace")}
                elif kind in ("response", "error"):  # the process waits for this answer: VmHWM covers the invocation
                    sandbox.result = {"kind": kind, "body": body, "mem": mem_kib(sandbox.proc.pid),
                                      "ms": (time.perf_counter() - sandbox.event_sent) * 1000}
                    sandbox.results.append(sandbox.result)
                self.reply(202, b'{"status":"OK"}')
                sandbox.done.set()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *_: None  # a killed process resets its connections
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{self.server.server_address[1]}")
        self.log = tempfile.TemporaryFile()
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.started.set()

    def wait(self, what, timeout=DEADLINE_S + 30):
        """Waits for the end of init (`what="init"`) or for the invocation's result, then kills the process.
        Raises with the function's output when init or the invocation failed."""
        end = time.time() + timeout
        try:
            while not (self.init and (self.init.get("error") or what == "init" or
                                      (self.results and len(self.results) >= self.expected))):
                if self.proc.poll() is not None:
                    time.sleep(0.2)  # a runtime may post /init/error just before it exits
                    if not (self.init or {}).get("error"):
                        raise RuntimeError(f"the process exited with status {self.proc.returncode} before its {what}")
                    break
                if time.time() > end:
                    raise RuntimeError(f"no {what} within {timeout} s")
                self.done.wait(0.05)
                self.done.clear()
            if self.init.get("error"):
                raise RuntimeError(f"init failed: {self.init['error']}")
            failed = [r for r in self.results if r["kind"] == "error"] if what == "result" else []
            if failed:
                raise RuntimeError(f"invocation failed: {failed[0]['body'].decode(errors='replace')}")
            return self.init if what == "init" else self.result
        except Exception as e:
            self.log.seek(0)
            output = self.log.read()[-3000:].decode(errors="replace")
            raise RuntimeError(f"{e}\n--- function output (tail) ---\n{output}") from None
        finally:
            self.proc.kill()
            self.proc.wait()
            self.stop.set()
            self.server.shutdown()
            self.server.server_close()


class TimingProxy:
    """A TCP proxy in front of moto recording when each AWS request starts (perf_counter, X-Amz-Target or request
    line); adds well under a millisecond per request."""

    def __init__(self, target_port):
        self.target, self.requests = target_port, []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.sock.accept()
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self.pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self.pump, args=(upstream, client, False), daemon=True).start()

    def pump(self, src, dst, record):
        try:
            while chunk := src.recv(65536):
                if record and re.match(rb"(GET|PUT|POST|HEAD) ", chunk):
                    target = re.search(rb"(?i)x-amz-target: *([^\r\n]+)", chunk)
                    line = chunk.split(b"\r\n", 1)[0].decode(errors="replace")
                    self.requests.append((time.perf_counter(), target.group(1).decode() if target else line))
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            dst.close()


class Services:
    """moto server and a tansu broker on free ports, with the buckets, secret, topics and queues the functions use."""

    def __init__(self, workdir):
        self.procs, self.moto_port, self.kafka_port = [], free_port(), free_port()
        logs = open(os.path.join(workdir, "services.log"), "wb")
        self.procs.append(subprocess.Popen([os.path.join(VENV_BIN, "moto_server"), "-H", "127.0.0.1", "-p",
                                            str(self.moto_port)], stdout=logs, stderr=logs))
        kafka = f"tcp://127.0.0.1:{self.kafka_port}"
        tansu = os.path.expanduser("~/.cargo/bin/tansu")
        self.procs.append(subprocess.Popen([tansu, "broker", "--listener-url", kafka, "--advertised-listener-url",
                                            kafka, "--storage-engine", "memory://tansu/"], stdout=logs, stderr=logs))
        wait_port(self.moto_port)
        wait_port(self.kafka_port)
        subprocess.run([tansu, "topic", "create", "leads", "--partitions", "3", "--broker", kafka], check=True,
                       stdout=logs, stderr=logs)
        self.endpoint = f"http://127.0.0.1:{self.moto_port}"
        self.brokers = f"127.0.0.1:{self.kafka_port}"
        aws = dict(endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id="testing",
                   aws_secret_access_key="testing")
        self.s3, sns, sqs = boto3.client("s3", **aws), boto3.client("sns", **aws), boto3.client("sqs", **aws)
        for b in ("config", "quarantine", "archive", "raw"):
            self.s3.create_bucket(Bucket=f"bench-{b}")
        self.s3.upload_file(os.path.join(ROOT, "fixtures/rules/default.toml"), "bench-config", "rules/rules.toml")
        key = {"key_id": "k-bench-2026", "secret": base64.b64encode(os.urandom(32)).decode()}
        self.key_arn = boto3.client("secretsmanager", **aws).create_secret(
            Name="bench/pseudonym-key", SecretString=json.dumps(key))["ARN"]
        self.leads_topic = sns.create_topic(Name="bench-leads")["TopicArn"]
        self.alert_topic = sns.create_topic(Name="bench-alerts")["TopicArn"]
        self.sqs, self.leads_queue = sqs, sqs.create_queue(QueueName="bench-leads-count")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.leads_queue, AttributeNames=["QueueArn"])["Attributes"]
        sns.subscribe(TopicArn=self.leads_topic, Protocol="sqs", Endpoint=queue_arn["QueueArn"],
                      Attributes={"RawMessageDelivery": "true"})

    def leads_published(self):
        """Messages on the queue subscribed to the leads topic."""
        a = self.sqs.get_queue_attributes(QueueUrl=self.leads_queue, AttributeNames=["ApproximateNumberOfMessages"])
        return int(a["Attributes"]["ApproximateNumberOfMessages"])

    def kafka_keys(self):
        """The keys (event ids) of every record in the `leads` topic, read from the start (tansu's end offsets count
        batches, not records, so they cannot be used)."""
        consumer = KafkaConsumer(bootstrap_servers=self.brokers, auto_offset_reset="earliest", consumer_timeout_ms=1500)
        try:
            consumer.assign([TopicPartition("leads", p) for p in range(3)])
            return {m.key.decode() for m in consumer}
        finally:
            consumer.close()

    def archived_rows(self, prefix):
        """Rows in the Parquet objects under `prefix` of the archive bucket."""
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket="bench-archive", Prefix=prefix).get("Contents", [])]
        return sum(pq.read_metadata(io.BytesIO(self.s3.get_object(Bucket="bench-archive", Key=k)["Body"].read()))
                   .num_rows for k in keys if k.endswith(".parquet"))

    def stop(self):
        for p in self.procs:
            p.kill()
            p.wait()


def function_env(svc, name, home, endpoint=None, **extra):
    """The environment Lambda would give function `name` (plus its LEADPIPE_* configuration)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_ENDPOINT_URL": endpoint or svc.endpoint, "AWS_LAMBDA_FUNCTION_NAME": f"bench-{name}",
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
           "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]bench",
           "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/bench-{name}"}
    with open(os.path.join(ROOT, "fixtures/pipeline.toml"), "rb") as f:
        mailboxes = json.dumps(tomllib.load(f).get("mailboxes", {}))
    env.update({
        "extract": {"LEADPIPE_RULES_S3_URI": "s3://bench-config/rules/rules.toml",
                    "LEADPIPE_KEY_SECRET_ARN": svc.key_arn,
                    "LEADPIPE_LEADS_TOPIC_ARN": svc.leads_topic, "LEADPIPE_QUARANTINE_BUCKET": "bench-quarantine",
                    "LEADPIPE_ALERT_TOPIC_ARN": svc.alert_topic, "LEADPIPE_MAILBOXES": mailboxes},
        "forward": {"LEADPIPE_KAFKA_BROKERS": svc.brokers, "LEADPIPE_LEDGER_BUCKET": "bench-archive"},
        "archive": {"LEADPIPE_ARCHIVE_BUCKET": "bench-archive"}}[name])
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def command(name, lang, bin_dir, pydir):
    """The process to start: the Rust binary, or the Python bootstrap with the handler module."""
    if lang == "rust":
        return [os.path.join(bin_dir, name)], {}
    return [sys.executable, os.path.join(pydir, "bootstrap.py")], {"LAMBDA_TASK_ROOT": pydir,
                                                                  "_HANDLER": f"{name}_handler.handler"}


def build_mail(size):
    """carportal-02.eml as multipart/mixed: its headers and lead body, then a text/csv attachment up to `size` bytes."""
    with open(os.path.join(ROOT, "fixtures/emails/carportal-02.eml"), "rb") as f:
        data = f.read()
    nl = b"\r\n" if b"\r\n" in data else b"\n"
    head, body = data.split(nl + nl, 1)
    head = re.sub(rb"(?im)^content-(type|transfer-encoding):.*\r?\n(?:[ \t].*\r?\n)*", b"", head + nl)
    parts = [head + b'Content-Type: multipart/mixed; boundary="bench-boundary"', b"",
             b"--bench-boundary", b"Content-Type: text/plain; charset=us-ascii",
             b"Content-Transfer-Encoding: 7bit", b"",
             body.rstrip(), b"--bench-boundary", b'Content-Type: text/csv; charset=us-ascii; name="inventory.csv"',
             b'Content-Disposition: attachment; filename="inventory.csv"', b"Content-Transfer-Encoding: 7bit", b"",
             b"stock,year,make,model,price,status"]
    start, end = nl.join(parts) + nl, b"--bench-boundary--" + nl
    lines, room, n = [start], size - len(start) - len(end), 0
    while room > 0:
        line = b"RM-%06d,%d,Toyota,RAV4 XLE,%d,used" % (n, 2010 + n % 15, 15000 + n % 20000) + nl
        line = line if len(line) + len(nl) < room else b"x" * (room - len(nl)) + nl  # the last line fills up
        lines.append(line)
        room, n = room - len(line), n + 1
    raw = b"".join(lines) + end
    assert len(raw) == size, len(raw)
    return raw


def build_html_mail(size):
    """homefinder-01.eml (an HTML-only lead) with a table of listings appended to its HTML, up to `size` bytes: ~6 KB
    of text per row, so that the body's document tree, its HTML counted (one node per 128 bytes), stays within the
    default node budget (`max_html_nodes`): the largest HTML body extract still builds a tree for."""
    with open(os.path.join(ROOT, "fixtures/emails/homefinder-01.eml"), "rb") as f:
        data = f.read()
    head, tail = data.rsplit(b"</body>", 1)
    start, end = head + b"<table>\n", b"</table></body>" + tail
    blurb = b"A quiet street near the park, with new windows and a renovated kitchen. " * 80
    rows, room, n = [start], size - len(start) - len(end), 0
    while room > 0:
        row = b"<tr><td>Listing %d</td><td>%d Willow Lane, Springfield. %s</td><td>$%d</td></tr>\n" % (
            n, n, blurb, 40_000_000 + n)
        row = row if len(row) < room else b" " * room  # the last one fills up
        rows.append(row)
        room, n = room - len(row), n + 1
    raw = b"".join(rows) + end
    assert len(raw) == size, len(raw)
    return raw


def sns_event(topic_arn, action, content=None):
    """A Lambda SNS event carrying an SES receipt notification (all verdicts PASS)."""
    ses = {"notificationType": "Received",
           "mail": {"timestamp": "2026-11-20T16:48:40.000Z", "source": "leads@cars.example",
                    "messageId": "bench0000000000000001", "destination": ["isales@dealer.example.com"]},
           "receipt": {"timestamp": "2026-11-20T16:48:40.000Z", "recipients": ["isales@dealer.example.com"],
                       **{f"{v}Verdict": {"status": "PASS"} for v in ("spam", "virus", "spf", "dkim")},
                       "action": action}}
    if content is not None:
        ses["content"] = content
    return json.dumps({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                                    "EventSubscriptionArn": topic_arn + ":sub", "Sns": {
                                        "Type": "Notification", "MessageId": str(uuid.uuid4()), "TopicArn": topic_arn,
                                        "Message": json.dumps(ses), "Timestamp": "2026-11-20T16:48:40.000Z",
                                        "MessageAttributes": {}}}]}).encode()


def lead_events(jsonl, n, nonce):
    """`n` lead events from a replay's kafka/leads.jsonl, repeated with distinct event ids (new ones per `nonce`)."""
    with open(jsonl) as f:
        values = [json.loads(json.loads(line)["value"]) for line in f if line.strip()]
    out = []
    for i in range(n):
        e = dict(values[i % len(values)])
        digest = base64.b32encode(hashlib.sha256(f"{e['event_id']}/{nonce}/{i}".encode()).digest()).decode()
        e["event_id"] = "ev1_" + digest[:26].lower()
        out.append(json.dumps(e, separators=(",", ":")))
    return out


def sqs_event(bodies, queue):
    """A Lambda SQS event with one record per body."""
    arn = f"arn:aws:sqs:us-east-1:123456789012:{queue}"
    return json.dumps({"Records": [
        {"messageId": str(uuid.uuid4()), "receiptHandle": base64.b64encode(os.urandom(48)).decode(), "body": b,
         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795193320000",
                        "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1795193320001"},
         "messageAttributes": {}, "md5OfBody": hashlib.md5(b.encode()).hexdigest(), "eventSource": "aws:sqs",
         "eventSourceARN": arn, "awsRegion": "us-east-1"} for b in bodies]}).encode()


def measure_init(cmd, env, runs, proxy=None):
    """Init time (ms), VmRSS and VmHWM (MiB) at the first /next, `runs` times after one discarded warm-up run;
    with a proxy also when each AWS request started (ms after the process start)."""
    samples = []
    for i in range(runs + 1):
        if proxy:
            proxy.requests.clear()
        box = Sandbox(cmd, env)
        init = box.wait("init")
        if i:
            samples.append({"ms": init["ms"], "rss": init["mem"][0] / 1024, "hwm": init["mem"][1] / 1024,
                            "requests": [((t - box.t0) * 1000, what) for t, what in proxy.requests] if proxy else []})
    return samples


def measure_peak(name, cmd, env_for_run, event_for_run, check, runs):
    """VmHWM (MiB) when the response is posted, and the invocation time (ms); `check(run)` before and
    `check(run, (response, what it returned before))` after each invocation raise when it did not succeed."""
    samples = []
    for run in range(runs):
        before = check(run)
        box = Sandbox(cmd, env_for_run(run), event=event_for_run(run))
        result = box.wait("result")
        check(run, (json.loads(result["body"]), before))
        samples.append({"hwm": result["mem"][1] / 1024, "ms": result["ms"]})
        print(f"  {name} run {run + 1}: VmHWM {samples[-1]['hwm']:.1f} MiB, {result['ms']:.0f} ms", file=sys.stderr)
    return samples


def row(function, what, values, unit, target=None):
    """A table row: median and min of `values`, and whether the median meets `target` (an upper bound)."""
    med, low = statistics.median(values), min(values)
    met = "-" if target is None else ("yes" if med <= target else "NO")
    bound = "-" if target is None else f"<= {target} {unit}"
    return [function, what, f"{med:.1f} {unit}", f"{low:.1f} {unit}", bound, met]


def init_rows(svc, args, home, pydir):
    """Item 2 for the three functions, Rust and Python; then extract with the rules in a local file, and through
    the timing proxy (when its two AWS requests start)."""
    rows = []
    for name in ("extract", "forward", "archive"):
        for lang in ("rust", "python"):
            cmd, extra = command(name, lang, args.bin_dir, pydir)
            s = measure_init(cmd, function_env(svc, name, home, **extra), args.runs)
            label, target = (name, True) if lang == "rust" else (f"{name} (Python)", None)  # targets: Rust only
            rows.append(row(label, "init: start -> first /next", [x["ms"] for x in s], "ms", target and INIT_MS))
            rows.append(row(label, "init: VmRSS at first /next", [x["rss"] for x in s], "MiB", target and INIT_MIB))
            rows.append(row(label, "init: VmHWM at first /next", [x["hwm"] for x in s], "MiB"))
    rules_file = os.path.join(ROOT, "fixtures/rules/default.toml")
    for lang in ("rust", "python"):
        cmd, extra = command("extract", lang, args.bin_dir, pydir)
        label = "extract" if lang == "rust" else "extract (Python)"
        env = function_env(svc, "extract", home, LEADPIPE_RULES_S3_URI=None, LEADPIPE_RULES=rules_file, **extra)
        rows.append(row(label, "init, rules from a local file", [x["ms"] for x in measure_init(cmd, env, args.runs)],
                        "ms"))
        proxy = TimingProxy(svc.moto_port)
        env = function_env(svc, "extract", home, endpoint=f"http://127.0.0.1:{proxy.port}", **extra)
        s = measure_init(cmd, env, args.runs, proxy)
        if any(len(x["requests"]) != 2 for x in s):
            raise RuntimeError(f"expected 2 AWS requests during extract's init, saw {s[0]['requests']}")
        secret, rules = [x["requests"][0][0] for x in s], [x["requests"][1][0] for x in s]
        rows.append(row(label, "proxied: start -> GetSecretValue sent", secret, "ms"))
        rows.append(row(label, "proxied: -> rules GetObject sent", [r - t for r, t in zip(rules, secret)], "ms"))
        rows.append(row(label, "proxied: -> first /next", [x["ms"] - r for x, r in zip(s, rules)], "ms"))
        rows.append(row(label, "proxied: start -> first /next", [x["ms"] for x in s], "ms"))
    return rows


def extract_peak_rows(svc, args, home, pydir):
    """Item 3 for extract: the big lead mail inline (BASE64) and via the S3 action, and the big HTML lead mail via
    the S3 action; each must publish one lead."""
    rows, cmd, env = [], command("extract", "rust", args.bin_dir, pydir)[0], function_env(svc, "extract", home)

    def check(run, outcome=None):
        if outcome is None:
            return svc.leads_published()
        (response, before), published = outcome, svc.leads_published()
        if response.get("leads") != 1 or published - before != 1:
            raise RuntimeError(f"extract: response {response}, {published - before} leads published (expected 1)")

    def via_s3(key, raw):
        svc.s3.put_object(Bucket="bench-raw", Key=key, Body=raw)
        return sns_event(svc.leads_topic, {"type": "S3", "topicArn": svc.leads_topic, "bucketName": "bench-raw",
                                           "objectKey": key})
    raw, html = build_mail(args.mail_bytes), build_html_mail(args.mail_bytes)
    inline = sns_event(svc.leads_topic, {"type": "SNS", "topicArn": svc.leads_topic, "encoding": "BASE64"},
                       base64.b64encode(raw).decode())
    for how, event in (("mail inline (BASE64)", inline), ("mail via S3 action", via_s3("inbound/bench-big", raw)),
                       ("HTML mail via S3 action", via_s3("inbound/bench-big-html", html))):
        s = measure_peak("extract", cmd, lambda run: env, lambda run: event, check, args.peak_runs)
        rows.append(row("extract", f"peak VmHWM, {len(raw) / 2**20:.1f} MiB {how}", [x["hwm"] for x in s], "MiB",
                        PEAK_MIB))
        rows.append(row("extract", "  invocation (event sent -> response)", [x["ms"] for x in s], "ms"))
    return rows


def batch_peak_rows(svc, args, home, pydir, work):
    """Item 3 for forward and archive: SQS batches of replayed lead events with fresh event ids; every event must
    be in Kafka (forward) or in the run's Parquet objects (archive), with no batchItemFailures."""
    replay = os.path.join(work, "replay")
    subprocess.run([os.path.join(args.bin_dir, "leadpipe"), "replay", os.path.join(ROOT, "fixtures/emails"), "--out",
                    replay, "-q"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL, env=dict(os.environ, LEADPIPE_KEY=
                   '{"key_id":"test-bench","secret":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}'))
    rows = []
    for name in ("forward", "archive"):
        sent = {}

        def event(run):
            bodies = lead_events(os.path.join(replay, "kafka/leads.jsonl"), args.batch, f"{name}-{run}-{time.time()}")
            sent[run] = {json.loads(b)["event_id"] for b in bodies}
            return sqs_event(bodies, f"bench-to-{name}")

        def check(run, outcome=None):
            if outcome is None:
                return None
            failed = outcome[0].get("batchItemFailures")
            got = len(sent[run] & svc.kafka_keys()) if name == "forward" else svc.archived_rows(f"run-{run}/")
            if failed or got != args.batch:
                raise RuntimeError(f"{name}: {len(failed or [])} batchItemFailures, {got} of the {args.batch} events "
                                   f"{'in Kafka' if name == 'forward' else 'archived'}")
        cmd = command(name, "rust", args.bin_dir, pydir)[0]
        env = lambda run: function_env(svc, name, home, **({"LEADPIPE_ARCHIVE_PREFIX": f"run-{run}"}
                                                           if name == "archive" else {}))
        s = measure_peak(name, cmd, env, event, check, args.peak_runs)
        rows.append(row(name, f"peak VmHWM, {args.batch}-record SQS batch", [x["hwm"] for x in s], "MiB", PEAK_MIB))
        rows.append(row(name, "  invocation (event sent -> response)", [x["ms"] for x in s], "ms"))
    return rows


def load_average():
    """The 1, 5 and 15 minute load averages (the timings mean little on a busy machine)."""
    return " ".join(open("/proc/loadavg").read().split()[:3])


def machine_facts(args, load_at_start):
    """nproc, CPU, load, rustc, Python, boto3 (and the services' versions, and when the binaries were built)."""
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    sh = lambda *c: subprocess.run(c, capture_output=True, text=True).stdout.strip()
    built = lambda n: time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(os.path.join(args.bin_dir, n))))
    import kafka, moto
    return [f"nproc: {os.cpu_count()}", f"CPU: {cpu}", f"kernel: {platform.release()}",
            f"load average (1/5/15 min) at the start: {load_at_start}; at the end: {load_average()}",
            "binaries built: " + ", ".join(n + " " + built(n) for n in ("extract", "forward", "archive")),
            f"rustc: {sh('rustc', '--version')}", f"python: {platform.python_version()}", f"boto3: {boto3.__version__}",
            f"moto: {moto.__version__}", f"kafka-python: {kafka.__version__}",
            f"tansu: {sh(os.path.expanduser('~/.cargo/bin/tansu'), '--version')}"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10, help="init measurements per configuration (default 10)")
    ap.add_argument("--peak-runs", type=int, help="invocations per peak-RSS measurement (default: --runs)")
    ap.add_argument("--out", help="also write the table and the machine facts to this file")
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "target/release"), help="where the binaries are")
    ap.add_argument("--mail-bytes", type=int, default=10 * 1024 * 1024,
                    help="size of the big lead mail (default 10485760: LEADPIPE_MAX_MAIL_BYTES' default, the limit)")
    ap.add_argument("--batch", type=int, default=1000, help="SQS records per forward/archive batch (default 1000)")
    ap.add_argument("--skip-init", action="store_true", help="measure peak RSS only (item 3)")
    args = ap.parse_args()
    args.peak_runs = args.peak_runs or args.runs
    load_at_start = load_average()
    work = tempfile.mkdtemp(prefix="lambda-footprint-")
    home, pydir = os.path.join(work, "home"), os.path.join(work, "python")
    os.makedirs(home), os.makedirs(pydir)
    for name, src in [(f"{n}_handler.py", s) for n, s in PY_HANDLERS.items()] + [("bootstrap.py", PY_BOOTSTRAP)]:
        with open(os.path.join(pydir, name), "w") as f:
            f.write(src)
    svc = Services(work)
    try:
        print("init ...", file=sys.stderr)
        rows = [] if args.skip_init else init_rows(svc, args, home, pydir)
        print("peak RSS ...", file=sys.stderr)
        rows += extract_peak_rows(svc, args, home, pydir) + batch_peak_rows(svc, args, home, pydir, work)
    finally:
        svc.stop()
        shutil.rmtree(work, ignore_errors=True)
    header = ["function", "what", "median", "min", "target", "met?"]
    table = ["| " + " | ".join(r) + " |" for r in [header, ["---"] * len(header)] + rows]
    text = (("" if args.skip_init else f"init: {args.runs} runs per row after one discarded warm-up; ")
            + f"peak: {args.peak_runs} invocations per row; "
            "MiB = 1024 KiB\n\n" + "\n".join(table) + "\n\n"
            + "\n".join(f"- {f}" for f in machine_facts(args, load_at_start)) + "\n")
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
