"""Domain errors: what a service raises when a request cannot be carried out.

Each has a stable ``code`` (for the API and for tests) and a message written for people; the web
and API layers show the message instead of a traceback.
"""


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class IllegalTransition(DomainError):
    """A status change that the state machine does not allow from the current status."""

    code = "illegal_transition"
