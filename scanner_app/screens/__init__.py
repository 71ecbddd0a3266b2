"""Saved screens: the filter parser the dashboard and the matcher share, the screens'
store, and the one-pass matcher that finds which contracts meet each screen."""
