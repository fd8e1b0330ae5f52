"""The API's JSON parser: DRF's, with a body nested too deep refused as a 400, not a RecursionError."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:  # ~1,000 levels of [ or { : Python's JSON decoder runs out of stack
            raise ParseError("JSON parse error - the body is nested too deep.") from None
