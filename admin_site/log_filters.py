import logging


class ForbiddenWithoutTraceback(logging.Filter):
    """A 403 is an answer, not a fault: log its one line ("Forbidden (Permission denied): /path"), without
    the traceback of the PermissionDenied a role check raised."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
