"""The flow engine: flows as data, walked by a pure function.

Nothing in this package imports Flask, Redis or Twilio (tests/test_engine_purity.py checks), so
every flow can be tested with plain data and property tests.
"""

from .flows import FlowSet, Vocabulary, load_flows
from .keywords import KeywordMatch, KeywordTable, normalize, reserved_word, words
from .model import Flow, Option, Step
from .runtime import (Action, ActionSlot, Choice, Context, Dial, End, Event, Input, Outcome, Reply, new_state, start,
                      step, timeout_is_quiet)

__all__ = [
    "Action", "ActionSlot", "Choice", "Context", "Dial", "End", "Event", "Flow", "FlowSet", "Input", "KeywordMatch",
    "KeywordTable", "Option", "Outcome", "Reply", "Step", "Vocabulary", "load_flows", "new_state", "normalize",
    "reserved_word", "start", "step", "timeout_is_quiet", "words",
]
