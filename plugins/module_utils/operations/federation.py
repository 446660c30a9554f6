# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The work of the modules federated_project, federated_resource and
federation_info: read facts from the host (and, for federation_info, one member), run checks/federation.py,
build with federated.py (placement.py, overrides.py) / planner.py, compare with federated.comparable, then
write in order.

Every check runs before the first write. Federated objects are owned whole: they are written with
server-side apply (field manager kubesphere.multicluster), and `changed` is decided by
federated.comparable, which sorts the lists kubefed rewrites in Go-map order (placement clusters,
overrides), so a second run reports no change. Secret values are hidden (no_log values) and masked in
results and diffs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import time

from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import drift
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import overrides as ov
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import placement as pl
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import replica_planner as planner
from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import Connection
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import federation as fchecks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import format_problems
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, describe
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.slicing import Slicer, WaitPending, pending_result

FED_NS = "kube-federation-system"
FTC_API = "core.kubefed.io/v1beta1"
KFC_API = "core.kubefed.io/v1beta1"
WT_API = "tenant.kubesphere.io/v1alpha2"
NAMESPACE_TARGET = {"apiVersion": "v1", "kind": "Namespace", "group": "", "version": "v1", "plural": "namespaces",
                    "namespaced": False}
NAMESPACE_FTC = {"metadata": {"name": "namespaces"},
                 "spec": {"propagation": "Enabled",
                          "targetType": {"kind": "Namespace", "version": "v1", "pluralName": "namespaces",
                                         "scope": "Cluster"},
                          "federatedType": {"group": "types.kubefed.io", "version": "v1beta1",
                                            "kind": "FederatedNamespace", "pluralName": "federatednamespaces",
                                            "scope": "Namespaced"}}}


# ---------------------------------------------------------------------------------------------------
# facts from the host


def kubefed_clusters(conn):
    """The host's KubeFedClusters as [{name, labels, ready, offline}] ([] when kubefed is not installed)."""
    items = conn.list(KFC_API, "KubeFedCluster", FED_NS, if_served=True) or []
    out = []
    for obj in items:
        ready, offline = cluster_state.condition(obj, "Ready"), cluster_state.condition(obj, "Offline")
        out.append({"name": obj["metadata"]["name"], "labels": obj["metadata"].get("labels") or {},
                    "ready": bool(ready) and ready.get("status") == "True",
                    "offline": bool(offline) and offline.get("status") == "True"})
    return sorted(out, key=lambda c: c["name"])


def member_facts(conn, kfcs):
    """checks.federation's `members`: one per KubeSphere Cluster on the host, judged by its KubeFedCluster."""
    clusters = conn.list(cluster_state.CLUSTER_API_VERSION, cluster_state.CLUSTER_KIND, if_served=True)
    if clusters is None:
        raise conn.error("the cluster is not a KubeSphere host (Cluster is not served)", code="not_a_host")
    by_kfc = dict((c["name"], c) for c in kfcs)
    out = []
    for summary in cluster_state.cluster_summaries(clusters):
        kfc = by_kfc.get(summary["name"]) or {}
        out.append({"name": summary["name"], "ready": summary["ready"], "kubefed_ready": bool(kfc.get("ready")),
                    "offline": bool(kfc.get("offline"))})
    return out


def ftcs(conn):
    return conn.list(FTC_API, "FederatedTypeConfig", FED_NS, if_served=True) or []


def _fail_problems(module, problems, subject, **result):
    module.fail_json(msg=format_problems(problems, subject), problems=problems, changed=False, **result)


def _hide_secret(module, manifest, settings):
    """Every value of a Secret's data/stringData and of per-cluster data settings, in clear and base64, is
    a no_log value: it can never appear in the output (the results are masked as well)."""
    values = []
    for key in ("data", "stringData"):
        for value in (manifest.get(key) or {}).values():
            values.append(value)
    for cluster_settings in (settings or {}).values():
        for value in ((cluster_settings or {}).get("data") or {}).values():
            values.append(value)
    for value in values:
        text = value if isinstance(value, str) else str(value)
        module.hide(text)
        try:
            module.hide(base64.b64decode(text, validate=True).decode("utf-8"))
        except Exception:  # noqa: BLE001  not base64 text: the clear value itself
            module.hide(base64.b64encode(text.encode("utf-8")).decode("ascii"))


