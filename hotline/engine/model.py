"""What a flow is made of, once loaded: steps with readable ids, each of one kind.

Flows are written in YAML (docs/flows.md); this module is only the in-memory form. A step's kind
is named by the key that introduces it: ``say``, ``ask``, ``menu``, ``do``, ``if``, ``goto``,
``dial`` or ``end``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STEP_KINDS = ("say", "ask", "menu", "do", "if", "goto", "dial", "end")
WAITING_KINDS = ("ask", "menu", "dial")
CHANNELS = ("sms", "voice")

# How long a channel waits for an answer before the step's timeout route runs. SMS timeouts are
# RQ scheduled jobs; voice timeouts are <Gather timeout>, and a silent caller is re-prompted
# (each silence counts as an attempt) before the route runs.
DEFAULT_TIMEOUT = {"sms": 30 * 60.0, "voice": 7.0}
DEFAULT_ATTEMPTS = 3
DEFAULT_SESSION_TTL = {"sms": 12 * 3600.0, "voice": 30 * 60.0}


@dataclass(frozen=True)
class Option:
    label: str          # catalog key shown/spoken for the option
    next: str           # step to go to
    digit: str          # what the caller presses or texts
    value: str | None = None   # what is saved/recorded when the option is chosen


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    say: tuple[str, ...] = ()          # message keys sent when the step runs
    vars: dict = field(default_factory=dict)    # fixed variables for those messages
    prompt: str | None = None          # ask/menu: the question's key
    expect: str | None = None          # ask: validator name
    limits: dict = field(default_factory=dict)  # ask: validator settings (max_length, optional, from, ...)
    save: str | None = None            # ask/menu: answer name in the conversation
    record: bool = False               # ask/menu: also record the answer on the current incident
    options: tuple[Option, ...] = ()   # menu
    action: str | None = None          # do
    args: dict = field(default_factory=dict)
    condition: str | None = None       # if
    then: str | None = None
    otherwise: str | None = None
    targets: tuple[str, ...] = ()      # dial: contact roles or ids, tried in order
    next: str | None = None
    on_timeout: str | None = None
    on_fail: str | None = None
    on_no_answer: str | None = None    # dial: when nobody answered
    timeout: dict = field(default_factory=dict)   # channel -> seconds
    attempts: int = DEFAULT_ATTEMPTS
    only: str | None = None            # run on this channel only; skipped (to next) on the other

    def wait_seconds(self, channel: str) -> float:
        return float(self.timeout.get(channel, DEFAULT_TIMEOUT[channel]))

    def routes(self) -> list[tuple[str, str]]:
        """(route name, step id) for every step this one can lead to."""
        found = [(name, getattr(self, attr)) for name, attr in (
            ("next", "next"), ("then", "then"), ("else", "otherwise"), ("on_timeout", "on_timeout"),
            ("on_fail", "on_fail"), ("on_no_answer", "on_no_answer"))]
        found += [(f"options[{i}].next", option.next) for i, option in enumerate(self.options)]
        return [(name, target) for name, target in found if target]


@dataclass(frozen=True)
class Flow:
    id: str
    file: str
    start: str
    steps: dict[str, Step]
    session_ttl: dict[str, float]
    description: str = ""

    def step(self, step_id: str) -> Step:
        return self.steps[step_id]
