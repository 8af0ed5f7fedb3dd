#!/usr/bin/env python3
"""Python baseline for the extract bench (issue 8, item 1): the same work done "the way a Python team would have".

stdlib only (email with policy.default, re, tomllib, html, xml.etree, hmac, hashlib, base64, json), plus the
`phonenumbers` package (PyPI; the Python port of libphonenumber, which the seed team would have used for phones).

    python3 benches/python_baseline.py [--secs 3] [--tsv] [--mime DIR]

It first compares its field values (before anonymization) with fixtures/expected/*.expected.json, then times
the full work (parse, rule selection, extraction, typing, pseudonyms, json.dumps) on the fixture corpus and on the
MIME corpus, repeating each corpus for >= --secs seconds on one thread.
"""
import base64, datetime as dt, email, email.policy, hashlib, hmac, html, json, os, re, sys, time, tomllib
import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation
import phonenumbers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_BYTES = 10 * 1024 * 1024
KEY = bytes([7] * 32)


# ---------------------------------------------------------------- rules
def load_rules(path):
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
    d = cfg.get("defaults", {})
    rules = []
    for i, r in enumerate(cfg["rules"]):
        m = r["match"]
        bc = m.get("body_contains", [])
        rules.append({
            "id": r["id"], "version": r["version"], "priority": r.get("priority", 0), "order": i,
            "require_auth": r.get("require_auth", False),
            "region": r.get("phone_region", d.get("phone_region", "US")),
            "currency": r.get("currency", d.get("currency")),
            "tz": r.get("timezone", d.get("timezone", "+00:00")),
            "message": m.get("message", "outer"),
            "sender": re.compile(m["sender"]) if "sender" in m else None,
            "sender_domain": re.compile(m["sender_domain"]) if "sender_domain" in m else None,
            "subject": re.compile(m["subject"]) if "subject" in m else None,
            "headers": {k: re.compile(v) for k, v in m.get("headers", {}).items()},
            "body_contains": [s.lower() for s in ([bc] if isinstance(bc, str) else bc)],
            "fields": [compile_field(f) for f in r["fields"]],
        })
    rules.sort(key=lambda r: (-r["priority"], r["order"]))
    return rules


def compile_field(f):
    f = dict(f)
    if "regex" in f:
        f["_re"] = re.compile(f["regex"], re.M)
    if "label" in f:
        labels = [f["label"]] if isinstance(f["label"], str) else f["label"]
        f["_labels"] = [
            (re.compile(r"^[ \t*_]*" + re.escape(l) + r"[ \t*_]*(?:[:=]|\s-\s?)[ \t]*(.*)$", re.I | re.M),
             re.compile(r"^[ \t*_]*" + re.escape(l) + r"[ \t*_]*:?[ \t]*$", re.I | re.M)) for l in labels]
    if "html_table" in f:
        ht = f["html_table"]
        if "label" in ht:
            ls = [ht["label"]] if isinstance(ht["label"], str) else ht["label"]
            f["_hlabels"] = [l.lower() for l in ls]
        else:
            tag, cls = ht["selector"].split(".")
            f["_sel"] = re.compile(r"<" + tag + r"\b[^>]*class=\"[^\"]*\b" + re.escape(cls) + r"\b[^\"]*\"[^>]*>(.*?)</" + tag + ">", re.S | re.I)
    if "aliases" in f:
        f["_aliases"] = {k.lower(): v for k, v in f["aliases"].items()}
    return f


# ---------------------------------------------------------------- mail model
TAG_BLOCK = re.compile(r"<\s*/?\s*(?:p|div|br|tr|h[1-6]|li|table|ul|ol|title|section|header|footer)\b[^>]*>", re.I)
TAG_CELL = re.compile(r"<\s*/\s*(?:td|th)\s*>", re.I)
TAG_DROP = re.compile(r"<(style|script|head)\b.*?</\1\s*>", re.I | re.S)
TAG_ANY = re.compile(r"<[^>]*>")


def html_to_text(h):
    h = TAG_DROP.sub("", h)
    h = TAG_BLOCK.sub("\n", h)
    h = TAG_CELL.sub("\t", h)
    h = html.unescape(TAG_ANY.sub("", h))
    lines = [re.sub(r"[ \t\u00a0]+", " ", l).strip() for l in h.split("\n")]
    return "\n".join(l for l in lines if l)


def part_text(p):
    try:
        return p.get_content()
    except Exception:
        payload = p.get_payload(decode=True) or b""
        return payload.decode(p.get_content_charset() or "utf-8", "replace")


