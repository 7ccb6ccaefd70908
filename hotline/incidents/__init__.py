"""The incident domain: records and their timeline (store), the state model (states) and the
changes it allows (changes), escalation tier by tier (escalation), who was reached (contacts), the
notices that follow (notices), send-once bookkeeping (ledger) and the reconciler.

Modules here import downward only: records and ledger at the bottom, then contacts, notices,
escalation and changes; reconciler on top. They enqueue jobs by name (queueing.py) and never
import the job entry points or the conversation layer.
"""
