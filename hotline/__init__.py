"""Safe Haven Hotline: school districts' safe-haven procedures on a phone.

The package is organised as the project's DESIGN describes: a pure flow engine (``engine``),
channels that turn Twilio webhooks into engine events (``channels``), and everything with side
effects (``incidents``, ``escalation``, ``outbound``) around it.
"""

__version__ = "0.1.0"
