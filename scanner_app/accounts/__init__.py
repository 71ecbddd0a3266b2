"""Accounts: the people who use the scanner, their passwords and roles, kept in the database."""
