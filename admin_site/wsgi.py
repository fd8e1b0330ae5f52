import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "admin_site.settings")
application = get_wsgi_application()

# What the site imported lives as long as the worker: keep it out of the garbage collector's full
# collections, which otherwise walk its many objects again every few busy requests. Requests'
# own objects are collected as before.
gc.freeze()
