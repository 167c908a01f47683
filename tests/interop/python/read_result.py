#!/usr/bin/python3
"""Read a result by id with Python Celery's AsyncResult.get(); same output as send.py.

usage: read_result.py TASK_ID [--wait S]
"""
import argparse
import json
import sys

from celery.exceptions import TimeoutError as CeleryTimeoutError

from pyapp import app


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("task_id")
    p.add_argument("--wait", type=float, default=30.0)
    a = p.parse_args(argv)
    res = app.AsyncResult(a.task_id)
    try:
        value = res.get(timeout=a.wait, propagate=False)
    except CeleryTimeoutError:
        sys.stdout.write(json.dumps({"task_id": res.id, "status": "TIMEOUT"}) + "\n")
        return 3
    if res.state == "SUCCESS":
        sys.stdout.write(json.dumps({"task_id": res.id, "status": "SUCCESS", "result": value}, ensure_ascii=False) + "\n")
        return 0
    exc = res.result
    sys.stdout.write(json.dumps({
        "task_id": res.id,
        "status": res.state,
        "exc_type": type(exc).__name__,
        "exc_module": type(exc).__module__,
        "exc_message": [str(x) for x in getattr(exc, "args", [exc])],
    }, ensure_ascii=False) + "\n")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
