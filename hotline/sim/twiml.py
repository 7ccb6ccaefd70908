"""Reading TwiML the way Twilio does, for the simulators and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin
from xml.etree import ElementTree


class NotTwiML(ValueError):
    pass


def parse(text: str) -> ElementTree.Element:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise NotTwiML(f"not XML: {exc}") from exc
    if root.tag != "Response":
        raise NotTwiML(f"root element is <{root.tag}>, not <Response>")
    return root


def messages(text: str) -> list[str]:
    """The bodies of <Message> verbs (SMS replies)."""
    return [(m.findtext("Body") if m.find("Body") is not None else m.text) or "" for m in parse(text).iter("Message")]


@dataclass
class Spoken:
    kind: str                 # "say" or "play"
    text: str                 # what is said, or the recording's URL
    voice: str | None = None
    language: str | None = None


@dataclass
class VoiceTurn:
    """One TwiML document of a call: what the caller hears, and what happens next."""

    spoken: list[Spoken] = field(default_factory=list)
    gather: dict | None = None        # attributes of <Gather>
    record: dict | None = None        # attributes of <Record>
    dial: dict | None = None          # attributes of <Dial>, plus "numbers": [(number, url)]
    redirect: str | None = None
    hangup: bool = False

    @property
    def said(self) -> str:
        return " ".join(s.text for s in self.spoken if s.kind == "say")

    @property
    def next_url(self) -> str | None:
        for node in (self.gather, self.record, self.dial):
            if node and node.get("action"):
                return node["action"]
        return self.redirect


def _speech(node: ElementTree.Element) -> list[Spoken]:
    found = []
    for child in node:
        if child.tag == "Say":
            found.append(Spoken("say", (child.text or "").strip(), child.get("voice"), child.get("language")))
        elif child.tag == "Play":
            found.append(Spoken("play", (child.text or "").strip()))
    return found


def voice_turn(text: str) -> VoiceTurn:
    root = parse(text)
    turn = VoiceTurn(spoken=_speech(root))
    for child in root:
        if child.tag == "Gather" and turn.gather is None:
            turn.gather = dict(child.attrib)
            turn.spoken += _speech(child)
        elif child.tag == "Record" and turn.record is None:
            turn.record = dict(child.attrib)
        elif child.tag == "Dial" and turn.dial is None:
            turn.dial = dict(child.attrib)
            turn.dial["numbers"] = [((n.text or "").strip(), n.get("url")) for n in child.iter("Number")] or \
                [((child.text or "").strip(), None)]
        elif child.tag == "Redirect" and turn.redirect is None:
            turn.redirect = (child.text or "").strip()
        elif child.tag == "Hangup":
            turn.hangup = True
    return turn


def resolve(base_url: str, url: str) -> str:
    """A TwiML URL (often relative) as Twilio would request it."""
    return urljoin(base_url, url)
