"""Message catalogs: messages/<lang>.yaml, one per language, the same keys in all.

A catalog has ``meta`` (the language's own name, text direction, the Twilio voice for <Say> if
Twilio has one, whether a person has reviewed it), ``keywords`` (the words that start flows, per
keyword id) and ``messages`` (text per key, with optional shorter ``sms`` and ``voice`` forms).

Lookup falls back from the caller's language to the district's default and then to English; a
fallback is logged (key and languages only) and reported by ``hotline check``, never a blank.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError

from .catalog_rules import forbidden_problems, keyword_problems
from .problems import Problem
from .segments import count_segments
from .yamlfile import read_yaml

log = logging.getLogger(__name__)

SOURCE_LANGUAGE = "en"
DIRECTIONS = ("ltr", "rtl")


@dataclass(frozen=True)
class Entry:
    text: str
    sms: str | None = None
    voice: str | None = None

    def form(self, channel: str) -> str:
        if channel == "sms" and self.sms:
            return self.sms
        if channel == "voice" and self.voice:
            return self.voice
        return self.text

    def forms(self) -> list[str]:
        return [f for f in (self.text, self.sms, self.voice) if f]


@dataclass(frozen=True)
class Voice:
    """How Twilio speaks a language: <Say voice=... language=...>."""

    say_voice: str
    language: str
    speech: str | None = None    # <Gather input="speech" language=...> where Twilio recognises it


@dataclass
class Catalog:
    code: str
    name: str                     # the language's own name, e.g. "Soomaali"
    english_name: str
    direction: str
    reviewed: bool
    voice: Voice | None
    keywords: dict[str, tuple[str, ...]]
    entries: dict[str, Entry]
    path: Path
    audio: set[str] = field(default_factory=set)    # keys with a recording in messages/audio/<code>/
    note: str = ""
    everyday_words: tuple[str, ...] = ()             # replies people type every day (catalog_rules.py)
    forbidden_staff_phrases: tuple[str, ...] = ()    # what reads as blocking an officer (catalog_rules.py)

    def has_recording(self, key: str) -> bool:
        return key in self.audio


@dataclass(frozen=True)
class Rendered:
    text: str
    language: str            # the catalog the text came from
    fell_back: bool


# Control characters (C0 but newline and tab, DEL, C1), lone surrogates and the two non-characters
# XML forbids. A caller's text echoed into a message must not make the TwiML invalid XML (Twilio
# would answer with an error) nor reach a contact's phone as terminal escapes.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def strip_controls(text: str) -> str:
    """Every rendered message passes here (Catalogs.render): the one place text is made safe."""
    return _CONTROLS.sub("", text)


class _KeepMissing(dict):
    """str.format_map helper: an unknown placeholder stays visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def babel_names(code: str) -> tuple[str | None, str | None, str | None]:
    """(own name, English name, direction) from CLDR, where CLDR knows the language."""
    try:
        locale = Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return None, None, None
    own = locale.get_display_name(code)
    return (own[:1].upper() + own[1:]) if own else None, locale.get_display_name("en"), locale.text_direction


