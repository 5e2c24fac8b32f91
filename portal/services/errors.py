"""Domain errors: a stable code for machines and the audit trail, a translated message for people."""

from __future__ import annotations

from portal.text import lazy_text as _l


class DomainError(Exception):
    status = 400
    code = "invalid"
    default_message = _l("That request could not be completed.")

    def __init__(self, message=None, *, code: str | None = None):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        super().__init__(str(self.code))


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _l("We could not find that page.")


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"
    default_message = _l("You do not have permission to do that.")


class InvalidToken(DomainError):
    status = 400
    code = "invalid_token"
    default_message = _l("This sign-in link has expired or was already used.")


class InvalidCredentials(DomainError):
    status = 400
    code = "invalid_credentials"
    default_message = _l("That email and password do not match.")


class ConcurrentChange(DomainError):
    status = 409
    code = "concurrent_change"
    default_message = _l("This subscription changed meanwhile. Here is how it is now; please check and try again.")
