"""Rates (`CLASSIFY_RATE`) read as DRF reads them; anything else refused with the reason."""

import subprocess
import sys

import pytest

from training.rates import parse_rate


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("120000/min", (120000, 60)),
        ("3/hour", (3, 3600)),
        ("10/s", (10, 1)),
        ("10/second", (10, 1)),
        ("1000/minute", (1000, 60)),
        ("5/days", (5, 86400)),
        (" 7 / H ", (7, 3600)),
    ],
)
def test_rates_are_read_by_their_periods_first_letter(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["", "100", "100/", "/min", "ten/min", "100/week", "-1/min", "1.5/s"])
def test_other_rates_are_refused_with_the_form_they_need(rate):
    with pytest.raises(ValueError, match="<count>/<s|min|hour|day>"):
        parse_rate(rate)


def test_the_site_refuses_to_start_with_a_bad_rate(tmp_path):
    command = [sys.executable, "-c", "import django; django.setup()"]
    environment = {"DJANGO_SETTINGS_MODULE": "admin_site.settings", "CLASSIFY_RATE": "100/fortnight"}
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "CLASSIFY_RATE: A rate is <count>/<s|min|hour|day>" in result.stderr
