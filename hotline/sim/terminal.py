"""``hotline sim``: a phone in the terminal, for trying the hotline without Twilio or a phone.

It sends the requests Twilio would send (signed with the hotline's auth token), follows the TwiML
that comes back, and shows, as they happen, the texts and calls the hotline sends to other numbers
(read from the dry-run outbox of a `hotline serve`, or from a Twilio-compatible server).

Interactive: type a text and press Enter to send it; commands start with a slash (/help).
Scripted (--script FILE): one command a line, for drills and bug reports; prints the transcript.
"""

from __future__ import annotations

import os
import shlex
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

import requests

from . import twiml
from .phone import Call, TwilioPhone, http_transport, new_sid
from .phonebook import DEMO, PhoneBook

# The demo district's people and lines (districts/demo.yaml), by name; `phone_book` makes the same
# for any district.
PEOPLE = DEMO.people
LINES = DEMO.lines

HELP = """Type a message and press Enter to text it to the line. Commands:
  /as NAME|NUMBER     be someone else (front-desk, legal, safety, parent, stranger, or +1...)
  /line staff|family  text or call the other line
  /phones             the names of this district's phones (contacts, roster, school offices, lines)
  /call               call the line; then type digits to press them
  /silence            say nothing when asked
  /record             leave a recording when asked (a stand-in URL)
  /dial completed|voicemail|no-answer|busy   how a call the hotline is connecting ends
  /answer             answer the last call the hotline placed to you (then press digits)
  /hangup             end the call
  /wait SECONDS       wait, showing what the hotline sends (scripts)
  /waitfor TEXT       wait (up to 30 s) until the hotline sends something containing TEXT (scripts)
  /quit               leave"""


def describe(number: str) -> str:
    """The demo district's name for ``number`` (a Simulator uses its own district's book)."""
    return DEMO.describe(number)


def find_token(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    if os.environ.get("TWILIO_AUTH_TOKEN"):
        return os.environ["TWILIO_AUTH_TOKEN"]
    path = Path(os.environ.get("HOTLINE_VAR_DIR", "var")) / "dev-auth-token"
    return path.read_text().strip() if path.exists() else None


class Outbox:
    """What the hotline sends to other phones: from `hotline serve`'s dry-run outbox over HTTP."""

    def __init__(self, base_url: str, session: requests.Session):
        self.url = base_url.rstrip("/") + "/sim/api/outbox"
        self.session = session
        self.since = 0
        self.available = True

    def start_at_end(self) -> None:
        while self.poll():
            pass

    def poll(self) -> list[dict]:
        if not self.available:
            return []
        try:
            response = self.session.get(self.url, params={"since": self.since}, timeout=5)
        except requests.RequestException:
            return []
        if response.status_code == 404:
            self.available = False      # not a development server: its texts really go out
            return []
        data = response.json()
        self.since = data.get("next", self.since)
        return data.get("items", [])


class TwilioApiOutbox(Outbox):
    """The same, read from a Twilio-compatible REST API (the hotline's test server, for one)."""

    def __init__(self, api_url: str, account_sid: str, token: str, session: requests.Session):
        super().__init__(api_url, session)
        self.base = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}"
        self.auth = (account_sid, token)
        self.seen: set[str] = set()

    def poll(self) -> list[dict]:
        items = []
        for kind, resource in (("sms", "Messages"), ("call", "Calls")):
            try:
                response = self.session.get(f"{self.base}/{resource}.json", params={"PageSize": 50}, auth=self.auth,
                                            timeout=5)
                records = response.json().get(resource.lower(), [])
            except (requests.RequestException, ValueError):
                continue
            for record in reversed(records):               # the API lists newest first
                if record["sid"] not in self.seen:
                    self.seen.add(record["sid"])
                    items.append({"kind": kind, "sid": record["sid"], "from": record.get("from"),
                                  "to": record.get("to"), "body": record.get("body", ""), "url": ""})
        return items

    def start_at_end(self) -> None:
        self.poll()


