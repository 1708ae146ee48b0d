#!/usr/bin/env python3
"""Integrations Hub quick start, Python standard library only.

Starts a receiver on 127.0.0.1, subscribes it to `new_lead`, publishes a lead, and verifies both
signatures of the delivery (Standard Webhooks and the classic X-Webhook-Signature). Exits 0 when
the delivery arrived and verified. Env: IH_URL (default http://127.0.0.1:3000), IH_API_KEY.
"""
import base64, hashlib, hmac, json, os, queue, sys, threading, time
import urllib.error, urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

HUB = os.environ.get("IH_URL", "http://127.0.0.1:3000").rstrip("/")
KEY = os.environ.get("IH_API_KEY") or sys.exit("set IH_API_KEY to an API key (sk_...)")
TOLERANCE = 300  # seconds: refuse deliveries signed more than 5 minutes from now


def api(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(HUB + path, data, headers, method=method), timeout=10) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def fresh(ts):
    return ts.isdigit() and abs(time.time() - int(ts)) <= TOLERANCE


def verify_standard(secret, headers, body):
    """webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">, space-separated."""
    key = base64.b64decode(secret[6:]) if secret.startswith("whsec_") else secret.encode()
    msg_id, ts = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not fresh(ts):
        return False
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    expected = b"v1," + base64.b64encode(mac)
    return any(hmac.compare_digest(expected, s.encode()) for s in headers.get("webhook-signature", "").split(" "))


def verify_classic(secret, headers, body):
    """X-Webhook-Signature: hex HMAC-SHA256 of "{timestamp}.{body}", keyed by the secret's bytes."""
    ts = headers.get("x-webhook-timestamp", "")
    if not fresh(ts):
        return False
    expected = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(expected, headers.get("x-webhook-signature", "").encode())


secret = None  # set once the endpoint exists
received = queue.Queue()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        ok = (verify_standard(secret, headers, body), verify_classic(secret, headers, body))
        self.send_response(204 if all(ok) else 401)  # a 4xx tells the hub not to retry
        self.end_headers()
        received.put((headers, body, ok))

    def log_message(self, *args):
        pass


def main():
    global secret
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/webhooks"

    # The key-scoped route: the endpoint belongs to the key's tenant. The hub generates a
    # `whsec_` secret, which the endpoint's secret route reveals.
    endpoint = api("POST", "/api/v1/subscriptions", {"url": url, "events": ["new_lead"]})
    path = f"/api/v1/tenants/{endpoint['tenant_id']}/webhooks/{endpoint['id']}"
    print(f"endpoint {endpoint['id']} -> {url}")
    try:
        secret = api("GET", path + "/secret")["secret"]
        lead = {"lead_id": "lead_42", "name": "Ada Lovelace", "email": "ada@example.com",
                "company": "Analytical Engines", "source": "python-quickstart"}
        event = api("POST", "/api/v1/events", {"event_type": "new_lead", "payload": lead})
        print(f"published {event['id']} ({len(event['deliveries'])} deliveries)")
        try:
            headers, body, (standard_ok, classic_ok) = received.get(timeout=30)
        except queue.Empty:
            sys.exit("no delivery within 30 s")
        print(f"received webhook-id {headers['webhook-id']}: {body.decode()}")
        print(f"Standard Webhooks signature: {'valid' if standard_ok else 'INVALID'}")
        print(f"X-Webhook-Signature:         {'valid' if classic_ok else 'INVALID'}")
        if not (standard_ok and classic_ok) or headers["webhook-id"] != event["id"]:
            sys.exit("verification failed")
        if json.loads(body)["data"] != lead:
            sys.exit("the payload differs from what was published")
        print("ok")
    finally:
        api("DELETE", path)
        server.shutdown()


if __name__ == "__main__":
    try:
        main()
    except urllib.error.HTTPError as e:
        sys.exit(f"{e.code} from the hub: {e.read().decode()}")
    except urllib.error.URLError as e:
        sys.exit(f"cannot reach the hub at {HUB}: {e.reason}")
