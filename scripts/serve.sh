#!/usr/bin/env bash
# The web server of the site, as `make run` (scripts/run.sh) and production run it: granian (a Rust HTTP server)
# calling the Django WSGI application, WEB_WORKERS processes (2) x WEB_THREADS threads (4) on BIND
# (127.0.0.1:8000). Extra arguments go to granian (e.g. --access-log). It replaces this shell (exec), so its
# process id is the server's: SIGTERM stops it gracefully (requests in progress are answered, the prediction log
# writes what it buffered; after 5 s a worker is killed). A worker that dies is started again.
# gunicorn serves the same application too: gunicorn admin_site.wsgi --workers 2 --threads 4 (docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."
BIND=${BIND:-127.0.0.1:8000}
exec .venv/bin/granian --interface wsgi admin_site.wsgi:application --host "${BIND%:*}" --port "${BIND##*:}" \
  --workers "${WEB_WORKERS:-2}" --blocking-threads "${WEB_THREADS:-4}" --no-ws \
  --respawn-failed-workers --workers-kill-timeout 5 "$@"
