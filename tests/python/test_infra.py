"""Offline checks of the stack in infra/: cfn-lint, checkov and `sam validate --lint` on the template; the Glue
`leads` table against the Parquet schema `leadpipe replay` writes; the Athena view and named queries
(infra/athena/*.sql, the same text the template embeds) transpiled from Trino to DuckDB with sqlglot and run over
a replayed archive; the rules the template promises (least privilege, DLQs, alarms, encryption) and samconfig.

The tools come from tests/python/requirements-infra.txt (scripts/test.sh installs it); a missing tool fails."""

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
import yaml
from sqlglot.errors import ErrorLevel

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
TEMPLATE = INFRA / "template.yaml"
ATHENA = INFRA / "athena"
BIN = os.environ.get("LEADPIPE_BIN", str(ROOT / "target" / "debug" / "leadpipe"))
KEY = '{"key_id":"test-python","secret":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}'
EARLIEST = "2000-01-01"  # the named queries' "first day" parameter, to include everything


# --------------------------------------------------------------------------------------------------- helpers


class CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags as their long form ({"Ref": ...}, {"Fn::Sub": ...})."""


def _cfn_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


@pytest.fixture(scope="module")
def template():
    return yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)


def resources(template, type_):
    return {name: r for name, r in template["Resources"].items() if r["Type"] == type_}


def tool(name: str) -> str:
    """The tool from this interpreter's virtualenv (where requirements-infra.txt installs it), else PATH."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    assert found, f"{name} is not installed: pip install -r tests/python/requirements-infra.txt"
    return found


def run_tool(args, timeout=300):
    env = dict(os.environ)
    env.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    env.update(SAM_CLI_TELEMETRY="0", AWS_EC2_METADATA_DISABLED="true", BC_SKIP_MAPPING="TRUE")
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def hive_type(t: pa.DataType) -> str:
    """The Glue/Hive type Athena needs to read a Parquet column of Arrow type `t`."""
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_int64(t):
        return "bigint"
    if pa.types.is_int32(t):
        return "int"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_timestamp(t):
        # Athena (Trino) reads INT64 millisecond timestamps exactly; micros are rounded and nanos unsupported.
        assert t.unit == "ms" and t.tz == "UTC", f"archive timestamps must be ms UTC, got {t}"
        return "timestamp"
    if pa.types.is_map(t):
        return f"map<{hive_type(t.key_type)},{hive_type(t.item_type)}>"
    raise AssertionError(f"no Glue type for Arrow type {t}")


