"""The lab's extension museum (v4.1 mode): what KubeSphere's `extensions-museum` Repository publishes on a real
host, for the extensions the lab can run.

A real v4.1 host syncs its Repository `extensions-museum` (an in-cluster Helm repository) into `Extension` and
`ExtensionVersion` objects (kubesphere.io/v1alpha1), one ExtensionVersion `<name>-<version>` per chart, labelled
`kubesphere.io/extension-ref: <name>`, from the chart's `extension.yaml`. The lab's host cannot reach that
repository (nothing leaves 127.0.0.1), so `kslab up --kubesphere v4.1.3` publishes the museum's packaged charts
that ../shared/kubesphere-src/ carries (`museum/<name>-<version>.tgz` of the extension archives) the other way
KubeSphere reads charts: a ConfigMap `kslab-extensions-museum` in kubesphere-system holding each `.tgz`, and
ExtensionVersions whose `chartDataRef` names it (kubesphere-v4.1.md section 2). The InstallPlan controller then
installs them as it would from the museum: its helm-executor Job runs the chart."""

import base64
import io
import os
import subprocess
import tarfile

import yaml

from .layout import REPO

NAMESPACE = "kubesphere-system"
CONFIG_MAP = "kslab-extensions-museum"
API = "/apis/kubesphere.io/v1alpha1"
# name -> (archive in ../shared/kubesphere-src, the packaged chart inside it)
CHARTS = {
    "tower": ("kubesphere-extensions-tower-v1.0.0.tar.zst", "kubesphere-extensions-tower-v1.0.0/museum/tower-1.0.0.tgz"),
    "kubefed": ("kubesphere-extensions-kubefed-v1.0.0.tar.zst",
                "kubesphere-extensions-kubefed-v1.0.0/museum/kubefed-1.0.0.tgz"),
}


def src_dir():
    return os.path.join(os.path.dirname(REPO), "shared", "kubesphere-src")


def packaged_chart(name):
    """The museum's .tgz of extension `name`, read from its archive."""
    archive, member = CHARTS[name]
    r = subprocess.run(["tar", "--zstd", "-xOf", os.path.join(src_dir(), archive), member], capture_output=True,
                       check=False, timeout=120)
    if r.returncode != 0 or not r.stdout:
        raise RuntimeError("could not read %s from %s: %s" % (member, archive, r.stderr.decode(errors="replace")[-300:]))
    return r.stdout


def extension_yaml(tgz):
    """The chart's extension.yaml (the metadata a Repository sync reads)."""
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        for m in tar.getmembers():
            if m.name.count("/") == 1 and m.name.endswith("/extension.yaml"):
                return yaml.safe_load(tar.extractfile(m).read()) or {}
    return {}


def objects(name, tgz):
    """The Extension and the ExtensionVersion a Repository sync makes of one chart (chartDataRef instead of
    chartURL)."""
    meta = extension_yaml(tgz)
    version = str(meta.get("version"))
    labels = {"kubesphere.io/extension-ref": name, "kubesphere.io/repository-ref": "kslab-museum"}
    info = {k: meta[k] for k in ("displayName", "description", "provider", "category", "keywords", "home", "docs")
            if meta.get(k)}
    extension = {"apiVersion": "kubesphere.io/v1alpha1", "kind": "Extension",
                 "metadata": {"name": name, "labels": {"kubesphere.io/repository-ref": "kslab-museum"}},
                 "spec": dict(info)}
    ref = {"namespace": NAMESPACE, "name": CONFIG_MAP, "key": "%s-%s.tgz" % (name, version)}
    spec = dict(info, version=version, chartDataRef=ref)
    for k in ("ksVersion", "kubeVersion", "namespace", "installationMode", "images"):
        if meta.get(k):
            spec[k] = meta[k]
    ev = {"apiVersion": "kubesphere.io/v1alpha1", "kind": "ExtensionVersion",
          "metadata": {"name": "%s-%s" % (name, version), "labels": labels}, "spec": spec}
    return extension, ev


def publish(rest, names=tuple(CHARTS)):
    """Publish the museum's charts of `names` on the host (idempotent). Returns the ExtensionVersion names."""
    charts = {n: packaged_chart(n) for n in names}
    made = {n: objects(n, tgz) + (tgz,) for n, tgz in charts.items()}
    rest.ensure({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": CONFIG_MAP, "namespace": NAMESPACE},
                 "binaryData": {ev["spec"]["chartDataRef"]["key"]: base64.b64encode(tgz).decode()
                                for _, ev, tgz in made.values()}})
    for extension, ev, _ in made.values():
        rest.ensure(extension)
        rest.ensure(ev)
    return [ev["metadata"]["name"] for _, ev, _ in made.values()]
