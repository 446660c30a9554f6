"""The lab's kubelet for one cluster in the v4.1 mode: the pod player.

Every pass (the v4.1 supervisor calls `step` about once a second) over the cluster's pods:
- a pod with a deletionTimestamp is deleted with grace period 0 (a kubelet confirming the deletion);
- a pod without a node is bound (`pods/<name>/binding`) to the cluster's one Node `<cluster>-node1` (the
  EndpointSlice controller skips pods on an unknown node, so Services would have no endpoints);
- a pod of a Job is run once on this machine (jobrunner.py) in a thread: status Running, then Succeeded or Failed
  with the exit code, for the real Job controller to complete or retry the Job. Pods it ran (by uid) are listed
  in <cluster dir>/pods-ran.txt, so a restarted player never replays one;
- any other pod becomes Running and Ready with a made-up pod IP 10.244.<cluster index>.<n> (n from 20), kept
  for the pod's life.
The player does not run the containers of non-Job pods: the supervisor runs real binaries for the images it
knows (ks-apiserver, ks-controller-manager) and maps the pod IPs to them in the CONNECT proxy."""

import logging
import os
import threading
import time

from . import jobrunner
from .rest import ApiError
from .supervisor import node_ip

log = logging.getLogger("kslab.pods")


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def owner_kind(pod):
    return next((o.get("kind") for o in pod["metadata"].get("ownerReferences") or [] if o.get("controller")), None)


def images(pod):
    return [c.get("image", "") for c in pod["spec"].get("containers") or []]


class PodPlayer:
    def __init__(self, name, cluster, rest, jobs_kubeconfig, tool_dirs, proxy_port, logs_dir):
        self.name = name
        self.cluster = cluster
        self.rest = rest
        self.node = "%s-node1" % name
        self.jobs_kubeconfig = jobs_kubeconfig
        self.tool_dirs = tool_dirs
        self.proxy_port = proxy_port
        self.logs_dir = logs_dir
        self.ran_path = os.path.join(cluster["dir"], "pods-ran.txt")
        try:
            with open(self.ran_path) as f:
                self.ran = {ln.strip() for ln in f if ln.strip()}
        except OSError:
            self.ran = set()
        self.next_ip = 20
        self.running_jobs = {}  # uid -> thread

    def _mark_ran(self, uid):
        self.ran.add(uid)
        with open(self.ran_path, "a") as f:
            f.write(uid + "\n")

    def _ip(self, pods):
        prefix = "10.244.%d." % self.cluster["index"]
        used = {p.get("status", {}).get("podIP") for p in pods}
        while prefix + str(self.next_ip) in used:
            self.next_ip += 1
        ip = prefix + str(self.next_ip)
        self.next_ip += 1
        if self.next_ip > 250:
            self.next_ip = 20
        return ip

    def _status(self, pod, status):
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        self.rest.request("PATCH", "/api/v1/namespaces/%s/pods/%s/status" % (ns, name), {"status": status},
                          content_type="application/merge-patch+json")

    def step(self):
        """One pass; returns the cluster's pods as listed at its start."""
        pods = self.rest.get("/api/v1/pods").get("items", [])
        for pod in pods:
            try:
                self._one(pod, pods)
            except ApiError as e:
                if e.status not in (404, 409):
                    log.warning("%s: pod %s/%s: %s", self.name, pod["metadata"]["namespace"],
                                pod["metadata"]["name"], e)
        return pods

    def _one(self, pod, pods):
        meta, spec, st = pod["metadata"], pod["spec"], pod.get("status") or {}
        ns, name, uid = meta["namespace"], meta["name"], meta["uid"]
        if meta.get("deletionTimestamp"):
            if uid not in self.running_jobs:
                self.rest.request("DELETE", "/api/v1/namespaces/%s/pods/%s" % (ns, name),
                                  {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0})
            return
        if not spec.get("nodeName"):
            self.rest.request("POST", "/api/v1/namespaces/%s/pods/%s/binding" % (ns, name), {
                "apiVersion": "v1", "kind": "Binding", "metadata": {"name": name, "namespace": ns},
                "target": {"apiVersion": "v1", "kind": "Node", "name": self.node}})
            return
        if owner_kind(pod) == "Job":
            if uid in self.ran or st.get("phase") in ("Succeeded", "Failed"):
                return
            self._mark_ran(uid)
            self._status(pod, {"phase": "Running", "startTime": _now(), "hostIP": node_ip(self.cluster["index"]),
                               "podIP": self._ip(pods)})
            t = threading.Thread(target=self._run_job, args=(pod,), daemon=True, name="job-%s" % name)
            self.running_jobs[uid] = t
            t.start()
            return
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or [])
        if st.get("phase") == "Running" and ready and st.get("podIP"):
            return
        ip = st.get("podIP") or self._ip(pods)
        now = _now()
        self._status(pod, {
            "phase": "Running", "hostIP": node_ip(self.cluster["index"]), "podIP": ip, "podIPs": [{"ip": ip}], "startTime": now,
            "conditions": [{"type": t, "status": "True", "lastTransitionTime": now}
                           for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")],
            "containerStatuses": [{"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": True,
                                   "started": True, "restartCount": 0, "state": {"running": {"startedAt": now}}}
                                  for c in spec.get("containers") or []]})
        log.info("%s: pod %s/%s Running and Ready at %s", self.name, ns, name, ip)

    def _run_job(self, pod):
        ns, name, uid = pod["metadata"]["namespace"], pod["metadata"]["name"], pod["metadata"]["uid"]
        os.makedirs(self.logs_dir, exist_ok=True)
        logf = os.path.join(self.logs_dir, "%s-%s-%s.log" % (self.name, ns, name))
        log.info("%s: running Job pod %s/%s here (log %s)", self.name, ns, name, logf)
        try:
            rc = jobrunner.run_pod(self.rest, pod, self.jobs_kubeconfig, self.tool_dirs, self.proxy_port, logf)
        except Exception as e:  # noqa: BLE001  the pod must end either way
            log.exception("%s: Job pod %s/%s: the runner failed", self.name, ns, name)
            rc = 125
            with open(logf, "a") as f:
                f.write("kslab runner error: %s\n" % e)
        now = _now()
        phase = "Succeeded" if rc == 0 else "Failed"
        try:
            self._status(pod, {"phase": phase, "conditions": [
                {"type": "Ready", "status": "False", "lastTransitionTime": now, "reason": "PodCompleted"}],
                "containerStatuses": [{"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": False,
                                       "restartCount": 0, "state": {"terminated": {
                                           "exitCode": rc, "reason": "Completed" if rc == 0 else "Error",
                                           "startedAt": now, "finishedAt": now}}}
                                      for c in pod["spec"].get("containers") or []]})
            log.info("%s: Job pod %s/%s %s (exit %d)", self.name, ns, name, phase, rc)
        except (ApiError, OSError) as e:
            log.warning("%s: Job pod %s/%s finished (exit %d) but its status could not be written: %s",
                        self.name, ns, name, rc, e)
        finally:
            self.running_jobs.pop(uid, None)
