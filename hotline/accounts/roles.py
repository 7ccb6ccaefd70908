"""Roles: what each kind of account may do, and where (its districts and, for school roles, its
schools). docs/dashboard.md shows the same table; tests/test_accounts_scope.py walks it.

A permission says *what*; scope says *where*. Every dashboard view checks both: a role without the
permission gets 403, an object outside the account's districts or schools gets 404 (its existence
is not revealed).
"""

from __future__ import annotations

from dataclasses import dataclass

# What can be done on the dashboard.
INCIDENTS_VIEW = "incidents.view"
INCIDENTS_TAKE = "incidents.take"          # acknowledge: "I have it"
INCIDENTS_CLOSE = "incidents.close"
INCIDENTS_EXPORT = "incidents.export"
DOCUMENTS_VIEW = "documents.view"          # photos of the officers' documents: legal roles only (they may name a student)
REQUESTS_VIEW = "requests.view"
REQUESTS_PROCESS = "requests.process"
REQUESTS_EXPORT = "requests.export"
USERS_MANAGE = "users.manage"
SETTINGS_VIEW = "settings.view"            # languages and health pages
AUDIT_VIEW = "audit.view"                  # the audit log, and its export
SECURITY_VIEW = "security.view"            # the staff-code security timeline (attempts, pauses)


@dataclass(frozen=True)
class Role:
    id: str
    label: str
    permissions: frozenset[str]
    school_scoped: bool = False            # sees only its schools' requests, never incidents
    assignable: bool = True                # False: only the deprecated shared password has it


ROLES: dict[str, Role] = {role.id: role for role in (
    Role("district_admin", "District administrator", frozenset({USERS_MANAGE, SETTINGS_VIEW, AUDIT_VIEW,
                                                                SECURITY_VIEW})),
    Role("legal", "Legal office", frozenset({INCIDENTS_VIEW, INCIDENTS_TAKE, INCIDENTS_CLOSE, INCIDENTS_EXPORT,
                                            DOCUMENTS_VIEW, REQUESTS_VIEW, REQUESTS_PROCESS, REQUESTS_EXPORT,
                                            SECURITY_VIEW})),
    Role("safety", "Department of Safety", frozenset({INCIDENTS_VIEW, INCIDENTS_TAKE})),
    Role("school_office", "School office", frozenset({REQUESTS_VIEW, REQUESTS_PROCESS}), school_scoped=True),
    Role("auditor", "Auditor", frozenset({INCIDENTS_VIEW, REQUESTS_VIEW, AUDIT_VIEW, SECURITY_VIEW})),
    # HOTLINE_ADMIN_PASSWORD(_HASH): the old shared password, kept working (deprecated) with
    # everything it could do before accounts existed, in every district.
    Role("shared_password", "Shared dashboard password (deprecated)",
         frozenset({INCIDENTS_VIEW, INCIDENTS_TAKE, INCIDENTS_CLOSE, INCIDENTS_EXPORT, DOCUMENTS_VIEW, REQUESTS_VIEW,
                    REQUESTS_PROCESS, REQUESTS_EXPORT, SETTINGS_VIEW, SECURITY_VIEW}), assignable=False),
)}
ASSIGNABLE = tuple(role_id for role_id, role in ROLES.items() if role.assignable)


def role(role_id: str) -> Role:
    return ROLES[role_id]