class Catalogs:
    def __init__(self, catalogs: Mapping[str, Catalog], problems: list[Problem]):
        self.catalogs = dict(catalogs)
        self.problems = problems

    @property
    def codes(self) -> list[str]:
        return list(self.catalogs)

    def __contains__(self, code: str) -> bool:
        return code in self.catalogs

    def get(self, code: str) -> Catalog:
        return self.catalogs.get(code) or self.catalogs[SOURCE_LANGUAGE]

    def chain(self, language: str, default: str) -> list[str]:
        seen: list[str] = []
        for code in (language, default, SOURCE_LANGUAGE):
            if code in self.catalogs and code not in seen:
                seen.append(code)
        return seen

    def lookup(self, language: str, key: str, default: str = SOURCE_LANGUAGE) -> tuple[Entry, str] | None:
        for code in self.chain(language, default):
            entry = self.catalogs[code].entries.get(key)
            if entry:
                return entry, code
        return None

    def render(self, language: str, key: str, variables: Mapping[str, object] | None = None,
               channel: str = "sms", default: str = SOURCE_LANGUAGE) -> Rendered:
        found = self.lookup(language, key, default)
        if found is None:
            # A key in no catalog at all: show the key rather than a blank (hotline check reports it).
            log.error("message key missing from every catalog: %s", key)
            return Rendered(f"[{key}]", SOURCE_LANGUAGE, True)
        entry, code = found
        if code != language:
            log.warning("catalog fallback: key=%s wanted=%s used=%s", key, language, code)
        text = entry.form(channel).format_map(_KeepMissing({k: v for k, v in (variables or {}).items()}))
        return Rendered(strip_controls(text).strip(), code, code != language)

    def keyword_words(self, languages: Iterable[str] | None = None) -> dict[str, dict[str, tuple[str, ...]]]:
        wanted = set(languages) if languages is not None else None
        return {code: cat.keywords for code, cat in self.catalogs.items() if wanted is None or code in wanted}


def _load_catalog(path: Path, problems: list[Problem]) -> Catalog | None:
    label = f"messages/{path.name}"

    def problem(key: str, message: str, fix: str = "", warning: bool = False) -> None:
        problems.append(Problem(label, key, message, fix, warning))

    try:
        raw = read_yaml(path)
    except (OSError, yaml.YAMLError) as exc:
        problem("(file)", f"cannot be read: {exc}", "fix the YAML")
        return None
    if not isinstance(raw, dict):
        problem("(file)", "should be a mapping with meta, keywords and messages", "see docs/languages.md")
        return None
    code = path.stem
    meta = raw.get("meta") or {}
    own, english, direction = babel_names(code)
    name = str(meta.get("name") or own or code)
    english_name = str(meta.get("english_name") or english or code)
    direction = str(meta.get("direction") or direction or "ltr")
    if direction not in DIRECTIONS:
        problem("meta.direction", f"{direction!r} is not a direction", "use ltr or rtl")
        direction = "ltr"
    if not isinstance(meta.get("reviewed"), bool):
        problem("meta.reviewed", "is missing", "write reviewed: false until a fluent reader has checked it")
    voice = None
    if meta.get("voice"):
        voice_raw = meta["voice"]
        if not isinstance(voice_raw, dict) or not voice_raw.get("say") or not voice_raw.get("language"):
            problem("meta.voice", "needs say and language", "e.g. {say: Polly.Lupe-Neural, language: es-US}")
        else:
            voice = Voice(str(voice_raw["say"]), str(voice_raw["language"]),
                          str(voice_raw["speech"]) if voice_raw.get("speech") else None)

    keywords: dict[str, tuple[str, ...]] = {}
    for keyword_id, phrases in (raw.get("keywords") or {}).items():
        if isinstance(keyword_id, bool):
            # YAML 1.1 reads an unquoted yes/no key as true/false.
            problem(f"keywords.{keyword_id}", "was read as true/false, not as a keyword id",
                    'quote it: "yes": [...] and "no": [...]')
            continue
        if isinstance(phrases, str):
            phrases = [phrases]
        if not isinstance(phrases, list):
            problem(f"keywords.{keyword_id}", "should be a list of words", "e.g. [AYUDA, HOLA]")
            continue
        keywords[str(keyword_id)] = tuple(str(p) for p in phrases)

    entries: dict[str, Entry] = {}
    messages = raw.get("messages")
    if not isinstance(messages, dict):
        problem("messages", "is missing", "add messages: with one entry per key")
        messages = {}
    for key, value in messages.items():
        if isinstance(value, str):
            entries[str(key)] = Entry(value)
        elif isinstance(value, dict) and isinstance(value.get("text"), str):
            extra = set(value) - {"text", "sms", "voice"}
            if extra:
                problem(f"messages.{key}", f"has unknown forms {sorted(extra)}", "use text, sms and voice")
            entries[str(key)] = Entry(value["text"], value.get("sms"), value.get("voice"))
        else:
            problem(f"messages.{key}", "should be text, or {text: ..., sms: ..., voice: ...}",
                    "quote the message")
        if str(key) in entries and not entries[str(key)].text.strip():
            problem(f"messages.{key}", "is blank", "write the message, or delete the key to fall back visibly")
            del entries[str(key)]

    audio_dir = path.parent / "audio" / code
    # Recordings by their path under audio/<code>/ without .mp3: family.welcome, digits/5, names/...
    audio = {r.relative_to(audio_dir).with_suffix("").as_posix() for r in audio_dir.rglob("*.mp3")} \
        if audio_dir.is_dir() else set()
    lists = {}
    for name_ in ("everyday_words", "forbidden_staff_phrases"):
        value = meta.get(name_) or []
        if not isinstance(value, list):
            problem(f"meta.{name_}", "should be a list", "e.g. [OK, LISTO]")
            value = []
        lists[name_] = tuple(str(v) for v in value)
    problems.extend(forbidden_problems(label, {k: e.forms() for k, e in entries.items()},
                                       lists["forbidden_staff_phrases"]))
    return Catalog(code, name, english_name, direction, bool(meta.get("reviewed")), voice, keywords, entries,
                   path, audio, str(meta.get("note") or ""), **lists)


