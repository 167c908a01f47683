#!/usr/bin/python3
"""Send one task by name with Python Celery; print one JSON line with its outcome.

usage: send.py NAME ARGS_JSON|- [--kwargs JSON] [--queue Q] [--countdown S]
               [--eta ISO] [--expires S] [--priority N] [--task-id ID] [--wait S]

stdout: {"task_id", "status", "result"} on SUCCESS; {"task_id", "status",
"exc_type", "exc_module", "exc_message", "traceback"} on FAILURE/REVOKED;
{"task_id", "status": "TIMEOUT"} on timeout; {"task_id"} with --wait 0.
exit: 0 success, 1 failure, 3 timeout, 64 usage.
Broker and backend come from CELERY_BROKER_URL / CELERY_RESULT_BACKEND.
"""
import argparse
import json
import sys
from datetime import datetime

from celery.exceptions import TimeoutError as CeleryTimeoutError

from pyapp import app


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("name")
    p.add_argument("args_json")
    p.add_argument("--kwargs", default="{}")
    p.add_argument("--queue", default=None)
    p.add_argument("--countdown", type=float)
    p.add_argument("--eta")
    p.add_argument("--expires", type=float)
    p.add_argument("--priority", type=int)
    p.add_argument("--task-id")
    p.add_argument("--wait", type=float, default=30.0)
    a = p.parse_args(argv)
    options = {}
    if a.queue:
        options["queue"] = a.queue
    if a.countdown is not None:
        options["countdown"] = a.countdown
    if a.eta:
        options["eta"] = datetime.fromisoformat(a.eta)
    if a.expires is not None:
        options["expires"] = a.expires
    if a.priority is not None:
        options["priority"] = a.priority
    if a.task_id:
        options["task_id"] = a.task_id
    # "-" reads the arguments from stdin (payloads too large for a command line).
    args = json.loads(sys.stdin.read() if a.args_json == "-" else a.args_json)
    res = app.send_task(a.name, args=args, kwargs=json.loads(a.kwargs), **options)
    out = sys.stdout
    if a.wait <= 0:
        out.write(json.dumps({"task_id": res.id}) + "\n")
        return 0
    try:
        value = res.get(timeout=a.wait, propagate=False)
    except CeleryTimeoutError:
        out.write(json.dumps({"task_id": res.id, "status": "TIMEOUT"}) + "\n")
        return 3
    if res.state == "SUCCESS":
        out.write(json.dumps({"task_id": res.id, "status": "SUCCESS", "result": value}, ensure_ascii=False) + "\n")
        return 0
    exc = res.result
    out.write(json.dumps({
        "task_id": res.id,
        "status": res.state,
        "exc_type": type(exc).__name__,
        "exc_module": type(exc).__module__,
        "exc_message": [str(x) for x in getattr(exc, "args", [exc])],
        "traceback": res.traceback,
    }, ensure_ascii=False) + "\n")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
