# Sourced by scripts/demo and scripts/test: a virtualenv at $VENV (default .venv) on a
# supported Python, installed once and again only when pyproject.toml changes.
#
# OCPO_PYTHON names the interpreter to build it with; otherwise the first supported one
# of python3.13, python3.12, python3.11 and python3 on PATH.

VENV="${OCPO_VENV:-.venv}"
SUPPORTED="3.11, 3.12 or 3.13"   # as pyproject.toml's requires-python = ">=3.11,<3.14"

supported_python() {
  [ -x "$(command -v "$1" 2>/dev/null)" ] \
    && "$1" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 14) else 1)' 2>/dev/null
}

pick_python() {
  local candidate
  for candidate in ${OCPO_PYTHON:-python3.13 python3.12 python3.11 python3}; do
    if supported_python "$candidate"; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "no supported Python found (ocpo-coord needs Python $SUPPORTED): install one, or name it with OCPO_PYTHON=/path/to/python3.12" >&2
  return 1
}

# What an install depends on: the project's declared dependencies, the extras, the interpreter.
install_id() {
  { cat pyproject.toml; echo "extras=$1"; "$VENV/bin/python" -VV; } | cksum | cut -d' ' -f1
}

# ensure_venv EXTRAS: EXTRAS is "" or "[dev]".
ensure_venv() {
  local extras="$1" python stamp="$VENV/.ocpo-installed"
  if [ -e "$VENV" ] && ! supported_python "$VENV/bin/python"; then
    echo "$VENV was built by an unsupported or missing Python; rebuilding it with Python $SUPPORTED" >&2
    rm -rf "$VENV"
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    python="$(pick_python)" || exit 1
    "$python" -m venv "$VENV"
  fi
  if [ -f "$stamp" ] && grep -qx "$(install_id "$extras")" "$stamp"; then
    return 0
  fi
  echo "installing ocpo-coord$extras into $VENV (again only when pyproject.toml changes)" >&2
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e ".$extras"
  # A development install also holds everything the demo needs.
  { install_id "$extras"; [ "$extras" = "[dev]" ] && install_id ""; } > "$stamp"
  return 0
}

# port_free PORT: say in one line when another program already listens there.
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    echo "port $1 is already in use on 127.0.0.1: stop what uses it, or choose another port, e.g. OCPO_PORT=$(($1 + 1)) ./scripts/demo" >&2
    return 1
  fi
}