def load_catalogs(folder: Path) -> Catalogs:
    problems: list[Problem] = []
    catalogs: dict[str, Catalog] = {}
    for path in sorted(folder.glob("*.yaml")):
        catalog = _load_catalog(path, problems)
        if catalog:
            catalogs[catalog.code] = catalog
    problems.extend(keyword_problems({c: f"messages/{cat.path.name}" for c, cat in catalogs.items()},
                                     {c: cat.keywords for c, cat in catalogs.items()},
                                     {c: cat.everyday_words for c, cat in catalogs.items()}))
    if SOURCE_LANGUAGE not in catalogs:
        problems.append(Problem(f"{folder}/en.yaml", "(file)", "is missing: English is the last fallback",
                                "restore messages/en.yaml"))
    else:
        source = catalogs[SOURCE_LANGUAGE]
        for code, catalog in catalogs.items():
            if code == SOURCE_LANGUAGE:
                continue
            label = f"messages/{catalog.path.name}"
            for key, entry in source.entries.items():
                theirs = catalog.entries.get(key)
                if theirs is None:
                    problems.append(Problem(label, f"messages.{key}", "is missing; English is shown instead",
                                            "translate it", warning=True))
                    continue
                english_any = set().union(*(placeholders(f) for f in entry.forms()))
                if placeholders(theirs.text) != placeholders(entry.text) or any(
                        placeholders(form) - english_any for form in theirs.forms()):
                    problems.append(Problem(label, f"messages.{key}",
                                            f"placeholders {sorted(placeholders(theirs.text))} differ from "
                                            f"English {sorted(placeholders(entry.text))}",
                                            "use exactly the English placeholders, untranslated"))
            for key in catalog.entries.keys() - source.entries.keys():
                problems.append(Problem(label, f"messages.{key}", "is not in messages/en.yaml",
                                        "remove it, or add it to English first"))
            for keyword_id in source.keywords.keys() - catalog.keywords.keys():
                problems.append(Problem(label, f"keywords.{keyword_id}", "is missing; only the English words work",
                                        "add the words people would text in this language", warning=True))
    return Catalogs(catalogs, problems)


def longest_sms(catalog: Catalog, keys: Iterable[str]) -> tuple[int, str | None]:
    """(segments, key) of the longest SMS form among ``keys`` in this catalog."""
    worst, worst_key = 0, None
    for key in keys:
        entry = catalog.entries.get(key)
        if entry:
            segments = count_segments(entry.form("sms")).segments
            if segments > worst:
                worst, worst_key = segments, key
    return worst, worst_key
