from django.core.management.base import BaseCommand


class DataCommand(BaseCommand):
    """A command that reads or writes data through the services, without Django's system checks.

    The checks load the URL configuration, hence every page's code and the libraries behind it (scikit-learn,
    numba, Plotly...): most of a short command's time. `migrate`, `check` and the servers still run them."""

    requires_system_checks = []
