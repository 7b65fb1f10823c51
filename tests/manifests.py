"""Kubernetes manifests as the tests read them: rendered, validated, indexed."""

import yaml
from helpers import run, tool


def render(tmp_path, directory):
    """kubectl kustomize's output, checked with kubernetes-validate --strict."""
    output = tmp_path / f"{directory.name}.yaml"
    output.write_text(run(tool("kubectl"), "kustomize", directory).stdout)
    run(tool("kubernetes-validate"), "--strict", "--quiet", output)
    documents = yaml.safe_load_all(output.read_text())
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in documents}


def container(manifests, name):
    [spec] = manifests["Deployment", name]["spec"]["template"]["spec"]["containers"]
    return spec
