"""RQ jobs: module-level functions taking primitives, each a thin entry into the module that does
the work. The domain enqueues them by name (queueing.py); this module imports the domain, never
the other way round.

Job settings are tuned so a worker killed mid-job is noticed in seconds (see worker.py).
"""

from __future__ import annotations

from rq import get_current_job

from . import office_notice, retention, security, timeouts
from .incidents import escalation, forwarding, notices, reconciler
from .services import current


def _retries_left() -> int:
    job = get_current_job()
    return int(job.retries_left or 0) if job else 0


# --- Escalation ---------------------------------------------------------------------------------

def run_tier(district_id: str, incident_id: str, tier: int, round_: int) -> str:
    return escalation.run_tier(current(), district_id, incident_id, tier, round_)


def deliver(district_id: str, incident_id: str, contact_id: str, channel: str, tier: int, round_: int) -> str:
    return escalation.deliver(current(), district_id, incident_id, contact_id, channel, tier, round_,
                              retries_left=_retries_left())


def give_up(district_id: str, incident_id: str) -> str:
    return escalation.give_up(current(), district_id, incident_id)


def notify_reporter(district_id: str, incident_id: str, message: str, purpose: str, extra: dict) -> str:
    return notices.notify_reporter(current(), district_id, incident_id, message, purpose, extra)


def notify_contacts(district_id: str, incident_id: str, message: str, purpose: str, exclude: list,
                    extra: dict) -> int:
    return notices.notify_contacts(current(), district_id, incident_id, message, purpose, list(exclude), extra)


# --- Documents (photos staff send at the photo step) ---------------------------------------------

def collect_documents(district_id: str, incident_id: str, urls: list) -> str:
    return forwarding.collect_and_forward(current(), district_id, incident_id, list(urls),
                                                   retries_left=_retries_left())


def forward_documents(district_id: str, incident_id: str) -> int:
    return forwarding.forward(current(), district_id, incident_id, retries_left=_retries_left())


def send_staff_code_alert(district_id: str, line_number: str, failures: int, minutes: int) -> str:
    return security.send_staff_code_alert(current(), district_id, line_number, failures, minutes)


# --- Family line --------------------------------------------------------------------------------

def notify_office(district_id: str, reference: str) -> str:
    return office_notice.notify_office(current(), district_id, reference)


# --- Conversations and upkeep -------------------------------------------------------------------

def sms_timeout(district_id: str, line: str, number: str, seq: int) -> str:
    return timeouts.run_sms_timeout(current(), district_id, line, number, seq)


def reconcile() -> dict:
    return reconciler.reconcile(current())


def purge() -> dict:
    return retention.purge(current())
