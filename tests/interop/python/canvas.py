#!/usr/bin/python3
"""Start a workflow with Python Celery for taskq's canvas interop tests; print one JSON line.

usage:
  canvas.py group TASK QUEUE ARGS_LIST_JSON
      -> {"group_id", "task_ids"}   (the GroupResult is saved, as GroupResult.save())
  canvas.py chord TASK QUEUE ARGS_LIST_JSON BODY_TASK BODY_QUEUE
      -> {"group_id", "task_ids", "body_id"}
Tasks are named, not imported: they may be taskq tasks. Broker and backend
come from CELERY_BROKER_URL / CELERY_RESULT_BACKEND.
"""
import json
import sys

from celery import chord, group

from pyapp import app


def signatures(task, queue, args_list):
    return [app.signature(task, args=args, queue=queue) for args in args_list]


def main(argv):
    if len(argv) == 4 and argv[0] == "group":
        res = group(signatures(argv[1], argv[2], json.loads(argv[3])))()
        res.save()
        out = {"group_id": res.id, "task_ids": [r.id for r in res.results]}
    elif len(argv) == 6 and argv[0] == "chord":
        body = app.signature(argv[4], queue=argv[5])
        res = chord(signatures(argv[1], argv[2], json.loads(argv[3])))(body)
        out = {"body_id": res.id, "group_id": res.parent.id, "task_ids": [r.id for r in res.parent.results]}
    else:
        sys.stderr.write(__doc__)
        return 64
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
