"""``hotline check``: every problem in the district files, flows and catalogs (file, key, fix), and
a per-language table: keys present, reviewed or not, how voice is served, longest SMS."""

from __future__ import annotations

import textwrap

import click

from .district import District
from .first_reply import longest_first_reply
from .messages import SOURCE_LANGUAGE, Catalogs, longest_sms
from . import recording_store
from .recordings import missing_for_family_line
from .translations import review_summary
from .problems import Problem
from .segments import count_segments
from .services import check_configuration, content_for_dirs
from .settings import Settings

SMS_BUDGET = 3   # segments; a message longer than this costs more and arrives in pieces


def voice_mode(catalogs: Catalogs, code: str, missing: int | None = None) -> str:
    catalog = catalogs.get(code)
    if catalog.voice:
        return f"TTS {catalog.voice.say_voice}"
    if missing == 0:
        return "recordings (complete)"
    if missing is not None:
        return f"interpreter ({missing} recordings to go)"
    if catalog.audio:
        return f"recordings ({len(catalog.audio)})"
    return "interpreter"


def missing_recordings(content, district, var_dir=None) -> dict[str, int]:
    """How many recordings each language without a voice still lacks for a complete voice line."""
    schools = [s.name for s in district.schools.values()]
    folder = recording_store.storage_folder(district, var_dir or "var")
    return {code: len(missing_for_family_line(content.catalogs, content.flows, code, schools,
                                              recording_store.stored(folder, code)))
            for code in district.languages if code in content.catalogs and not content.catalogs.get(code).voice}


def language_rows(catalogs: Catalogs, codes: list[str], missing: dict[str, int] | None = None) -> list[dict]:
    source = catalogs.get(SOURCE_LANGUAGE)
    rows = []
    for code in codes:
        if code not in catalogs:
            continue
        catalog = catalogs.get(code)
        present = sum(1 for key in source.entries if key in catalog.entries)
        segments, key = longest_sms(catalog, source.entries)
        review = review_summary(catalogs, code)
        rows.append({"code": code, "name": catalog.name, "keys": f"{present}/{len(source.entries)}",
                     "reviewed": "yes" if catalog.reviewed else "NO", "voice": voice_mode(catalogs, code, (missing or {}).get(code)),
                     "longest_sms": segments, "longest_key": key or "-",
                     # per message (issue 12): reviewed against today's English, or changed since
                     "messages_reviewed": f"{review.reviewed}/{review.total}", "changed": review.changed,
                     "unreviewed": review.unreviewed})
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


# The flows whose first reply is what a front desk reads in the first 30 seconds.
FIRST_REPLY_FLOWS = ("staff_ice", "staff_records", "staff_detain")


def first_reply_warnings(content, district: District, budget: int = SMS_BUDGET) -> list[str]:
    """Per language: a protocol's whole first reply, as sent with this district's names and numbers,
    over the SMS budget. Non-Latin scripts are UCS-2 (70 characters a segment): they are listed,
    since the protocol must still be read in full; English over budget means the wording must change."""
    found = []
    for flow_id in FIRST_REPLY_FLOWS:
        if flow_id not in content.flows.flows:
            continue
        for code in district.languages:
            if code not in content.catalogs:
                continue
            reply = longest_first_reply(content.flows, content.catalogs, district, flow_id, code)
            if reply.segments.segments > budget:
                found.append(f"messages/{code}.yaml: the first reply of {flow_id} is {reply.segments.segments} SMS "
                             f"segments ({reply.segments.encoding}, {reply.segments.units} units) with "
                             f"{district.id}'s names and numbers, over the budget of {budget}")
    return found


def recordings_report(content, district, var_dir=None) -> list[str]:
    """For each language without a Twilio voice: exactly which recordings its callers still lack
    for a complete voice line (until then they are connected to the interpreter)."""
    lines = []
    schools = [s.name for s in district.schools.values()]
    for code in district.languages:
        catalog = content.catalogs.get(code)
        if code not in content.catalogs or catalog.voice:
            continue
        stored = recording_store.stored(recording_store.storage_folder(district, var_dir or "var"), code)
        missing = missing_for_family_line(content.catalogs, content.flows, code, schools, stored)
        folder = f"{catalog.path.parent.name}/audio/{code}/"
        if stored:
            lines.append(f"  recordings: {code}: {len(stored)} recorded by phone in "
                         f"{recording_store.storage_folder(district, var_dir or 'var') / code}")
        if not missing:
            lines.append(f"  recordings: {code} complete: callers hear {catalog.name}")
            continue
        lines.append(f"  recordings: {code} lacks {len(missing)} for a complete voice line (callers get the "
                     f"interpreter until then); add to {folder}:")
        lines.extend(textwrap.wrap(", ".join(f"{name}.mp3" for name in missing), width=110,
                                   initial_indent="    ", subsequent_indent="    ", break_on_hyphens=False))
    return lines


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
        rows = language_rows(content.catalogs, list(district.languages),
                             missing_recordings(content, district, settings.var_dir))
        header = f"  {'lang':<5} {'name':<14} {'keys':>8} {'reviewed':>12}  {'voice':<34} longest SMS"
        click.echo(header)
        for row in rows:
            click.echo(f"  {row['code']:<5} {row['name'][:14]:<14} {row['keys']:>8} {row['reviewed'] + ' ' + row['messages_reviewed']:>12}  "
                       f"{row['voice'][:34]:<34} {row['longest_sms']} segments ({row['longest_key']})")
        for row in rows:
            if row["changed"]:
                click.echo(f"  review: {row['code']}: English changed since the review of "
                           f"{len(row['changed'])} message(s): {', '.join(row['changed'])}")
        for line in over_budget(content.catalogs, list(district.languages)):
            click.echo(f"  note: {line}")
        for line in first_reply_warnings(content, district):
            click.echo(f"  warning: {line}")
        for line in recordings_report(content, district, settings.var_dir):
            click.echo(line)
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
