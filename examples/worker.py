#!/usr/bin/env python3
"""An external chime worker in plain Python (standard library only).

It claims jobs of one queue over chime's pull API, runs a handler chosen by
the job's kind, heartbeats while the handler works, then reports the result:

    POST /api/v1/queues/{queue}/claim    long poll for up to --wait-ms
    POST /api/v1/jobs/{id}/heartbeat     keep the lease while working
    POST /api/v1/jobs/{id}/complete      success, with optional output
    POST /api/v1/jobs/{id}/fail          failure; chime retries with backoff

Run chime so that its built-in workers leave this queue alone, e.g.
`chime serve --queues default`, then:

    python3 examples/worker.py --queue py
    chime job enqueue --queue py --kind greet --payload '{"name": "Ada"}'
"""

import argparse
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request


class Chime:
    def __init__(self, server, token=None):
        self.server = server.rstrip("/")
        self.token = token

    def post(self, path, body, timeout=60):
        req = urllib.request.Request(
            f"{self.server}/api/v1{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.load(resp)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)


def greet(job):
    return f"hello, {job['payload'].get('name', 'world')}"


def flaky(job):
    # Fails its first attempt: chime retries it with the job's backoff.
    if job["attempt"] == 1:
        raise RuntimeError("first attempt always fails")
    return "ok on attempt %d" % job["attempt"]


def slow(job):
    time.sleep(job["payload"].get("seconds", 3))
    return "slept"


HANDLERS = {"greet": greet, "flaky": flaky, "slow": slow}


class Heartbeat(threading.Thread):
    """Extends the lease every third of its length until stopped."""

    def __init__(self, chime, job, lease_ms):
        super().__init__(daemon=True)
        self.chime, self.job, self.lease_ms = chime, job, lease_ms
        self.stop = threading.Event()
        self.lost = False

    def run(self):
        while not self.stop.wait(self.lease_ms / 3000):
            status, _ = self.chime.post(
                f"/jobs/{self.job['id']}/heartbeat",
                {"lease_token": self.job["lease_token"], "lease_ms": self.lease_ms},
            )
            if status == 409:  # lease lost or job cancelled: stop caring
                self.lost = True
                return


def work(chime, job, lease_ms):
    handler = HANDLERS.get(job["kind"])
    token = {"lease_token": job["lease_token"]}
    if handler is None:
        # Retrying will not make a handler appear.
        return chime.post(f"/jobs/{job['id']}/fail",
                          {**token, "error": f"no handler for kind {job['kind']!r}", "retry": False})
    beat = Heartbeat(chime, job, lease_ms)
    beat.start()
    try:
        output = handler(job)
    except Exception as e:  # the job failed: report it, chime decides on retries
        beat.stop.set()
        return chime.post(f"/jobs/{job['id']}/fail", {**token, "error": str(e)})
    beat.stop.set()
    return chime.post(f"/jobs/{job['id']}/complete", {**token, "output": output})


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--server", default=os.environ.get("CHIME_SERVER", "http://127.0.0.1:7070"))
    p.add_argument("--token", default=os.environ.get("CHIME_TOKEN"))
    p.add_argument("--queue", default="py")
    p.add_argument("--lease-ms", type=int, default=30000)
    p.add_argument("--wait-ms", type=int, default=10000)
    p.add_argument("--max-jobs", type=int, default=0, help="exit after this many (0: run forever)")
    args = p.parse_args()

    chime = Chime(args.server, args.token)
    worker = f"py-{socket.gethostname()}-{os.getpid()}"
    done = 0
    while args.max_jobs == 0 or done < args.max_jobs:
        status, body = chime.post(
            f"/queues/{args.queue}/claim",
            {"worker": worker, "limit": 1, "lease_ms": args.lease_ms, "wait_ms": args.wait_ms},
            timeout=args.wait_ms / 1000 + 30,
        )
        if status != 200:
            raise SystemExit(f"claim failed: HTTP {status}: {body}")
        for job in body["items"]:
            status, result = work(chime, job, args.lease_ms)
            print(json.dumps({"job": job["id"], "kind": job["kind"], "status": status,
                              "state": result.get("state")}), flush=True)
            done += 1


if __name__ == "__main__":
    main()
