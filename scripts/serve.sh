#!/bin/sh
# Serve the app on http://127.0.0.1:5000 (PORT to change it) with its embedded defaults.
# Redis: REDIS_URL when set; else a private redis-server when one is installed; else the
# in-process cache (the app prints a one-line warning saying how to get Redis).
set -eu
port="${PORT:-5000}"
if [ -z "${REDIS_URL:-}" ] && command -v redis-server >/dev/null 2>&1; then
    redis_port=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize no --loglevel warning &
    redis_pid=$!
    trap 'kill "$redis_pid" 2>/dev/null' EXIT INT TERM
    export REDIS_URL="redis://127.0.0.1:${redis_port}/0"
    echo "Started a private redis-server for this run on port ${redis_port}."
fi
echo "Put Scanner on http://127.0.0.1:${port}  (Ctrl-C to stop)"
# Threads, timeouts and the rest come from gunicorn.conf.py, which gunicorn reads from here.
gunicorn --bind "127.0.0.1:${port}" --workers 1 --access-logfile - wsgi:app
