"""ci/kubernetes: a Locust master and N workers that fit together, valid against Kubernetes' own
OpenAPI schemas (kubernetes-validate ships them; no cluster needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from sloguard.config import load_config
from sloguard.load.plan import check_allowed

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "ci" / "kubernetes"


def _docs() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(FOLDER.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _one(kind: str, name: str) -> dict[str, Any]:
    [doc] = [d for d in _docs() if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def _args(deployment: dict[str, Any]) -> dict[str, str]:
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    out: dict[str, str] = {}
    it = iter(args)
    for a in it:
        if a == "-f":
            out["-f"] = next(it)
        elif "=" in a:
            key, value = a.split("=", 1)
            out[key] = value
        else:
            out[a] = ""
    return out


@pytest.mark.parametrize("doc", _docs(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_each_manifest_is_valid_against_the_kubernetes_schema(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_master_service_and_workers_fit_together() -> None:
    service = _one("Service", "sloguard-locust-master")
    master = _one("Deployment", "sloguard-locust-master")
    workers = _one("Deployment", "sloguard-locust-worker")
    for deployment in (master, workers):
        spec = deployment["spec"]
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    # the Service selects the master's pods only, and its 5557 reaches the master's worker port
    master_labels = master["spec"]["template"]["metadata"]["labels"]
    worker_labels = workers["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= master_labels.items()
    assert not service["spec"]["selector"].items() <= worker_labels.items()
    [container] = master["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    by_target = {p["targetPort"]: p["port"] for p in service["spec"]["ports"]}
    assert by_target["workers"] == 5557 and ports["workers"] == 5557
    m, w = _args(master), _args(workers)
    assert "--master" in m and m["--master-bind-port"] == "5557" and m["--expect-workers"]
    assert "--worker" in w and w["--master-host"] == service["metadata"]["name"] and w["--master-port"] == "5557"
    assert int(m["--expect-workers"]) == workers["spec"]["replicas"]


def test_the_configmap_is_mounted_where_the_args_point_and_holds_what_they_name() -> None:
    configmap = _one("ConfigMap", "sloguard-load")
    for deployment in (_one("Deployment", "sloguard-locust-master"), _one("Deployment", "sloguard-locust-worker")):
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        args = _args(deployment)
        for path in (args["-f"], args["--sloguard-config"]):
            folder, key = path.rsplit("/", 1)
            assert folder in mounts, f"{path} is not under a mounted volume"
            volume = volumes[mounts[folder]]
            assert volume["configMap"]["name"] == configmap["metadata"]["name"]
            assert key in configmap["data"]
    # the ConfigMap carries the repository's locustfile, not a drifting copy
    assert configmap["data"]["locustfile.py"] == (ROOT / "load" / "locustfile.py").read_text()


def test_the_configmap_config_is_valid_and_allows_its_own_target(tmp_path: Path) -> None:
    configmap = _one("ConfigMap", "sloguard-load")
    path = tmp_path / "sloguard.yaml"
    path.write_text(configmap["data"]["sloguard.yaml"])
    config = load_config(path, env={"ATOM_CLIENT_ID": "id", "ATOM_CLIENT_SECRET": "secret"})
    check_allowed(config)  # its target is in load.allow_hosts and is not production
    assert str(config.reports.dir) == "/reports"
    assert _one("Deployment", "sloguard-locust-master")["spec"]["template"]["spec"]["containers"][0][
        "volumeMounts"][1]["mountPath"] == "/reports"


def test_a_broken_manifest_is_caught() -> None:
    workers = _one("Deployment", "sloguard-locust-worker")
    workers["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": "5557"}]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(workers, kubernetes_validate.latest_version(), strict=True)
