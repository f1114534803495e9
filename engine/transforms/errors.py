"""The one error a transform raises at compile time."""

from __future__ import annotations


class TransformError(ValueError):
    """A transform that cannot be parsed or uses something outside the whitelist.

    `position` is the 1-based character offset in the transform text, when known."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message if position is None else f"{message} (at character {position})")
        self.position = position
