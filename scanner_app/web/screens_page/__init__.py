"""The saved screens page, saving a view, and /api/screens and /api/alerts."""
