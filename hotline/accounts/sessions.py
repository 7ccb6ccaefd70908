"""Dashboard sessions kept on the server (Redis), so that signing out, disabling an account or
resetting its password ends them at once: the browser's cookie holds only a random session id,
and a copied cookie is worth nothing once the session is gone.

A session ends after 30 minutes without activity or 8 hours in all, whichever comes first. A
person sees their other sessions (when, from where, which browser) and can end them.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass

import redis

from ..store import key

IDLE_TIMEOUT = 30 * 60
ABSOLUTE_TIMEOUT = 8 * 3600


@dataclass
class WebSession:
    id: str
    account: str
    started: float
    seen: float
    address: str
    agent: str
    method: str = "password"     # password | sso | shared


def _key(session_id: str) -> str:
    return key("websession", session_id)


def _account_key(account_id: str) -> str:
    return key("account-sessions", account_id)


class SessionStore:
    def __init__(self, store: redis.Redis, clock=time.time, idle: float = IDLE_TIMEOUT,
                 absolute: float = ABSOLUTE_TIMEOUT):
        self.store = store
        self.clock = clock
        self.idle = idle
        self.absolute = absolute

    def start(self, account_id: str, address: str, agent: str, method: str = "password",
              now: float | None = None) -> WebSession:
        now = self.clock() if now is None else now
        web = WebSession(secrets.token_urlsafe(32), account_id, now, now, address, (agent or "")[:200], method)
        with self.store.pipeline() as pipe:
            pipe.set(_key(web.id), json.dumps(asdict(web)), ex=int(self.absolute) + 60)
            pipe.sadd(_account_key(account_id), web.id)
            pipe.execute()
        return web

    def get(self, session_id: str | None) -> WebSession | None:
        raw = self.store.get(_key(session_id)) if session_id else None
        return WebSession(**json.loads(raw)) if raw else None

    def expired(self, web: WebSession, now: float | None = None) -> str | None:
        """Why the session is over ("idle" or "limit"), or None while it is valid."""
        now = self.clock() if now is None else now
        if now - web.seen > self.idle:
            return "idle"
        if now - web.started > self.absolute:
            return "limit"
        return None

    def touch(self, web: WebSession, now: float | None = None) -> None:
        web.seen = self.clock() if now is None else now
        self.store.set(_key(web.id), json.dumps(asdict(web)), keepttl=True)

    def end(self, session_id: str) -> None:
        web = self.get(session_id)
        self.store.delete(_key(session_id))
        if web:
            self.store.srem(_account_key(web.account), session_id)

    def for_account(self, account_id: str, now: float | None = None) -> list[WebSession]:
        ids = sorted(self.store.smembers(_account_key(account_id)))
        found = []
        for session_id in ids:
            web = self.get(session_id)
            if web is None or self.expired(web, now):
                self.end(session_id)
            else:
                found.append(web)
        return sorted(found, key=lambda w: w.started, reverse=True)

    def end_all(self, account_id: str) -> int:
        ids = list(self.store.smembers(_account_key(account_id)))
        if ids:
            self.store.delete(*[_key(i) for i in ids])
        self.store.delete(_account_key(account_id))
        return len(ids)
