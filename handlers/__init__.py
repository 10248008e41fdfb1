"""Command layer: parse command text, run it against the store, return a Reply. No Slack here."""
