"""The Python Celery side of `pnpm bench`: one no-op task, results stored.

Configured from the environment:
  CELERY_BROKER_URL       redis://127.0.0.1:6379/8 or amqp://guest:guest@127.0.0.1:5672//
  CELERY_RESULT_BACKEND   redis://127.0.0.1:6379/8
  BENCH_QUEUE             the queue the worker consumes and the client sends to
"""
import os

from celery import Celery

app = Celery(
    "bench",
    broker=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/8"),
    backend=os.environ.get("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/8"),
)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_default_queue=os.environ.get("BENCH_QUEUE", "celery"),
    enable_utc=True,
    worker_hijack_root_logger=False,
)


@app.task(name="bench.noop")
def noop(i):
    return i