def _apply_owned(conn, desired, live, check_mode, weight_mode=False):
    """Server-side apply of an object the collection owns whole, when its comparable form differs.
    Returns (changed, after)."""
    if federated.comparable(live, weight_mode) == federated.comparable(desired, weight_mode):
        return False, live
    body = copy.deepcopy(desired)
    if live and live.get("metadata", {}).get("resourceVersion"):
        body["metadata"].pop("resourceVersion", None)
    return True, conn.apply(body, dry_run=check_mode)


def _diff(header, before, after):
    return {"before_header": header, "after_header": header, "before": before or {}, "after": after or {}}


def _settled(fed_obj, clusters):
    """kubefed has processed the last change and propagated to every cluster of `clusters`."""
    if not fed_obj:
        return False
    prop = drift.propagation(fed_obj)
    if prop["stale"] or prop["status"] != "True":
        return False
    if (fed_obj.get("status") or {}).get("observedGeneration") is None:
        return False
    return all(prop["clusters"].get(c) == "" for c in clusters)


def propagation_state(obj):
    """What a placement wait sees now, in words (safe to print)."""
    prop = drift.propagation(obj or {})
    others = sorted("%s: %s" % (c, code) for c, code in prop["clusters"].items() if code)
    return "%s%s%s" % (prop["message"] or "propagation %s" % prop["status"], "; stale" if prop["stale"] else "",
                       "; " + ", ".join(others) if others else "")


def _placement_wait(module, conn, subject, clusters):
    """The wait's time (progress.py): run by the action plugin, it stops at the end of its slice."""
    condition = "kubefed propagated %s to %s" % (subject, ", ".join(sorted(clusters)) or "no cluster")
    return Slicer(module.params).wait(conn.label, condition, module.params["wait_timeout"])


def _wait_propagated(module, conn, api_version, kind, name, namespace, clusters, timeout):
    wait = _placement_wait(module, conn, describe(kind, name, namespace), clusters)
    obj = None
    while True:
        obj = conn.get(api_version, kind, name, namespace)
        if _settled(obj, clusters):
            return True, obj
        if wait.spent():
            return False, obj
        wait.check(lambda: propagation_state(obj))
        time.sleep(wait.nap(2))


# ---------------------------------------------------------------------------------------------------
# federated_project


