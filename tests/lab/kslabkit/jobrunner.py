"""The lab's kubelet for Job pods (v4.1 mode): run a Job pod's command on this machine.

KubeSphere v4.1 installs through Helm, and Helm's hook Jobs (ks-core's `kubectl` scripts) and KubeSphere's
helm-executor Jobs (`helm upgrade --install ...`) are pods the lab must play. This runs one such pod:

- its ConfigMap, Secret (also inside `projected`) and emptyDir volumes become folders under a private
  temporary folder; every mountPath in the container's command, args, env values and workingDir is rewritten to
  the folder it stands for (longest path first);
- the command runs with KUBECONFIG = the cluster's kubeconfig of the lab identity `kslab:jobs`, its context's
  namespace the pod's namespace (as a pod's in-cluster config would be), PATH = the lab's helm, kubectl and
  kustomize shim first, HTTP(S)_PROXY = the lab's CONNECT proxy (so nothing leaves 127.0.0.1);
- init containers first, then the containers, one after another; the exit code of the first that fails (or 0).

A command whose program is neither on this machine nor one of the lab's tools exits 127 (an image entrypoint
the lab cannot play). RBAC of the pod's ServiceAccount is not exercised (the lab identity is a cluster admin)."""

import base64
import os
import shutil
import signal
import subprocess
import tempfile

import yaml

from .rest import ApiError

TIMEOUT = 1200  # above Helm's default 10 min, so Helm (not the lab) decides a slow install's fate
RUNNING = set()  # Popen of every command running now (stop_all ends them with the supervisor)


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def stop_all():
    """End every Job command still running (their whole process groups)."""
    for proc in list(RUNNING):
        _kill(proc)


def _write_items(base, data, items, decode, mode=None):
    """The keys of `data` (all, or `items`) as files in `base`, with the volume's defaultMode or the item's mode
    (as the kubelet sets them: helm-executor's post-render script must be executable)."""
    os.makedirs(base, exist_ok=True)
    keys = [(i["key"], i.get("path", i["key"]), i.get("mode", mode)) for i in items] if items else [
        (k, k, mode) for k in data]
    for key, rel, file_mode in keys:
        if key not in data:
            continue
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data[key]) if decode else data[key].encode())
        if file_mode is not None:
            os.chmod(path, file_mode)


def _source(rest, ns, src, base):
    """One volume source (configMap, secret, emptyDir, projected) into folder `base`."""
    if "configMap" in src:
        cm = rest.try_get("/api/v1/namespaces/%s/configmaps/%s" % (ns, src["configMap"]["name"])) or {}
        mode = src["configMap"].get("defaultMode")
        _write_items(base, cm.get("data") or {}, src["configMap"].get("items"), False, mode)
        _write_items(base, cm.get("binaryData") or {}, src["configMap"].get("items"), True, mode)
    elif "secret" in src:
        name = src["secret"].get("secretName") or src["secret"].get("name")
        sec = rest.try_get("/api/v1/namespaces/%s/secrets/%s" % (ns, name)) or {}
        _write_items(base, sec.get("data") or {}, src["secret"].get("items"), True, src["secret"].get("defaultMode"))
    elif "projected" in src:
        for s in src["projected"].get("sources") or []:
            _source(rest, ns, s, base)
    else:
        os.makedirs(base, exist_ok=True)


def _env(rest, ns, pod, container, rewrite):
    out = {}
    for e in container.get("env") or []:
        if "value" in e:
            out[e["name"]] = rewrite(str(e["value"]))
            continue
        ref = e.get("valueFrom") or {}
        try:
            if "fieldRef" in ref:
                field = ref["fieldRef"].get("fieldPath", "")
                out[e["name"]] = {"metadata.namespace": ns, "metadata.name": pod["metadata"]["name"],
                                  "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "default"),
                                  "spec.nodeName": pod["spec"].get("nodeName", "")}.get(field, "")
            elif "configMapKeyRef" in ref:
                r = ref["configMapKeyRef"]
                cm = rest.try_get("/api/v1/namespaces/%s/configmaps/%s" % (ns, r["name"])) or {}
                out[e["name"]] = (cm.get("data") or {}).get(r["key"], "")
            elif "secretKeyRef" in ref:
                r = ref["secretKeyRef"]
                sec = rest.try_get("/api/v1/namespaces/%s/secrets/%s" % (ns, r["name"])) or {}
                v = (sec.get("data") or {}).get(r["key"])
                out[e["name"]] = base64.b64decode(v).decode(errors="replace") if v else ""
        except ApiError:
            out[e["name"]] = ""
    return out


