"""The first account, on a hotline that has none: ``hotline serve`` makes a district administrator
(and, serving the bundled demo district, a legal-office account to try the dashboard with), their
passwords written under var/ and readable by their owner only."""

from __future__ import annotations

from pathlib import Path

from ..content import demo_district
from ..settings import Settings, local_secret
from .audit import Actor
from .store import AccountStore

FIRST_ADMIN = "admin@localhost"
DEMO_LEGAL = "legal@localhost"


def ensure_first_accounts(settings: Settings, accounts: AccountStore, audit, district_ids: list[str]) -> dict[str, Path]:
    """Create the first accounts when there are none; returns what was written where."""
    made: dict[str, Path] = {}
    if accounts.count():
        return made
    actor = Actor("hotline serve (first run)", address="local")
    password, made[f"dashboard: {FIRST_ADMIN} (district administrator), password in"] = \
        local_secret(settings.var_dir, "admin-password")
    accounts.create(name="First administrator", email=FIRST_ADMIN, role="district_admin", districts=district_ids,
                    password=password)
    audit.record(district_ids, actor, "user_added", FIRST_ADMIN, role="district_admin")
    if Path(settings.district_path).resolve() == demo_district().resolve():
        password, made[f"dashboard: {DEMO_LEGAL} (legal office, demo), password in"] = \
            local_secret(settings.var_dir, "legal-password")
        accounts.create(name="Demo legal officer", email=DEMO_LEGAL, role="legal", districts=district_ids,
                        password=password)
        audit.record(district_ids, actor, "user_added", DEMO_LEGAL, role="legal")
    return made
