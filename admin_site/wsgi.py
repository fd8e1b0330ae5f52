import gc
import multiprocessing.util
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "admin_site.settings")
django_application = get_wsgi_application()

# What the site imported lives as long as the worker: keep it out of the garbage collector's full
# collections, which otherwise walk its many objects again every few busy requests. Requests'
# own objects are collected as before.
gc.freeze()
# A classification request of 1,000 texts builds tens of thousands of small dicts and lists (its answers),
# which at the default threshold (700 new objects) set off dozens of collections a request that free nothing.
# Collect every 50,000 new objects instead: memory stays bounded, cycles are still collected.
gc.set_threshold(50_000, 20, 100)


def _stop_prediction_log() -> None:
    from training.services.prediction_log import prediction_log_stop

    prediction_log_stop()


# granian's workers are multiprocessing processes, which end with os._exit() after their own exit hooks:
# Python's atexit hooks, and with them the prediction log's write of its last buffered rows, would not run.
# multiprocessing's hooks (Finalize with an exit priority) do; under gunicorn atexit runs them both (the
# second finds nothing to write).
multiprocessing.util.Finalize(None, _stop_prediction_log, exitpriority=10)

# CGI names a WSGI server sets itself (PEP 3333) or a request sends (HTTP_*, CONTENT_*).
_CGI = {"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME", "SERVER_PORT"}
_CGI |= {"SERVER_PROTOCOL", "SERVER_SOFTWARE", "GATEWAY_INTERFACE", "REMOTE_ADDR", "REMOTE_PORT"}
_CGI |= {"CONTENT_TYPE", "CONTENT_LENGTH"}
# granian starts each request's environ from a copy of the process environment (PEP 3333 allows it; gunicorn
# does not do it): SECRET_KEY, DATABASE_URL with its password and the rest would be in every request.META,
# shown by the debug page and by anything that logs META. They are taken out again (~40 dict deletions).
_PROCESS_ONLY = tuple(name for name in os.environ if name not in _CGI and not name.startswith("HTTP_"))
# A process variable named like a header (HTTP_PROXY, often with a proxy's password) is taken out where it
# still holds the process's value: a header the request sent under that name has its own.
_PROCESS_HEADERS = tuple((name, value) for name, value in os.environ.items() if name.startswith("HTTP_"))


def application(environ, start_response):
    if environ.get("SERVER_SOFTWARE") == "Granian":
        for name in _PROCESS_ONLY:
            environ.pop(name, None)
        for name, value in _PROCESS_HEADERS:
            if environ.get(name) == value:
                del environ[name]
    return django_application(environ, start_response)
