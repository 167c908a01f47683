"""1,000 sequential `delay` + `get` round trips against a running worker; prints JSON {p50, p99} in ms."""
import json
import sys
import time

from bench_app import noop

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
noop.delay(-1).get(timeout=60)  # warm: connections, subscriptions
samples = []
for i in range(n):
    t = time.perf_counter()
    noop.delay(i).get(timeout=60)
    samples.append((time.perf_counter() - t) * 1000)
samples.sort()
pick = lambda p: samples[min(len(samples) - 1, max(0, -(-p * len(samples) // 100) - 1))]
print(json.dumps({"p50": pick(50), "p99": pick(99), "count": n}))
