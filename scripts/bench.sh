#!/usr/bin/env bash
# Every benchmark, one after the other (they share the machine's cores), then the README table:
# the runtime's (official SDKs against real containers) and the extension's (inside code-server).
# Each prints one JSON object and keeps it in .cache/bench; BENCH_IDLE_SANDBOXES sets the size of
# the idle-memory run (default 500). `--write` puts the table into README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# Every runtime started from here (tests, benchmarks, the extension's auto-start) gets no uplink:
# sandboxes on a test machine never send a packet off it.
export E2B_RUNTIME_UPLINK=none

bash scripts/setup.sh
node runtime/dist/cli.js build --images-dir "${E2B_TEST_IMAGES_DIR:-/var/lib/e2b-local/images}" --image base --image code-interpreter-v1 --image mcp-gateway
(cd runtime && node --import tsx bench/sandbox-latency.ts)
(cd runtime && node --import tsx bench/command-cost.ts)
(cd runtime && node --import tsx bench/code-interpreter-latency.ts)
(cd runtime && node --import tsx bench/pause-latency.ts)
(cd runtime && node --import tsx bench/snapshot-latency.ts)
(cd runtime && node --import tsx bench/idle-memory.ts)
(cd runtime && node --import tsx bench/noisy-neighbour.ts)
(cd runtime && node --import tsx bench/network-latency.ts)
npx tsx test/bench/extension-bench.ts
node scripts/bench-table.mjs "$@"
