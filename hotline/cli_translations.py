"""``hotline translations``: export a language for a translator (PO or CSV) and import it back."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .content import messages_dir as default_messages_dir
from .district import read_directory
from .messages import Catalogs, load_catalogs
from .cli_common import load_settings
from .translations import export_csv, export_po, plan_import, review_summary, write_import


def _catalogs() -> Catalogs:
    """The catalogs of the (first) district's content: its own copy when its file names one."""
    settings = load_settings()
    base = load_catalogs(default_messages_dir())
    directory, _ = read_directory(settings.district_path, base.codes)
    own = directory.districts[0].messages_dir if directory.districts else None
    return load_catalogs(own) if own else base


@click.group()
def translations() -> None:
    """Per-message review state, and export/import in a translator's format."""


@translations.command("export")
@click.argument("lang")
@click.option("--format", "fmt", type=click.Choice(["po", "csv"]), default="po", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="write here (default: stdout)")
def export_command(lang: str, fmt: str, output: Path | None) -> None:
    """Every message of LANG with its English source, key and review state."""
    catalogs = _catalogs()
    if lang not in catalogs.codes:
        click.echo(f"No catalog messages/{lang}.yaml; languages: {', '.join(catalogs.codes)}", err=True)
        sys.exit(2)
    data = export_po(catalogs, lang) if fmt == "po" else export_csv(catalogs, lang).encode("utf-8")
    if output:
        output.write_bytes(data)
        summary = review_summary(catalogs, lang)
        click.echo(f"Wrote {output}: {summary.total} messages, {summary.reviewed} reviewed, "
                   f"{len(summary.changed)} changed in English since their review.")
    else:
        sys.stdout.buffer.write(data)


@translations.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", help="the language, when the file does not say")
@click.option("--reviewer", default="", help="who reviewed the entries marked reviewed")
@click.option("--dry-run", is_flag=True, help="show the changes and change nothing")
def import_command(file: Path, lang: str | None, reviewer: str, dry_run: bool) -> None:
    """Check FILE (placeholders, keywords, SMS length) and apply it to messages/<lang>.yaml."""
    catalogs = _catalogs()
    result = plan_import(catalogs, file, lang, reviewer)
    for warning in result.warnings:
        click.echo(f"warning: {warning}")
    if result.errors:
        click.echo(f"{len(result.errors)} problem(s); nothing was changed:", err=True)
        for error in result.errors:
            click.echo(f"  {error}", err=True)
        sys.exit(1)
    if result.diff:
        click.echo(result.diff, nl=False)
    click.echo(f"{result.code}: {len(result.changed)} translation(s) changed, {result.reviewed} message(s) reviewed.")
    if dry_run:
        click.echo("Dry run: nothing was changed.")
        return
    write_import(catalogs, result)
    click.echo(f"Imported into messages/{result.code}.yaml.")
