"""Validates Kubernetes manifests offline, as kubeconform would (HelmChartTest runs it on `helm template` output).

usage: validate_k8s.py <kubernetes-version> <crd-dir> < manifests.yaml

Kubernetes' own kinds are checked strictly (unknown fields are errors) against the API's JSON schemas of that version
(kubernetes-validate); custom resources against the openAPIV3Schema of their CRD in <crd-dir>; a kind with neither is an
error. Prints one line per document and exits 1 when any is invalid.
"""
import pathlib
import sys

import jsonschema
import kubernetes_validate
import yaml


def crd_schemas(crd_dir):
    schemas = {}
    for f in pathlib.Path(crd_dir).glob("*.yaml"):
        crd = yaml.safe_load(f.read_text())
        group = crd["spec"]["group"]
        kind = crd["spec"]["names"]["kind"]
        for v in crd["spec"]["versions"]:
            schemas[(f"{group}/{v['name']}", kind)] = v["schema"]["openAPIV3Schema"]
    return schemas


def main():
    version, crd_dir = sys.argv[1], sys.argv[2]
    crds = crd_schemas(crd_dir)
    failed = 0
    for doc in yaml.safe_load_all(sys.stdin):
        if not doc:
            continue
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        key = (doc.get("apiVersion"), doc.get("kind"))
        try:
            if key in crds:
                jsonschema.validate(doc, crds[key])
            else:
                kubernetes_validate.validate(doc, version, strict=True)
            print(f"valid {name}")
        except (jsonschema.ValidationError, kubernetes_validate.utils.ValidationError) as e:
            failed += 1
            print(f"INVALID {name}: {getattr(e, 'message', e)} at {list(getattr(e, 'path', []))}")
        except kubernetes_validate.utils.SchemaNotFoundError as e:
            failed += 1
            print(f"INVALID {name}: no schema for {key} ({e})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
