"""Domain errors with their HTTP status; each transport has one handler for them."""


class OcpoError(Exception):
    status_code = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Unauthenticated(OcpoError):
    status_code = 401
    code = "UNAUTHENTICATED"


class Forbidden(OcpoError):
    """The caller may read the record but not do this to it."""

    status_code = 403
    code = "FORBIDDEN"


class NotFound(OcpoError):
    """Missing, or not readable: the two are deliberately indistinguishable."""

    status_code = 404
    code = "NOT_FOUND"

    def __init__(self, kind: str = "record", *, field: str | None = None) -> None:
        super().__init__(f"{kind} not found", field=field)


class Conflict(OcpoError):
    status_code = 409
    code = "CONFLICT"


class InvalidInput(OcpoError):
    status_code = 422
    code = "INVALID_INPUT"


class StaleVersion(Conflict):
    """The caller's expected version is not the record's: someone else wrote first."""


class PreconditionFailed(OcpoError):
    status_code = 412
    code = "PRECONDITION_FAILED"


class Unavailable(OcpoError):
    """Something the service depends on cannot be reached; the caller may retry later."""

    status_code = 503
    code = "UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class TooLarge(OcpoError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