def run_project(module):
    p = module.params
    conn = Connection(module, p.get("cluster_name") or "host", timeout=p.get("timeout"))
    name, workspace = p["name"], p["workspace"]
    subject = "project %s" % name
    try:
        if p["state"] == "absent":
            return _delete_project(module, conn, name)
        kfcs = kubefed_clusters(conn)
        members = member_facts(conn, kfcs)
        problems = fchecks.clusters(subject, p["clusters"], members)
        wt = conn.get(WT_API, "WorkspaceTemplate", workspace, if_served=True)
        if wt is not None and not p["workspace_placement"]:
            problems += fchecks.workspace_clusters(subject, p["clusters"], pl.placement_names(wt) or [])
        annotations = {}
        if p.get("alias_name"):
            annotations["kubesphere.io/alias-name"] = p["alias_name"]
        if p.get("description"):
            annotations["kubesphere.io/description"] = p["description"]
        settings = dict((c, {"overrides": items}) for c, items in (p.get("overrides") or {}).items())
        for cluster in sorted(set(settings) - set(p["clusters"])):
            problems.append({"code": "setting_cluster_not_placed", "cluster": cluster,
                             "message": "cluster %r: %s: has overrides but is not one of the project's clusters"
                                        % (cluster, subject)})
        for cluster, cs in settings.items():
            for index, raw in enumerate(cs["overrides"] or []):
                if not isinstance(raw, dict) or "path" not in raw:
                    problems.append({"code": "setting_invalid", "cluster": cluster,
                                     "message": "cluster %r: %s: overrides[%d] needs a path" % (cluster, subject, index)})
        if problems:
            return _fail_problems(module, problems, subject)
        fed_ns = federated.federated_namespace(name, workspace, p["clusters"], labels=p.get("labels"),
                                               annotations=annotations or None,
                                               settings=dict((c, s) for c, s in settings.items() if c in p["clusters"]))
        problems = fchecks.overrides(subject, fed_ns, NAMESPACE_TARGET)
        if problems:
            return _fail_problems(module, problems, subject)

        changed = False
        diffs = []
        # 1. the workspace's placement (KubeSphere's controller makes the FederatedWorkspace of it)
        if p["workspace_placement"]:
            if wt is None:
                desired_wt = federated.workspace_template(workspace, p["clusters"])
                after = conn.create(desired_wt, dry_run=module.check_mode)
                changed = True
                diffs.append(_diff(describe("WorkspaceTemplate", workspace), {}, federated.comparable(after)))
            else:
                wanted = sorted(set(pl.placement_names(wt) or []) | set(p["clusters"]))
                if wanted != sorted(pl.placement_names(wt) or []):
                    after = conn.merge_patch(WT_API, "WorkspaceTemplate", workspace,
                                             {"spec": {"placement": pl.placement(wanted)}},
                                             dry_run=module.check_mode)
                    if after is None:
                        raise conn.vanished(describe("WorkspaceTemplate", workspace), "patching its placement")
                    changed = True
                    diffs.append(_diff(describe("WorkspaceTemplate", workspace),
                                       {"placement": pl.placement_names(wt)},
                                       {"placement": pl.placement_names(after)}))
        # 2. the host namespace (shared with KubeSphere's controllers: merge, never take over)
        ns_desired = federated.host_namespace(name, workspace, p.get("labels"))
        ns_live = conn.get("v1", "Namespace", name)
        ns_after = ns_live
        if ns_live is None:
            ns_after = conn.create(ns_desired, dry_run=module.check_mode)
            changed = True
            diffs.append(_diff(describe("Namespace", name), {}, {"metadata": {"labels": ns_desired["metadata"]["labels"]}}))
        else:
            labels = (ns_live.get("metadata") or {}).get("labels") or {}
            missing = dict((k, v) for k, v in ns_desired["metadata"]["labels"].items() if labels.get(k) != v)
            if missing:
                ns_after = conn.merge_patch("v1", "Namespace", name, {"metadata": {"labels": missing}},
                                            dry_run=module.check_mode)
                if ns_after is None:
                    raise conn.vanished(describe("Namespace", name), "labelling it")
                changed = True
                diffs.append(_diff(describe("Namespace", name), {"metadata": {"labels": labels}},
                                   {"metadata": {"labels": (ns_after.get("metadata") or {}).get("labels")}}))
        # 3. the FederatedNamespace, owned whole
        live = conn.get(federated.TYPES_API_VERSION, "FederatedNamespace", name, name)
        if ns_live is None and module.check_mode:
            fed_changed, fed_after = True, fed_ns   # its namespace does not exist yet: nothing to dry-run in
        else:
            fed_changed, fed_after = _apply_owned(conn, fed_ns, live, module.check_mode)
        if fed_changed:
            changed = True
            diffs.append(_diff(describe("FederatedNamespace", name, name), federated.comparable(live),
                               federated.comparable(fed_after)))
        result = {"changed": changed, "result": federated.normalize_federated(fed_after),
                  "namespace": ns_after, "clusters": sorted(set(p["clusters"]))}
        if p["wait"] and not module.check_mode:
            try:
                ok, obj = _wait_propagated(module, conn, federated.TYPES_API_VERSION, "FederatedNamespace", name,
                                           name, p["clusters"], p["wait_timeout"])
            except WaitPending as e:
                if module._diff:
                    result["diff"] = diffs
                module.exit_json(**pending_result(result, e))
            result["result"] = federated.normalize_federated(obj)
            result["propagation"] = drift.propagation(obj or {})
            if not ok:
                module.fail_json(msg="cluster '%s': FederatedNamespace %s/%s: kubefed has not propagated it to every "
                                     "cluster within %d s: %s" % (conn.label, name, name, p["wait_timeout"],
                                                                  result["propagation"]), **result)
        if module._diff:
            result["diff"] = diffs
        module.exit_json(**result)
    except KubeSphereError as e:
        module.fail_from(e)


