"""Print every Celery event seen on the broker as one JSON line, with Celery's own
receiver (app.events.Receiver), until killed.

  CELERY_BROKER_URL=redis://… python3 events_receiver.py

Prints "RECEIVER-READY" once it consumes (events sent before that are not seen:
events are fire-and-forget).
"""
import json

from pyapp import app


def on_event(event):
    print(json.dumps(event, default=repr), flush=True)


def on_ready(connection, channel, consumers, **kwargs):
    print("RECEIVER-READY", flush=True)


def main():
    with app.connection() as conn:
        recv = app.events.Receiver(conn, handlers={"*": on_event})
        recv.on_consume_ready = on_ready
        try:
            recv.capture(limit=None, timeout=None, wakeup=False)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
