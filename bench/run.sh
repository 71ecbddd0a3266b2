#!/bin/sh
# Run every benchmark; each prints figures and ratios, none asserts.
set -eu
python -m bench.bench_scan
if [ -f bench/bench_web.py ]; then python -m bench.bench_web; fi
