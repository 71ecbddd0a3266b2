"""A ticker's drilldown page: its puts by expiration, a chart, its covered calls."""
