"""Requests for a district office from the family line: emergency-contact updates (for the
school office), concerns (for the civil-rights office) and call-backs (for the family liaison).

A request holds only what the office needs. The hotline never changes a student record: the office
verifies a request and enters it, then marks it processed; processed requests are deleted after
the district's retention (``retention.processed_requests``).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

import redis

from .store import key

TYPES = ("contact_update", "concern", "voicemail")
FIRST_REFERENCE = 1001


@dataclass
class OfficeRequest:
    district: str
    reference: str
    type: str
    created: float
    line: str
    language: str
    caller: str | None              # None when the family chose to stay anonymous
    school: str | None = None
    fields: dict = field(default_factory=dict)
    status: str = "new"             # new | processed
    processed_at: float | None = None
    processed_by: str | None = None


def _request_key(district_id: str, reference: str) -> str:
    return key("request", district_id, reference)


class RequestStore:
    def __init__(self, store: redis.Redis, clock=time.time):
        self.store = store
        self.clock = clock

    def create(self, *, district_id: str, type: str, line: str, language: str, caller: str | None,
               school: str | None, fields: dict) -> OfficeRequest:
        counter = key("seq", district_id, "request")
        self.store.setnx(counter, FIRST_REFERENCE - 1)
        reference = str(self.store.incr(counter))
        request = OfficeRequest(district_id, reference, type, self.clock(), line, language, caller, school,
                                fields)
        with self.store.pipeline() as pipe:
            pipe.set(_request_key(district_id, reference), json.dumps(asdict(request), ensure_ascii=False))
            pipe.zadd(key("requests", district_id), {reference: request.created})
            pipe.execute()
        return request

    def get(self, district_id: str, reference: str) -> OfficeRequest | None:
        raw = self.store.get(_request_key(district_id, reference))
        return OfficeRequest(**json.loads(raw)) if raw else None

    def list(self, district_id: str, status: str | None = None, type: str | None = None) -> list[OfficeRequest]:
        references = self.store.zrevrange(key("requests", district_id), 0, -1)
        found = []
        for raw in (self.store.mget([_request_key(district_id, r) for r in references]) if references else []):
            if not raw:
                continue
            request = OfficeRequest(**json.loads(raw))
            if (status is None or request.status == status) and (type is None or request.type == type):
                found.append(request)
        return found

    def mark_processed(self, district_id: str, reference: str, by: str) -> OfficeRequest | None:
        request = self.get(district_id, reference)
        if request is None or request.status == "processed":
            return request
        request.status, request.processed_at, request.processed_by = "processed", self.clock(), by
        with self.store.pipeline() as pipe:
            pipe.set(_request_key(district_id, reference), json.dumps(asdict(request), ensure_ascii=False))
            pipe.zadd(key("requests", district_id, "processed"), {reference: request.processed_at})
            pipe.execute()
        return request

    def purge_processed(self, district_id: str, older_than: float) -> int:
        """Delete requests processed before ``older_than`` (a timestamp). Returns how many."""
        done_key = key("requests", district_id, "processed")
        references = self.store.zrangebyscore(done_key, 0, older_than)
        if not references:
            return 0
        with self.store.pipeline() as pipe:
            pipe.delete(*[_request_key(district_id, r) for r in references])
            pipe.zrem(key("requests", district_id), *references)
            pipe.zrem(done_key, *references)
            pipe.execute()
        return len(references)
