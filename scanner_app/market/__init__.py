"""Everything that talks to, or imitates, an options market."""
