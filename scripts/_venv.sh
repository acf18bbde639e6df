# Shared by scripts/demo.sh and scripts/test.sh: a virtual environment in .venv with BadgeHub installed.
ensure_venv() {
  local extras="$1"
  if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv 2>/dev/null; then
      # Debian's system Python ships venv separately.
      as_root apt-get update -q && as_root apt-get install -y -q python3-venv
      python3 -m venv .venv
    fi
  fi
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}
