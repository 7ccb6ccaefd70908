"""Voice rendering with twilio's TwiML builders: <Say> in the catalog's Twilio voice, <Play> of a
recording from messages/audio/<lang>/<key>.mp3 when one exists, <Gather> for choices and digits,
<Record> for free answers, <Dial> for hand-offs, <Hangup> at the end.

A language with neither a Twilio voice nor a recording is never read out by another language's
voice: the text is skipped (and logged), and the flows route such callers to the interpreter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from collections.abc import Callable, Iterable, Mapping

from twilio.twiml.voice_response import Gather, VoiceResponse

from ..engine import Dial, End, Input, Reply
from ..messages import Catalogs
from ..recordings import Composer, MessageRef
from .values import for_channel

log = logging.getLogger(__name__)

RECORD_MAX_SECONDS = 120


@dataclass
class VoiceSetup:
    catalogs: Catalogs
    lang: str
    default: str
    variables: Mapping[str, object]
    action_url: str                                    # where Gather/Record/Dial report back
    audio_url: Callable[[str, str], str]               # (language, key) -> URL of the recording
    dial_target: Callable[[str], tuple[str, str | None] | None]   # role -> (number, whisper URL)
    caller_id: str
    english_names: Mapping[str, str] = field(default_factory=dict)   # language code -> English name
    # language code -> the district's own recordings made by phone (recording_store.py)
    stored: Callable[[str], frozenset] = lambda lang: frozenset()


class _Speaker:
    def __init__(self, setup: VoiceSetup):
        self.setup = setup

    def speak(self, node, key: str, extra: Mapping[str, object] | None = None, lang: str | None = None,
              refs: Mapping[str, object] | None = None) -> bool:
        """Add the message to ``node`` as <Play> of its recordings or <Say>; False when it cannot be
        voiced. ``refs`` gives values as recordings know them (a label's message key)."""
        setup = self.setup
        lang = lang or setup.lang
        raw = {**setup.variables, **(extra or {}), **(refs or {})}
        # Recordings first: a whole recording, or the pieces of the language's own sentence with
        # each value from its own recordings (digits one by one, a label's recording).
        stored = setup.stored(lang)
        played = Composer(setup.catalogs, lang, stored).compose(key, raw) \
            if setup.catalogs.get(lang).audio or stored else None
        if played:
            for path in played:
                node.play(setup.audio_url(lang, path))
            return True
        values = for_channel({**setup.variables, **(extra or {})}, "voice")
        rendered = setup.catalogs.render(lang, key, values, "voice", setup.default)
        catalog = setup.catalogs.get(rendered.language)
        if catalog.voice:
            node.say(rendered.text, voice=catalog.voice.say_voice, language=catalog.voice.language)
            return True
        log.info("no voice for language=%s key=%s: not spoken", catalog.code, key)
        return False

    def can_speak(self, key: str, lang: str, extra: Mapping[str, object]) -> bool:
        catalog = self.setup.catalogs.get(lang)
        stored = self.setup.stored(lang)
        return catalog.code == lang and (catalog.voice is not None or bool(
            (catalog.audio or stored)
            and Composer(self.setup.catalogs, lang, stored).compose(key, {**self.setup.variables, **extra})))

    def never_silent(self, node) -> None:
        """Before a <Record>, when the prompt could not be voiced: the caller's own recording of a
        short line if there is one, otherwise that line in English and the language's own name, so
        nobody hears a bare beep (issue 12)."""
        setup = self.setup
        if self.speak(node, "voice.leave_message"):
            return
        english = setup.catalogs.get("en")
        voice = english.voice
        text = setup.catalogs.render("en", "voice.leave_message", {}, "voice").text
        name = setup.catalogs.get(setup.lang).name
        if voice:
            node.say(f"{text} {name}.", voice=voice.say_voice, language=voice.language)
        else:
            node.say(f"{text} {name}.")


def _gather_for(input_: Input, setup: VoiceSetup) -> Gather:
    options = dict(action=setup.action_url, method="POST", timeout=max(1, int(round(input_.timeout or 7))),
                   action_on_empty_result=True)
    if input_.expect in ("choice", "yes_no", "language"):
        count = len(input_.choices)
        options["num_digits"] = 1 if count <= 9 and all(len(c.digit) == 1 for c in input_.choices) else None
        catalog = setup.catalogs.get(setup.lang)
        if input_.expect != "language" and catalog.voice and catalog.voice.speech:
            options.update(input="dtmf speech", language=catalog.voice.speech, speech_timeout="auto")
        else:
            options["input"] = "dtmf"
    else:
        options.update(input="dtmf", finish_on_key="#")
        if input_.max_digits:
            options["num_digits"] = int(input_.max_digits)
    return Gather(**{k: v for k, v in options.items() if v is not None})


def _choices(gather: Gather, input_: Input, speaker: _Speaker, setup: VoiceSetup) -> None:
    for choice in input_.choices:
        if input_.expect == "language":
            code = choice.value or choice.label
            if speaker.can_speak("language.option", code, {"digit": choice.digit}):
                # The language's own voice, or its own recordings ("Soomaali: riix 5").
                speaker.speak(gather, "language.option", {"digit": choice.digit}, lang=code)
            else:
                name = setup.english_names.get(code, code)
                speaker.speak(gather, "language.option_named", {"digit": choice.digit, "language": name}, lang="en")
            continue
        label = choice.label if choice.literal else setup.catalogs.render(
            setup.lang, choice.label, for_channel(setup.variables, "voice"), "voice", setup.default).text
        ref = choice.label if choice.literal else MessageRef(choice.label)
        speaker.speak(gather, "format.voice_option", {"label": label, "digit": choice.digit}, refs={"label": ref})


def render_voice(items: Iterable, setup: VoiceSetup) -> VoiceResponse:
    response = VoiceResponse()
    speaker = _Speaker(setup)
    for item in items:
        if isinstance(item, Reply) and item.input is None:
            speaker.speak(response, item.key, item.vars)
        elif isinstance(item, Reply):
            input_ = item.input
            if input_.expect == "text":
                if not speaker.speak(response, item.key, item.vars):
                    speaker.never_silent(response)
                # * ends a recording too: on the staff line it is the emergency key at every step.
                response.record(action=setup.action_url, method="POST", max_length=RECORD_MAX_SECONDS,
                                finish_on_key="#*", play_beep=True, timeout=5)
            else:
                gather = _gather_for(input_, setup)
                speaker.speak(gather, item.key, item.vars)
                _choices(gather, input_, speaker, setup)
                response.append(gather)
            # Reached only when Twilio skips the action (nothing recorded): counts as silence.
            response.redirect(f"{setup.action_url}&silence=1", method="POST")
            return response
        elif isinstance(item, Dial):
            target = setup.dial_target(item.targets[0])
            if target is None:
                log.error("no number for dial target %s", item.targets[0])
                response.redirect(f"{setup.action_url}&dial=missing", method="POST")
                return response
            number, whisper = target
            dial = response.dial(action=setup.action_url, method="POST", timeout=max(5, int(item.timeout)),
                                 caller_id=setup.caller_id)
            if whisper:
                dial.number(number, url=whisper)
            else:
                dial.number(number)
            return response
        elif isinstance(item, End):
            response.hangup()
            return response
    response.hangup()
    return response
