# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The plans of federated_resource (pure): from what read/federation.resource
read, the resource's type (its FederatedTypeConfig's federated and target types) and the module's parameters
(a plain dict) to plan/steps.py steps.

state=present, in order: the federated object (owned whole: server-side apply when its comparable form
differs; in weight mode without what the RSP owns), the ReplicaSchedulingPreference (replicas_by_weight: applied
when its spec differs; otherwise an RSP left from an earlier weight mode is deleted), then (wait: true) the
propagation wait. state=absent: delete the federated object and its RSP. A converged resource plans nothing.

`shown(obj)` masks what a result or diff may not show (a Secret's values): every `show` of a step goes
through it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import describe
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import overrides
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import placement
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import replica_planner as planner
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import propagation
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

FEDERATED_ID = "federated-object"
RSP_ID = "replica-scheduling-preference"
DELETE_ID = "delete-federated-object"
DELETE_RSP_ID = "delete-replica-scheduling-preference"


def rsp_view(rsp):
    if not rsp:
        return {}
    return {"metadata": {"name": rsp["metadata"]["name"], "namespace": rsp["metadata"].get("namespace")},
            "spec": rsp.get("spec")}


class Resource:
    """What the parameters say of one resource, computed once (pure): manifest, settings, clusters, the
    federated type, the replicas (the division the module previews) and the RSP of weight mode."""

    def __init__(self, p, ftc, clusters):
        self.p = p
        self.manifest, self.settings = p["definition"], p.get("settings") or {}
        meta = self.manifest.get("metadata") or {}
        self.kind, self.name, self.namespace = self.manifest.get("kind"), meta.get("name"), meta.get("namespace")
        types = federated.federated_types(ftc)
        self.ftc, self.fed_type, self.target = ftc, types["federated"], types["target"]
        self.clusters = list(clusters or [])
        self.rbw = p.get("replicas_by_weight")
        self.weight_mode = self.rbw is not None
        self.secret = self.kind == "Secret"

    def shown(self, obj):
        return federated.mask_secret(obj) if self.secret else obj

    def comparable(self, obj):
        """What decides `changed` (never masked: a changed Secret value is a change)."""
        return federated.comparable(obj, self.weight_mode)

    def view(self, obj):
        """What the diff shows of the federated object: its comparable form, masked."""
        return self.shown(self.comparable(obj))

    def build(self):
        """The federated object the parameters describe (raises overrides.FederationError on settings it
        cannot build); what the checks judge."""
        return federated.federated_object(self.manifest, self.ftc, self.clusters, self.settings,
                                          retain_replicas=self.p.get("retain_replicas"),
                                          mirror_annotations=self.p.get("mirror_annotations"))

    def desired(self, built, live):
        """What is written: `built`, in weight mode with what the RSP wrote into the live object kept."""
        if self.weight_mode and live is not None:
            return federated.keep_rsp_owned(built, live)
        return built

    def rsp(self):
        rbw = self.rbw
        return federated.replica_scheduling_preference(self.name, self.namespace, rbw["total"], rbw["weights"],
                                                       rbw.get("min_replicas"), rbw.get("max_replicas"),
                                                       target_kind=self.fed_type["kind"])

    def replicas(self):
        """{cluster: replicas}: the planner's preview of the RSP's division, or the counts given."""
        if self.weight_mode:
            rbw = self.rbw
            return planner.preview(rbw["total"], rbw["weights"], sorted(set(self.clusters)), rbw.get("min_replicas"),
                                   rbw.get("max_replicas"), key="%s/%s" % (self.namespace, self.name))
        out = {c: (self.settings.get(c) or {}).get("replicas") for c in sorted(set(self.clusters))
               if (self.settings.get(c) or {}).get("replicas") is not None}
        if not out and self.kind in overrides.REPLICA_KINDS:
            count = (self.manifest.get("spec") or {}).get("replicas")
            if count is not None:
                out = {c: count for c in placement.placed_clusters(self.clusters, self.settings)}
        return out

    def wait_clusters(self, replicas):
        placed = placement.placed_clusters(self.clusters, self.settings)
        if self.weight_mode:
            placed = sorted(c for c in placed if replicas.get(c))
        return placed


def plan(res, facts, desired, replicas, cluster):
    """The steps of state=present. `facts`: read/federation.resource; `desired`: res.desired(res.build(), live)."""
    out = []
    live, missing = facts["live"], facts["namespace_missing"]
    if res.comparable(live) != res.comparable(desired):
        out.append(steps.apply(FEDERATED_ID, "host", cluster, desired, before=live, show=res.view,
                               dry_run=not missing, why="the federated object differs from the parameters"))
    rsp_live = facts["rsp"]
    if res.weight_mode:
        rsp = res.rsp()
        live_spec = (rsp_live or {}).get("spec") or {}
        if rsp_live is None or any(live_spec.get(k) != val for k, val in rsp["spec"].items()):
            out.append(steps.apply(RSP_ID, "host", cluster, rsp, before=rsp_live, show=rsp_view, dry_run=not missing,
                                   why="replicas_by_weight: the RSP divides the replicas"))
    elif rsp_live is not None:
        out.append(_delete_rsp(RSP_ID, res, rsp_live, cluster, "no replicas_by_weight: the RSP of an earlier run goes"))
    if res.p.get("wait") and (out or not propagation.settled(live, res.wait_clusters(replicas),
                                                             replicas if res.weight_mode else None)):
        out.append(propagation.wait(cluster, res.fed_type["apiVersion"], res.fed_type["kind"], res.name,
                                    res.namespace, res.wait_clusters(replicas), res.p["wait_timeout"],
                                    replicas if res.weight_mode else None))
    return out


def _delete_rsp(step_id, res, rsp_live, cluster, why):
    return steps.delete(step_id, "host", cluster, v.SCHEDULING_API_VERSION, v.RSP_KIND, res.name, res.namespace,
                        before=rsp_live, show=rsp_view, why=why)


def deletion(res, facts, cluster):
    """The steps of state=absent: the federated object and its RSP (nothing when both are gone)."""
    out = []
    if facts["live"] is not None:
        out.append(steps.delete(DELETE_ID, "host", cluster, res.fed_type["apiVersion"], res.fed_type["kind"], res.name,
                                res.namespace, before=facts["live"],
                                show=lambda o: res.shown(federated.comparable(o)), why="state: absent"))
    if facts["rsp"] is not None:
        out.append(_delete_rsp(DELETE_RSP_ID, res, facts["rsp"], cluster, "state: absent"))
    return out


def division_diff(res, live, replicas, fed_changed):
    """The diff of the replica division (not a write: what kubefed will run where), or None when unchanged."""
    current = propagation.division(live) if live else {}
    # kubefed's RSP also writes 0 for every other Ready KubeFedCluster: show the resource's clusters
    current = {c: n for c, n in current.items() if c in replicas or c in res.clusters or n}
    if res.kind not in overrides.REPLICA_KINDS or (current == replicas and not fed_changed):
        return None
    header = "replica division %s" % describe(res.kind, res.name, res.namespace)
    return {"before_header": header, "after_header": header, "before": {"replicas": current},
            "after": {"replicas": replicas}}


def results(res, facts, values, desired, replicas):
    """The result keys of state=present from the read and the values of the steps run."""
    after = values[FEDERATED_ID] if FEDERATED_ID in values else facts["live"]
    rsp = None
    if res.weight_mode:
        rsp = values[RSP_ID] if RSP_ID in values else facts["rsp"]
    return {"result": res.shown(federated.normalize_federated(after)), "rsp": rsp, "replicas": replicas,
            "placement": placement.placement_names(desired) or []}
