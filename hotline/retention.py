"""Retention: what the district's file says to keep, and for how long.

The dashboard's audit log is trimmed to ``retention.audit`` (default three years).
Family conversation state expires by itself (a Redis expiry set on every save). Processed office
requests are deleted after ``retention.processed_requests``; incidents are kept unless
``retention.incidents`` gives a period. ``hotline purge`` and an hourly job both run this.
"""

from __future__ import annotations

import logging

from .incidents import documents
from .services import Services

log = logging.getLogger(__name__)


def purge(services: Services, now: float | None = None) -> dict:
    now = now or services.clock()
    summary = {}
    for district in services.directory.districts:
        requests = services.requests.purge_processed(district.id, now - district.retention.processed_requests)
        incidents = 0
        if district.retention.incidents:
            cutoff = now - district.retention.incidents
            for drills in (False, True):
                for incident_id in list(services.incidents.older_than(district.id, cutoff, drills)):
                    incident = services.incidents.get(district.id, incident_id)
                    if incident is None or incident.status == "closed":
                        services.incidents.delete(district.id, incident_id, drills)
                        documents.delete_for_incident(services, district.id, incident_id)
                        incidents += 1
        # The audit log keeps what the district's retention.audit says (default 3 years).
        audit = services.audit.trim(district.id, now - district.retention.audit)
        summary[district.id] = {"requests": requests, "incidents": incidents, "audit": audit}
        if requests or incidents:
            log.info("purge %s: %d processed requests, %d incidents", district.id, requests, incidents)
    return summary
