#!/usr/bin/env bash
# Quickstart, second command: install everything the tests need on a fresh machine, then run them.
#   - the package with its test extras in .venv
#   - the independent JavaScript Open Badges implementation (npm registry) for the interop tests
#   - Debian's Chromium for the browser tests (never a downloaded browser)
# Extra arguments go to pytest. BADGEHUB_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres
# runs the same suite on PostgreSQL.
# BADGEHUB_TEST_INSTALLED=1 skips the installs (CI's later runs reuse what its first run installed).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
if [ -z "${BADGEHUB_TEST_INSTALLED:-}" ]; then
  ensure_venv "[test]"
  if [ -f tests/interop/package-lock.json ]; then
    npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
  fi
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
  if [ ! -x /usr/bin/chromium ]; then
    as_root apt-get update -q && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  fi
fi
# pytest rewrites the asserts of ~450 modules (tests, conftests, the hypothesis plugin) in every test process and
# caches the result in __pycache__; with PYTHONDONTWRITEBYTECODE set (as on some machines) nothing is cached and
# each process pays it again, about 8 s of CPU. __pycache__ is ignored by git.
unset PYTHONDONTWRITEBYTECODE
exec .venv/bin/pytest -n "${BADGEHUB_TEST_WORKERS:-2}" "$@"
