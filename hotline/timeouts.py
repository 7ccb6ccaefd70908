"""An SMS question nobody answered: its flow's timeout route runs, and what it says is texted."""

from __future__ import annotations

from .conversation import resume_after_timeout
from .render.sms import drill_prefix, render_sms
from .services import Services


def run_sms_timeout(services: Services, district_id: str, line_number: str, number: str, seq: int) -> str:
    district = services.directory.get(district_id)
    line = district.line(line_number)
    if line is None:
        return "no line"
    result = resume_after_timeout(services, district, line, number, seq)
    if result is None:
        return "answered meanwhile"
    content = services.content(district)
    prefix = drill_prefix(content.catalogs, result.lang, district.default_language) if result.drill else ""
    texts = render_sms(result.items, content.catalogs, result.lang, district.default_language, result.variables,
                       prefix)
    for text in texts:
        services.outbound.send_sms(line_number, number, text)
    return f"sent {len(texts)}"
