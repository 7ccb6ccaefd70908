"""Twilio-facing webhooks: SMS, voice, delivery status."""
