#!/usr/bin/env bash
# CI: build the wheel as `python -m build` does, install it in a fresh virtual environment outside the checkout,
# then use it as an operator would: `badgehub init` from an empty folder, serve pages with gunicorn, check that
# the models and the migrations it carries agree, from another folder. Fails on any template, translation,
# static file or migration the wheel forgot.
# The fresh environment reuses the test environment's third-party packages (a .pth line) so the step runs
# offline and in seconds; BadgeHub itself comes only from the wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
# A PYTHONPATH pointing at a checkout (with its badgehub.egg-info) would make pip think the wheel is installed.
unset PYTHONPATH
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

.venv/bin/python -m build --wheel --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
.venv/bin/python -m venv --without-pip "$work/venv"
.venv/bin/python -m pip --python "$work/venv/bin/python" install -q --disable-pip-version-check --no-deps \
  --no-index "$work"/dist/badgehub-*.whl
deps=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
site=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$deps" >"$site/zz_test_dependencies.pth"

mkdir "$work/site" "$work/elsewhere"
cd "$work/site"
env -u BADGEHUB_CONFIG -u BADGEHUB_DATA_DIR -u BADGEHUB_INSTANCE_PATH -u BADGEHUB_DATABASE_URL \
  -u BADGEHUB_KEYS_DIR -u BADGEHUB_REDIS_URL PYTHONPATH= "$work/venv/bin/badgehub" init
installed=$("$work/venv/bin/python" -c 'import badgehub; print(badgehub.__file__)')
case "$installed" in "$work/venv/"*) ;; *) echo "badgehub imported from $installed, not the wheel"; exit 1;; esac
grep -qx "BADGEHUB_DATA_DIR=$work/site/instance" "$work/venv/var/badgehub-instance/badgehub.cfg"

cd "$work/elsewhere"
port=$("$work/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
env -u BADGEHUB_CONFIG PYTHONPATH= "$work/venv/bin/python" -m gunicorn --workers 1 --bind "127.0.0.1:$port" \
  --control-socket "$work/gunicorn.ctl" 'badgehub:create_app()' >"$work/gunicorn.log" 2>&1 &
server=$!
for _ in $(seq 50); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
get() { curl -fsS -o "$work/page" "$@"; }
get "http://127.0.0.1:$port/" || { cat "$work/gunicorn.log"; exit 1; }
grep -q "<html" "$work/page"
get -H "Accept-Language: fr" "http://127.0.0.1:$port/verify"   # the compiled French catalogue is in the wheel
grep -q 'lang="fr"' "$work/page" && grep -q "Vérifier" "$work/page"
get "http://127.0.0.1:$port/static/css/app.css"
test "$(curl -s -o "$work/page" -w '%{http_code}' "http://127.0.0.1:$port/no-such-page")" = 404
grep -q "<html" "$work/page"   # the error template
get "http://127.0.0.1:$port/readyz"
grep -q '"database"' "$work/page"
env -u BADGEHUB_CONFIG PYTHONPATH= "$work/venv/bin/badgehub" db check
echo "wheel: installed outside the checkout, initialised, served and migrations checked"
