#!/usr/bin/env bash
# Every benchmark, one after the other (they share the machine's cores), then the README table:
# the runtime's (official SDKs against real containers, each row beside the SDK's floor), Podman's
# on the same root filesystem (what a Linux user would run instead), and the extension's (inside
# code-server). Each prints one JSON object and keeps it in .cache/bench. `--write` puts the table
# into README.md. BENCH_ONLY="podman sandbox-latency …" runs only those; the counts come from
# BENCH_* variables (BENCH_IDLE_SANDBOXES, BENCH_SEQUENTIAL, BENCH_BURST, BENCH_PODMAN_IDLE, …; see
# each benchmark's header) for a quick run on a loaded machine.
set -euo pipefail
cd "$(dirname "$0")/.."
# Every runtime started from here (tests, benchmarks, the extension's auto-start) gets no uplink:
# sandboxes on a test machine never send a packet off it.
export E2B_RUNTIME_UPLINK=none
RUNTIME_BENCHES=(sandbox-latency command-cost podman code-interpreter-latency pause-latency snapshot-latency idle-memory noisy-neighbour network-latency)

selected() {
  [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]
}

# Podman is for this comparison only (scripts/setup.sh does not install it for users): Debian's
# package, without its recommends (no network helpers: its containers run with --network none).
# When it cannot be installed, the Podman benchmark says why in one line and the rest goes on.
ensure_podman() {
  command -v podman >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -ne 0 ]; then
    export E2B_BENCH_PODMAN_SKIP='podman is not installed, and installing it needs root'
    return 0
  fi
  echo 'bench: installing podman (apt-get, for the benchmark only)' >&2
  local log
  log=$(mktemp)
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends podman >"$log" 2>&1; then
    if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends podman; } >"$log" 2>&1; then
      export E2B_BENCH_PODMAN_SKIP="apt-get install podman failed: $(tail -n 1 "$log")"
    fi
  fi
  rm -f "$log"
}

bash scripts/setup.sh
node runtime/dist/cli.js build --images-dir "${E2B_TEST_IMAGES_DIR:-/var/lib/e2b-local/images}" --image base --image code-interpreter-v1 --image mcp-gateway
if selected podman; then ensure_podman; fi
# A benchmark that fails does not stop the others: the table marks its rows (a result kept from an
# earlier run says so), and the run exits non-zero at the end.
BENCH_STARTED=$(date +%s%3N)
export BENCH_STARTED
failed=()
for bench in "${RUNTIME_BENCHES[@]}"; do
  if selected "$bench"; then (cd runtime && node --import tsx "bench/$bench.ts") || failed+=("$bench"); fi
done
if selected extension; then npx tsx test/bench/extension-bench.ts || failed+=(extension); fi
node scripts/bench-table.mjs "$@"
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench: these benchmarks failed (their output above says why): ${failed[*]}" >&2
  exit 1
fi
