#!/bin/sh
# Serve the app on http://127.0.0.1:5000 (PORT to change it) with its embedded defaults.
# Redis: REDIS_URL when set; else a private redis-server when one is installed, whose URL
# and process id go to <instance folder>/run-redis.json so that a `flask` command run
# beside this one uses the same Redis; else the in-process cache (the app prints a
# one-line warning saying how to get Redis).
# Quiet by default: gunicorn logs warnings and errors only, no line per request;
# LOG_LEVEL=info (or debug) brings back its info lines and the access log.
# Ctrl-C stops the server and the private redis-server, and ends with status 0; gunicorn
# ending otherwise (a worker that cannot boot, say) ends this with gunicorn's status.
# A taken port: one line, and status 0.
set -eu
# Ctrl-C reaches every process of the terminal's group: gunicorn stops its workers and
# ends with 0, redis-server stops, and this shell, which ignores it, waits for them,
# cleans up and ends with gunicorn's 0, so make (which runs it with exec) reports no error.
trap '' INT
port="${PORT:-5000}"
log_level="${LOG_LEVEL:-warning}"
instance="${INSTANCE_PATH:-$(pwd)/instance}"
record="${instance}/run-redis.json"

if ! python -c 'import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$port"; then
    echo "Port ${port} is taken (another make run?): choose another with  make run PORT=5001"
    exit 0
fi

if [ -z "${REDIS_URL:-}" ] && command -v redis-server >/dev/null 2>&1; then
    mkdir -p "$instance"
    redis_port=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize no --loglevel warning --logfile "${instance}/redis-server.log" &
    redis_pid=$!
    export REDIS_URL="redis://127.0.0.1:${redis_port}/0"
    printf '{"url": "%s", "pid": %s}\n' "$REDIS_URL" "$redis_pid" > "$record"
    trap 'rm -f "$record"; kill "$redis_pid" 2>/dev/null || true' EXIT
    echo "Started a private redis-server for this run on port ${redis_port}."
fi

access_log=""
case "$log_level" in
    info|debug) access_log="--access-logfile -" ;;
esac
echo "Put Scanner on http://127.0.0.1:${port}  (Ctrl-C to stop; PORT=... for another port)"
# Threads, timeouts and the rest come from gunicorn.conf.py, which gunicorn reads from here.
# Its status is this script's (set -e; the EXIT trap above still cleans up).
# shellcheck disable=SC2086  # access_log is empty or two words
gunicorn --bind "127.0.0.1:${port}" --workers 1 --log-level "$log_level" $access_log wsgi:app
