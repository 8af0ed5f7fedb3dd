"""The local stack (`leadpipe local up`, src/stack/) must be the SAM template (infra/template.yaml) in miniature.

Guards, offline and without building anything:
1. names: every name `leadpipe local topology` prints equals the name the template gives the resource playing the same
   role (found through the template's own wiring: the functions' environment, event sources, redrive policies, the
   SES receipt rule), after substituting the stack name, account and region; harness-only names are not in the template;
2. wiring: leads topic -> to-kafka / to-archive raw subscriptions (template and provision.rs), DLQs and their
   redrive-allow policies, extract's on-failure destination and retry count (template and topology.rs);
3. environment: every LEADPIPE_ variable the template sets is read in shared/src/handlers/env.rs, every required one
   is set, and what up.rs `function_env` sets is in the template for that function or allow-listed below;
4. build: each function's CodeUri (the workspace root), cargo-lambda build metadata, the workspace's
   default-members and Cargo `[[bin]]` agree."""

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("LEADPIPE_BIN", str(ROOT / "target" / "debug" / "leadpipe"))
STACK = "leadpipe-e2e"
HARNESS_ONLY = {"extract_invoke", "observer"}  # topology keys standing for Lambda internals (async invoke, a tap)
META = {"stack", "account", "region"}
# Variables up.rs may set although the template does not, and why.
HARNESS_ENV = {
    "LEADPIPE_DEADLINE_MARGIN_MS": "tuning: the local 30 s timeout uses a 1 s margin instead of the 2 s default",
    "LEADPIPE_KAFKA_MESSAGE_TIMEOUT_MS": "tuning: short librdkafka delivery timeout so broker-outage tests fail fast",
}
NAME_PROPERTY = {"AWS::S3::Bucket": "BucketName", "AWS::SNS::Topic": "TopicName", "AWS::SQS::Queue": "QueueName",
                 "AWS::SecretsManager::Secret": "Name"}


class CfnLoader(yaml.SafeLoader):
    """Keeps CloudFormation short-form tags as their long form ({"Ref": ...}, {"Fn::GetAtt": [id, attr]}, ...)."""


def _cfn_tag(loader, suffix, node):
    kind = {yaml.ScalarNode: "scalar", yaml.SequenceNode: "sequence"}.get(type(node), "mapping")
    value = getattr(loader, f"construct_{kind}")(node, **({} if kind == "scalar" else {"deep": True}))
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref": value} if suffix == "Ref" else {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _cfn_tag)
RES = yaml.load((ROOT / "infra" / "template.yaml").read_text(), Loader=CfnLoader)["Resources"]
FUNCS = {f["Metadata"]["BuildProperties"]["Binary"]: (lid, f) for lid, f in RES.items()
         if f["Type"] == "AWS::Serverless::Function"}
ENV_RS = (ROOT / "shared" / "src" / "handlers" / "env.rs").read_text().split("#[cfg(test)]")[0]


@pytest.fixture(scope="module")
def topo():
    assert Path(BIN).is_file(), f"no leadpipe binary at {BIN} (set LEADPIPE_BIN or build it)"
    out = subprocess.run([BIN, "local", "topology", "--stack", STACK], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"leadpipe local topology failed: {out.stderr}"
    return json.loads(out.stdout)


def logical(value):
    """The logical id a !Ref / !GetAtt points at."""
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    raise AssertionError(f"expected a !Ref or !GetAtt, got {value!r}")


def render(value, t):
    """A literal or !Sub string with the pseudo parameters (and bucket references) of the local stack substituted."""
    if isinstance(value, (str, int, bool)):
        return str(value)
    assert isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str), f"cannot render {value!r}"
    pseudo = {"AWS::StackName": t["stack"], "AWS::AccountId": t["account"], "AWS::Region": t["region"],
              "AWS::Partition": "aws"}

    def sub(m):
        key = m.group(1)
        if key in pseudo:
            return pseudo[key]
        assert RES.get(key, {}).get("Type") == "AWS::S3::Bucket", f"cannot render ${{{key}}} in {value!r}"
        return name_of(key, t)

    return re.sub(r"\$\{([\w:]+)\}", sub, value["Fn::Sub"])


def name_of(lid, t):
    res = RES[lid]
    return render(res["Properties"][NAME_PROPERTY[res["Type"]]], t)


def env_of(fn):
    return FUNCS[fn][1]["Properties"]["Environment"]["Variables"]


