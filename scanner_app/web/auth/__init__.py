"""Login: the login page, session records, the login gate, the throttle, security headers."""
