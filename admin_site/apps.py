from django.contrib.staticfiles.apps import StaticFilesConfig as DjangoStaticFilesConfig


class StaticFilesConfig(DjangoStaticFilesConfig):
    """Static files without what no page loads (plotly's sample datasets, figure templates and Jupyter
    widget bundle; the sidecar's Redoc, /api/docs/ being Swagger UI): less for `collectstatic` to process."""

    ignore_patterns = [
        *DjangoStaticFilesConfig.ignore_patterns,
        "datasets",
        "templates",
        "widgetbundle.js",
        "redoc",
    ]