def _namespaced_federated(conn, namespace, ftc_list):
    """Every federated object in `namespace` (any FederatedTypeConfig's namespaced federated type)."""
    out = []
    for ftc in ftc_list:
        types = federated.federated_types(ftc)
        fed = types["federated"]
        if not fed["kind"] or fed["kind"] == "FederatedNamespace":
            continue
        items = conn.list(fed["apiVersion"], fed["kind"], namespace, if_served=True) or []
        out.extend(items)
    return out


def _delete_project(module, conn, name):
    p = module.params
    subject = "project %s" % name
    problems = fchecks.deletion_confirmed(subject, name, p.get("confirm"))
    if problems:
        return _fail_problems(module, problems, subject)
    ns = conn.get("v1", "Namespace", name)
    fed_ns = conn.get(federated.TYPES_API_VERSION, "FederatedNamespace", name, name, if_served=True)
    if ns is None:
        module.exit_json(changed=False, deleted={}, result={}, namespace=None)
    kfcs = kubefed_clusters(conn)
    deleted = {}
    if fed_ns is not None:
        deleted = federated.project_deletion(name, fed_ns, _namespaced_federated(conn, name, ftcs(conn)), kfcs)
    conn.delete("v1", "Namespace", name, dry_run=module.check_mode)
    result = {"changed": True, "deleted": deleted, "result": {}, "namespace": None}
    if module._diff:
        result["diff"] = [_diff(describe("Namespace", name), {"metadata": {"name": name}}, {}),
                          _diff(describe("FederatedNamespace", name, name), federated.comparable(fed_ns), {})]
    module.exit_json(**result)


# ---------------------------------------------------------------------------------------------------
# federated_resource


def _division(fed_obj):
    """{cluster: replicas} of the /spec/replicas overrides of a federated object."""
    out = {}
    for entry in (federated.normalize_federated(fed_obj or {}).get("spec") or {}).get("overrides") or []:
        for item in entry["clusterOverrides"]:
            if item["path"] == ov.REPLICAS_PATH:
                out[entry["clusterName"]] = item.get("value")
    return out


