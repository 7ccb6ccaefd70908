"""Configuration problems that name the file, the key, what is wrong and how to fix it.

Every loader (settings, district files, flows, catalogs) reports through these, so that
``hotline check`` can print all of them at once and the app refuses to start with the same text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    message: str
    fix: str = ""
    # A warning is printed by `hotline check` but does not stop the hotline (e.g. a fallback).
    warning: bool = False

    def __str__(self) -> str:
        text = f"{self.file}: {self.key}: {self.message}"
        if self.fix:
            text += f" — fix: {self.fix}"
        return text


class ConfigError(Exception):
    """One or more problems that stop the hotline from starting."""

    def __init__(self, problems: list[Problem]):
        self.problems = [p for p in problems if not p.warning]
        super().__init__("\n".join(str(p) for p in self.problems))


def raise_if_errors(problems: list[Problem]) -> None:
    if any(not p.warning for p in problems):
        raise ConfigError(problems)
