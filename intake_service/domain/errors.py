"""What the intake domain refuses, independent of HTTP."""


class IntakeError(Exception):
    """Base for refusals the API maps to a status code."""


class NotFoundError(IntakeError):
    pass


class ConflictError(IntakeError):
    """The request clashes with what is recorded (e.g. amending a withdrawn aspiration)."""


class InvalidError(IntakeError):
    """A value is refused for a reason only the recorded state can tell; names the field."""

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


class ItemsRejectedError(IntakeError):
    """Some items of a batch were refused: {index: {field: [messages]}}; nothing is stored."""

    def __init__(self, errors: dict[int, dict[str, list[str]]]):
        self.errors = errors
        super().__init__(f"{len(errors)} item(s) rejected")