@dataclass
class Simulator:
    phone: TwilioPhone
    outbox: Outbox
    me: str = PEOPLE["front-desk"]
    line: str = LINES["staff"]
    out: Callable[[str], None] = print
    book: PhoneBook = field(default_factory=lambda: DEMO)
    call: Call | None = None
    incoming: list[dict] = field(default_factory=list)     # calls the hotline placed to me
    seen: list[dict] = field(default_factory=list)         # everything shown from the outbox
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- showing ----------------------------------------------------------------------------
    def show_outbox(self) -> list[dict]:
        shown = self.outbox.poll()
        for item in shown:
            with self.lock:
                if item["kind"] == "sms":
                    self.out(f"  >> the hotline texted {self.book.describe(item['to'])} "
                             f"(from {self.book.describe(item['from'])}):")
                    self.out("     " + item.get("body", "").replace("\n", "\n     "))
                else:
                    self.out(f"  >> the hotline is calling {self.book.describe(item['to'])} "
                             f"(from {self.book.describe(item['from'])})")
                    if item["to"] == self.me:
                        self.out("     it is you: /answer to pick up")
                self.incoming.append(item)
                self.seen.append(item)
        return shown

    def show_turn(self, turn: twiml.VoiceTurn) -> None:
        for spoken in turn.spoken:
            if spoken.kind == "say":
                self.out(f"  (says, {spoken.language or 'default voice'}) {spoken.text}")
            else:
                self.out(f"  (plays a recording) {spoken.text}")
        if turn.gather:
            self.out("  (listening: type the digits to press, or /silence)")
        elif turn.record:
            self.out("  (recording after the beep: /record, or /silence)")
        elif turn.dial:
            numbers = ", ".join(self.book.describe(n) for n, _ in turn.dial["numbers"])
            self.out(f"  (connecting you to {numbers}: /dial completed|voicemail|no-answer|busy)")
        if turn.hangup:
            self.out("  (hangs up)")
            self.call = None

    # --- doing ------------------------------------------------------------------------------
    def text(self, body: str) -> None:
        self.out(f"{self.book.describe(self.me)} -> {self.book.describe(self.line)}: {body}")
        for reply in self.phone.text(self.me, self.line, body):
            self.out(f"  << {reply}".replace("\n", "\n     "))

    def place_call(self) -> None:
        self.out(f"{self.book.describe(self.me)} calls {self.book.describe(self.line)}")
        self.call = self.phone.call(self.me, self.line)
        self.show_turn(self.call.turn)

    def answer(self) -> None:
        calls = [c for c in self.incoming if c["kind"] == "call" and c["to"] == self.me]
        if not calls:
            self.out("  nobody is calling you")
            return
        item = calls[-1]
        self.incoming.remove(item)
        if not item.get("url"):
            self.out("  this call's script is not known here (a real Twilio account answers it)")
            return
        sid = item.get("sid") or new_sid("CA")
        form = {"CallSid": sid, "AccountSid": self.phone.account_sid, "From": item["from"], "To": item["to"],
                "CallStatus": "in-progress", "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
        answer = self.phone.post(item["url"], form)
        self.call = Call(sid, item["from"], item["to"], twiml.voice_turn(answer.text), item["url"])
        self.out(f"{self.book.describe(self.me)} answers the hotline's call")
        self.show_turn(self.call.turn)

    def in_call(self, action: Callable[[Call], Call]) -> None:
        if self.call is None:
            self.out("  no call in progress: /call first")
            return
        self.call = action(self.call)
        self.show_turn(self.call.turn)

    def command(self, line: str) -> bool:
        """Run one line; False to stop."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        if not line.startswith("/"):
            if self.call is not None and line.replace("#", "").replace("*", "").isdigit():
                self.in_call(lambda call: self.phone.press(call, line))
            else:
                self.text(line)
            return True
        name, *args = shlex.split(line[1:]) or [""]
        rest = " ".join(args)
        if name in ("quit", "exit"):
            return False
        if name == "help":
            self.out(HELP)
        elif name == "as":
            self.me = self.book.person(rest)
            self.out(f"-- you are {self.book.describe(self.me)}")
        elif name == "line":
            self.line = self.book.line(rest)
            self.out(f"-- you text and call {self.book.describe(self.line)}")
        elif name == "phones":
            self.out(self.book.listing())
        elif name == "text":
            self.text(rest)
        elif name == "call":
            self.place_call()
        elif name == "press":
            self.in_call(lambda call: self.phone.press(call, rest))
        elif name == "silence":
            self.in_call(self.phone.silence)
        elif name == "record":
            self.in_call(lambda call: self.phone.record(call, rest or "https://example.org/recordings/sim.mp3"))
        elif name == "dial":
            self.in_call(lambda call: self.phone.connect(call, rest or "completed"))
        elif name == "answer":
            self.answer()
        elif name == "hangup":
            self.call = None
            self.out("  (you hang up)")
        elif name == "wait":
            deadline = time.monotonic() + float(rest or 1)
            while time.monotonic() < deadline:
                self.show_outbox()
                time.sleep(0.2)
        elif name == "waitfor":
            deadline = time.monotonic() + 30
            self.show_outbox()
            while not any(rest in (item.get("body") or "") for item in self.seen):
                if time.monotonic() > deadline:
                    self.out(f"  ! nothing containing {rest!r} was sent within 30 s")
                    break
                time.sleep(0.2)
                self.show_outbox()
        else:
            self.out(f"  unknown command /{name}; /help lists them")
        self.show_outbox()
        return True


def make_simulator(url: str, token: str, out: Callable[[str], None] = print, twilio_api: str | None = None,
                   account_sid: str | None = None, book: PhoneBook = DEMO) -> Simulator:
    session = requests.Session()
    phone = TwilioPhone(url, token, http_transport())
    outbox = TwilioApiOutbox(twilio_api, account_sid or "", token, session) if twilio_api else Outbox(url, session)
    outbox.start_at_end()
    simulator = Simulator(phone, outbox, out=out, book=book)
    simulator.me, simulator.line = book.first_staff(), book.line("staff")
    return simulator


def run_script(simulator: Simulator, lines: list[str]) -> None:
    for line in lines:
        if not simulator.command(line):
            break
    simulator.command("/wait 0.5")


def run_interactive(simulator: Simulator) -> None:
    simulator.out(f"Safe Haven phone simulator. You are {simulator.book.describe(simulator.me)}, texting "
                  f"{simulator.book.describe(simulator.line)}. /help for commands.")
    if not simulator.outbox.available:
        simulator.out("(this server is not a development server: texts it sends to others are not shown)")
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(1.0):
            simulator.show_outbox()

    threading.Thread(target=watch, daemon=True).start()
    try:
        while True:
            try:
                line = input("> ")
            except EOFError:
                break
            try:
                if not simulator.command(line):
                    break
            except (AssertionError, requests.RequestException, twiml.NotTwiML) as exc:
                simulator.out(f"  ! {exc}")
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
