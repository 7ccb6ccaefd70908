"""The variables every message may use: the district's name, its numbers and its contacts' names.
Built from the district file alone, so the staff line, notices and the family line read the same."""

from __future__ import annotations

from .district import District, Line
from .render.values import Phone

# Message variable -> contact role whose first contact supplies it.
CONTACT_VARIABLES = (("legal", "legal"), ("safety", "safety"), ("liaison", "liaison"),
                     ("civil_rights", "civil_rights"), ("crisis", "crisis"))


def base_variables(district: District, line: Line) -> dict:
    """The district's name and numbers: every message may use them."""
    values: dict[str, object] = {"district": district.name}
    for name, role in CONTACT_VARIABLES:
        contact = district.first_contact(role)
        values[f"{name}_phone"] = Phone(contact.number) if contact else ""
        values[f"{name}_name"] = contact.name if contact else ""
    referral_name, referral_phone = district.referral_office()
    values["referral_name"] = referral_name
    values["referral_phone"] = Phone(referral_phone) if referral_phone else ""
    help_contact = district.first_contact("liaison" if line.kind == "family" else "legal") \
        or district.first_contact("legal")
    values["help_phone"] = Phone(help_contact.number) if help_contact else ""
    values["resources"] = "; ".join(
        ", ".join(str(part) for part in (r.name, Phone(r.phone) if r.phone else None, r.url) if part)
        for r in district.resources) or "-"
    return values
