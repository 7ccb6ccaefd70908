"""A text to the legal office when a legal account keeps getting wrong passwords: someone may be
guessing, and the office should know before it matters. An RQ job (enqueued by name, so this layer
never imports jobs.py); the text names the account's holder, never the address or the password."""

from __future__ import annotations

import logging

from ..queueing import enqueue_path
from ..services import Services, current
from ..store import key

log = logging.getLogger(__name__)
JOB = "hotline.accounts.alerts.signin_failures"


def enqueue(services: Services, district_id: str, account_id: str, failures: int) -> None:
    enqueue_path(services, JOB, district_id, account_id, failures, job_timeout=60)


def signin_failures(district_id: str, account_id: str, failures: int) -> str:
    return send(current(), district_id, account_id, failures)


def send(services: Services, district_id: str, account_id: str, failures: int) -> str:
    district = services.directory.get(district_id)
    legal = district.first_contact("legal")
    staff_line = district.line_of_kind("staff")
    account = services.accounts.get(account_id)
    if legal is None or staff_line is None or account is None:
        return "nobody to tell"
    catalogs = services.content(district).catalogs
    lang = district.default_language
    body = catalogs.render(lang, "office.signin_failures", {"name": account.name, "count": failures},
                           "sms", lang).text
    # Once per account and count: a job run twice does not text twice (a retry after a failed send
    # may, since the first one did not get through).
    once = key("signin-alert", district_id, account_id, failures)
    if not services.redis.set(once, "sending", nx=True, ex=86400):
        return "already sent"
    result = services.outbound.send_sms(staff_line.number, legal.number, body)
    if not result.ok:
        services.redis.delete(once)
        if result.retryable:
            raise RuntimeError(f"sign-in alert not sent ({result.error_code}); RQ retries it")
        return "failed"
    log.warning("sign-in alert for account %s sent to the legal office", account_id)
    return "sent"