def _namespaced_kubeconfig(src, ns, dest):
    with open(src) as f:
        cfg = yaml.safe_load(f)
    for ctx in cfg.get("contexts") or []:
        ctx["context"]["namespace"] = ns
    with open(dest, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    os.chmod(dest, 0o600)
    return dest


def run_pod(rest, pod, kubeconfig, tool_dirs, proxy_port, log_path, timeout=TIMEOUT):
    """Run a Job pod's containers here; returns the exit code (0 = every container succeeded)."""
    ns = pod["metadata"]["namespace"]
    spec = pod["spec"]
    tmp = tempfile.mkdtemp(prefix="kslab-job-")
    try:
        vols = {}
        for v in spec.get("volumes") or []:
            d = os.path.join(tmp, "vol", v["name"])
            _source(rest, ns, v, d)
            vols[v["name"]] = d
        kcfg = _namespaced_kubeconfig(kubeconfig, ns, os.path.join(tmp, "kubeconfig"))
        path = os.pathsep.join(list(tool_dirs) + ["/usr/local/bin", "/usr/bin", "/bin"])
        with open(log_path, "ab") as log:
            for ct in list(spec.get("initContainers") or []) + list(spec.get("containers") or []):
                mounts = sorted(((m["mountPath"], os.path.join(vols.get(m["name"], tmp), m.get("subPath", "")))
                                 for m in ct.get("volumeMounts") or []), key=lambda m: -len(m[0]))

                def rewrite(s, mounts=mounts):
                    for mp, local in mounts:
                        s = s.replace(mp.rstrip("/"), local.rstrip("/"))
                    return s

                argv = [rewrite(str(w)) for w in list(ct.get("command") or []) + list(ct.get("args") or [])]
                log.write(("\n---- kslab runs %s/%s container %s: %s\n" % (
                    ns, pod["metadata"]["name"], ct["name"], " ".join(argv)[:2000])).encode())
                log.flush()
                if not argv:
                    log.write(b"no command: the image's entrypoint cannot be played here; exit 127\n")
                    return 127
                prog = argv[0]
                if not os.path.exists(prog) or os.path.basename(prog) in ("kubectl", "helm", "kustomize"):
                    prog = shutil.which(os.path.basename(prog), path=path)
                if not prog:
                    log.write(("program %s is not on this machine; exit 127\n" % argv[0]).encode())
                    return 127
                proxy = "http://127.0.0.1:%d" % proxy_port
                env = {"PATH": path, "HOME": tmp, "KUBECONFIG": kcfg, "LANG": "C.UTF-8", "HTTP_PROXY": proxy,
                       "HTTPS_PROXY": proxy, "NO_PROXY": "127.0.0.1,localhost", "POD_NAMESPACE": ns,
                       "HELM_CACHE_HOME": os.path.join(tmp, "helm-cache"),
                       "HELM_CONFIG_HOME": os.path.join(tmp, "helm-config"),
                       "HELM_DATA_HOME": os.path.join(tmp, "helm-data")}
                env.update(_env(rest, ns, pod, ct, rewrite))
                env["KUBECONFIG"] = kcfg
                cwd = rewrite(ct["workingDir"]) if ct.get("workingDir") else tmp
                if not os.path.isdir(cwd):
                    os.makedirs(cwd, exist_ok=True)
                try:
                    proc = subprocess.Popen([prog] + argv[1:], stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True)
                except OSError as e:
                    log.write(("could not run %s: %s\n" % (prog, e)).encode())
                    return 127
                RUNNING.add(proc)
                try:
                    rc = proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    _kill(proc)
                    log.write(("timed out after %d s\n" % timeout).encode())
                    rc = 124
                finally:
                    RUNNING.discard(proc)
                log.write(("---- exit %d\n" % rc).encode())
                if rc != 0:
                    return rc
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
