#!/bin/sh
# Run every benchmark; each prints figures and ratios, none asserts.
set -eu
python -m bench.bench_scan
python -m bench.bench_scale
python -m bench.bench_executors
python -m bench.bench_rate_limit
python -m bench.bench_history
python -m bench.bench_users
python -m bench.bench_poll
python -m bench.bench_login
python -m bench.bench_screens
