#!/bin/sh
# forwardauth.sh [COUNT] runs the /auth/request benchmarks of README.md
# ("Forward auth: /auth/request against a bare handler") COUNT times
# (default 5): the saturating run against the ceiling, then the paced
# latency runs. It prints the load average before each run, since on a
# shared machine a run under a busy neighbour says little. Redis comes from
# GATEWAY_TEST_REDIS_URL (default redis://127.0.0.1:6379/15).
set -eu
cd "$(dirname "$0")"
: "${GATEWAY_TEST_REDIS_URL:=redis://127.0.0.1:6379/15}"
export GATEWAY_TEST_REDIS_URL
count=${1:-5}
bin=$(mktemp "${TMPDIR:-/tmp}/forwardauth-bench.XXXXXX")
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" .
go version
nproc
for i in $(seq "$count"); do
	echo "# run $i, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	"$bin" -test.run '^$' -test.bench 'AuthRequestVersusCeiling' -test.benchtime 20000x | grep '^Benchmark'
	"$bin" -test.run '^$' -test.bench 'AuthRequestLatency' -test.benchtime 10000x | grep '^Benchmark'
done
