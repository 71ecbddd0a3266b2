"""The dashboard: the results page, the Calls tab, and the Scan button with its status poll."""
