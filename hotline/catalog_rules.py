"""Rules a catalog's words must keep, beyond completeness (messages.py):

- **Keyword hygiene.** A keyword that changes an incident (``CHANGING_KEYWORDS``) may not be an
  everyday reply: "ok", "listo", "xong" typed at any question must never take, close or alter an
  incident. Each catalog lists its language's everyday replies in ``meta.everyday_words``; a
  changing keyword that is one of them, in any catalog, is an error (keywords match in every
  language at once). DONE only asks a question, so it is not a changing keyword.
- **Nothing reads as blocking or detaining an officer.** Each catalog lists phrases that would
  (``meta.forbidden_staff_phrases``); no staff message (``staff.*``) may contain one.

docs/languages.md documents both lists for translators.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .engine.keywords import normalize
from .problems import Problem

CHANGING_KEYWORDS = ("ack", "close", "left", "lead", "emergency")
# English every catalog is checked against as well (staff texts can come in English anywhere).
ENGLISH_EVERYDAY = ("OK", "OKAY", "K", "DONE", "FINISHED", "READY", "YES", "NO", "THANKS", "THANK YOU", "GOT IT",
                    "FINE", "SURE", "GONE", "ALL DONE", "OVER", "GOOD")
ENGLISH_FORBIDDEN = ("do not let", "don't let", "keep the agents", "keep the officers", "keep them",
                     "block", "prevent them", "stop them", "hold them", "detain them", "past the front office",
                     "not allowed in", "lock the door")


def keyword_problems(label_of: Mapping[str, str], keywords: Mapping[str, Mapping[str, Iterable[str]]],
                     everyday: Mapping[str, Iterable[str]]) -> list[Problem]:
    """Changing keywords that are everyday words in some catalog."""
    common: dict[str, str] = {normalize(w): "en" for w in ENGLISH_EVERYDAY}
    for code, words in everyday.items():
        common.update({normalize(w): code for w in words if normalize(w)})
    problems = []
    for code, table in keywords.items():
        for keyword_id in CHANGING_KEYWORDS:
            for phrase in table.get(keyword_id, ()):
                where = common.get(normalize(phrase))
                if where:
                    problems.append(Problem(label_of[code], f"keywords.{keyword_id}",
                                            f"{phrase!r} is an everyday reply (meta.everyday_words of {where}): "
                                            "texting it at any question would change an incident",
                                            "use a word nobody types by chance (see docs/languages.md)"))
    return problems


def forbidden_problems(label: str, messages: Mapping[str, Iterable[str]], forbidden: Iterable[str]) -> list[Problem]:
    """Staff messages (``staff.*``: every form) that contain a blocking or detaining phrase."""
    phrases = [p for p in (normalize(f) for f in (*ENGLISH_FORBIDDEN, *forbidden)) if p]
    problems = []
    for key, forms in messages.items():
        if not key.startswith("staff."):
            continue
        for form in forms:
            text = f" {normalize(form)} "
            for phrase in phrases:
                if f" {phrase} " in text:
                    problems.append(Problem(label, f"messages.{key}", f"reads as blocking or detaining an "
                                            f"officer ({phrase!r})", "say what staff do (ask, call, comply), "
                                            "never that they stop the officers"))
    return problems
