"""The static-file serving bunryu had before hashed, compressed files (commit 54e9e08): WhiteNoise serving
the app folders as they are, uncompressed, cached for 60 s. bench/browser.py runs a site on it beside the
current one, so both are measured in the same run on the same machine."""

from admin_site.settings import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_MAX_AGE = 60
