import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "admin_site.settings")
application = get_wsgi_application()

# What the site imported lives as long as the worker: keep it out of the garbage collector's full
# collections, which otherwise walk its many objects again every few busy requests. Requests'
# own objects are collected as before.
gc.freeze()
# A classification request of 1,000 texts builds tens of thousands of small dicts and lists (its answers),
# which at the default threshold (700 new objects) set off dozens of collections a request that free nothing.
# Collect every 50,000 new objects instead: memory stays bounded, cycles are still collected.
gc.set_threshold(50_000, 20, 100)