class Mail:
    def __init__(self, msg):
        self.msg = msg
        frm = msg.get("From")
        try:
            addrs = frm.addresses if frm is not None else ()
            self.sender = (addrs[0].addr_spec if addrs else "").lower()
        except Exception:
            self.sender = str(frm or "").lower()
        self.domain = self.sender.rpartition("@")[2]
        self.subject = str(msg.get("Subject", "") or "")
        self.plain = self.html = None
        self.attachments = []
        self.forwarded = None
        self._walk(msg)
        text = self.plain if self.plain is not None else (html_to_text(self.html) if self.html else "")
        self.text = text.replace("\r\n", "\n")

    def _walk(self, msg):
        if msg.is_multipart():
            for p in msg.iter_parts():
                self._walk_part(p)
        else:
            self._walk_part(msg, top=True)

    def _walk_part(self, p, top=False):
        ct = p.get_content_type()
        if ct == "message/rfc822":
            if self.forwarded is None:
                inner = p.get_payload()
                inner = inner[0] if isinstance(inner, list) else inner
                self.forwarded = Mail(inner)
            return
        if p.is_multipart():
            for q in p.iter_parts():
                self._walk_part(q)
            return
        disp = p.get_content_disposition()
        fname = p.get_filename()
        if disp == "attachment" or (fname and not top):
            self.attachments.append((fname or "", p))
        elif ct == "text/plain" and self.plain is None:
            self.plain = part_text(p)
        elif ct == "text/html" and self.html is None:
            self.html = part_text(p)


def authenticated(mail):
    d = mail.domain
    for h in mail.msg.get_all("Authentication-Results", []) or []:
        s = str(h).lower()
        for m in re.finditer(r"dkim=pass[^;]*header\.d=([a-z0-9.-]+)", s):
            if d == m.group(1) or d.endswith("." + m.group(1)):
                return True
        for m in re.finditer(r"spf=pass[^;]*smtp\.mailfrom=([^\s;]+)", s):
            md = m.group(1).rpartition("@")[2]
            if d == md or d.endswith("." + md):
                return True
    return False


def rule_matches(r, mail):
    if r["sender"] and not r["sender"].search(mail.sender):
        return False
    if r["sender_domain"] and not r["sender_domain"].search(mail.domain):
        return False
    if r["subject"] and not r["subject"].search(mail.subject):
        return False
    for name, rx in r["headers"].items():
        if not any(rx.search(str(v)) for v in (mail.msg.get_all(name) or [])):
            return False
    if r["body_contains"]:
        t = mail.text.lower()
        if not all(s in t for s in r["body_contains"]):
            return False
    return True


# ---------------------------------------------------------------- extractors
def ex_label(f, text):
    for inline, alone in f["_labels"]:
        m = inline.search(text)
        if m and m.group(1).strip():
            return m.group(1)
        m = alone.search(text)
        if m:
            rest = text[m.end():].lstrip("\r\n")
            for line in rest.splitlines():
                if line.strip():
                    return line
    return None


ROW = re.compile(r"<tr\b[^>]*>(.*?)</tr>", re.S | re.I)
CELL = re.compile(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", re.S | re.I)


def cell_text(c):
    return re.sub(r"\s+", " ", html.unescape(TAG_ANY.sub("", c))).strip()


def ex_html_table(f, mail):
    h = mail.html or ""
    if "_sel" in f:
        m = f["_sel"].search(h)
        return cell_text(m.group(1)) if m else None
    rows = [[cell_text(c) for c in CELL.findall(r)] for r in ROW.findall(h)]
    for lab in f["_hlabels"]:
        for i, row in enumerate(rows):
            for j, c in enumerate(row):
                if c.lower().rstrip(":").strip() == lab:
                    if j + 1 < len(row):
                        return row[j + 1]
                    if i + 1 < len(rows) and j < len(rows[i + 1]):
                        return rows[i + 1][j]
    return None


def xml_root(mail):
    cands = []
    if mail.text.lstrip().startswith("<"):
        cands.append(mail.text.lstrip())
    for name, p in mail.attachments:
        if name.lower().endswith(".xml") or "xml" in p.get_content_type():
            cands.append(part_text(p))
    for c in cands:
        try:
            return ET.fromstring(c.encode("utf-8") if isinstance(c, str) else c)
        except ET.ParseError:
            continue
    return None


def ex_xml(f, root):
    if root is None:
        return None
    path = f["xml_path"]
    attr = None
    if "/@" in path:
        path, attr = path.rsplit("/@", 1)
    if path.startswith("//"):
        q = ".//" + path[2:]
        els = root.findall(q) if root.tag != path[2:].split("/")[0] else [root] + root.findall(q)
    else:
        parts = path.lstrip("/").split("/", 1)
        if parts[0] != root.tag:
            return None
        els = root.findall("./" + parts[1]) if len(parts) > 1 else [root]
    for e in els:
        v = e.get(attr) if attr else "".join(e.itertext())
        if v is not None:
            return v
    return None


def source_text(f, mail):
    src = f.get("source", "text")
    if src == "text":
        return mail.text
    if src == "html":
        return mail.html or ""
    if src == "subject":
        return mail.subject
    if src.startswith("header:"):
        v = mail.msg.get(src[7:])
        return str(v) if v is not None else None
    return None


# ---------------------------------------------------------------- types
MONTHS = {m: i + 1 for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                          "september", "october", "november", "december"])}
CUR = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}


