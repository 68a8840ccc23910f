# Sourced by bin/test: offline validation of the chart's rendered manifests (HelmChartTest).
#  - Kubernetes' own kinds: `kubernetes-validate` from PyPI, which carries the API's JSON schemas per version
#    (strict: unknown fields are errors), in a virtualenv of its own.
#  - The two custom resources the chart can render, checked against their CRDs' OpenAPI schemas, taken from the
#    projects' Go modules on the Go module proxy: CloudNativePG's Cluster and the Prometheus operator's ServiceMonitor.
# Everything is cached under ~/.cache/m2m-trust/kube-validate and pinned.
KUBE_VALIDATE_VERSION=1.37.0
CNPG_VERSION=v1.27.1
PROMETHEUS_OPERATOR_VERSION=v0.85.0

ensure_kube_validate() {
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/m2m-trust/kube-validate"
  mkdir -p "$dir"
  if [ ! -x "$dir/venv/bin/python" ] || ! "$dir/venv/bin/python" -c "import kubernetes_validate" 2>/dev/null; then
    echo ">> installing kubernetes-validate $KUBE_VALIDATE_VERSION from PyPI" >&2
    rm -rf "$dir/venv"
    python3 -m venv "$dir/venv" >/dev/null
    "$dir/venv/bin/pip" install -q "kubernetes-validate==$KUBE_VALIDATE_VERSION" >&2
  fi
  mkdir -p "$dir/crds"
  fetch_crd "$dir" github.com/cloudnative-pg/cloudnative-pg "$CNPG_VERSION" \
    config/crd/bases/postgresql.cnpg.io_clusters.yaml
  fetch_crd "$dir" github.com/prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR_VERSION" \
    example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml
  export M2M_KUBE_VALIDATE_PYTHON="$dir/venv/bin/python"
  export M2M_KUBE_CRDS="$dir/crds"
}

fetch_crd() {
  local dir="$1" module="$2" version="$3" path="$4"
  local out="$dir/crds/$(basename "$path")"
  [ -s "$out" ] && return 0
  echo ">> fetching $(basename "$path") from $module@$version (Go module proxy)" >&2
  local zip="$dir/$(echo "$module" | tr '/' '_')-$version.zip"
  curl -fsSL -o "$zip" "https://proxy.golang.org/$module/@v/$version.zip"
  unzip -p "$zip" "$module@$version/$path" > "$out"
  rm -f "$zip"
}
