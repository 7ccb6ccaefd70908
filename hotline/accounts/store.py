"""Accounts in Redis, one per person: name, email, role, district(s), school(s), an optional phone
number (a legal contact's, so an acknowledgement by text or keypress names the person) and a
password hash (Werkzeug's scrypt by default; none for an account that signs in only by SSO).

Keys: ``hl:account:<id>`` (JSON), ``hl:accounts`` (the ids), ``hl:account-email:<email>`` and
``hl:account-phone:<number>`` (lookups). Emails are compared case-insensitively.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import redis
from werkzeug.security import check_password_hash, generate_password_hash

from ..store import key
from .roles import ROLES, Role


@dataclass
class Account:
    id: str
    name: str
    email: str
    role: str
    districts: list[str] = field(default_factory=list)
    schools: list[str] = field(default_factory=list)       # school roles: the schools it serves
    phone: str | None = None
    password_hash: str | None = None
    disabled: bool = False
    created: float = 0.0
    # Bumped by a password reset: sessions started before it are no longer valid.
    password_changed: float = 0.0

    @property
    def role_info(self) -> Role:
        return ROLES[self.role]

    def can(self, permission: str) -> bool:
        return not self.disabled and permission in self.role_info.permissions

    def in_district(self, district_id: str) -> bool:
        return "*" in self.districts or district_id in self.districts

    def sees_school(self, district_id: str, school_id: str | None) -> bool:
        """A school role sees only its schools (a request without a school is for district roles)."""
        if not self.in_district(district_id):
            return False
        if not self.role_info.school_scoped:
            return True
        return bool(school_id) and school_id in self.schools

    def public(self) -> dict:
        data = asdict(self)
        data.pop("password_hash")
        return data


class AccountError(ValueError):
    """A bad account change, with a message that says what to do."""


def normal_email(email: str) -> str:
    return (email or "").strip().lower()


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    # Checked when no account has the email, so a wrong email takes as long as a wrong password.
    return generate_password_hash(secrets.token_hex(8))


def hash_password(password: str) -> str:
    return generate_password_hash(password)


class AccountStore:
    def __init__(self, store: redis.Redis, clock=time.time):
        self.store = store
        self.clock = clock

    # --- reading --------------------------------------------------------------------------------
    def get(self, account_id: str) -> Account | None:
        raw = self.store.get(key("account", account_id)) if account_id else None
        return Account(**json.loads(raw)) if raw else None

    def by_email(self, email: str) -> Account | None:
        account_id = self.store.get(key("account-email", normal_email(email)))
        return self.get(account_id) if account_id else None

    def by_phone(self, number: str, district_id: str) -> list[Account]:
        ids = self.store.smembers(key("account-phone", number)) if number else set()
        found = [a for a in (self.get(i) for i in sorted(ids)) if a and not a.disabled and a.in_district(district_id)]
        return found

    def all(self) -> list[Account]:
        ids = sorted(self.store.smembers(key("accounts")))
        raws = self.store.mget([key("account", i) for i in ids]) if ids else []
        accounts = [Account(**json.loads(raw)) for raw in raws if raw]
        return sorted(accounts, key=lambda a: (a.name.lower(), a.email))

    def count(self) -> int:
        return self.store.scard(key("accounts"))

    # --- writing --------------------------------------------------------------------------------
    def create(self, *, name: str, email: str, role: str, districts: list[str], schools: list[str] | None = None,
               phone: str | None = None, password: str | None = None, password_hash: str | None = None) -> Account:
        email = normal_email(email)
        if not name.strip():
            raise AccountError("an account needs the person's name (--name)")
        if "@" not in email:
            raise AccountError(f"{email!r} is not an email address (--email)")
        if role not in ROLES or not ROLES[role].assignable:
            raise AccountError(f"{role!r} is not a role; use one of {', '.join(r for r in ROLES if ROLES[r].assignable)}")
        if not districts:
            raise AccountError("an account needs at least one district (--district)")
        if ROLES[role].school_scoped and not schools:
            raise AccountError("a school office account needs its school(s) (--school)")
        now = self.clock()
        account = Account(id=secrets.token_hex(6), name=name.strip(), email=email, role=role,
                          districts=list(districts), schools=list(schools or []), phone=phone,
                          password_hash=password_hash or (hash_password(password) if password else None),
                          created=now, password_changed=now)
        # SET NX on the email: two people cannot end up with one address.
        if not self.store.set(key("account-email", email), account.id, nx=True):
            raise AccountError(f"an account with the email {email} exists already")
        self._save(account)
        self.store.sadd(key("accounts"), account.id)
        if phone:
            self.store.sadd(key("account-phone", phone), account.id)
        return account

    def _save(self, account: Account) -> None:
        self.store.set(key("account", account.id), json.dumps(asdict(account), ensure_ascii=False))

    def set_disabled(self, account: Account, disabled: bool) -> Account:
        account.disabled = disabled
        self._save(account)
        return account

    def set_password(self, account: Account, password: str | None = None, password_hash: str | None = None) -> Account:
        account.password_hash = password_hash or (hash_password(password) if password else None)
        account.password_changed = self.clock()
        self._save(account)
        return account

    # --- checking -------------------------------------------------------------------------------
    def check_password(self, email: str, password: str) -> Account | None:
        """The account when the password is right and the account is enabled; None otherwise."""
        account = self.by_email(email) if email else None
        stored = account.password_hash if account and account.password_hash else None
        try:
            ok = check_password_hash(stored or _decoy_hash(), password or "") and stored is not None
        except (ValueError, TypeError):     # a malformed stored hash: nobody gets in with it
            ok = False
        return account if ok and not account.disabled else None
