# Sourced by bin/test: an independent JOSE implementation for the ESData interop tests — panva's `jose` for
# Node.js, from the npm registry, pinned, installed once into the user's cache (like Maven's ~/.m2). Installs
# Node.js with apt when it is missing. Exports nothing; `nodejose_dir` prints the folder the tests get as
# M2M_NODE_JOSE_DIR (it holds node_modules/jose).
NODEJOSE_VERSION="6.2.17"

nodejose_dir() {
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/m2m-trust/node-jose-$NODEJOSE_VERSION"
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo ">> installing Node.js and npm with apt" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
  fi
  if [ ! -f "$dir/node_modules/jose/package.json" ]; then
    echo ">> installing jose $NODEJOSE_VERSION from npm into $dir" >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    (cd "$dir" && echo '{"name":"m2m-trust-jose-peer","private":true}' > package.json \
      && npm install --no-audit --no-fund --silent "jose@$NODEJOSE_VERSION" >&2)
  fi
  echo "$dir"
}
