"""docs/incidents.md shows the state model's transition table: the test reads the page's table
and compares it, row by row, with hotline/incidents/states.py; then it walks each row through the
rules (allowed for the roles and types it lists, refused for the others)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.incidents import states

DOC = Path(__file__).parent.parent / "docs" / "incidents.md"
ROLES = ("reporter", "school_leader", "legal", "legal_backup", "designee", "safety", "crisis", "dashboard",
         "interpreter", "liaison", "civil_rights", "system")


def split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(",") if part.strip())


def documented_rows() -> list[tuple]:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index("| Transition | Keyword | From | To | Who may | Types | Who is told |")
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        name, keyword, from_, to, roles, types, tells = [c.strip() for c in line.strip("|").split("|")]
        rows.append((name, "" if keyword == "—" else keyword, split(from_), None if to == "(unchanged)" else to,
                     split(roles), split(types), split(tells)))
    return rows


def test_the_documented_table_is_the_state_model():
    code = [(t.name, t.keyword, t.from_states, t.to_state, t.roles, t.types, t.tells) for t in states.TRANSITIONS]
    assert documented_rows() == code


@pytest.mark.parametrize("row", documented_rows(), ids=lambda r: f"{r[0]}-{'-'.join(r[5])}")
def test_each_documented_row_is_what_the_rules_allow(row):
    name, _, from_states, _, roles, types, _ = row
    for type_ in types:
        for state in states.STATES:
            for role in ROLES:
                found = states.allowed(name, role, type_, state)
                if role in roles and state in from_states:
                    assert found is not None, (name, role, type_, state)
                elif not any(r[0] == name and role in r[4] and type_ in r[5] and state in r[2]
                             for r in documented_rows()):
                    assert found is None, (name, role, type_, state)


def test_every_documented_state_exists():
    text = DOC.read_text(encoding="utf-8")
    for state in states.STATES:
        assert f"| {state} |" in text
