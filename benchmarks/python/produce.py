"""The Celery end-to-end producer: after one warm-up round trip (so the worker is
consuming), sends N tasks with ids <prefix>-<i> as fast as it can while the worker
runs them; prints JSON {start} (unix seconds, just before the first send)."""
import json
import sys
import time

from bench_app import noop

n = int(sys.argv[1])
prefix = sys.argv[2]
noop.delay(-1).get(timeout=60)
start = time.time()
for i in range(n):
    noop.apply_async((i,), task_id=f"{prefix}-{i}")
print(json.dumps({"start": start, "sending_s": time.time() - start}))
