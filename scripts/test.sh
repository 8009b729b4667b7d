#!/usr/bin/env bash
# The whole test suite: sets the machine up (packages, npm, images), then runs every test against
# real containers. Images are cached under /var/lib/e2b-local/images between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
node runtime/dist/cli.js build --images-dir "${E2B_TEST_IMAGES_DIR:-/var/lib/e2b-local/images}"

cd runtime
# Each test file starts its own runtime, so files run in parallel.
node --import tsx --test --test-concurrency="${E2B_TEST_CONCURRENCY:-3}" test/*.test.ts
