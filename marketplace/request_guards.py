"""Requests refused before any view runs.

A NUL character in the address: PostgreSQL refuses NUL in text, so a path segment or query value
carrying one that reaches a query answers 500 (found on the local onboarding page). Views parse
their own input, but one guard at the door keeps every current and future view safe; no link or
form of ours produces a NUL, so nobody legitimate is turned away. Other control characters are
stored fine and left to the views.
"""

from urllib.parse import unquote_to_bytes

from django.http import HttpResponseBadRequest

NUL_MESSAGE = "Bad request: the address contains a control character (NUL).\n"


def address_has_nul(request) -> bool:
    """Whether the path or the query string, decoded once as Django decodes them, holds a NUL."""
    if "\x00" in request.path:
        return True
    # Bytes, not text: a NUL is found whatever the encoding of the rest, and an overlong UTF-8
    # form (%C0%80) is no NUL, since Django's decoding turns it into U+FFFD.
    return b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", ""))


class RequestGuardMiddleware:
    """Answers 400 with a plain message for an address holding a NUL (see the module docstring).
    Sits before WhiteNoise (which looks the path up on disk) and everything after it, and after the
    security and CSP middleware, so the answer still carries their headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if address_has_nul(request):
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
