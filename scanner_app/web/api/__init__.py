"""The JSON API, the CSV download and the health check."""
