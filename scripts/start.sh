#!/usr/bin/env bash
# Sets the machine up and starts the local runtime on 127.0.0.1:49982 (state in /var/lib/e2b-local).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node runtime/dist/cli.js up "$@"