def run_resource(module):
    p = module.params
    conn = Connection(module, p.get("cluster_name") or "host", timeout=p.get("timeout"))
    manifest = copy.deepcopy(p["definition"])
    settings = copy.deepcopy(p.get("settings") or {})
    kind, api_version = manifest.get("kind"), manifest.get("apiVersion")
    meta = manifest.get("metadata") or {}
    name, namespace = meta.get("name"), meta.get("namespace")
    if kind == "Secret":
        _hide_secret(module, manifest, settings)
    if not kind or not api_version or not name:
        module.fail_json(msg="definition needs apiVersion, kind and metadata.name", code="definition_invalid")
    subject = describe(kind, name, namespace)
    secret = kind == "Secret"

    def shown(obj):
        return federated.mask_secret(obj) if secret else obj

    try:
        ftc_list = ftcs(conn)
        problems = fchecks.federated_type(subject, api_version, kind, ftc_list)
        if problems:
            return _fail_problems(module, problems, subject)
        ftc = federated.find_ftc(ftc_list, api_version, kind)
        types = federated.federated_types(ftc)
        fed_type, target = types["federated"], types["target"]
        if target["namespaced"] and not namespace:
            module.fail_json(msg="%s: a %s is namespaced: give metadata.namespace (the project)" % (subject, kind),
                             code="definition_invalid")

        if p["state"] == "absent":
            return _delete_resource(module, conn, fed_type, name, namespace, subject, shown)

        kfcs = kubefed_clusters(conn)
        members = member_facts(conn, kfcs)
        fed_ns = None
        if target["namespaced"]:
            fed_ns = conn.get(federated.TYPES_API_VERSION, "FederatedNamespace", namespace, namespace, if_served=True)
        project_names = pl.placement_names(fed_ns) if fed_ns else None
        clusters = p.get("clusters")
        if clusters is None:
            clusters = list(project_names or [])
        rbw = p.get("replicas_by_weight")
        problems = []
        if target["namespaced"] and fed_ns is None and not module.check_mode:
            problems.append({"code": "namespace_not_federated", "cluster": None,
                             "message": "%s: the namespace %s has no FederatedNamespace (not a multi-cluster "
                                        "project): kubefed would propagate the object nowhere; create the project "
                                        "first (federated_project)" % (subject, namespace)})
        problems += fchecks.clusters(subject, clusters, members)
        if fed_ns is not None:
            problems += fchecks.project_clusters(subject, clusters, project_names)
        problems += fchecks.served(subject, target["apiVersion"], clusters, p.get("member_api_versions"),
                                   ready_members=[m["name"] for m in members if m["kubefed_ready"]])
        template = federated.template_of(manifest, target["apiVersion"])
        problems += fchecks.settings(subject, kind, template, clusters, settings)
        problems += fchecks.template(subject, manifest)
        problems += fchecks.replicas(subject, settings)
        if rbw is not None:
            problems += fchecks.weights(subject, rbw.get("total"), rbw.get("weights") or {},
                                        rbw.get("min_replicas"), rbw.get("max_replicas"))
            problems += fchecks.weight_mode(subject, kind, clusters, rbw.get("weights") or {}, settings)
        if problems:
            return _fail_problems(module, problems, subject)
        try:
            desired = federated.federated_object(manifest, ftc, clusters, settings,
                                                 retain_replicas=p.get("retain_replicas"),
                                                 mirror_annotations=p["mirror_annotations"])
        except ov.FederationError as e:
            module.fail_json(msg="%s: %s" % (subject, e), code="setting_invalid")
        problems = fchecks.overrides(subject, desired, target)
        if problems:
            return _fail_problems(module, problems, subject)

        weight_mode = rbw is not None
        live = conn.get(fed_type["apiVersion"], fed_type["kind"], name, namespace)
        rsp = None
        if weight_mode:
            replicas = planner.preview(rbw["total"], rbw["weights"], sorted(set(clusters)),
                                       rbw.get("min_replicas"), rbw.get("max_replicas"),
                                       key="%s/%s" % (namespace, name))
            rsp = federated.replica_scheduling_preference(name, namespace, rbw["total"], rbw["weights"],
                                                          rbw.get("min_replicas"), rbw.get("max_replicas"),
                                                          target_kind=fed_type["kind"])
            if live is not None:
                desired = federated.keep_rsp_owned(desired, live)
        else:
            replicas = dict((c, (settings.get(c) or {}).get("replicas")) for c in sorted(set(clusters))
                            if (settings.get(c) or {}).get("replicas") is not None)
            if not replicas and kind in ov.REPLICA_KINDS:
                count = (manifest.get("spec") or {}).get("replicas")
                if count is not None:
                    replicas = dict((c, count) for c in pl.placed_clusters(clusters, settings))

        diffs = []
        changed = False
        namespace_missing = target["namespaced"] and conn.get("v1", "Namespace", namespace) is None
        if namespace_missing and module.check_mode:
            fed_changed, after = True, desired
        else:
            fed_changed, after = _apply_owned(conn, desired, live, module.check_mode, weight_mode)
        if fed_changed:
            changed = True
            diffs.append(_diff(describe(fed_type["kind"], name, namespace),
                               shown(federated.comparable(live, weight_mode)),
                               shown(federated.comparable(after, weight_mode))))
        rsp_result = None
        rsp_live = conn.get(federated.RSP_API_VERSION, "ReplicaSchedulingPreference", name, namespace,
                            if_served=True) if not namespace_missing else None
        if weight_mode:
            rsp_changed, rsp_after = _apply_rsp(conn, rsp, rsp_live, module.check_mode, namespace_missing)
            rsp_result = rsp_after
            if rsp_changed:
                changed = True
                diffs.append(_diff(describe("ReplicaSchedulingPreference", name, namespace),
                                   _rsp_view(rsp_live), _rsp_view(rsp_after)))
        elif rsp_live is not None:
            conn.delete(federated.RSP_API_VERSION, "ReplicaSchedulingPreference", name, namespace,
                        dry_run=module.check_mode)
            changed = True
            diffs.append(_diff(describe("ReplicaSchedulingPreference", name, namespace), _rsp_view(rsp_live), {}))
        current = _division(live) if live else {}
        # kubefed's RSP also writes 0 for every other Ready KubeFedCluster: show the resource's clusters
        current = dict((c, n) for c, n in current.items() if c in replicas or c in clusters or n)
        if kind in ov.REPLICA_KINDS and (current != replicas or fed_changed):
            diffs.append(_diff("replica division %s" % subject, {"replicas": current}, {"replicas": replicas}))

        result = {"changed": changed, "result": shown(federated.normalize_federated(after)), "rsp": rsp_result,
                  "replicas": replicas, "placement": pl.placement_names(desired) or []}
        if p["wait"] and not module.check_mode:
            placed = pl.placed_clusters(clusters, settings)
            if weight_mode:
                placed = sorted(c for c in placed if replicas.get(c))
            try:
                ok, obj = _wait_for_resource(module, conn, fed_type, name, namespace, placed,
                                             replicas if weight_mode else None, p["wait_timeout"])
            except WaitPending as e:
                if module._diff:
                    result["diff"] = diffs
                module.exit_json(**pending_result(result, e))
            result["result"] = shown(federated.normalize_federated(obj))
            result["propagation"] = drift.propagation(obj or {})
            if not ok:
                module.fail_json(msg="cluster '%s': %s: kubefed has not propagated it to every cluster within %d s: "
                                     "%s" % (conn.label, describe(fed_type["kind"], name, namespace),
                                             p["wait_timeout"], result["propagation"]), **result)
        if module._diff:
            result["diff"] = diffs
        module.exit_json(**result)
    except KubeSphereError as e:
        module.fail_from(e)


