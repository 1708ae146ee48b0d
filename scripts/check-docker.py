"""The container image, end to end, on a real Docker engine (scripts/check-docker.sh runs it).

Runs the image with a volume, waits for its HEALTHCHECK to report healthy, checks it runs as the
non-root user, creates a tenant and an endpoint on a receiver on the host, publishes an event and
verifies the delivery's Standard Webhooks signature; then stops the container (SIGTERM), starts a
new one on the same volume and finds the tenant, the event and its delivery still there. Finally
`docker-compose up` with compose.yaml's default service, when docker-compose is installed.
Usage: check-docker.py IMAGE
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

IMAGE = sys.argv[1]
TOKEN = "docker-test-operator-" + secrets.token_hex(8)
SUFFIX = secrets.token_hex(4)


def docker(*args, check=True):
    done = subprocess.run(["docker", *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        sys.exit(f"docker {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def fail(message, container=None):
    if container:
        print(docker("logs", "--tail", "40", container, check=False), file=sys.stderr)
    sys.exit(f"check-docker: {message}")


class Receiver(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        Receiver.received.append((dict(self.headers.items()), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def api(base, method, path, body=None):
    request = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def start(name, volume, **env):
    args = ["run", "-d", "--name", name, "-p", "127.0.0.1::3000", "-v", f"{volume}:/data",
            "--add-host", "host.docker.internal:host-gateway",
            # The image's own HEALTHCHECK command, checked every second instead of every ten.
            "--health-interval", "1s", "--health-start-period", "30s",
            "-e", f"IH_ADMIN_TOKEN={TOKEN}", "-e", "IH_ALLOW_PRIVATE_TARGETS=true"]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    docker(*args, IMAGE)
    deadline = time.time() + 60
    while (status := docker("inspect", "-f", "{{.State.Health.Status}}", name, check=False)) != "healthy":
        if time.time() > deadline or docker("inspect", "-f", "{{.State.Running}}", name, check=False) != "true":
            fail(f"{name} did not become healthy ({status})", name)
        time.sleep(0.5)
    port = docker("port", name, "3000/tcp").splitlines()[0].rsplit(":", 1)[1]
    return f"http://127.0.0.1:{port}"


def verify_standard_signature(secret, headers, body):
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return expected in headers["webhook-signature"].split(" ")


def main():
    # The container reaches the host as host.docker.internal (docker run --add-host … host-gateway).
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver_url = f"http://host.docker.internal:{server.server_address[1]}/hook"

    volume = f"ih-docker-test-{SUFFIX}"
    first, second = f"ih-docker-test-a-{SUFFIX}", f"ih-docker-test-b-{SUFFIX}"
    docker("volume", "create", volume)
    try:
        base = start(first, volume)
        uids = [line.split()[1] for line in docker("top", first, "-o", "pid,uid").splitlines()[1:]]
        if not uids or any(uid.strip() != "65532" for uid in uids):
            fail(f"the hub runs as uid {uids}, not the non-root 65532", first)

        tenant = api(base, "POST", "/api/v1/tenants", {"name": "Docker"})["id"]
        hook = api(base, "POST", f"/api/v1/tenants/{tenant}/webhooks", {"url": receiver_url, "events": ["new_lead"]})
        secret = api(base, "GET", f"/api/v1/tenants/{tenant}/webhooks/{hook['id']}/secret")["secret"]
        event = api(base, "POST", f"/api/v1/tenants/{tenant}/events",
                    {"event_type": "new_lead", "payload": {"name": "Ada"}})
        deadline = time.time() + 30
        while not Receiver.received:
            if time.time() > deadline:
                fail(f"no delivery reached {receiver_url}", first)
            time.sleep(0.1)
        headers, body = Receiver.received[0]
        headers = {k.lower(): v for k, v in headers.items()}
        if headers["webhook-id"] != event["id"] or not verify_standard_signature(secret, headers, body):
            fail(f"the delivery's signature does not verify: {headers}")
        print(f"delivered {event['id']} from the container to the host, signature valid")

        docker("stop", "-t", "20", first)
        code = docker("inspect", "-f", "{{.State.ExitCode}}", first)
        if code != "0":
            fail(f"the hub exited with {code} on SIGTERM", first)
        docker("rm", first)

        base = start(second, volume)
        if api(base, "GET", f"/api/v1/tenants/{tenant}")["id"] != tenant:
            fail("the tenant did not survive on the volume", second)
        stored = api(base, "GET", f"/api/v1/tenants/{tenant}/events/{event['id']}")
        statuses = [d["status"] for d in stored["deliveries"]]
        if stored["id"] != event["id"] or statuses != ["delivered"]:
            fail(f"the event or its delivery did not survive: {stored}", second)
        print("stopped, restarted on the same volume: tenant, event and delivery are there")
    finally:
        for name in (first, second):
            docker("rm", "-f", name, check=False)
        docker("volume", "rm", volume, check=False)

    compose = shutil.which("docker-compose")
    if not compose:
        print("docker-compose is not installed: compose.yaml not started")
        return
    project = f"ihcompose{SUFFIX}"
    env = dict(os.environ, IH_IMAGE=IMAGE, IH_ADMIN_TOKEN=TOKEN, IH_PORT="127.0.0.1:0")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = lambda *a: subprocess.run([compose, "-p", project, *a], cwd=root, env=env, capture_output=True, text=True)
    try:
        up = run("up", "-d", "--no-build", "hub")
        if up.returncode != 0:
            fail(f"docker-compose up: {up.stderr.strip()}")
        container = run("ps", "-q", "hub").stdout.strip()
        deadline = time.time() + 60
        while docker("inspect", "-f", "{{.State.Health.Status}}", container, check=False) != "healthy":
            if time.time() > deadline:
                fail("the compose service did not become healthy", container)
            time.sleep(0.5)
        port = docker("port", container, "3000/tcp").splitlines()[0].rsplit(":", 1)[1]
        api(f"http://127.0.0.1:{port}", "GET", "/api/v1/tenants")
        print("docker-compose up: the hub service is healthy and answers")
    finally:
        run("down", "-v")


if __name__ == "__main__":
    main()
