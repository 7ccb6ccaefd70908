"""``hotline check``: every problem in the district files, flows and catalogs (file, key, fix), and
a per-language table: keys present, reviewed or not, how voice is served, longest SMS."""

from __future__ import annotations

import click

from .messages import SOURCE_LANGUAGE, Catalogs, longest_sms
from .problems import Problem
from .segments import count_segments
from .services import check_configuration, content_for_dirs
from .settings import Settings

SMS_BUDGET = 3   # segments; a message longer than this costs more and arrives in pieces


def voice_mode(catalogs: Catalogs, code: str) -> str:
    catalog = catalogs.get(code)
    if catalog.voice:
        return f"TTS {catalog.voice.say_voice}"
    if catalog.audio:
        return f"recordings ({len(catalog.audio)})"
    return "interpreter"


def language_rows(catalogs: Catalogs, codes: list[str]) -> list[dict]:
    source = catalogs.get(SOURCE_LANGUAGE)
    rows = []
    for code in codes:
        if code not in catalogs:
            continue
        catalog = catalogs.get(code)
        present = sum(1 for key in source.entries if key in catalog.entries)
        segments, key = longest_sms(catalog, source.entries)
        rows.append({"code": code, "name": catalog.name, "keys": f"{present}/{len(source.entries)}",
                     "reviewed": "yes" if catalog.reviewed else "NO", "voice": voice_mode(catalogs, code),
                     "longest_sms": segments, "longest_key": key or "-"})
    return rows


def over_budget(catalogs: Catalogs, codes: list[str], budget: int = SMS_BUDGET) -> list[str]:
    found = []
    for code in codes:
        if code not in catalogs:
            continue
        for key, entry in catalogs.get(code).entries.items():
            count = count_segments(entry.form("sms"))
            if count.segments > budget:
                found.append(f"messages/{code}.yaml: messages.{key}: {count.segments} SMS segments "
                             f"({count.encoding}, {count.units} units), over the budget of {budget}")
    return found


STRONG_CODE_DIGITS = 6


def code_warnings(directory) -> list[Problem]:
    """A staff code shorter than 6 digits falls to guessing from many numbers far too soon."""
    return [Problem(str(d.source), "district.staff_code", f"has {len(d.staff_code)} digits: with "
                    f"{d.staff_code_limit.failures} wrong codes allowed every "
                    f"{round((d.staff_code_limit.window + d.staff_code_limit.cooldown) / 60)} minutes, a {len(d.staff_code)}-digit code can be guessed within days or weeks",
                    f"use {STRONG_CODE_DIGITS} to 8 random digits, quoted (e.g. \"730519\", but pick your own), "
                    "and tell staff the new code", warning=True)
            for d in directory.districts if d.staff_code and len(d.staff_code) < STRONG_CODE_DIGITS]


def run_check(settings: Settings) -> int:
    directory, problems = check_configuration(settings)
    problems = problems + code_warnings(directory)
    errors = [p for p in problems if not p.warning]
    warnings = [p for p in problems if p.warning]
    for district in directory.districts:
        content = content_for_dirs(district.flows_dir, district.messages_dir)
        click.echo(f"\n{district.name} ({district.source}): {len(district.lines)} lines, {len(district.contacts)} "
                   f"contacts, {len(district.roster)} staff, {len(district.languages)} languages")
        rows = language_rows(content.catalogs, list(district.languages))
        header = f"  {'lang':<5} {'name':<14} {'keys':>8} {'reviewed':>8}  {'voice':<34} longest SMS"
        click.echo(header)
        for row in rows:
            click.echo(f"  {row['code']:<5} {row['name'][:14]:<14} {row['keys']:>8} {row['reviewed']:>8}  "
                       f"{row['voice'][:34]:<34} {row['longest_sms']} segments ({row['longest_key']})")
        for line in over_budget(content.catalogs, list(district.languages)):
            click.echo(f"  note: {line}")
    if warnings:
        click.echo(f"\n{len(warnings)} warning(s):")
        for problem in warnings:
            click.echo(f"  {problem}")
    if errors:
        click.echo(f"\n{len(errors)} problem(s) stop the hotline from starting:", err=True)
        for problem in errors:
            click.echo(f"  {problem}", err=True)
        return 1
    click.echo("\nOK: the hotline can start with this configuration.")
    return 0
