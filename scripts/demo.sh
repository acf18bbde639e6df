#!/usr/bin/env bash
# Quickstart, first command: install BadgeHub in .venv, seed the demo territory on SQLite, serve on :5000.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
ensure_venv ""
exec .venv/bin/badgehub demo "$@"