def duckdb_type(hive: str) -> str:
    """DuckDB type for a Glue/Hive type (for reading JSON like Athena's JSON SerDe would)."""
    hive = hive.strip()
    simple = {"string": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT", "boolean": "BOOLEAN"}
    if hive in simple:
        return simple[hive]
    if hive.startswith("array<") and hive.endswith(">"):
        return duckdb_type(hive[6:-1]) + "[]"
    if hive.startswith("struct<") and hive.endswith(">"):
        fields = [f.split(":", 1) for f in split_top_level(hive[7:-1])]
        return "STRUCT(" + ", ".join(f"{n} {duckdb_type(t)}" for n, t in fields) + ")"
    raise AssertionError(f"no DuckDB type for Glue type {hive}")


def split_top_level(s: str):
    depth, part, parts = 0, "", []
    for ch in s:
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "," and depth == 0:
            parts.append(part)
            part = ""
        else:
            part += ch
    return parts + [part]


def glue_table(template, name):
    (table,) = [t for t in resources(template, "AWS::Glue::Table").values() if t["Properties"]["TableInput"]["Name"] == name]
    return table["Properties"]["TableInput"]


def to_duckdb(sql: str) -> str:
    """Mechanical Trino (Athena) -> DuckDB translation; anything sqlglot cannot translate fails the test."""
    out = sqlglot.transpile(sql, read="trino", write="duckdb", unsupported_level=ErrorLevel.RAISE)
    assert len(out) == 1, f"expected one statement, got {len(out)}"
    return out[0]


def athena_sql(name: str) -> str:
    return (ATHENA / f"{name}.sql").read_text()


# --------------------------------------------------------------------------------------------------- replay


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    """A replay of the fixtures into a fresh folder, plus a copy of its archive with one re-extracted event."""
    out = tmp_path_factory.mktemp("infra-replay") / "out"
    proc = subprocess.run(
        [BIN, "replay", "fixtures/emails", "fixtures/notifications", "--out", str(out), "--quiet"],
        cwd=ROOT, env=dict(os.environ, LEADPIPE_KEY=KEY), capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["errors"] == [] and report["archive_rows"] > 0
    return out, report


def archive_rows(archive: Path):
    rows = []
    for f in sorted(archive.rglob("*.parquet")):
        dt = f.parent.name.removeprefix("dt=")
        rows += [dict(r, dt=dt) for r in pq.read_table(f).to_pylist()]
    return rows


def latest_by_event(rows):
    """The dedup rule of leads_latest, in Python: highest rule_version, then latest extracted_at, revision, dt."""
    best = {}
    for r in rows:
        key = (r["rule_version"], r["extracted_at"], r["revision"], r["dt"])
        if r["event_id"] not in best or key > best[r["event_id"]][0]:
            best[r["event_id"]] = (key, r)
    return {e: r for e, (_, r) in best.items()}


@pytest.fixture(scope="module")
def revised_archive(replayed, tmp_path_factory):
    """The replayed archive plus one object (day 2001-01-01) holding three synthetic rows:
    - rule_version 2 of an event, extracted a year *earlier* than its version 1 (only the rule_version ordering
      can pick it);
    - a second lead (new event_id, a day later) of the person behind another lead: same key, same e-mail pseudonym;
    - the same pseudonym in a lead under another key_id, which must not join."""
    out, _ = replayed
    archive = tmp_path_factory.mktemp("revised") / "archive"
    shutil.copytree(out / "archive", archive)
    table = pa.concat_tables(pq.read_table(f) for f in sorted(archive.rglob("*.parquet")))
    rows = table.to_pylist()
    first = rows[0]
    other = next(r for r in rows if r["event_id"] != first["event_id"]
                 and (dict(r["fields"]).get("email") or "").startswith("p1_"))
    revised = dict(first, rule_version=2, revision=f"{first['rule_id']}@2",
                   extracted_at=first["extracted_at"].replace(year=first["extracted_at"].year - 1))
    again = dict(other, event_id="ev1_" + "a" * 26, received_at=other["received_at"] + timedelta(days=1))
    other_key = dict(other, event_id="ev1_" + "b" * 26, key_id="test-other-key")
    day = archive / "leads" / "dt=2001-01-01"
    day.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([revised, again, other_key], schema=table.schema),
                   day / ("part-" + "0" * 32 + ".parquet"), compression="zstd")
    return archive, revised, (other["event_id"], again["event_id"], other_key["event_id"])


def connect(archive: Path, quarantine: Path | None = None, template=None):
    """DuckDB with `leads` over a Hive-partitioned archive (dt a string, as in Glue) and optionally `quarantine`
    over the replay's quarantine metadata, typed from the template's Glue table."""
    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW leads AS SELECT * FROM read_parquet('{archive}/leads/*/*.parquet', "
        "hive_partitioning=true, hive_types_autocast=false)"
    )
    if quarantine is not None:
        cols = glue_table(template, "quarantine")["StorageDescriptor"]["Columns"]
        spec = "{" + ", ".join(f"'{c['Name']}': '{duckdb_type(c['Type'])}'" for c in cols) + "}"
        # Locally the metadata sits in quarantine/<reason_kind>/<id>.json; in S3 under meta/dt=<day received>/.
        con.execute(
            f"CREATE VIEW quarantine AS SELECT *, substr(received_at, 1, 10) AS dt "
            f"FROM read_json('{quarantine}/*/*.json', format='auto', columns={spec})"
        )
    return con


def query(con, sql: str, *params):
    cur = con.execute(to_duckdb(sql), list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


# --------------------------------------------------------------------------------------------------- tools


def test_cfn_lint_is_clean():
    proc = run_tool([tool("cfn-lint"), "infra/template.yaml"])
    assert proc.returncode == 0, f"cfn-lint exit {proc.returncode}:\n{proc.stdout}{proc.stderr}"


def test_checkov_is_clean_and_every_suppression_has_a_reason(template):
    # Same scan as `checkov -f infra/template.yaml --framework cloudformation --skip-download --quiet`, as JSON and
    # without --quiet so the skipped checks are listed too.
    proc = run_tool([tool("checkov"), "-f", "infra/template.yaml", "--framework", "cloudformation",
                     "--skip-download", "-o", "json"])
    report = json.loads(proc.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = [(c["check_id"], c["resource"], c["check_name"]) for c in report["results"]["failed_checks"]]
    assert not failed and proc.returncode == 0, f"checkov findings: {failed}\n{proc.stderr[-2000:]}"
    summary = report["summary"]
    assert summary["parsing_errors"] == 0 and summary["passed"] >= 50, summary
    declared = {}
    for name, res in template["Resources"].items():
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "").split()) >= 6, f"{name} {skip['id']}: suppression without a reason"
            declared[(skip["id"], name)] = skip["comment"]
    skipped = {(c["check_id"], c["resource"].split(".", 1)[1]) for c in report["results"]["skipped_checks"]}
    assert skipped == set(declared), f"stale or unapplied suppressions: {set(declared) ^ skipped}"


def test_sam_validate_lint_is_clean():
    for args in (["validate", "--lint"], ["validate"]):  # --lint: cfn-lint rules; plain: the SAM transform
        proc = run_tool([tool("sam"), *args, "-t", "infra/template.yaml"])
        assert proc.returncode == 0, f"sam {' '.join(args)} exit {proc.returncode}:\n{proc.stdout}{proc.stderr}"
        assert "is a valid SAM Template" in proc.stdout + proc.stderr


# --------------------------------------------------------------------------------------------------- Glue


def test_glue_leads_columns_equal_the_archive_parquet_schema(template, replayed):
    out, _ = replayed
    table = glue_table(template, "leads")
    sd = table["StorageDescriptor"]
    columns = [(c["Name"], c["Type"]) for c in sd["Columns"]]
    files = sorted((out / "archive").rglob("*.parquet"))
    assert files
    for f in files:
        rel = f.relative_to(out / "archive").as_posix()
        assert re.fullmatch(r"leads/dt=\d{4}-\d{2}-\d{2}/part-[0-9a-f]{32}\.parquet", rel), rel
        schema = pq.read_schema(f)
        assert [(field.name, hive_type(field.type)) for field in schema] == columns, f"{rel}: Glue columns differ"
    assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string", "Comment": "day received (UTC), yyyy-MM-dd"}]
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    params = table["Parameters"]
    assert params["projection.dt.type"] == "date" and params["projection.dt.format"] == "yyyy-MM-dd"
    assert params["projection.dt.range"] == {"Fn::Sub": "${ArchiveStartDate},NOW"}
    assert sd["Location"] == {"Fn::Sub": "s3://${ArchiveBucket}/leads/"}
    assert params["storage.location.template"] == {"Fn::Sub": "s3://${ArchiveBucket}/leads/dt=${!dt}/"}
    env = template["Resources"]["ArchiveFunction"]["Properties"]["Environment"]["Variables"]
    # The writer's keys start with leads/dt=...; a prefix would move the objects away from the table's location.
    assert "LEADPIPE_ARCHIVE_PREFIX" not in env and env["LEADPIPE_ARCHIVE_BUCKET"] == {"Ref": "ArchiveBucket"}


def test_glue_quarantine_columns_equal_the_quarantine_metadata(template, replayed):
    out, report = replayed
    cols = glue_table(template, "quarantine")["StorageDescriptor"]["Columns"]
    names = [c["Name"] for c in cols]
    files = sorted((out / "quarantine").rglob("*.json"))
    assert len(files) == sum(report["quarantined"].values()) > 0
    con = duckdb.connect()
    for f in files:
        record = json.loads(f.read_text())
        assert list(record) == names, f"{f.name}: metadata keys differ from the Glue quarantine columns"
        # Every value fits its declared type (read back through DuckDB with the Glue-derived types).
        spec = "{" + ", ".join(f"'{c['Name']}': '{duckdb_type(c['Type'])}'" for c in cols) + "}"
        (row,) = con.execute(f"SELECT * FROM read_json('{f}', format='auto', columns={spec})").fetchall()
        assert dict(zip(names, row))["quarantine_id"] == record["quarantine_id"]


# --------------------------------------------------------------------------------------------------- Athena SQL


def test_sql_files_are_the_named_queries_in_the_template(template):
    named = {q["Properties"]["Name"]: q["Properties"] for q in resources(template, "AWS::Athena::NamedQuery").values()}
    files = {p.stem for p in ATHENA.glob("*.sql")}
    assert set(named) == files, f"named queries without a file or files without a named query: {set(named) ^ files}"
    for name, props in named.items():
        assert props["QueryString"].strip() == athena_sql(name).strip(), f"{name}: template text != infra/athena/{name}.sql"
        assert props["Database"] == {"Ref": "GlueDatabase"} and props["WorkGroup"] == {"Ref": "AthenaWorkGroup"}
    assert "create_view_leads_latest" in named


def test_leads_latest_view_keeps_one_row_per_event_the_latest_revision(replayed, revised_archive):
    out, _ = replayed
    for archive in (out / "archive", revised_archive[0]):
        con = connect(archive)
        con.execute(to_duckdb(athena_sql("create_view_leads_latest")))
        rows = archive_rows(archive)
        expected = latest_by_event(rows)
        got = con.execute("SELECT event_id, revision, extracted_at, dt FROM leads_latest").fetchall()
        assert len(got) == len({r[0] for r in got}) == len(expected) < len(rows), "one row per event_id"
        assert {e: (rev, ts, dt) for e, rev, ts, dt in got} == {
            e: (r["revision"], r["extracted_at"], r["dt"]) for e, r in expected.items()}
        columns = [d[0] for d in con.execute("SELECT * FROM leads_latest LIMIT 0").description]
        assert columns == [f.name for f in pq.read_schema(next(archive.rglob("*.parquet")))] + ["dt"]
    # The re-extracted event: rule_version 2 wins although its extracted_at is a year older.
    _, revised, _ = revised_archive
    con = connect(revised_archive[0])
    con.execute(to_duckdb(athena_sql("create_view_leads_latest")))
    assert con.execute("SELECT revision, dt FROM leads_latest WHERE event_id = ?", [revised["event_id"]]).fetchall() == [
        (revised["revision"], "2001-01-01")]


def test_leads_per_rule_per_day(replayed):
    out, report = replayed
    con = connect(out / "archive")
    con.execute(to_duckdb(athena_sql("create_view_leads_latest")))
    sql = athena_sql("leads_per_rule_per_day")
    got = query(con, sql, EARLIEST)
    latest = latest_by_event(archive_rows(out / "archive")).values()
    assert Counter({(r["received_day"], r["rule_id"]): r["leads"] for r in got}) == Counter(
        (r["dt"], r["rule_id"]) for r in latest)
    per_rule = Counter()
    for r in got:
        per_rule[r["rule_id"]] += r["leads"]
    assert dict(per_rule) == report["per_rule"], "per-rule sums = distinct event ids per rule (report.json)"
    last_day = max(r["received_day"] for r in got)
    assert {r["received_day"] for r in query(con, sql, last_day)} == {last_day}


def test_leads_per_campaign(replayed):
    out, _ = replayed
    con = connect(out / "archive")
    con.execute(to_duckdb(athena_sql("create_view_leads_latest")))
    got = query(con, athena_sql("leads_per_campaign"), EARLIEST)
    latest = latest_by_event(archive_rows(out / "archive")).values()
    expected = Counter((dict(r["fields"]).get("campaign") or "(no campaign)", r["rule_id"]) for r in latest)
    assert {(r["campaign"], r["rule_id"]): r["leads"] for r in got} == dict(expected)
    assert len([c for c, _ in expected if c != "(no campaign)"]) >= 2, "the fixtures carry campaigns"
    assert [r["leads"] for r in got] == sorted((r["leads"] for r in got), reverse=True)


def test_quarantine_reasons(template, replayed):
    out, report = replayed
    con = connect(out / "archive", out / "quarantine", template)
    got = query(con, athena_sql("quarantine_reasons"), EARLIEST)
    by_reason = Counter()
    for r in got:
        by_reason[r["reason"]] += r["mails"]
    assert dict(by_reason) == report["quarantined"]
    assert {(r["reason_kind"], r["rule_id"]) for r in got if r["reason"] == "missing_required:email"} == {
        ("missing_required", "carportal-text")}
    assert query(con, athena_sql("quarantine_reasons"), "2999-01-01") == []


def test_pseudonym_join(replayed, revised_archive):
    def expected_pairs(rows, field):
        latest = list(latest_by_event(rows).values())
        pairs = set()
        for a in latest:
            for b in latest:
                va, vb = dict(a["fields"]).get(field), dict(b["fields"]).get(field)
                if va and va == vb and va.startswith("p1_") and a["key_id"] == b["key_id"] and (
                        (a["received_at"], a["event_id"]) < (b["received_at"], b["event_id"])):
                    pairs.add((va, a["event_id"], b["event_id"]))
        return pairs

    def joined(archive, sql):
        con = connect(archive)
        con.execute(to_duckdb(athena_sql("create_view_leads_latest")))
        return {(r["email_pseudonym"], r["first_event_id"], r["later_event_id"]) for r in query(con, sql)}

    sql = athena_sql("pseudonym_join")
    out, _ = replayed
    # Replayed fixtures: every lead has its own e-mail address, so no pairs.
    assert joined(out / "archive", sql) == expected_pairs(archive_rows(out / "archive"), "email") == set()
    # With a second lead of one person (and the same pseudonym under another key, which must not join):
    archive, _, (person, again, other_key) = revised_archive
    got = joined(archive, sql)
    assert got == expected_pairs(archive_rows(archive), "email")
    assert {(a, b) for _, a, b in got} == {(person, again)}
    # The same join on a field whose pseudonyms repeat across portals in the fixtures (city) finds those pairs.
    city_sql = sql.replace("'email'", "'city'")
    got_city = joined(out / "archive", city_sql)
    assert got_city == expected_pairs(archive_rows(out / "archive"), "city") and len(got_city) >= 3


# --------------------------------------------------------------------------------------------------- stack rules


def statements(doc):
    stmts = doc.get("Statement", [])
    for s in stmts if isinstance(stmts, list) else [stmts]:
        if isinstance(s, dict) and "Fn::If" in s:
            yield from (x for x in s["Fn::If"][1:] if isinstance(x, dict) and "Effect" in x)
        else:
            yield s


def as_list(x):
    return x if isinstance(x, list) else [x]


def test_least_privilege_no_star_actions_or_resources(template):
    docs = []  # (where, policy document, is a KMS key policy)
    for name, r in template["Resources"].items():
        props = r.get("Properties", {})
        if r["Type"] == "AWS::IAM::Role":
            for p in props.get("Policies", []):
                p = p["Fn::If"][1] if "Fn::If" in p else p
                docs.append((f"{name}/{p['PolicyName']}", p["PolicyDocument"], False))
        elif r["Type"] == "AWS::KMS::Key":
            docs.append((name, props["KeyPolicy"], True))
        elif "PolicyDocument" in props:
            docs.append((name, props["PolicyDocument"], False))
    assert len(docs) >= 20
    problems = []
    for where, doc, key_policy in docs:
        for s in statements(doc):
            if s["Effect"] != "Allow":
                continue  # Deny statements may be broad: they only take rights away
            for action in as_list(s["Action"]):
                if "*" in action:
                    problems.append(f"{where} {s.get('Sid')}: action {action}")
            # In a key policy Resource '*' means the key itself; EC2 Describe* supports no resource-level permission.
            if "*" in as_list(s.get("Resource")) and not key_policy and s.get("Sid") != "DescribeOnlySupportsStar":
                problems.append(f"{where} {s.get('Sid')}: resource *")
            if s.get("Principal") == "*" or s.get("Principal") == {"AWS": "*"}:
                problems.append(f"{where} {s.get('Sid')}: principal *")
    assert not problems, problems


def test_buckets_are_encrypted_private_and_tls_only(template):
    buckets = resources(template, "AWS::S3::Bucket")
    assert set(buckets) == {"AccessLogsBucket", "RawMailBucket", "QuarantineBucket", "ArchiveBucket", "ConfigBucket",
                            "AthenaResultsBucket"}
    policies = {p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]
                for p in resources(template, "AWS::S3::BucketPolicy").values()}
    for name, b in buckets.items():
        props = b["Properties"]
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        algo = rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
        assert algo == ("AES256" if name == "AccessLogsBucket" else "aws:kms"), name  # log targets cannot use KMS
        assert all(props["PublicAccessBlockConfiguration"].values()) and len(props["PublicAccessBlockConfiguration"]) == 4
        assert props["LifecycleConfiguration"]["Rules"], name
        if name != "AccessLogsBucket":
            assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}
        deny = [s for s in statements(policies[name]) if s["Effect"] == "Deny"
                and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}]
        assert deny, f"{name}: no TLS-only statement"
    lifecycle = {n: {r["Id"]: r for r in b["Properties"]["LifecycleConfiguration"]["Rules"]} for n, b in buckets.items()}
    assert lifecycle["RawMailBucket"]["expire-raw-mail"]["ExpirationInDays"] == {"Ref": "RawRetentionDays"}
    assert lifecycle["QuarantineBucket"]["expire-quarantine"]["ExpirationInDays"] == {"Ref": "QuarantineRetentionDays"}
    ledger = lifecycle["ArchiveBucket"]["expire-ledger-markers"]
    assert ledger["Prefix"] == "ledger/" and ledger["ExpirationInDays"] == {"Ref": "LedgerRetentionDays"}


