#!/usr/bin/env bash
# The embedded default: SQLite, a Celery worker on the filesystem broker, demo data, site on BIND.
set -euo pipefail
cd "$(dirname "$0")/.."
BIND=${BIND:-127.0.0.1:8000}
export ALLOWED_HOSTS=${ALLOWED_HOSTS:-127.0.0.1,localhost,${BIND%:*}}

.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py ensure_admin --url "http://$BIND/" >/dev/null
.venv/bin/python manage.py load_demo  # authored by nobody: "done today" counts only real work
.venv/bin/python manage.py load_catalog_demo

(exec .venv/bin/celery -A admin_site worker -Q celery,training --beat --concurrency=2 --loglevel=INFO) &
worker=$!
(exec .venv/bin/gunicorn admin_site.wsgi --bind "$BIND" --workers 2 --threads 4 --access-logfile -) &
web=$!
stop() {
  kill $worker $web 2>/dev/null
  # The worker finishes its running tasks first (warm shutdown); a training run may take minutes, so after
  # 10 s it is stopped hard (the run is then marked failed by the reaper; nothing half-done is kept).
  for _ in $(seq 10); do kill -0 $worker 2>/dev/null || break; sleep 1; done
  pkill -KILL -P $worker 2>/dev/null; kill -KILL $worker 2>/dev/null
  wait $worker $web 2>/dev/null
}
trap stop EXIT
# A first model per demo dataset (on the worker, a minute or two), so the health pages have a champion.
for dataset in petitions newsgroups; do
  .venv/bin/python manage.py train --dataset "$dataset" --no-wait --unless-champion >/dev/null 2>&1 || true
done
trap 'exit 0' INT TERM

sleep 2
echo
echo "bunryu is running on http://$BIND/ (Ctrl-C stops the site and the worker)"
.venv/bin/python manage.py ensure_admin --url "http://$BIND/"
wait -n $worker $web
