#!/usr/bin/env python3
"""A stand-in for Amazon Managed Prometheus and AWS STS, for tests/sigv4.rs.

Every Prometheus request (POST /api/v1/query, /api/v1/query_range) must carry
an AWS SigV4 signature that botocore's own signer (SigV4Auth) recomputes from
the known test credentials, for service `aps` and the expected region, over
the exact body; a mismatch is answered 403 as AMP answers it, a match is
proxied to the backend Prometheus. STS `AssumeRoleWithWebIdentity` (IRSA:
checks the web identity token and role) and `AssumeRole` (itself SigV4-signed,
service `sts`, checked the same way) answer known temporary credentials.

Usage: verifier.py --backend URL --config FILE [--echo]
FILE (JSON): {"region": R,
              "keys": {AKID: {"secret": S, "token": T or null}},
              "web_identity": {"token": W, "role_arn": A, "issue": KEY},
              "assume_role": {"role_arn": A, "issue": KEY}}
where KEY is {"akid", "secret", "token"}; issued keys are accepted too. A
grant's optional "lifetime" (seconds, default 3600) sets the expiry issued.
--echo: a 403 echoes every request header (a hostile proxy).
Prints "listening on PORT" once ready. GET /stats answers what was seen.
"""

import argparse
import datetime
import hashlib
import hmac
import json
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,"
    r" ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$"
)
# How far X-Amz-Date may be from now, as AWS allows.
MAX_SKEW = datetime.timedelta(minutes=5)
MAX_BODY = 1024 * 1024
DENIED = b'{"message":"The request signature we calculated does not match the signature you provided."}'


class State:
    def __init__(self, cfg, backend, echo):
        self.cfg = cfg
        self.backend = backend.rstrip("/")
        self.echo = echo
        self.keys = dict(cfg.get("keys", {}))
        for grant in ("web_identity", "assume_role"):
            issued = cfg.get(grant, {}).get("issue")
            if issued:
                self.keys[issued["akid"]] = {"secret": issued["secret"], "token": issued["token"]}
        self.lock = threading.Lock()
        self.stats = {"verified": [], "rejected": [], "sts": []}

    def record(self, kind, entry):
        with self.lock:
            self.stats[kind].append(entry)


def verify(state, method, path, headers, body, service):
    """None when the signature is botocore's for a known key, else why not."""
    m = AUTH_RE.match(headers.get("Authorization", ""))
    if not m:
        return None, "no SigV4 Authorization header"
    akid, day, region, svc, signed, signature = m.groups()
    if svc != service:
        return akid, f"service {svc}, not {service}"
    if region != state.cfg["region"]:
        return akid, f"region {region}, not {state.cfg['region']}"
    key = state.keys.get(akid)
    if key is None:
        return akid, "unknown access key id"
    amz_date = headers.get("X-Amz-Date", "")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return akid, "bad X-Amz-Date"
    if not amz_date.startswith(day) or abs(datetime.datetime.now(datetime.timezone.utc) - when) > MAX_SKEW:
        return akid, "X-Amz-Date off the scope or the clock"
    if key["token"] is not None and headers.get("X-Amz-Security-Token") != key["token"]:
        return akid, "missing or wrong session token"
    sha = headers.get("X-Amz-Content-Sha256")
    if service == "aps" and sha != hashlib.sha256(body).hexdigest():
        return akid, "X-Amz-Content-Sha256 is not the body's hash"
    names = signed.split(";")
    if "host" not in names or any(headers.get(n) is None for n in names):
        return akid, "a signed header is missing"
    req = AWSRequest(
        method=method,
        url="http://" + headers["Host"] + path,
        data=body,
        headers={n: headers[n] for n in names},
    )
    req.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(akid, key["secret"], key["token"]), service, region)
    if auth.signed_headers(auth.headers_to_sign(req)) != signed:
        return akid, "signed header list differs"
    expected = auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req)
    if not hmac.compare_digest(expected, signature):
        return akid, "signature mismatch"
    return akid, None


def sts_xml(action, key, lifetime):
    expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=lifetime)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><{action}Result>'
        f"<Credentials><AccessKeyId>{key['akid']}</AccessKeyId><SecretAccessKey>{key['secret']}</SecretAccessKey>"
        f"<SessionToken>{key['token']}</SessionToken><Expiration>{expires}</Expiration></Credentials>"
        f"</{action}Result></{action}Response>"
    ).encode()


def sts_error(code, message):
    return (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error></ErrorResponse>"
    ).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(n, MAX_BODY))

    def do_GET(self):
        if self.path == "/stats":
            with self.state.lock:
                self.reply(200, json.dumps(self.state.stats).encode())
            return
        self.handle_any(b"")

    def do_POST(self):
        self.handle_any(self.body())

    def handle_any(self, body):
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/api/v1/"):
            self.prometheus(body)
            return
        params = dict(urllib.parse.parse_qsl(url.query))
        params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        self.sts(params, body)

    def prometheus(self, body):
        headers = {k: v for k, v in self.headers.items()}
        akid, why = verify(self.state, self.command, self.path, self.headers, body, "aps")
        if why is not None:
            self.state.record("rejected", {"path": self.path, "akid": akid, "why": why})
            page = DENIED
            if self.state.echo:
                first = {"token": self.headers.get("X-Amz-Security-Token"), "auth": self.headers.get("Authorization")}
                page = json.dumps({**first, "message": "denied", "request_headers": headers}).encode()
            self.reply(403, page)
            return
        self.state.record(
            "verified",
            {"path": self.path, "akid": akid, "token": "X-Amz-Security-Token" in self.headers},
        )
        req = urllib.request.Request(
            self.state.backend + self.path,
            data=body,
            headers={"Content-Type": self.headers.get("Content-Type", "")},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                self.reply(resp.status, resp.read())
        except urllib.error.HTTPError as e:
            self.reply(e.code, e.read())

    def sts(self, params, body):
        action = params.get("Action", "")
        st = self.state
        self.state.record("sts", {"action": action, "role_arn": params.get("RoleArn"), "host": self.headers.get("Host")})
        if action == "AssumeRoleWithWebIdentity":
            grant = st.cfg.get("web_identity")
            if not grant or params.get("WebIdentityToken") != grant["token"]:
                self.reply(400, sts_error("InvalidIdentityToken", "Incorrect token audience"), "text/xml")
            elif params.get("RoleArn") != grant["role_arn"]:
                self.reply(403, sts_error("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"), "text/xml")
            else:
                self.reply(200, sts_xml(action, grant["issue"], grant.get("lifetime", 3600)), "text/xml")
            return
        if action == "AssumeRole":
            grant = st.cfg.get("assume_role")
            _, why = verify(st, self.command, self.path, self.headers, body, "sts")
            if why is not None:
                self.reply(403, sts_error("SignatureDoesNotMatch", why), "text/xml")
            elif not grant or params.get("RoleArn") != grant["role_arn"]:
                self.reply(403, sts_error("AccessDenied", "Not authorized to perform sts:AssumeRole"), "text/xml")
            else:
                self.reply(200, sts_xml(action, grant["issue"], grant.get("lifetime", 3600)), "text/xml")
            return
        self.reply(400, sts_error("InvalidAction", "unknown action"), "text/xml")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--echo", action="store_true")
    a = p.parse_args()
    with open(a.config) as f:
        cfg = json.load(f)
    Handler.state = State(cfg, a.backend, a.echo)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