def test_queues_have_dlqs_visibility_and_alarms(template):
    queues = resources(template, "AWS::SQS::Queue")
    alarms = [a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    alarmed = {(a["MetricName"], a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]) for a in alarms
               if a["Namespace"] == "AWS/SQS"}
    work = {n: q for n, q in queues.items() if "RedrivePolicy" in q["Properties"]}
    assert set(work) == {"ToKafkaQueue", "ToArchiveQueue"}
    params, mapping = template["Parameters"], template["Mappings"]["QueueVisibility"]
    for name, q in work.items():
        props = q["Properties"]
        assert props["RedrivePolicy"]["maxReceiveCount"] == {"Ref": "MaxReceiveCount"}
        dlq = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert ("ApproximateNumberOfMessagesVisible", dlq) in alarmed, f"{dlq}: no depth alarm"
        assert ("ApproximateAgeOfOldestMessage", name) in alarmed, f"{name}: no oldest-message alarm"
        _, timeout_ref, column = props["VisibilityTimeout"]["Fn::FindInMap"]
        window = params[f"{column}BatchWindow"]["MaxValue"]
        allowed = params[timeout_ref["Ref"]]["AllowedValues"]
        for timeout in allowed:  # >= 6 x function timeout + the longest batching window, for every allowed timeout
            assert mapping[str(timeout)][column] >= 6 * int(timeout) + window, (name, timeout)
    for name in set(queues) - set(work):  # DLQs and failure destinations: 14 days, alarmed
        assert queues[name]["Properties"]["MessageRetentionPeriod"] == 1209600, name
        assert ("ApproximateNumberOfMessagesVisible", name) in alarmed, f"{name}: no depth alarm"
    functions = resources(template, "AWS::Serverless::Function")
    for fn in functions:
        for metric in ("Errors", "Throttles"):
            assert any(a["MetricName"] == metric and a["Dimensions"][0]["Value"] == {"Ref": fn} for a in alarms), (fn, metric)
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)
    for fn in ("ForwardFunction", "ArchiveFunction"):
        (event,) = functions[fn]["Properties"]["Events"].values()
        assert event["Type"] == "SQS" and event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    extract = functions["ExtractFunction"]["Properties"]
    assert extract["EventInvokeConfig"]["MaximumRetryAttempts"] == 2
    assert extract["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["ExtractFailuresQueue", "Arn"]}
    for sub in resources(template, "AWS::SNS::Subscription").values():
        if sub["Properties"]["Protocol"] == "sqs":
            assert sub["Properties"]["RawMessageDelivery"] is True and "FilterPolicy" not in sub["Properties"]


def test_functions_follow_the_build_contract(template):
    for name, binary in (("ExtractFunction", "extract"), ("ForwardFunction", "forward"), ("ArchiveFunction", "archive")):
        fn = template["Resources"][name]
        props = fn["Properties"]
        assert fn["Metadata"]["BuildMethod"] == "rust-cargolambda" and fn["Metadata"]["BuildProperties"]["Binary"] == binary
        # The workspace root: `cargo lambda build --bin <binary>` there (default-members lists the functions).
        assert props["CodeUri"] == ".." and props["Handler"] == "bootstrap"
        assert props["Runtime"] == "provided.al2023" and props["Architectures"] == [{"Ref": "Architecture"}]
        assert props["FunctionName"] == {"Fn::Sub": f"${{AWS::StackName}}-{binary}"}


def test_samconfig_environments_fit_the_template(template):
    config = tomllib.loads((INFRA / "samconfig.toml").read_text())
    params = template["Parameters"]
    required = {n for n, p in params.items() if "Default" not in p}
    for env in ("dev", "qa", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        overrides = dict(o.split("=", 1) for o in deploy["parameter_overrides"])
        assert set(overrides) <= set(params), f"{env}: unknown parameters {set(overrides) - set(params)}"
        assert required <= set(overrides), f"{env}: missing {required - set(overrides)}"
        assert overrides["Stage"] == env and deploy["stack_name"] == f"leadpipe-{env}"
        for n, v in overrides.items():
            p = params[n]
            if "AllowedValues" in p:
                assert v in [str(a) for a in p["AllowedValues"]], (env, n, v)
            if "MinValue" in p:
                assert p["MinValue"] <= int(v) <= p.get("MaxValue", int(v)), (env, n, v)
        # The longest bucket name the stack derives must stay within S3's 63 characters.
        longest = f"{deploy['stack_name']}-athena-results-123456789012-{deploy['region']}"
        assert len(longest) <= 63, longest
        assert re.fullmatch(r"[a-z0-9-]+", deploy["stack_name"])
