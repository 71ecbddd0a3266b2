"""gunicorn settings, read by a bare ``gunicorn wsgi:app`` started in this folder.

Command-line flags and ``GUNICORN_CMD_ARGS`` override any of them, e.g. ``-w 4`` or
``GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000"``. See the README, "Production".
"""

import os

#: Only this machine: the app is meant to sit behind a reverse proxy here (in local mode it
#: has no login at all). ``PORT`` picks the port; gunicorn itself would bind 0.0.0.0:$PORT.
bind = [f"127.0.0.1:{os.environ.get('PORT', '8000')}"]

#: The threaded worker. A sync worker serves one connection at a time, so two idle
#: connections stall it until the arbiter kills it, with any scan it runs. gthread gives
#: a new connection a thread for up to 5 s to send its request, then parks it in a poller
#: until it does; kept-alive connections wait in the poller too.
worker_class = "gthread"
#: Connections served at once per worker: a browser opens up to 6, some of them idle, and
#: every tab polls. More fresh idle connections than threads delay the others by up to 5 s:
#: in production a buffering proxy in front opens none (see the README).
threads = 16
#: Workers: gunicorn's default applies (WEB_CONCURRENCY, else 1).

#: A worker whose main loop is silent this long is replaced. gthread's main loop runs apart
#: from the requests, so a slow request does not trip it.
timeout = 30
#: On TERM or HUP a worker has this long to finish: a scan stops and publishes within 5 s.
graceful_timeout = 10
#: Keep an idle connection (the proxy's, a polling browser's) open this long.
keepalive = 5

#: gunicorn's control socket (gunicornc) is not used: don't create one in $HOME.
control_socket_disable = True
# A poll names the tickers its table shows (up to 500 per page): allow the longest line.
limit_request_line = 8190
