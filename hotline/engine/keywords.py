"""Keyword matching: ``ice``, ``ICE!``, `` Ice.`` and ``ÍCE`` are all the keyword ICE.

Matching is on the first word(s) of a message, case- and accent-insensitive, ignoring
punctuation. A keyword may have several words (``XIN CHÀO``); the longest match wins.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from collections.abc import Iterable, Mapping

# Twilio answers these itself on its numbers (when sent as the whole message) and still forwards
# them to the webhook. https://help.twilio.com/articles/223134027
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
RESERVED_WORDS = OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS


def ascii_digits(text: str) -> str:
    """Digits from any script as ASCII: Burmese and Karen keyboards type ၁၂၃, Arabic ١٢٣."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text or "")


# Letters with a stroke are not "letter + accent" in Unicode, so NFKD leaves them: Vietnamese Đ/đ
# would not match DUNG or DA NHAN typed without diacritics. Fold them to the letter people type.
_STROKE_LETTERS = str.maketrans({"Đ": "D", "đ": "d"})


def normalize(text: str) -> str:
    """Case-folded, without accents, punctuation or extra spaces; digits in ASCII."""
    decomposed = unicodedata.normalize("NFKD", ascii_digits(text).translate(_STROKE_LETTERS))
    kept = []
    for ch in decomposed:
        category = unicodedata.category(ch)
        if category == "Mn" and not _is_letter_mark(ch):
            continue                       # accents: é -> e, but see _is_letter_mark
        if category[0] in "PSC":
            kept.append(" ")               # punctuation, symbols and control characters separate words
            continue
        kept.append(ch)
    return " ".join("".join(kept).casefold().split())


def _is_letter_mark(ch: str) -> bool:
    # In Brahmic scripts (Burmese, S'gaw Karen) the vowel signs are combining marks that carry the
    # word; dropping them would merge different words. Latin, Greek, Cyrillic and Arabic marks are
    # accents and harakat, which people often leave out when they type.
    name = unicodedata.name(ch, "")
    return name.startswith("MYANMAR")


def words(text: str) -> list[str]:
    return normalize(text).split()


def reserved_word(text: str) -> str | None:
    """The Twilio reserved word the whole message is, if it is one (``stop`` and `` Stop. `` count)."""
    normalized = normalize(text).upper()
    return normalized if normalized in RESERVED_WORDS else None


@dataclass(frozen=True)
class KeywordMatch:
    keyword: str      # keyword id, e.g. "ice"
    language: str     # the catalog it was found in
    length: int       # how many words matched
    whole: bool       # the keyword is the whole message


class KeywordTable:
    """Keyword ids and their words in each language, built from the catalogs."""

    def __init__(self, words_by_language: Mapping[str, Mapping[str, Iterable[str]]]):
        # normalized phrase (tuple of words) -> [(keyword id, language)], in catalog order
        self._phrases: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        for language, keywords in words_by_language.items():
            for keyword_id, phrases in keywords.items():
                for phrase in phrases:
                    key = tuple(words(phrase))
                    if key:
                        self._phrases.setdefault(key, []).append((keyword_id, language))
        self._longest = max((len(k) for k in self._phrases), default=0)

    def match(self, text: str, allowed: Iterable[str] | None = None, prefer_language: str | None = None,
              languages: Iterable[str] | None = None) -> KeywordMatch | None:
        """The keyword the message starts with, among ``allowed`` ids and ``languages``."""
        message = words(text)
        allowed_set = set(allowed) if allowed is not None else None
        language_set = set(languages) if languages is not None else None
        for length in range(min(self._longest, len(message)), 0, -1):
            candidates = [
                (keyword_id, language) for keyword_id, language in self._phrases.get(tuple(message[:length]), [])
                if (allowed_set is None or keyword_id in allowed_set)
                and (language_set is None or language in language_set)
            ]
            if not candidates:
                continue
            preferred = [c for c in candidates if c[1] == prefer_language]
            keyword_id, language = (preferred or candidates)[0]
            return KeywordMatch(keyword_id, language, length, length == len(message))
        return None