def event(fn, type_):
    (e,) = [e["Properties"] for e in FUNCS[fn][1]["Properties"]["Events"].values() if e["Type"] == type_]
    return e


def roles():
    """Topology key -> the template's logical id for that role, found through the template's own wiring."""
    (rule,) = [r for r in RES.values() if r["Type"] == "AWS::SES::ReceiptRule"]
    (s3,) = [a["S3Action"] for a in rule["Properties"]["Rule"]["Actions"] if "S3Action" in a]
    to_kafka, to_archive = logical(event("forward", "SQS")["Queue"]), logical(event("archive", "SQS")["Queue"])
    extract = FUNCS["extract"][1]["Properties"]
    (config,) = re.findall(r"\$\{(\w+)\}", env_of("extract")["LEADPIPE_RULES_S3_URI"]["Fn::Sub"])
    return {
        "raw_bucket": logical(s3["BucketName"]),
        "quarantine_bucket": logical(env_of("extract")["LEADPIPE_QUARANTINE_BUCKET"]),
        "archive_bucket": logical(env_of("archive")["LEADPIPE_ARCHIVE_BUCKET"]),
        "config_bucket": config,
        "inbound_topic": logical(event("extract", "SNS")["Topic"]),
        "leads_topic": logical(env_of("extract")["LEADPIPE_LEADS_TOPIC_ARN"]),
        "alerts_topic": logical(env_of("extract")["LEADPIPE_ALERT_TOPIC_ARN"]),
        "to_kafka": to_kafka,
        "to_kafka_dlq": logical(RES[to_kafka]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]),
        "to_archive": to_archive,
        "to_archive_dlq": logical(RES[to_archive]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]),
        "extract_failures": logical(extract["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"]),
        "key_secret": logical(env_of("extract")["LEADPIPE_KEY_SECRET_ARN"]),
    }


def test_names_agree(topo):
    role = roles()
    uri = render(env_of("extract")["LEADPIPE_RULES_S3_URI"], topo)
    literals = {"rules_key": uri.split("/", 3)[3],
                "quarantine_prefix": render(env_of("extract")["LEADPIPE_QUARANTINE_PREFIX"], topo),
                "ledger_prefix": render(env_of("forward")["LEADPIPE_LEDGER_PREFIX"], topo)}
    unknown = set(topo) - set(role) - set(literals) - HARNESS_ONLY - META
    assert not unknown, f"topology keys this test does not map to the template (extend it): {sorted(unknown)}"
    wrong = {k: (topo[k], name_of(lid, topo), lid) for k, lid in role.items() if topo[k] != name_of(lid, topo)}
    wrong |= {k: (topo[k], v, "literal") for k, v in literals.items() if topo[k] != v}
    assert not wrong, "topology.rs != template (key: (harness, template, resource)):\n" + "\n".join(
        f"  {k}: {v}" for k, v in wrong.items())
    assert uri.split("/")[2] == topo["config_bucket"], f"LEADPIPE_RULES_S3_URI {uri} is not in the config bucket"
    assert name_of(role["archive_bucket"], topo) == name_of(logical(env_of("forward")["LEADPIPE_LEDGER_BUCKET"]), topo)
    declared = {name_of(lid, topo) for lid, r in RES.items() if r["Type"] in NAME_PROPERTY}
    clash = {k: topo[k] for k in HARNESS_ONLY if topo[k] in declared or "local-" not in topo[k]}
    assert not clash, f"harness-only names must not be template resources (and say local-): {clash}"