def parse_tz(s):
    sign = -1 if s[0] == "-" else 1
    h, m = s[1:].split(":")
    return dt.timezone(sign * dt.timedelta(hours=int(h), minutes=int(m)))


def decimal_str(s):
    s = s.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?|\d+,\d{1,2}", s):
        s = s.replace(".", "").replace(",", ".")
    else:
        s = s.replace(",", "")
    return Decimal(s)


def norm(f, v, rule):
    t = f.get("type", "string")
    if f.get("trim", True):
        v = v.strip().rstrip(",;").strip()
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
            v = v[1:-1].strip()
    if t == "string":
        v = re.sub(r"\s+", " ", v)
        return v if v else None
    if t == "email":
        v = v.lower()
        return v if re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", v) else None
    if t == "phone":
        try:
            n = phonenumbers.parse(v, f.get("region", rule["region"]))
        except phonenumbers.NumberParseException:
            return None
        return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164) if phonenumbers.is_valid_number(n) else None
    if t == "integer":
        s = re.sub(r"[,\s\u00a0.]", "", v)
        return int(s) if re.fullmatch(r"-?\d+", s) else None
    if t == "decimal":
        try:
            return str(decimal_str(v))
        except InvalidOperation:
            return None
    if t == "money":
        cur = None
        for sym, code in CUR.items():
            if sym in v:
                cur = code
        m = re.search(r"\b([A-Z]{3})\b", v)
        if m:
            cur = m.group(1)
        cur = cur or f.get("currency") or rule["currency"]
        m = re.search(r"\d[\d.,\s\u00a0\u202f]*", v)
        if not m or not cur:
            return None
        try:
            amt = decimal_str(m.group(0).strip().rstrip(".,"))
        except InvalidOperation:
            return None
        return {"amount": f"{amt:.2f}", "currency": cur}
    if t == "url":
        return v if re.match(r"https?://", v) else None
    if t == "enum":
        for a in f["values"]:
            if a.lower() == v.lower():
                return a
        return f.get("_aliases", {}).get(v.lower())
    if t == "date":
        return parse_date(v, f.get("region", rule["region"]))
    if t == "datetime":
        return parse_datetime(v, f.get("format"), rule["tz"])
    return v


def parse_date(v, region):
    v = v.strip()
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", v):
        y, mo, d = map(int, m.groups())
    elif m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", v):
        a, b, y = map(int, m.groups())
        mo, d = (a, b) if region == "US" else (b, a)
    elif m := re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", v):
        d, mo, y = map(int, m.groups())
    elif m := re.fullmatch(r"([A-Za-z]+)\.? (\d{1,2}),? (\d{4})", v):
        mo = MONTHS.get(m.group(1).lower())
        if not mo:
            return None
        d, y = int(m.group(2)), int(m.group(3))
    else:
        try:
            return email.utils.parsedate_to_datetime(v).date().isoformat()
        except Exception:
            return None
    try:
        return dt.date(y, mo, d).isoformat()
    except ValueError:
        return None


def parse_datetime(v, fmt, tz):
    v = v.strip()
    cands = []
    if fmt:
        cands.append(fmt)
    cands += ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
    for c in cands:
        try:
            d = dt.datetime.strptime(v, c)
        except ValueError:
            continue
        if d.tzinfo is None:
            d = d.replace(tzinfo=dt.timezone.utc if "UTC" in c else parse_tz(tz))
        return d.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        d = email.utils.parsedate_to_datetime(v)
        return d.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except Exception:
        return None


