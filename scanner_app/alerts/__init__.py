"""Alerts of the saved screens after a completed scan: evaluation, the dedupe ledger, the
message, Apprise delivery with retries, and the delivery threads."""