def test_wiring_agrees(topo):
    role = roles()
    subs = {(logical(s["Properties"]["TopicArn"]), logical(s["Properties"]["Endpoint"])): s["Properties"]
            for s in RES.values() if s["Type"] == "AWS::SNS::Subscription"}
    for queue in ("to_kafka", "to_archive"):
        s = subs.get((role["leads_topic"], role[queue]))
        assert s, f"template: no subscription of {role[queue]} to {role['leads_topic']}"
        raw = str(s.get("RawMessageDelivery")).lower() == "true"
        assert s["Protocol"] == "sqs" and raw, f"template {queue} subscription must be sqs with raw delivery: {s}"
    provision = (ROOT / "src" / "stack" / "provision.rs").read_text()
    harness = set(re.findall(r"subscribe\(c, t, &t\.(\w+), &t\.(\w+), (true|false)\)", provision))
    for queue in ("to_kafka", "to_archive"):
        assert ("leads_topic", queue, "true") in harness, f"provision.rs does not subscribe {queue} raw to leads_topic"
    for queue, dlq in (("to_kafka", "to_kafka_dlq"), ("to_archive", "to_archive_dlq")):
        allow = RES[role[dlq]]["Properties"]["RedriveAllowPolicy"]
        sources = [render(a, topo) for a in allow["sourceQueueArns"]]
        arn = f"arn:aws:sqs:{topo['region']}:{topo['account']}:{name_of(role[queue], topo)}"
        assert sources == [arn], f"{role[dlq]} RedriveAllowPolicy allows {sources}, its source queue is {arn}"
    invoke = FUNCS["extract"][1]["Properties"]["EventInvokeConfig"]
    assert invoke["DestinationConfig"]["OnFailure"]["Type"] == "SQS", invoke
    timings = (ROOT / "src" / "stack" / "topology.rs").read_text().split("impl Default")[1]
    retries = re.search(r"extract_retries:\s*(\d+)", timings)
    assert invoke["MaximumRetryAttempts"] == 2 == int(retries.group(1)), (
        f"extract retries must be 2: template {invoke['MaximumRetryAttempts']}, topology.rs {retries.group(1)}")


def harness_env():
    """Function -> LEADPIPE_ variables up.rs `function_env` sets for it."""
    body = (ROOT / "src" / "stack" / "up.rs").read_text().split("fn function_env", 1)[1]
    common, arms = re.search(r"let mut env = vec!\[(.*?)\];\s*match name \{(.*?)\n    \}", body, re.S).groups()
    names = lambda text: set(re.findall(r'var\("(LEADPIPE_\w+)"', text))  # noqa: E731
    found = {fn: names(text) for fn, text in re.findall(r'"(\w+)" => env\.extend\(\[(.*?)\]\),', arms, re.S)}
    (default,) = set(FUNCS) - set(found)  # the `_` arm
    found[default] = names(re.search(r"_ => (.*)", arms, re.S).group(1))
    assert set(found) == set(FUNCS) and all(found.values()), f"cannot read up.rs function_env arms: {found}"
    return {fn: v | names(common) for fn, v in found.items()}


def test_environment_agrees():
    read = set(re.findall(r'"(LEADPIPE_\w+)"', ENV_RS))
    required = set(re.findall(r'required\(\s*"(LEADPIPE_\w+)"', ENV_RS))
    template = {fn: {k for k in env_of(fn) if k.startswith("LEADPIPE_")} for fn in FUNCS}
    unread = {fn: sorted(v - read) for fn, v in template.items() if v - read}
    assert not unread, f"template sets variables no function reads (shared/src/handlers/env.rs): {unread}"
    unset = required - set().union(*template.values())
    assert not unset, f"env.rs requires variables the template never sets: {sorted(unset)}"
    extra = {fn: sorted(v - template[fn] - set(HARNESS_ENV)) for fn, v in harness_env().items()}
    extra = {fn: v for fn, v in extra.items() if v}
    assert not extra, f"up.rs function_env sets variables the template does not set for that function: {extra}"
    assert set(HARNESS_ENV) <= read, f"allow-listed variables no function reads: {set(HARNESS_ENV) - read}"


@pytest.mark.parametrize("fn", ["extract", "forward", "archive"])
def test_build_metadata_agrees(fn):
    assert fn in FUNCS, f"no AWS::Serverless::Function builds the binary {fn}: {sorted(FUNCS)}"
    lid, f = FUNCS[fn]
    # Built at the workspace root (`cargo lambda build --bin <fn>`), which finds the binary through
    # default-members; the three builds share one target directory.
    assert f["Properties"]["CodeUri"] == "..", f"{lid} CodeUri {f['Properties']['CodeUri']}"
    workspace = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]
    assert f"functions/{fn}" in workspace["default-members"], f"functions/{fn} is not a default member"
    assert f["Metadata"]["BuildMethod"] == "rust-cargolambda", f"{lid} BuildMethod {f['Metadata']['BuildMethod']}"
    assert f["Metadata"]["BuildProperties"]["Binary"] == fn, f"{lid} BuildProperties {f['Metadata']['BuildProperties']}"
    cargo = tomllib.loads((ROOT / "functions" / fn / "Cargo.toml").read_text())
    bins = [b["name"] for b in cargo.get("bin", [])]
    assert fn in bins, f"functions/{fn}/Cargo.toml declares [[bin]] {bins}, the template builds {fn}"