# ---------------------------------------------------------------- pseudonyms and event
PSEUDO = {"name", "email", "phone", "address", "id_number"}


def pseudonym(cls, value):
    canon = re.sub(r"\s+", " ", str(value).strip().lower())
    mac = hmac.new(KEY, b"leadpipe/p1\0" + cls.encode() + b"\0" + canon.encode(), hashlib.sha256).digest()[:15]
    return "p1_" + base64.b32encode(mac).decode().lower().rstrip("=")


def generalize(cls, v):
    if cls == "postal_code":
        if re.fullmatch(r"\d{5}(-\d{4})?", v):
            return v[:3]
        if m := re.fullmatch(r"([A-Z]{1,2}\d[A-Z\d]?) ?\d[A-Z]{2}", v.upper()):
            return m.group(1)
        return v[:2]
    if cls == "ip":
        return ".".join(v.split(".")[:3]) + ".0/24" if "." in v else v
    return None


def anonymize(fields, rule):
    out = {}
    known = []
    for f in rule["fields"]:
        n = f["name"]
        if n not in fields:
            continue
        cls = f.get("pii", "none")
        v = fields[n]
        if cls in PSEUDO:
            out[n] = pseudonym(cls, v)
            known.append((str(v), cls, out[n]))
        elif cls in ("postal_code", "ip"):
            out[n] = generalize(cls, str(v))
        elif cls == "free_text":
            out[n] = v
        elif cls == "payment_card":
            continue
        else:
            out[n] = v
    # scrub free text: known values and e-mail addresses
    for f in rule["fields"]:
        if f.get("pii") == "free_text" and f["name"] in out:
            t = out[f["name"]]
            t = EMAIL_RE.sub(lambda m: "[EMAIL:" + pseudonym("email", m.group(0)) + "]", t)
            for val, cls, p in known:
                if len(val) > 2:
                    t = re.sub(re.escape(val), f"[{cls.upper()}:{p}]", t, flags=re.I)
            out[f["name"]] = t
    return out


EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def process(raw):
    """Returns (outcome dict for comparison, json string of the event)."""
    if len(raw) > MAX_BYTES:
        return {"outcome": "quarantined", "reason": "too_large"}, None
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if not msg.keys():
        return {"outcome": "quarantined", "reason": "unparseable"}, None
    mail = Mail(msg)
    rule = None
    for r in load_rules.cache:
        target = mail if r["message"] == "outer" else mail.forwarded
        if target is not None and rule_matches(r, target):
            rule = r
            break
    if rule is None:
        return {"outcome": "quarantined", "reason": "no_rule_matched"}, json.dumps(
            {"reason": "no_rule_matched", "subject": EMAIL_RE.sub("[EMAIL]", mail.subject)})
    rid = f'{rule["id"]}@{rule["version"]}'
    if rule["require_auth"] and not authenticated(mail):
        return {"outcome": "quarantined", "reason": "failed_auth", "rule": rid}, None
    src = mail if rule["message"] == "outer" else mail.forwarded
    fields, errors, root = {}, [], False
    for f in rule["fields"]:
        if "constant" in f:
            raw_v = f["constant"]
        elif "label" in f:
            raw_v = ex_label(f, src.text)
        elif "regex" in f:
            s = source_text(f, src)
            m = f["_re"].search(s) if s is not None else None
            raw_v = m.group("value") if m else None
        elif "html_table" in f:
            raw_v = ex_html_table(f, src)
        elif "xml_path" in f:
            if root is False:
                root = xml_root(src)
            raw_v = ex_xml(f, root)
        else:
            raw_v = None
        v = norm(f, raw_v, rule) if raw_v is not None else None
        if v is None:
            errors.append({"field": f["name"], "problem": "missing" if raw_v is None else "invalid"})
            if f.get("required"):
                return {"outcome": "quarantined", "reason": "missing_required:" + f["name"], "rule": rid}, None
        else:
            fields[f["name"]] = v
    event = {
        "schema": "leadpipe.lead/v1", "rule_id": rule["id"], "rule_version": rule["version"],
        "message_id": str(msg.get("Message-ID", "")), "sender_domain": mail.domain,
        "received_at": str(msg.get("Date", "")), "fields": anonymize(fields, rule), "field_errors": errors,
    }
    event["event_id"] = "e1_" + hashlib.sha256(raw).hexdigest()[:26]
    return {"outcome": "lead", "rule": rid, "fields": fields}, json.dumps(event, ensure_ascii=False)


