# Sourced by bin/test: the ACME oneM2M CSE (https://github.com/ankraft/ACME-oneM2M-CSE, from PyPI) that the
# proxy tests put behind m2m-trust as a real, standards-conforming CSE. Installed once into a virtualenv in
# the user's cache (like Maven's ~/.m2), pinned; exports M2M_ACMECSE_PYTHON for the tests.
ACMECSE_VERSION="2026.5.3"

acmecse_python() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/m2m-trust/acmecse-$ACMECSE_VERSION"
  if ! "$venv/bin/python" -c 'import acmecse' >/dev/null 2>&1; then
    echo ">> installing the ACME CSE $ACMECSE_VERSION from PyPI into $venv" >&2
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
      local sudo=""
      [ "$(id -u)" -eq 0 ] || sudo="sudo"
      $sudo apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
    fi
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check "acmecse==$ACMECSE_VERSION" >&2
  fi
  echo "$venv/bin/python"
}
