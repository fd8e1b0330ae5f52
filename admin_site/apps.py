from django.contrib.staticfiles.apps import StaticFilesConfig as DjangoStaticFilesConfig


class StaticFilesConfig(DjangoStaticFilesConfig):
    """Static files without the parts of plotly's package data that no page loads (sample datasets,
    figure templates, the Jupyter widget bundle): `collectstatic` then hashes and compresses 3 MB less."""

    ignore_patterns = [*DjangoStaticFilesConfig.ignore_patterns, "datasets", "templates", "widgetbundle.js"]