# ---------------------------------------------------------------- driver
def corpus(d):
    out = []
    for dp, _, fs in os.walk(d):
        for f in fs:
            if f.startswith("LICENSE") or f.endswith(".md"):
                continue
            p = os.path.join(dp, f)
            out.append((os.path.relpath(p, d), open(p, "rb").read()))
    return sorted(out)


def safe(raw):
    try:
        return process(raw)
    except Exception as e:  # a crash counts as an outcome so the bench keeps going
        return {"outcome": "error", "reason": repr(e)}, None


def compare(fixtures):
    ok, diffs = 0, []
    for name, raw in fixtures:
        exp = json.load(open(os.path.join(ROOT, "fixtures/expected", name[:-4] + ".expected.json")))
        got, _ = safe(raw)
        d = []
        if got["outcome"] != exp["outcome"]:
            d.append(f'outcome {got["outcome"]}/{got.get("reason")} != {exp["outcome"]}/{exp.get("reason")}')
        elif exp["outcome"] == "lead":
            if got["rule"] != exp["rule"]:
                d.append(f'rule {got["rule"]} != {exp["rule"]}')
            ef, gf = exp["fields"], got["fields"]
            for k in sorted(set(ef) | set(gf)):
                if ef.get(k) != gf.get(k):
                    d.append(f"{k}: python={gf.get(k)!r} leadpipe={ef.get(k)!r}")
        elif got.get("reason") != exp.get("reason"):
            d.append(f'reason {got.get("reason")} != {exp.get("reason")}')
        if d:
            diffs.append((name, d))
        else:
            ok += 1
    return ok, diffs


def measure(c, secs):
    t = time.perf_counter()
    while time.perf_counter() - t < 0.5:
        for _, r in c:
            safe(r)
    n = b = 0
    size = sum(len(r) for _, r in c)
    t = time.perf_counter()
    while True:
        for _, r in c:
            safe(r)
        n += len(c)
        b += size
        el = time.perf_counter() - t
        if el >= secs:
            return n / el, b / 1e6 / el


def measure_parse(c, secs):
    """stdlib parse + best text body alone (the Python analogue of the Rust ceiling)."""
    def one(r):
        try:
            m = email.message_from_bytes(r, policy=email.policy.default)
            b = m.get_body(("plain", "html"))
            return b.get_content() if b is not None else None
        except Exception:
            return None
    t = time.perf_counter()
    while time.perf_counter() - t < 0.5:
        for _, r in c:
            one(r)
    n = b = 0
    size = sum(len(r) for _, r in c)
    t = time.perf_counter()
    while True:
        for _, r in c:
            one(r)
        n += len(c)
        b += size
        el = time.perf_counter() - t
        if el >= secs:
            return n / el, b / 1e6 / el


def main():
    a = sys.argv[1:]
    secs = float(a[a.index("--secs") + 1]) if "--secs" in a else float(os.environ.get("BENCH_SECS", 3))
    tsv = "--tsv" in a
    mime = a[a.index("--mime") + 1] if "--mime" in a else os.environ.get(
        "LEADPIPE_MIME_CORPUS", os.path.join(ROOT, "../shared/corpus/mime"))
    load_rules.cache = load_rules(os.path.join(ROOT, "fixtures/rules/default.toml"))
    fx = corpus(os.path.join(ROOT, "fixtures/emails"))
    ok, diffs = compare(fx)
    print(f"# python baseline agreement with fixtures/expected: {ok}/{len(fx)} mails identical (outcome, rule, field values)",
          file=sys.stderr if tsv else sys.stdout)
    for n, d in diffs:
        for x in d:
            print(f"#   {n}: {x}", file=sys.stderr if tsv else sys.stdout)
    for cname, c in (("fixtures", fx), ("mime", corpus(mime))):
        leads = sum(1 for _, r in c if safe(r)[0]["outcome"] == "lead")
        det = [safe(r)[1] for _, r in c] == [safe(r)[1] for _, r in c]
        size = sum(len(r) for _, r in c)
        for what, fn in (("extract", measure), ("parse", measure_parse)):
            mps, mbs = fn(c, secs)
            if tsv:
                print(f"python\t{cname}\t{what}\t{len(c)}\t{size}\t{leads}\t{mps:.1f}\t{mbs:.3f}\t{det}")
            else:
                print(f"{cname:<10} {len(c):>6} {size:>10} {leads:>6} {what:<9} {mps:>12.0f} {mbs:>10.2f} {det}")
    if tsv:
        print(f"python\tagreement\t{ok}\t{len(fx)}")


if __name__ == "__main__":
    main()
