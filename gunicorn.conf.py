"""gunicorn settings, read by a bare ``gunicorn wsgi:app`` started in this folder.

Command-line flags and ``GUNICORN_CMD_ARGS`` override any of them, e.g. ``-w 4`` or
``GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000"``. See the README, "Production".
"""

import functools
import logging
import os
import signal

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
#: On TERM or HUP a worker has this long to finish its requests. A scan it runs stops at
#: once and gets ``STOP_SECONDS`` (5 s) to publish, report itself interrupted and free the
#: lock (the hooks below), well within this.
graceful_timeout = 10
#: Keep an idle connection (the proxy's, a polling browser's) open this long.
keepalive = 5

#: gunicorn's control socket (gunicornc) is not used: don't create one in $HOME.
control_socket_disable = True
# A poll names the tickers its table shows (up to 500 per page): allow the longest line.
limit_request_line = 8190


# A scan running in a worker's thread stops when the worker is told to: it publishes what it
# has, reports itself interrupted and frees the lock, so a restart can scan again at once.
# The imports wait until a worker runs the hook: the arbiter never loads the app.


def post_worker_init(worker):
    """The app logs (INFO and up) to gunicorn's error log. SIGTERM (the arbiter's TERM, or
    HUP's replacement of old workers) stops the worker's scans at once, then lets gunicorn's
    graceful stop go on. SIGINT and SIGQUIT run gunicorn's quick stop once, however many
    arrive."""
    from scanner_app.scan.stopping import stop_scans

    app_log = logging.getLogger("scanner_app")
    app_log.setLevel(logging.INFO)
    for handler in worker.log.error_log.handlers:
        app_log.addHandler(handler)

    graceful = signal.getsignal(signal.SIGTERM)

    def stop_then_exit(number, frame):
        stop_scans()
        graceful(number, frame)

    signal.signal(signal.SIGTERM, stop_then_exit)
    signal.siginterrupt(signal.SIGTERM, False)  # as gunicorn has it: requests go on

    # The quick stop (SIGINT, SIGQUIT), once however many signals arrive: Ctrl-C reaches the
    # whole terminal's group, so a worker gets SIGINT from the terminal and SIGQUIT from the
    # arbiter. gthread's own handler shuts its thread pool down inside the handler, taking
    # the pool's lock, which the interrupted main thread may hold (handing a connection to
    # the pool) or a first stop holds (the second signal): the worker hangs until the
    # arbiter kills it ("Worker (pid:...) was sent SIGKILL! Perhaps out of memory?"). The
    # generic quick stop (worker_int, then exit) needs no lock, and the interpreter's exit
    # winds the pool down anyway.
    from gunicorn.workers.base import Worker
    from gunicorn.workers.gthread import ThreadWorker

    quick_stop = signal.getsignal(signal.SIGQUIT)
    if isinstance(worker, ThreadWorker):
        quick_stop = functools.partial(Worker.handle_quit, worker)
    stopping = []

    def stop_once(number, frame):
        if stopping:
            return
        stopping.append(number)
        quick_stop(number, frame)

    signal.signal(signal.SIGQUIT, stop_once)
    signal.signal(signal.SIGINT, stop_once)


def stop_worker_scans(worker):
    """SIGINT or SIGQUIT (the arbiter's quick stop), SIGABRT (a timeout): stop the worker's
    scans before gunicorn exits it; worker_exit waits for them."""
    from scanner_app.scan.stopping import stop_scans

    stop_scans()


worker_int = stop_worker_scans
worker_abort = stop_worker_scans


def worker_exit(server, worker):
    """Before the worker exits, give its scans up to STOP_SECONDS to report themselves."""
    from scanner_app.scan.stopping import stop_scans, wait_for_scans

    stop_scans()
    wait_for_scans()
