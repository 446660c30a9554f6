# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Unbinding a member: the report of what goes and what stays, the
plan (steps for execute/executor.py) and what is left after it -- all pure. The functions that touch the
world (the backup file, the restore, the polls) come in through `io` (operations/unbind.py's UnbindIO).

Facts (KubeSphere 3.4.1 cluster_controller.go / unjoin.go / cluster_webhook.go, tower v0.2.1, issues
kubesphere#2306, #6154):
- The console unbinds with a plain DELETE of the Cluster. The controller then unjoins on the HOST only
  (unJoinFederation with no member config): the KubeFedCluster kube-federation-system/<name> and the Secret
  its secretRef names (<name>-secret); it drops the cluster from Users' granted-clusters, and removes its
  finalizer with an UPDATE. Tower deletes Service kubesphere-system/mc-<name> once the Cluster is gone.
- Nothing is removed on the member: kube-federation-system keeps SA <name>-kubesphere, its legacy token
  Secret <name>-kubesphere-token-*, ClusterRole and ClusterRoleBinding kubefed-controller-manager:<name>-kubesphere;
  namespaces keep their kubesphere.io/workspace label; objects kubefed placed there stay (orphaned); its
  kubesphere-config keeps multicluster.clusterName until its installer renders it again; a proxy member
  keeps its cluster-agent Deployment.
- The UPDATE webhook (ValidatingWebhookConfiguration cluster.kubesphere.io, failurePolicy Fail) dials the
  member on every update of a Cluster with status.uid; for a dead member it denies the finalizer removal,
  so the deletion hangs for ever. Removing a proxy member's agent BEFORE deleting its Cluster makes a live
  member dead to the webhook: the agent goes last. The way out users take by hand: back up the webhook
  configuration, delete it, remove the finalizer, wait until the Cluster is gone, restore the
  configuration exactly.
- A later slice of the same run (or a rerun after a run was killed) plans from what it reads: the Cluster
  already being deleted is not deleted again, a webhook configuration missing while its backup exists is
  restored from the backup."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks.unbind import dead
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import describe
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.placement import selector_matches
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import (
    WEBHOOK_NAME, WEBHOOK_SERVER_OWNED, kubefed_rbac_name, kubefed_sa_name)

WEBHOOK_OBJECT = describe(v.VALIDATING_WEBHOOK_KIND, WEBHOOK_NAME)
# how long the finalizer's removal is retried after the webhook configuration went (seconds)
FINALIZER_PATCH_TIMEOUT = 60


# ---------------------------------------------------------------------------------------------------
# placements


def placements(name, cluster_labels, federated):
    """Federated objects (dicts with spec.placement; pass WorkspaceTemplates rather than the
    FederatedWorkspaces their controller overwrites) that place anything on cluster `name`.
    Returns [{object, api_version, kind, name, namespace, how: 'clusters'|'selector', patch}] where patch
    (a merge patch) removes `name` from an explicit list and from the overrides; selector placements get
    no patch (the selector decides: change the Cluster's labels or the selector)."""
    out = []
    for obj in federated or []:
        placement = objects.get_path(obj, "spec.placement") or {}
        meta = obj.get("metadata") or {}
        ref = {"object": describe(obj.get("kind"), meta.get("name"), meta.get("namespace")),
               "api_version": obj.get("apiVersion"), "kind": obj.get("kind"), "name": meta.get("name"),
               "namespace": meta.get("namespace")}
        clusters = placement.get("clusters")
        if clusters is not None:
            names = [c.get("name") for c in clusters]
            if name in names:
                spec = {"placement": {"clusters": [c for c in clusters if c.get("name") != name]}}
                overrides = objects.get_path(obj, "spec.overrides")
                if overrides and any(o.get("clusterName") == name for o in overrides):
                    spec["overrides"] = [o for o in overrides if o.get("clusterName") != name]
                out.append(dict(ref, how="clusters", patch={"spec": spec}))
        elif selector_matches(placement.get("clusterSelector"), cluster_labels):
            out.append(dict(ref, how="selector", patch=None))
    return out


# ---------------------------------------------------------------------------------------------------
# the report


def _item(side, kind, name, namespace=None, why=None):
    return {"cluster": side, "object": describe(kind, name, namespace), "why": why}


def _ours(name, kind, seen):
    sa = kubefed_sa_name(name)
    if kind == "Secret":
        return sorted(s for s in seen if s.startswith(sa + "-token-"))
    want = sa if kind == "ServiceAccount" else kubefed_rbac_name(name)
    return [s for s in seen if s == want]


def _host_items(name, cluster, proxy):
    if cluster is None:
        return []
    out = [_item("host", v.CLUSTER_KIND, name, why="the member's registration"),
           _item("host", v.KUBEFED_CLUSTER_KIND, name, v.KUBEFED_NAMESPACE, "kubefed's view of the member"),
           _item("host", "Secret", "%s-secret" % name, v.KUBEFED_NAMESPACE, "the member's token kubefed used")]
    if proxy:
        out.append(_item("host", "Service", "mc-%s" % name, v.KS_NAMESPACE, "tower's tunnel endpoint"))
    return out


def _federation_leftovers(name, member):
    fed = member.get("federation") or {}
    leftovers = [
        ("ServiceAccount", fed.get("service_accounts"), [kubefed_sa_name(name)], v.KUBEFED_NAMESPACE,
         "kubefed's identity on it"),
        ("Secret", fed.get("secrets"), ["%s-token-*" % kubefed_sa_name(name)], v.KUBEFED_NAMESPACE,
         "the legacy token of that ServiceAccount"),
        ("ClusterRole", fed.get("cluster_roles"), [kubefed_rbac_name(name)], None, "kubefed's cluster-wide rights"),
        ("ClusterRoleBinding", fed.get("cluster_role_bindings"), [kubefed_rbac_name(name)], None, "binds them"),
    ]
    for kind, seen, predicted, ns, why in leftovers:
        for obj_name in (_ours(name, kind, seen) if seen is not None else predicted):
            yield _item(name, kind, obj_name, ns, why)


def _placement_items(name, cluster, federated, remove_from_placements):
    removed, stays = [], []
    for p in placements(name, objects.get_path(cluster or {}, "metadata.labels"), federated):
        if remove_from_placements and p["how"] == "clusters":
            removed.append({"cluster": name, "object": "the copy of %s" % p["object"],
                            "why": "removed from its placement first (kubefed deletes the copy)"})
        else:
            stays.append({"cluster": name, "object": "the copy of %s" % p["object"],
                          "why": "placed there by %s; kubefed stops managing it (orphaned)"
                          % ("its cluster list" if p["how"] == "clusters" else "its clusterSelector")})
    return removed, stays


def report(name, cluster, member=None, federated=None, remove_agent=True, cleanup_member=False,
           remove_from_placements=False):
    """What an unbind removes on the host and on the member, and what stays behind on the member.

    member  facts of the member (all optional): reachable, agent (the live cluster-agent Deployment or
            None), federation {service_accounts, secrets, cluster_roles, cluster_role_bindings} (names in
            kube-federation-system / cluster-wide), workspace_namespaces {namespace: workspace}, config
            (parsed kubesphere.yaml). Names not read are predicted from kubefedctl's naming.
    Returns {removed_on_host, removed_on_member, stays_on_member} lists of {cluster, object, why}."""
    member = member or {}
    proxy = co.connection_type(cluster) == "proxy" if cluster else False
    removed_member, stays = [], []
    reachable = member.get("reachable")
    if proxy or member.get("agent"):
        agent_item = _item(name, "Deployment", "cluster-agent", v.KS_NAMESPACE, "the proxy agent")
        if remove_agent and reachable:
            removed_member.append(dict(agent_item, why="the proxy agent (removed after the Cluster is gone)"))
        else:
            stays.append(dict(agent_item, why="the proxy agent" + ("" if reachable else " (the member is unreachable)")))
    for item in _federation_leftovers(name, member):
        (removed_member if cleanup_member and reachable else stays).append(item)
    for ns, ws in sorted((member.get("workspace_namespaces") or {}).items()):
        stays.append(_item(name, "Namespace", ns, why="keeps label %s=%s" % (v.WORKSPACE_LABEL, ws)))
    removed, stayed = _placement_items(name, cluster, federated, remove_from_placements)
    removed_member += removed
    stays += stayed
    written = objects.get_path(member.get("config") or {}, "multicluster.clusterName")
    if written or cluster is not None:
        stays.append(_item(name, "ConfigMap", "kubesphere-config", v.KS_NAMESPACE,
                           "keeps multicluster.clusterName %s until its installer renders it again" % (written or name)))
    return {"removed_on_host": _host_items(name, cluster, proxy), "removed_on_member": removed_member,
            "stays_on_member": stays}


# ---------------------------------------------------------------------------------------------------
# the webhook configuration's backup


def restorable(webhook):
    """The webhook configuration as it must be created again: everything it had (labels, annotations,
    webhooks with caBundle, ...) without what the API server owns."""
    out = copy.deepcopy(webhook)
    out.pop("status", None)
    meta = out.get("metadata") or {}
    for key in WEBHOOK_SERVER_OWNED:
        meta.pop(key, None)
    return out


def restored(backup, live):
    """True when `live` is the backed-up webhook configuration again (server-owned metadata ignored)."""
    return live is not None and restorable(live) == restorable(backup)


# ---------------------------------------------------------------------------------------------------
# the plan


def plan(name, facts, options, io, impl=None):
    """The ordered steps of an unbind (its checks are checks/unbind.py's, made before).

    facts    {host_label, cluster, kubefed_cluster, webhook (live, None when absent), webhook_backup (the
             file a previous run left, None), federated (objects with a placement), member (see report)}
    options  {force, remove_from_placements, cleanup_member, remove_agent, wait, wait_timeout, wait_sleep}
    io       the functions that touch the world: cluster_gone(name) and gone_failure(name, timeout) (a
             wait's poll and its timeout error), remove_finalizer(name, finalizers) (a poll that patches),
             backup(body), restore(ctx, body)
    Normal path: [patch placements] -> delete the Cluster -> wait until it is gone -> (proxy) delete the
    member's cluster-agent -> [delete the member's kube-federation-system leftovers] -> verify.
    Dead-member path (force, member proven unreachable): back up the webhook configuration -> delete the
    Cluster -> delete the webhook configuration -> remove the Cluster's finalizer -> remove the host-side
    kubefed objects the controller would have removed -> wait until the Cluster is gone -> restore the
    webhook configuration (always, even after a failure) -> verify.
    When the live configuration is absent and a backup exists (a run stopped between deleting and
    restoring it, or an earlier slice of this run), the plan restores the backup -- on any path.
    `impl` is the host's version (versions/; 3.4 when None): its unbind_dead (4.1: never, no webhook) and its
    unbind_report.
    Returns {path: 'normal'|'dead'|'nothing', steps, report}."""
    cluster, member = facts.get("cluster"), facts.get("member") or {}
    is_dead = (impl.unbind_dead if impl is not None else dead)(cluster, member, facts.get("kubefed_cluster"))
    host = facts.get("host_label") or "host"
    out = []
    if options.get("remove_from_placements"):
        out += _placement_steps(name, host, cluster, facts.get("federated"))
    if cluster is not None and is_dead:
        out += _dead_steps(name, host, facts, options, io)
    elif cluster is not None:
        out += _normal_steps(name, host, cluster, options, io)
    # (4.1) also in a rerun whose Cluster is gone already: the KubeFedCluster the extension's backend left
    if impl is not None and impl.UNBIND_UNJOINS_KUBEFED and facts.get("kubefed_cluster") is not None and not is_dead:
        out += kubefed_host_steps(name, host, facts["kubefed_cluster"], impl.UNBIND_UNJOIN_WHY)
    if member.get("reachable") and not is_dead:
        out += _member_steps(name, cluster, member, options, impl)
    if facts.get("webhook") is None and facts.get("webhook_backup") and not (cluster is not None and is_dead):
        out.append(_restore_step(host, facts["webhook_backup"], io))
    for step in out:
        # check mode reports this plan without sending it, not even as dry runs: a dry-run patch of a dead
        # member's Cluster goes through KubeSphere's webhook, which dials the dead member and denies it
        step["dry_run"] = False
    make_report = impl.unbind_report if impl is not None else report
    extra = {"kubefed_cluster": facts.get("kubefed_cluster")} if impl is not None and impl.UNBIND_UNJOINS_KUBEFED else {}
    rep = make_report(name, cluster, member, facts.get("federated"),
                      remove_agent=options.get("remove_agent", True) and not is_dead,
                      cleanup_member=options.get("cleanup_member") and not is_dead,
                      remove_from_placements=options.get("remove_from_placements"), **extra)
    path = "nothing" if not out else "dead" if is_dead else "normal"
    return {"path": path, "steps": out, "report": rep}


def _placement_steps(name, host, cluster, federated):
    out = []
    for p in placements(name, objects.get_path(cluster or {}, "metadata.labels"), federated):
        if p["patch"]:
            step_id = "placement-%s-%s" % (p["kind"].lower(), "%s.%s" % (p["namespace"], p["name"])
                                           if p["namespace"] else p["name"])
            out.append(steps.patch(step_id, "host", host, p["api_version"], p["kind"], p["name"], p["patch"],
                                   p["namespace"], why="take %s out of its placement first" % name))
    return out


def _gone_wait(name, host, options, io, why):
    timeout = options.get("wait_timeout", 300)
    return steps.wait("cluster-gone", "host", host, describe(v.CLUSTER_KIND, name), "gone", io.cluster_gone(name),
                      timeout, sleep=min(options.get("wait_sleep") or 5, max(timeout, 1)),
                      fail=lambda ctx, state: io.gone_failure(name, timeout), why=why)


def _normal_steps(name, host, cluster, options, io):
    out = []
    if not co.deleting(cluster):
        out.append(steps.delete("delete-cluster", "host", host, v.CLUSTER_API_VERSION, v.CLUSTER_KIND, name,
                                why="KubeSphere's controller unjoins it on the host and removes its finalizer"))
    if options.get("wait", True):
        out.append(_gone_wait(name, host, options, io, "the member stays reachable until the Cluster is gone (the "
                                                       "webhook dials it)"))
    return out


def _member_steps(name, cluster, member, options, impl=None):
    out = []
    proxy = cluster is not None and co.connection_type(cluster) == "proxy"
    if options.get("remove_agent", True) and (member.get("agent") or proxy):
        out.append(steps.delete("delete-agent", "member", name, "apps/v1", "Deployment", "cluster-agent",
                                v.KS_NAMESPACE, why="the proxy agent, removed only after its Cluster is gone"))
        # what the import made for the agent to run as (4.1: its ServiceAccount and binding; the namespace stays)
        for obj in (impl.agent_removed_with() if impl is not None else []):
            meta = obj["metadata"]
            out.append(steps.delete("delete-agent-%s" % obj["kind"].lower(), "member", name, obj["apiVersion"],
                                    obj["kind"], meta["name"], meta.get("namespace"),
                                    why="what the proxy agent ran as, made by its import"))
    if options.get("cleanup_member"):
        out += _cleanup_steps(name, member)
    return out


def _restore_step(host, body, io):
    return steps.act("restore-webhook", "host", host, WEBHOOK_OBJECT, lambda ctx: io.restore(ctx, restorable(body)),
                     why="restore the webhook configuration exactly as it was", always=True, verb="create")


def _dead_steps(name, host, facts, options, io):
    cluster, webhook = facts["cluster"], facts.get("webhook")
    out = []
    if webhook:
        body = restorable(webhook)
        out.append(steps.act("backup-webhook", "local", host, WEBHOOK_OBJECT, lambda ctx: io.backup(body),
                             why="kept in a file to restore it exactly"))
    if not co.deleting(cluster):
        out.append(steps.delete("delete-cluster", "host", host, v.CLUSTER_API_VERSION, v.CLUSTER_KIND, name,
                                why="KubeSphere's controller unjoins it on the host (no member call)"))
    if webhook:
        out.append(steps.delete("delete-webhook", "host", host, v.WEBHOOK_API_VERSION, v.VALIDATING_WEBHOOK_KIND,
                                WEBHOOK_NAME, why="its webhook dials the dead member and denies the finalizer's removal"))
    rest = [f for f in co.finalizers(cluster) if f != v.CLUSTER_FINALIZER]
    # a patch that is retried for a while: kube-apiserver applies a deleted webhook configuration until its
    # own cache has caught up (seen on the lab: a 403 from the webhook just after its configuration was deleted)
    out.append(steps.wait("remove-finalizer", "host", host, describe(v.CLUSTER_KIND, name),
                          "without %s" % v.CLUSTER_FINALIZER, io.remove_finalizer(name, rest or None),
                          FINALIZER_PATCH_TIMEOUT, sleep=1, verb="patch",
                          why="remove %s (what the controller could not)" % v.CLUSTER_FINALIZER))
    out += kubefed_host_steps(name, host, facts.get("kubefed_cluster"),
                              "what the controller's host-side unjoin removes, if it has not yet")
    if options.get("wait", True):
        out.append(_gone_wait(name, host, options, io, "the Cluster is gone once its finalizers are"))
    if webhook or facts.get("webhook_backup"):
        out.append(_restore_step(host, webhook or facts["webhook_backup"], io))
    return out


def kubefed_host_steps(name, host, kubefed_cluster, why):
    """Delete the member's KubeFedCluster and the token Secret it names (kubefedctl's host-side unjoin)."""
    secret = objects.get_path(kubefed_cluster or {}, "spec.secretRef.name") or "%s-secret" % name
    return [steps.delete("delete-kubefedcluster", "host", host, v.KUBEFED_API_VERSION, v.KUBEFED_CLUSTER_KIND, name,
                         v.KUBEFED_NAMESPACE, why=why),
            steps.delete("delete-kubefed-secret", "host", host, "v1", "Secret", secret, v.KUBEFED_NAMESPACE,
                         why="the member's token kubefed used")]


def _cleanup_steps(name, member):
    """Deletes of the member's kube-federation-system leftovers: those read (`member.federation`), or
    kubefedctl's names when a kind was not read (missing key). The token Secret's suffix is random, so
    unread Secrets are left to the token controller (it deletes a deleted ServiceAccount's tokens)."""
    fed = member.get("federation") or {}

    def names(key, kind, predicted):
        seen = fed.get(key)
        return _ours(name, kind, seen) if seen is not None else predicted

    table = (("cluster_role_bindings", "ClusterRoleBinding", v.RBAC_API_VERSION, None, [kubefed_rbac_name(name)],
              "kubefed's binding for the unbound member"),
             ("cluster_roles", "ClusterRole", v.RBAC_API_VERSION, None, [kubefed_rbac_name(name)],
              "kubefed's cluster-wide rights"),
             ("service_accounts", "ServiceAccount", "v1", v.KUBEFED_NAMESPACE, [kubefed_sa_name(name)],
              "kubefed's identity on the member"),
             ("secrets", "Secret", "v1", v.KUBEFED_NAMESPACE, [], "the legacy token of that ServiceAccount"))
    out = []
    for key, kind, api_version, namespace, predicted, why in table:
        for obj_name in names(key, kind, predicted):
            out.append(steps.delete("cleanup-%s-%s" % (kind.lower(), obj_name), "member", name, api_version, kind,
                                    obj_name, namespace, why=why))
    return out


# ---------------------------------------------------------------------------------------------------
# after the run


def remaining(name, host, member=None):
    """What is still there after an unbind, read again: the host side must be gone; on the member, whatever
    the report said stays. `host` = {cluster, kubefed_cluster, secret, service, webhook} (objects or None /
    booleans), `member` as for `report`.
    Returns {host: [objects], member: [objects]} -- host entries are failures, member entries are facts."""
    host = host or {}
    left_host = []
    if host.get("cluster") is not None:
        state = "being deleted" if co.deleting(host["cluster"]) else "present"
        held_by = ", ".join(co.finalizers(host["cluster"])) or "none"
        left_host.append("Cluster %s (%s; finalizers: %s)" % (name, state, held_by))
    if host.get("kubefed_cluster") is not None:
        left_host.append(describe(v.KUBEFED_CLUSTER_KIND, name, v.KUBEFED_NAMESPACE))
    if host.get("secret"):
        left_host.append(describe("Secret", "%s-secret" % name, v.KUBEFED_NAMESPACE))
    if host.get("service"):
        left_host.append(describe("Service", "mc-%s" % name, v.KS_NAMESPACE))
    if "webhook" in host and host["webhook"] is None:
        left_host.append("%s is MISSING: restore it from the backup" % WEBHOOK_OBJECT)
    left_member = []
    if (member or {}).get("reachable"):  # read again: the agent, federation leftovers, labels, clusterName
        left_member = [i["object"] for i in report(name, None, member, remove_agent=False)["stays_on_member"]]
    return {"host": left_host, "member": left_member}
