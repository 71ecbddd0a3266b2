"""Running scans and keeping their results."""
