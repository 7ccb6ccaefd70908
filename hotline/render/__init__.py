"""Turning the engine's replies into what a channel sends: SMS text or voice TwiML."""
