"""The variables every message may use: the district's name, its numbers and its contacts' names.
Built from the district file alone, so the staff line, notices and the family line read the same."""

from __future__ import annotations

from .district import District, Line
from .phones import example_number
from .render.values import Phone, Place

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
    values.update(family_variables(district, line))
    return values


def family_variables(district: District, line: Line) -> dict:
    """What the district's own data says: where families update emergency contacts, and an
    example phone number that looks local to the district (the bad-phone hint)."""
    portal = district.contact_updates
    return {
        "contact_portal": Place(portal.portal, portal.url) if portal else district.name,
        "example_phone": Phone(example_number(district.region, line.number)),
    }
