#!/usr/bin/env bash
# Throughput of `mailward trace --json FILE > /dev/null` over a generated mbox:
# one core (taskset -c 0 and --threads 1) and all cores. Usage: bench/trace.sh [COUNT]
# TRACE_ARGS adds options: `TRACE_ARGS=--headers-only bench/trace.sh` measures the header
# analysis alone (the default reads bodies too: links, attachments, the verdict).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-100000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target-trace}
# Two builds: `--example` restricts target selection for every package named with `-p`,
# so one command would build only the example and measure a stale `mailward` binary.
cargo build --release -q -p mailward --bin mailward
cargo build --release -q -p mailward-trace --example gen_mbox
BIN=$CARGO_TARGET_DIR/release/mailward
WORK=${BENCH_DIR:-$(mktemp -d)}
MBOX=$WORK/bench-$COUNT.mbox
if [ ! -s "$MBOX" ]; then
  "$CARGO_TARGET_DIR/release/examples/gen_mbox" "$MBOX" "$COUNT"
fi
BYTES=$(stat -c %s "$MBOX")
MSGS=$(grep -c '^From ' "$MBOX")
echo "mbox: $MBOX  $MSGS messages  $((BYTES / 1048576)) MiB"
# Warm the page cache so both runs measure parsing, not the disk.
cat "$MBOX" > /dev/null

run() { # label, command...
  local label=$1; shift
  local start end secs
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc -l)
  printf '%-28s %8.3f s  %10.0f msg/s  %8.1f MB/s\n' "$label" "$secs" \
    "$(echo "$MSGS / $secs" | bc -l)" "$(echo "$BYTES / 1000000 / $secs" | bc -l)"
}

if command -v taskset > /dev/null; then
  run "1 core (taskset, 1 thread)" taskset -c 0 "$BIN" trace --json ${TRACE_ARGS:-} --threads 1 "$MBOX"
else
  run "1 thread" "$BIN" trace --json ${TRACE_ARGS:-} --threads 1 "$MBOX"
fi
run "all cores ($(nproc))" "$BIN" trace --json ${TRACE_ARGS:-} "$MBOX"
