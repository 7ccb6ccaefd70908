"""Property tests of the engine: any sequence of texts, digits, media, recordings, dial results and
timeouts, in any language, on any flow, by text or by voice: never an exception, always something
to say or a reason to be quiet, the state always JSON, and every reply renders in both channels."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.content import flows_dir, messages_dir
from hotline.engine import ActionSlot, Context, Dial, End, Event, Reply, load_flows, new_state, start, step
from hotline.messages import load_catalogs
from hotline.render.sms import render_sms
from hotline.render.voice import VoiceSetup, render_voice
from hotline.sim import twiml

FLOWS = load_flows(flows_dir())
CATALOGS = load_catalogs(messages_dir())
LANGUAGES = CATALOGS.codes
LISTS = {"schools": [("lincoln", "Lincoln Elementary"), ("roosevelt", "Roosevelt High")],
         "languages": [(code, CATALOGS.get(code).name) for code in LANGUAGES]}

answers = st.one_of(
    st.sampled_from(["1", "2", "3", "0", "9", "4821", "7205550177", "MENU", "ICE", "yes", "no", ""]),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=700),
)
events = st.one_of(
    st.builds(lambda t: Event("text", text=t), answers),
    st.builds(lambda t: Event("digits", text=t), st.text(alphabet="0123456789#*", max_size=12)),
    st.builds(lambda n: Event("media", media=tuple(f"https://api.twilio.com/m/{i}" for i in range(n))),
              st.integers(0, 3)),
    st.builds(lambda: Event("recording", recording="https://api.twilio.com/recordings/RE1")),
    st.builds(lambda s: Event("dial_result", status=s), st.sampled_from(["completed", "no-answer", "busy", "failed"])),
    st.just(Event.timeout()),
)


def context(channel: str, facts: dict[str, bool]) -> Context:
    return Context(channel=channel, facts=facts, lists=LISTS, yes_words=frozenset({"yes"}),
                   no_words=frozenset({"no"}), staff_code="4821")


def render_both(items: list, lang: str) -> None:
    replies = [i for i in items if not isinstance(i, ActionSlot)]
    variables = {"incident": "101", "reference": "1001"}
    texts = render_sms(replies, CATALOGS, lang, "en", variables)
    for item in (r for r in replies if isinstance(r, Reply)):
        assert CATALOGS.render(lang, item.key, variables).text.strip(), f"{item.key} renders blank in {lang}"
    assert all(text.strip() for text in texts)
    setup = VoiceSetup(CATALOGS, lang, "en", variables, "/voice/step?seq=1", lambda code, key: f"/audio/{code}/{key}.mp3",
                       lambda role: ("+13035550110", None), "+13035550100")
    twiml.voice_turn(str(render_voice(replies, setup)))       # valid TwiML


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flow_id=st.sampled_from(sorted(FLOWS.flows)), lang=st.sampled_from(LANGUAGES),
       channel=st.sampled_from(["sms", "voice"]),
       facts=st.fixed_dictionaries({name: st.booleans() for name in (
           "is_staff", "language_chosen", "single_language", "voice_unavailable", "office_open", "on_voice")}),
       sequence=st.lists(events, max_size=25))
def test_any_events_on_any_flow_in_any_language(flow_id, lang, channel, facts, sequence):
    flow = FLOWS[flow_id]
    facts = {**facts, "on_voice": channel == "voice"}
    ctx = context(channel, facts)
    outcome = start(flow, new_state(flow, lang), ctx)
    assert outcome.replies, f"{flow_id} says nothing when it starts"
    render_both(outcome.replies, outcome.state["lang"])
    state = outcome.state
    for event in sequence:
        outcome = step(flow, state, event, ctx)
        json.dumps(outcome.state)
        if event.kind != "timeout":
            assert outcome.replies, f"{flow_id}: no reply to {event}"
        else:
            # Quiet is allowed only where the flow chose to end quietly (a text conversation timing out).
            assert outcome.replies or outcome.state["done"]
        assert all(isinstance(i, (Reply, ActionSlot, Dial, End)) for i in outcome.replies)
        render_both(outcome.replies, outcome.state["lang"])
        state = outcome.state
