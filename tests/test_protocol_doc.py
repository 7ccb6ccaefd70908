"""docs/protocol.md traces every staff-line message to a seed clause, district policy or hotline
state; every message key the staff flows use, and every reply the staff actions give, is there."""

from __future__ import annotations

import re
from pathlib import Path

from hotline.content import flows_dir, messages_dir
from hotline.engine import load_flows
from hotline.messages import load_catalogs

DOC = Path(__file__).parent.parent / "docs" / "protocol.md"
STAFF_FLOWS = ("staff_ice", "staff_records", "staff_detain", "staff_call", "staff_done", "staff_left")
ACTION_REPLIES = ("staff.notify.", "staff.urgent.", "staff.left.", "staff.reporter.", "staff.lead.")
SOURCE = re.compile(r"\b00[0-4]\b|district policy|hotline state|hotline policy|\(menu|\(greeting")


def table() -> dict[str, str]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 3 and "." in cells[0] and " " not in cells[0]:
            rows[cells[0]] = cells[2]
    return rows


def staff_flow_keys() -> set[str]:
    flows = load_flows(flows_dir())
    keys: set[str] = set()
    for flow_id in STAFF_FLOWS:
        for step in flows.flows[flow_id].steps.values():
            keys |= set(step.say) | ({step.prompt} if step.prompt else set()) | {o.label for o in step.options}
    return keys


def test_every_staff_message_is_traced_to_a_source():
    english = load_catalogs(messages_dir()).get("en")
    wanted = staff_flow_keys() | {k for k in english.entries if k.startswith(ACTION_REPLIES)}
    rows = table()
    assert sorted(wanted - set(rows)) == []
    untraced = {key: source for key, source in rows.items() if not SOURCE.search(source)}
    assert untraced == {}


def test_the_table_names_no_key_the_catalog_lacks():
    english = load_catalogs(messages_dir()).get("en")
    assert sorted(set(table()) - set(english.entries)) == []
