#!/bin/sh
# Start a Python Celery worker for pyapp.
#   run_worker.sh QUEUES [extra celery worker args...]
# Broker/backend from CELERY_BROKER_URL / CELERY_RESULT_BACKEND.
# Prints "PYAPP-WORKER-READY pid=<pid>" on stdout once consuming. exec's
# Celery, so this script's pid is the worker's: stop it with SIGTERM.
set -eu
QUEUES=$1; shift
cd "$(dirname "$0")"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 -m celery -A pyapp worker --pool=threads --concurrency="${PYAPP_CONCURRENCY:-4}" --prefetch-multiplier="${PYAPP_PREFETCH:-4}" \
  --loglevel="${PYAPP_LOGLEVEL:-WARNING}" --without-mingle --without-gossip \
  -Q "$QUEUES" -n "pyapp-$$@%h" "$@"
