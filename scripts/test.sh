#!/usr/bin/env bash
# The whole test suite on a clean machine: installs what is missing (Debian packages, npm
# packages, code-server), builds the sandbox image (cached in /var/lib/e2b-local/images), then
# lints and format-checks the code, runs the runtime tests (unit, then official SDK against real
# containers), the extension's unit tests, and the extension-host tests inside a real VS Code, the
# first run of the packaged .vsix in a clean one, journeys through the workbench that reload the
# window, and `npm start` from an empty VS Code cache. Ends with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
# Every runtime started from here (tests, benchmarks, the extension's auto-start) gets no uplink:
# sandboxes on a test machine never send a packet off it.
export E2B_RUNTIME_UPLINK=none

bash scripts/setup.sh || exit 1
node runtime/dist/cli.js build --images-dir "${E2B_TEST_IMAGES_DIR:-/var/lib/e2b-local/images}" --image base --image code-interpreter-v1 --image mcp-gateway || exit 1
npm run --silent typecheck || exit 1

logs=$(mktemp -d)
passed=0
failed=0
count_node_tests() { # adds up node:test's "# pass N" / "# fail N" summary lines; $2: its exit status
  local p f
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$1" | tail -1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$1" | tail -1)
  if [ -z "$p" ] || [ -z "$f" ]; then
    echo "$1: the test run ended without a summary"
    failed=$((failed + 1))
    return
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  # A failing hook or suite shows only in the exit status.
  if [ "${2:-0}" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "$1: the run failed outside any test (exit status $2)"
    failed=$((failed + 1))
  fi
}

count_summary_line() { # adds up a driver's "<label>: N passed, N failed" line
  local line
  line=$(grep -E "^$1: [0-9]+ passed, [0-9]+ failed" "$2" | tail -1)
  if [ -z "$line" ]; then
    echo "$1: the run did not report results"
    failed=$((failed + 1))
    return
  fi
  passed=$((passed + $(echo "$line" | sed "s/^$1: \\([0-9]*\\) passed.*/\\1/")))
  failed=$((failed + $(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')))
}

echo "== lint (ESLint) and format (Prettier)"
# Each counts as one check: a report here fails the run but does not stop the tests behind it.
if npm run --silent lint; then passed=$((passed + 1)); else
  echo "lint: ESLint reported problems (above; 'npx eslint --fix .' fixes some)"
  failed=$((failed + 1))
fi
if npm run --silent format:check; then passed=$((passed + 1)); else
  echo "format: files differ from Prettier's layout (above; 'npm run format' rewrites them)"
  failed=$((failed + 1))
fi

echo "== runtime: unit tests (protocol parsers, the extension contract; no root)"
(cd runtime && node --import tsx --test test/unit/*.test.ts) 2>&1 | tee "$logs/runtime-unit.log"
count_node_tests "$logs/runtime-unit.log" "${PIPESTATUS[0]}"

echo "== runtime: official SDK against real containers"
# Each test file starts its own runtime, so files run in parallel.
(cd runtime && node --import tsx --test --test-concurrency="${E2B_TEST_CONCURRENCY:-3}" test/*.test.ts) 2>&1 | tee "$logs/runtime.log"
count_node_tests "$logs/runtime.log" "${PIPESTATUS[0]}"

echo "== extension: unit tests"
node --import tsx --test test/unit/*.test.ts 2>&1 | tee "$logs/unit.log"
count_node_tests "$logs/unit.log" "${PIPESTATUS[0]}"

echo "== extension: inside a real VS Code (code-server) against the local runtime"
npx tsx test/vscode/run-vscode-tests.ts 2>&1 | tee "$logs/vscode.log"
count_summary_line vscode "$logs/vscode.log"

echo "== extension: first run of the packaged .vsix in a clean VS Code (bundled runtime auto-started)"
npx tsx test/first-run/run-first-run.ts 2>&1 | tee "$logs/first-run.log"
count_summary_line first-run "$logs/first-run.log"

echo "== journeys: the workbench driven as a user drives it, through window reloads"
node --import tsx --test test/journeys/*.test.ts 2>&1 | tee "$logs/journeys.log"
count_node_tests "$logs/journeys.log" "${PIPESTATUS[0]}"

echo "== npm start from an empty VS Code cache: code-server installed whole, the E2B view connected"
node --import tsx --test test/setup/npm-start.test.ts 2>&1 | tee "$logs/npm-start.log"
count_node_tests "$logs/npm-start.log" "${PIPESTATUS[0]}"

rm -rf "$logs"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
