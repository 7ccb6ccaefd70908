"""Issue 13: the lock of tested versions (constraints.txt) is what CI installs, it pins every
dependency, and each pin is inside pyproject.toml's bounds (which keep known CVEs out)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            found[canonicalize_name(name)] = version.strip()
    return found


def test_ci_runs_the_readme_test_command_with_the_lock():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r"^python3 -m venv .*pytest$", readme.split("## Test it")[1], re.M).group(0)
    assert "-c constraints.txt" in command
    assert command in ci.splitlines()


def test_every_dependency_is_pinned_within_its_bounds():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = pins()
    requirements = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is not in constraints.txt"
        assert requirement.specifier.contains(locked[name]), f"{name}=={locked[name]} is outside {requirement}"


def test_the_floors_are_past_the_known_cves():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    floors = {canonicalize_name(Requirement(r).name): Requirement(r).specifier for r in project["dependencies"]}
    # flask < 3.1.1 (CVE-2025-47278), werkzeug < 3.0.6 (CVE-2024-49766/49767), requests < 2.32.4
    # (CVE-2024-47081), waitress < 3.0.1 (CVE-2024-49768/49769), jinja2 < 3.1.6 (CVE-2025-27516),
    # gunicorn < 23.0 (CVE-2024-6827).
    for name, bad in {"flask": "3.1.0", "werkzeug": "3.0.5", "requests": "2.32.3", "waitress": "3.0.0",
                      "jinja2": "3.1.5", "gunicorn": "22.0.0"}.items():
        assert not floors[name].contains(bad), f"{name} {bad} is still allowed"
