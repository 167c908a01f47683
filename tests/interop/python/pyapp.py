"""taskq's Python Celery test app: the peer of taskq's interop tests.

Configured from the environment:
  CELERY_BROKER_URL, CELERY_RESULT_BACKEND   (default redis://127.0.0.1:6379/14)
  CELERY_DEFAULT_QUEUE                       (default "celery")
  PYAPP_PRIORITY_STEPS                       unused unless set: e.g. "0,3,6,9"

Tasks are registered under explicit "pyapp.*" names.
"""
import os
import time

from celery import Celery
from celery.signals import worker_ready

DEFAULT_URL = "redis://127.0.0.1:6379/14"

app = Celery(
    "pyapp",
    broker=os.environ.get("CELERY_BROKER_URL", DEFAULT_URL),
    backend=os.environ.get("CELERY_RESULT_BACKEND", DEFAULT_URL),
)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_accept_content=["json"],
    task_default_queue=os.environ.get("CELERY_DEFAULT_QUEUE", "celery"),
    enable_utc=True,
    timezone="UTC",
    worker_hijack_root_logger=False,
)
if os.environ.get("CELERY_MAX_PRIORITY"):
    app.conf.task_queue_max_priority = int(os.environ["CELERY_MAX_PRIORITY"])
    app.conf.task_default_priority = 0


@app.task(name="pyapp.add")
def add(x, y):
    return x + y


@app.task(name="pyapp.echo")
def echo(value):
    return value


@app.task(name="pyapp.fail")
def fail(message):
    raise ValueError(message)


@app.task(name="pyapp.sleep")
def sleep(seconds):
    time.sleep(float(seconds))
    return seconds


@app.task(name="pyapp.retry_once", bind=True, max_retries=3)
def retry_once(self, key):
    if self.request.retries == 0:
        raise self.retry(countdown=1)
    return {"key": key, "retries": self.request.retries}


@app.task(name="pyapp.whoami", bind=True)
def whoami(self, tag):
    """Report how the message reached the worker (eta, priority, retries)."""
    info = self.request.delivery_info or {}
    return {
        "tag": tag,
        "eta": self.request.eta,
        "expires": self.request.expires,
        "priority": info.get("priority"),
        "retries": self.request.retries,
        "time": time.time(),
    }


@worker_ready.connect
def _announce_ready(sender=None, **kwargs):
    # The worker redirects sys.stdout into its logger; write to fd 1 directly.
    os.write(1, ("PYAPP-WORKER-READY pid=%d\n" % os.getpid()).encode())
