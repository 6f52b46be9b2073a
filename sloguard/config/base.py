"""The base of every config model, and the config's error."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

from sloguard.errors import UsageError
from sloguard.redact import redact_settings


class ConfigError(UsageError):
    """An invalid config; `loc` is the key path the loader turns into a file line."""

    def __init__(self, message: str, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc

    def __str__(self) -> str:
        return self.message


class ConfigModel(BaseModel):
    """Unknown keys are errors (a typo never becomes a silent default); reprs never show a secret."""

    model_config = ConfigDict(extra="forbid", validate_default=True, coerce_numbers_to_str=True)

    def redacted(self) -> dict[str, Any]:
        """The settings as plain data, safe to print or log."""
        result: dict[str, Any] = redact_settings(self.model_dump(mode="python"))
        return result

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.redacted()!r})"

    __str__ = __repr__


Secret = SecretStr
