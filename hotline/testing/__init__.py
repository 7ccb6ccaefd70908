"""Test-support code shipped with the hotline: a local Twilio-compatible server and webhook signing."""
