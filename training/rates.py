"""Request rates written as `<count>/<period>` (no Django here: the settings check theirs at start-up)."""

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}  # by the period's first letter, as DRF reads rates


def parse_rate(rate: str) -> tuple[int, int]:
    """'120000/min' -> (120000, 60); 'sec', 'second', 'minute', 'hour', 'day' and their plurals too.
    A ValueError says what is wrong."""
    count, slash, period = str(rate).partition("/")
    period = period.strip().lower()
    if not slash or not count.strip().isdigit() or not period or period[0] not in PERIODS:
        raise ValueError(f"A rate is <count>/<s|min|hour|day>, like 120000/min, not {rate!r}.")
    return int(count), PERIODS[period[0]]
