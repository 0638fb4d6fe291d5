"""gunicorn settings of the production server (``python -m clanledger.production``).

Each can be overridden on the gunicorn command line or through ``GUNICORN_CMD_ARGS``.
Pages are short database round trips, so a few threads per worker keep the CPUs busy while
one request waits on PostgreSQL; the pool of each worker matches its threads.
"""

from __future__ import annotations

import multiprocessing
import os

# Processes: the usual 2 x CPUs + 1, or WEB_CONCURRENCY when the host sets it.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
# Threads per worker (gthread): a request waiting on the database frees the CPU.
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
worker_class = "gthread"
# A request that runs longer than this is a bug (the largest page takes well under a second);
# the worker is killed and restarted instead of holding a slot.
timeout = 30
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak never grows; jitter avoids restarting all at once.
max_requests = 2000
max_requests_jitter = 200
# Logs on stdout/stderr for the process manager (systemd, Docker) to collect.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Behind a reverse proxy on the same host: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