def _rsp_view(rsp):
    if not rsp:
        return {}
    return {"metadata": {"name": rsp["metadata"]["name"], "namespace": rsp["metadata"].get("namespace")},
            "spec": rsp.get("spec")}


def _apply_rsp(conn, rsp, live, check_mode, namespace_missing):
    live_spec = (live or {}).get("spec") or {}
    if live is not None and all(live_spec.get(k) == v for k, v in rsp["spec"].items()):
        return False, live
    if namespace_missing and check_mode:
        return True, rsp
    return True, conn.apply(rsp, dry_run=check_mode)


def _wait_for_resource(module, conn, fed_type, name, namespace, clusters, division, timeout):
    """kubefed propagated the object to every placed cluster, and (weight mode) wrote the planned division."""
    wait = _placement_wait(module, conn, describe(fed_type["kind"], name, namespace), clusters)
    obj = None
    while True:
        obj = conn.get(fed_type["apiVersion"], fed_type["kind"], name, namespace)
        ok = _settled(obj, clusters)
        if ok and division is not None:
            written = _division(obj)
            ok = all(written.get(c, 0) == n for c, n in division.items())
        if ok:
            return True, obj
        if wait.spent():
            return False, obj
        wait.check(lambda: propagation_state(obj))
        time.sleep(wait.nap(2))


def _delete_resource(module, conn, fed_type, name, namespace, subject, shown):
    live = conn.get(fed_type["apiVersion"], fed_type["kind"], name, namespace)
    changed = False
    diffs = []
    if live is not None:
        conn.delete(fed_type["apiVersion"], fed_type["kind"], name, namespace, dry_run=module.check_mode)
        changed = True
        diffs.append(_diff(describe(fed_type["kind"], name, namespace), shown(federated.comparable(live)), {}))
    rsp = conn.get(federated.RSP_API_VERSION, "ReplicaSchedulingPreference", name, namespace, if_served=True) \
        if namespace else None
    if rsp is not None:
        conn.delete(federated.RSP_API_VERSION, "ReplicaSchedulingPreference", name, namespace,
                    dry_run=module.check_mode)
        changed = True
        diffs.append(_diff(describe("ReplicaSchedulingPreference", name, namespace), _rsp_view(rsp), {}))
    result = {"changed": changed, "result": {}, "rsp": None, "replicas": {}, "placement": []}
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


# ---------------------------------------------------------------------------------------------------
# federation_info (runs on a member; reads the host through host_* options)


