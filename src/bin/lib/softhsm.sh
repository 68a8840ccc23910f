# Sourced by bin/run, bin/test and bin/bench: installs SoftHSM2 + OpenSC when missing and initialises a
# fresh token in a folder of the project. Exports SOFTHSM2_CONF (every JVM that opens the token needs it
# in its environment), M2M_HSM_PIN and M2M_HSM_PROVIDER_CONFIG.
# Usage: softhsm_fresh_token <dir> <label>

ensure_packages() {
  local missing=()
  [ -e /usr/lib/softhsm/libsofthsm2.so ] || missing+=(softhsm2)
  command -v pkcs11-tool >/dev/null 2>&1 || missing+=(opensc)
  if [ ${#missing[@]} -gt 0 ]; then
    echo ">> installing ${missing[*]} with apt-get"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

softhsm_fresh_token() {
  local dir="$1" label="$2"
  ensure_packages
  rm -rf "$dir"
  mkdir -p "$dir/tokens"
  cat > "$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
  export SOFTHSM2_CONF="$dir/softhsm2.conf"
  # Local/test PINs only: production PINs come from a Secret (see docs/operations.md).
  export M2M_HSM_PIN="${M2M_HSM_PIN:-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
  local so_pin
  so_pin="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  softhsm2-util --init-token --free --label "$label" --so-pin "$so_pin" --pin "$M2M_HSM_PIN" >/dev/null
  echo "$M2M_HSM_PIN" > "$dir/user.pin"
  chmod 600 "$dir/user.pin"
  export M2M_HSM_PIN_FILE="$dir/user.pin"
  export M2M_HSM_PROVIDER_CONFIG="${M2M_HSM_PROVIDER_CONFIG:-$PWD/hsm-config/softhsm2.cfg}"
}

# JVM flags that let the HSM layer re-initialise the PKCS#11 module after an outage and count SunPKCS11's sessions
# (ADR 0002).
export M2M_JVM_OPENS="--add-opens=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED --add-opens=jdk.crypto.cryptoki/sun.security.pkcs11=ALL-UNNAMED"

temurin_home() {
  local d
  for d in /usr/lib/jvm/temurin-25* /usr/lib/jvm/temurin-2[1-9]* /usr/lib/jvm/java-2[1-9]-openjdk*; do
    [ -x "$d/bin/java" ] && { echo "$d"; return 0; }
  done
  return 1
}
