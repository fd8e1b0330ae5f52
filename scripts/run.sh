#!/usr/bin/env bash
# The embedded default: SQLite, a Celery worker on the filesystem broker, demo data, site on BIND.
set -euo pipefail
cd "$(dirname "$0")/.."
BIND=${BIND:-127.0.0.1:8000}
export ALLOWED_HOSTS=${ALLOWED_HOSTS:-127.0.0.1,localhost,${BIND%:*}}
# Every process logs in the site's time zone (Django would switch only its own, once its settings load).
export TZ=${TIME_ZONE:-Asia/Seoul}

.venv/bin/python manage.py migrate --noinput
# Static files under hashed, compressed names (admin_site/settings.py); again only when something changed.
manifest=${BUNRYU_VAR_DIR:-var}/staticfiles/staticfiles.json
if [ ! -f "$manifest" ] || [ -n "$(find static .venv/.installed-requirements.txt-* -newer "$manifest" -print -quit)" ]; then
  # Left out: what no page loads (plotly's sample datasets, figure templates and Jupyter widget bundle; the
  # sidecar's Redoc, /api/docs/ being Swagger UI): less for collectstatic to process.
  .venv/bin/python manage.py collectstatic --noinput -v0 -i datasets -i templates -i widgetbundle.js -i redoc
fi
.venv/bin/python manage.py ensure_admin --url "http://$BIND/" >/dev/null
.venv/bin/python manage.py load_demo  # authored by nobody: "done today" counts only real work
.venv/bin/python manage.py load_catalog_demo

# The worker and the web server run in sessions of their own: Ctrl-C reaches this script only, which stops
# them in order (a terminal's Ctrl-C sent to every process at once left the web server's workers killed
# under it and Celery's beat hanging).
setsid .venv/bin/celery -A admin_site worker -Q celery,training --beat --concurrency=2 --loglevel=INFO &
worker=$!
BIND=$BIND setsid scripts/serve.sh --access-log &  # granian, 2 workers x 4 threads (scripts/serve.sh)
web=$!
stop() {
  trap '' INT TERM EXIT
  echo
  echo "stopping the site and the worker..."
  kill -TERM $web $worker 2>/dev/null || true
  # The worker finishes its running tasks first (warm shutdown); a training run may take minutes, so after
  # 5 s it is stopped hard (the reaper then marks the run failed; nothing half-done is kept).
  for _ in $(seq 50); do kill -0 $worker 2>/dev/null || kill -0 $web 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- -$worker -$web 2>/dev/null || true
  wait $worker $web 2>/dev/null || true
  echo "stopped."
  exit "$1"
}
trap 'stop 0' INT TERM  # Ctrl-C is how the site is meant to stop: not an error
trap 'stop $?' EXIT

# The login line as soon as the site answers.
for _ in $(seq 600); do
  .venv/bin/python -c "import urllib.request as u; u.urlopen('http://$BIND/login/', timeout=2)" 2>/dev/null && break
  kill -0 $web 2>/dev/null || { echo "the web server stopped; see above" >&2; exit 1; }
  sleep 0.2
done
echo
echo "bunryu is running on http://$BIND/ (Ctrl-C stops the site and the worker)"
.venv/bin/python manage.py ensure_admin --url "http://$BIND/"
# A first model per demo dataset (on the worker, a minute or two), so the health pages have a champion.
for dataset in petitions newsgroups; do
  .venv/bin/python manage.py train --dataset "$dataset" --no-wait --unless-champion >/dev/null 2>&1 || true
done
wait -n $worker $web || true