def served_versions(conn):
    """The group/versions a cluster serves (its discovery): ["v1", "apps/v1", ...]."""
    out = []
    status, _h, body = conn.raw("GET", "/api")
    if status < 400 and isinstance(body, dict):
        out += list(body.get("versions") or [])
    status, _h, body = conn.raw("GET", "/apis")
    if status < 400 and isinstance(body, dict):
        for group in body.get("groups") or []:
            out += [v.get("groupVersion") for v in group.get("versions") or []]
    return sorted(set(out))


def run_info(module):
    p = module.params
    member_name = p["cluster_name"]
    member = Connection(module, member_name, timeout=p.get("timeout"))
    try:
        result = {"changed": False, "cluster": member_name, "api_versions": served_versions(member), "resources": []}
        if p.get("list_projects"):
            host = Connection(module, p.get("host_cluster_name") or "host", prefix="host_", timeout=p.get("timeout"))
            result["projects"] = _member_projects(host, member, member_name, p.get("host_cluster_name"))
        if not p.get("namespace"):
            module.exit_json(**result)
        host = Connection(module, p.get("host_cluster_name") or "host", prefix="host_", timeout=p.get("timeout"))
        namespace = p["namespace"]
        ftc_list = ftcs(host)
        kfcs = kubefed_clusters(host)
        health = dict((c["name"], {"ready": c["ready"], "offline": c["offline"]}) for c in kfcs)
        fed_ns = host.get(federated.TYPES_API_VERSION, "FederatedNamespace", namespace, namespace, if_served=True)
        wanted_kinds = set(p.get("kinds") or [])
        wanted_names = set(p.get("names") or [])
        for ftc in ftc_list:
            types = federated.federated_types(ftc)
            fed, target = types["federated"], types["target"]
            if not fed["kind"] or not target["namespaced"] and fed["kind"] != "FederatedNamespace":
                continue
            if wanted_kinds and fed["kind"] not in wanted_kinds and target["kind"] not in wanted_kinds:
                continue
            if fed["kind"] == "FederatedNamespace":
                items = [fed_ns] if fed_ns else []
            else:
                items = host.list(fed["apiVersion"], fed["kind"], namespace, if_served=True) or []
            for obj in sorted(items, key=lambda o: o["metadata"]["name"]):
                obj_name = obj["metadata"]["name"]
                if wanted_names and obj_name not in wanted_names:
                    continue
                effective = pl.effective_clusters(obj, kfcs, fed_ns, namespaced=target["namespaced"])
                live = None
                rows = []
                if member_name in effective:
                    live = member.get(target["apiVersion"], target["kind"], obj_name,
                                      namespace if target["namespaced"] else None)
                    rows = drift.report(obj, ftc, {member_name: live}, clusters=[member_name],
                                        cluster_health=health, host=p.get("host_cluster_name"))
                prop = drift.propagation(obj)
                result["resources"].append({
                    "kind": target["kind"], "federated_kind": fed["kind"], "name": obj_name, "namespace": namespace,
                    "placed": member_name in effective,
                    "propagation": {"status": prop["status"], "reason": prop["reason"], "message": prop["message"],
                                    "stale": prop["stale"]},
                    "members": rows})
        module.exit_json(**result)
    except KubeSphereError as e:
        module.fail_from(e)


def _member_projects(host, member, member_name, host_name):
    """The multi-cluster projects (FederatedNamespaces on the host) placed on this member, each with the drift
    state of its namespace here: [{name, workspace, state, fields, reason}], sorted by name."""
    kfcs = kubefed_clusters(host)
    health = dict((c["name"], {"ready": c["ready"], "offline": c["offline"]}) for c in kfcs)
    out = []
    for fed_ns in host.list(federated.TYPES_API_VERSION, "FederatedNamespace", if_served=True) or []:
        if member_name not in pl.effective_clusters(fed_ns, kfcs, namespaced=False):
            continue
        name = fed_ns["metadata"]["name"]
        live = member.get("v1", "Namespace", name)
        row = drift.report(fed_ns, NAMESPACE_FTC, {member_name: live}, clusters=[member_name],
                           cluster_health=health, host=host_name)[0]
        out.append({"name": name, "workspace": (fed_ns["metadata"].get("labels") or {}).get(federated.WORKSPACE_LABEL),
                    "state": row["state"], "fields": row["fields"], "reason": row["reason"]})
    return sorted(out, key=lambda r: r["name"])
