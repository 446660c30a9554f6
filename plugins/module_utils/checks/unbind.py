# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Unbinding a member: the checks, the report of what goes and what
stays, and the plan (an ordered list of steps) -- all pure. `run` executes a plan through a callable and
guarantees that the steps marked `always` (restoring KubeSphere's webhook configuration) run even when an
earlier step failed.

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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster_health
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import describe
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.placement import selector_matches

KUBEFED_NAMESPACE = "kube-federation-system"
KS_NAMESPACE = "kubesphere-system"
WEBHOOK_API = ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration")
WEBHOOK_NAME = "cluster.kubesphere.io"
WORKSPACE_LABEL = "kubesphere.io/workspace"
WEBHOOK_SERVER_OWNED = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink",
                        "deletionTimestamp", "deletionGracePeriodSeconds")


def sa_name(name):
    """kubefedctl's ServiceAccount for a joined cluster (host cluster name constant `kubesphere`)."""
    return "%s-kubesphere" % name


def rbac_name(name):
    return "kubefed-controller-manager:%s" % sa_name(name)


# ---------------------------------------------------------------------------------------------------
# checks


def confirm_problems(name, confirm):
    """The typed confirmation: `confirm` must be the cluster's name, exactly."""
    if confirm == name:
        return []
    given = "is %r, which is not the cluster's name" % confirm if confirm else "is not set"
    return [problem("unbind_not_confirmed", name, "cluster '%s': unbinding removes it from KubeSphere (its Cluster, "
                    "KubeFedCluster and credentials on the host); confirm_unbind %s: set confirm_unbind: %s"
                    % (name, given, name))]


def unbind_problems(name, confirm, cluster, member, kubefed_cluster=None, force=False):
    """Every check before an unbind writes anything.

    cluster          the host's Cluster object (None when absent: nothing to unbind on the host)
    member           {reachable: bool, error: text} from reading the member with its own connection
    kubefed_cluster  the host's KubeFedCluster (None when absent)
    force            allow the dead-member path (webhook configuration removed and restored)
    A member the inventory cannot read but the host's kubefed reaches is not dead: the normal path
    applies (the member-side steps are then skipped and reported as staying)."""
    out = confirm_problems(name, confirm)
    if cluster is not None and co.is_host(cluster):
        out.append(problem("unbind_host", name, "cluster '%s' is the host's own Cluster (label %s): the host cannot "
                           "be unbound; change its role instead" % (name, co.HOST_LABEL)))
    if dead(cluster, member, kubefed_cluster) and not force:
        kf = cluster_health.kubefed_state(kubefed_cluster)
        out.append(problem("member_unreachable_needs_force", name, "cluster '%s' is unreachable (%s%s): KubeSphere's "
                           "webhook would deny the removal of the Cluster's finalizer and the deletion would hang "
                           "(kubesphere#2306, #6154); set force: true to remove the webhook configuration %s for the "
                           "time it takes and restore it exactly afterwards"
                           % (name, co.error_text((member or {}).get("error")),
                              "; KubeFedCluster Offline" if kf == "offline" else "", WEBHOOK_NAME)))
    return out


def dead(cluster, member, kubefed_cluster):
    """True when the dead-member path applies: a joined Cluster (status.uid set, so the webhook dials the
    member), the member not readable with its own connection, and kubefed not reaching it either."""
    return bool(cluster is not None and co.uid(cluster) and not (member or {}).get("reachable")
                and cluster_health.kubefed_state(kubefed_cluster) != "ready")


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
    removed_host, removed_member, stays = [], [], []
    if cluster is not None:
        removed_host.append(_item("host", "Cluster", name, why="the member's registration"))
        removed_host.append(_item("host", "KubeFedCluster", name, KUBEFED_NAMESPACE, "kubefed's view of the member"))
        removed_host.append(_item("host", "Secret", "%s-secret" % name, KUBEFED_NAMESPACE,
                                  "the member's token kubefed used"))
        if proxy:
            removed_host.append(_item("host", "Service", "mc-%s" % name, KS_NAMESPACE, "tower's tunnel endpoint"))
    reachable = member.get("reachable")
    if proxy or member.get("agent"):
        agent_item = _item(name, "Deployment", "cluster-agent", KS_NAMESPACE, "the proxy agent")
        if remove_agent and reachable:
            removed_member.append(dict(agent_item, why="the proxy agent (removed after the Cluster is gone)"))
        else:
            suffix = "" if reachable else " (the member is unreachable)"
            stays.append(dict(agent_item, why="the proxy agent" + suffix))
    fed = member.get("federation") or {}
    leftovers = [
        ("ServiceAccount", fed.get("service_accounts"), [sa_name(name)], KUBEFED_NAMESPACE, "kubefed's identity on it"),
        ("Secret", fed.get("secrets"), ["%s-token-*" % sa_name(name)], KUBEFED_NAMESPACE,
         "the legacy token of that ServiceAccount"),
        ("ClusterRole", fed.get("cluster_roles"), [rbac_name(name)], None, "kubefed's cluster-wide rights"),
        ("ClusterRoleBinding", fed.get("cluster_role_bindings"), [rbac_name(name)], None, "binds them"),
    ]
    for kind, seen, predicted, ns, why in leftovers:
        names = _ours(name, kind, seen) if seen is not None else predicted
        for obj_name in names:
            item = _item(name, kind, obj_name, ns, why)
            (removed_member if cleanup_member and reachable else stays).append(item)
    for ns, ws in sorted((member.get("workspace_namespaces") or {}).items()):
        stays.append(_item(name, "Namespace", ns, why="keeps label %s=%s" % (WORKSPACE_LABEL, ws)))
    placed = placements(name, objects.get_path(cluster or {}, "metadata.labels"), federated)
    for p in placed:
        if remove_from_placements and p["how"] == "clusters":
            removed_member.append({"cluster": name, "object": "the copy of %s" % p["object"],
                                   "why": "removed from its placement first (kubefed deletes the copy)"})
        else:
            stays.append({"cluster": name, "object": "the copy of %s" % p["object"],
                          "why": "placed there by %s; kubefed stops managing it (orphaned)"
                          % ("its cluster list" if p["how"] == "clusters" else "its clusterSelector")})
    written = objects.get_path(member.get("config") or {}, "multicluster.clusterName")
    if written or cluster is not None:
        stays.append(_item(name, "ConfigMap", "kubesphere-config", KS_NAMESPACE,
                           "keeps multicluster.clusterName %s until its installer renders it again" % (written or name)))
    return {"removed_on_host": removed_host, "removed_on_member": removed_member, "stays_on_member": stays}


def _ours(name, kind, seen):
    sa = sa_name(name)
    if kind == "Secret":
        return sorted(s for s in seen if s.startswith(sa + "-token-"))
    want = sa if kind == "ServiceAccount" else rbac_name(name)
    return [s for s in seen if s == want]


# ---------------------------------------------------------------------------------------------------
# the plan


def step(action, side, kind, name, namespace=None, api_version=None, why=None, always=False, **extra):
    out = {"action": action, "cluster": side, "kind": kind, "api_version": api_version, "name": name,
           "namespace": namespace, "object": describe(kind, name, namespace), "why": why, "always": always}
    out.update(extra)
    return out


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


def plan(name, cluster, member=None, kubefed_cluster=None, webhook=None, federated=None, force=False,
         remove_from_placements=False, cleanup_member=False, remove_agent=True, timeout=300, webhook_backup=None):
    """The ordered steps of an unbind, and the problems that forbid it (the confirmation is checked by
    `unbind_problems`; a plan with problems has no steps).

    Normal path: [patch placements] -> delete the Cluster -> wait until it is gone -> (proxy) delete
    the member's cluster-agent -> [delete the member's kube-federation-system leftovers] -> verify.
    Dead-member path (force, member proven unreachable): back up the webhook configuration -> delete the
    Cluster -> delete the webhook configuration -> remove the Cluster's finalizer -> remove the host-side
    kubefed objects the controller would have removed -> wait until the Cluster is gone -> restore the
    webhook configuration (always, even after a failure) -> verify.
    `webhook` is the live configuration (None when absent); `webhook_backup` the one a previous run saved.
    When the live one is absent and a backup exists (a run stopped between deleting and restoring it),
    the plan restores the backup -- on any path.
    Returns {path: 'normal'|'dead'|'nothing', steps, problems, report}."""
    member = member or {}
    problems = []
    if cluster is not None and co.is_host(cluster):
        problems.append(problem("unbind_host", name, "cluster '%s' is the host's own Cluster: it cannot be unbound"
                                % name))
    is_dead = dead(cluster, member, kubefed_cluster)
    if is_dead and not force:
        problems.append(problem("member_unreachable_needs_force", name, "cluster '%s' is unreachable: its unbind "
                                "needs force: true (the webhook configuration %s is removed and restored)"
                                % (name, WEBHOOK_NAME)))
    rep = report(name, cluster, member, federated, remove_agent=remove_agent and not is_dead,
                 cleanup_member=cleanup_member and not is_dead, remove_from_placements=remove_from_placements)
    if problems:
        return {"path": None, "steps": [], "problems": problems, "report": rep}
    steps = []
    if remove_from_placements:
        for p in placements(name, objects.get_path(cluster or {}, "metadata.labels"), federated):
            if p["patch"]:
                steps.append(step("patch", "host", p["kind"], p["name"], p["namespace"], p["api_version"],
                                  "take %s out of its placement first" % name, patch=p["patch"]))
    if cluster is not None and is_dead:
        steps += _dead_steps(name, cluster, kubefed_cluster, webhook, timeout, webhook_backup)
    elif cluster is not None:
        if not co.deleting(cluster):
            steps.append(step("delete", "host", co.KIND, name, api_version=co.API_VERSION,
                              why="KubeSphere's controller unjoins it on the host and removes its finalizer"))
        steps.append(step("wait_deleted", "host", co.KIND, name, api_version=co.API_VERSION, timeout=timeout,
                          why="the member stays reachable until the Cluster is gone (the webhook dials it)"))
    if member.get("reachable") and not is_dead:
        if remove_agent and (member.get("agent") or (cluster is not None and co.connection_type(cluster) == "proxy")):
            steps.append(step("delete", name, "Deployment", "cluster-agent", KS_NAMESPACE, "apps/v1",
                              "the proxy agent, removed only after its Cluster is gone"))
        if cleanup_member:
            steps += _cleanup_steps(name, member)
    if webhook is None and webhook_backup and not (cluster is not None and is_dead):
        steps.append(_restore_step(webhook_backup))
    path = "nothing" if not steps else "dead" if is_dead else "normal"
    if steps:
        steps.append(step("verify", "both", co.KIND, name, why="report what is left"))
    return {"path": path, "steps": steps, "problems": [], "report": rep}


def _restore_step(body):
    return step("create", "host", WEBHOOK_API[1], WEBHOOK_NAME, api_version=WEBHOOK_API[0], always=True,
                why="restore the webhook configuration exactly as it was", body=restorable(body),
                replace_existing=True)


def _dead_steps(name, cluster, kubefed_cluster, webhook, timeout, webhook_backup=None):
    steps = []
    if webhook:
        steps.append(step("backup", "host", WEBHOOK_API[1], WEBHOOK_NAME, api_version=WEBHOOK_API[0],
                          why="kept to restore it exactly", body=restorable(webhook)))
    if not co.deleting(cluster):
        steps.append(step("delete", "host", co.KIND, name, api_version=co.API_VERSION,
                          why="KubeSphere's controller unjoins it on the host (no member call)"))
    if webhook:
        steps.append(step("delete", "host", WEBHOOK_API[1], WEBHOOK_NAME, api_version=WEBHOOK_API[0],
                          why="its webhook dials the dead member and denies the finalizer's removal"))
    rest = [f for f in co.finalizers(cluster) if f != co.FINALIZER]
    steps.append(step("patch", "host", co.KIND, name, api_version=co.API_VERSION,
                      why="remove %s (what the controller could not)" % co.FINALIZER,
                      patch={"metadata": {"finalizers": rest or None}}, missing_ok=True))
    secret = objects.get_path(kubefed_cluster or {}, "spec.secretRef.name") or "%s-secret" % name
    steps.append(step("delete", "host", co.KUBEFED_KIND, name, KUBEFED_NAMESPACE, co.KUBEFED_API_VERSION,
                      "what the controller's host-side unjoin removes, if it has not yet", missing_ok=True))
    steps.append(step("delete", "host", "Secret", secret, KUBEFED_NAMESPACE, "v1",
                      "the member's token kubefed used", missing_ok=True))
    steps.append(step("wait_deleted", "host", co.KIND, name, api_version=co.API_VERSION, timeout=timeout,
                      why="the Cluster is gone once its finalizers are"))
    if webhook or webhook_backup:
        steps.append(_restore_step(webhook or webhook_backup))
    return steps


def _cleanup_steps(name, member):
    """Deletes of the member's kube-federation-system leftovers: those read (`member.federation`), or
    kubefedctl's names when a kind was not read (missing key). The token Secret's suffix is random, so
    unread Secrets are left to the token controller (it deletes a deleted ServiceAccount's tokens)."""
    fed = member.get("federation") or {}

    def names(key, kind, predicted):
        seen = fed.get(key)
        return _ours(name, kind, seen) if seen is not None else predicted

    rbac = "rbac.authorization.k8s.io/v1"
    steps = []
    for binding in names("cluster_role_bindings", "ClusterRoleBinding", [rbac_name(name)]):
        steps.append(step("delete", name, "ClusterRoleBinding", binding, None, rbac,
                          "kubefed's binding for the unbound member", missing_ok=True))
    for role in names("cluster_roles", "ClusterRole", [rbac_name(name)]):
        steps.append(step("delete", name, "ClusterRole", role, None, rbac, "kubefed's cluster-wide rights",
                          missing_ok=True))
    for sa in names("service_accounts", "ServiceAccount", [sa_name(name)]):
        steps.append(step("delete", name, "ServiceAccount", sa, KUBEFED_NAMESPACE, "v1",
                          "kubefed's identity on the member", missing_ok=True))
    for secret in names("secrets", "Secret", []):
        steps.append(step("delete", name, "Secret", secret, KUBEFED_NAMESPACE, "v1",
                          "the legacy token of that ServiceAccount", missing_ok=True))
    return steps


def remaining(name, host, member=None):
    """What is still there after an unbind, read again (the verification step): the host side must be
    gone; on the member, whatever the report said stays. `host` = {cluster, kubefed_cluster, secret,
    service, webhook} (objects or None / booleans), `member` as for `report`.
    Returns {host: [objects], member: [objects]} -- host entries are failures, member entries are facts."""
    host = host or {}
    left_host = []
    if host.get("cluster") is not None:
        state = "being deleted" if co.deleting(host["cluster"]) else "present"
        held_by = ", ".join(co.finalizers(host["cluster"])) or "none"
        left_host.append("Cluster %s (%s; finalizers: %s)" % (name, state, held_by))
    if host.get("kubefed_cluster") is not None:
        left_host.append(describe(co.KUBEFED_KIND, name, KUBEFED_NAMESPACE))
    if host.get("secret"):
        left_host.append(describe("Secret", "%s-secret" % name, KUBEFED_NAMESPACE))
    if host.get("service"):
        left_host.append(describe("Service", "mc-%s" % name, KS_NAMESPACE))
    if "webhook" in host and host["webhook"] is None:
        left_host.append("ValidatingWebhookConfiguration %s is MISSING: restore it from the backup" % WEBHOOK_NAME)
    left_member = []
    if (member or {}).get("reachable"):  # read again: the agent, federation leftovers, labels, clusterName
        left_member = [i["object"] for i in report(name, None, member, remove_agent=False)["stays_on_member"]]
    return {"host": left_host, "member": left_member}


# ---------------------------------------------------------------------------------------------------
# running a plan


def run(steps, execute):
    """Run `steps` in order through `execute(step)` (which raises on failure). After a failure the
    remaining steps are skipped, except those marked `always`, which run anyway. Returns
    {done: [objects/actions], failed: [{step, error}], skipped: [...], ok: bool} -- the report of what was
    done."""
    result = {"done": [], "failed": [], "skipped": [], "ok": True}
    for s in steps:
        label = "%s %s on %s" % (s["action"], s["object"], s["cluster"])
        if not result["ok"] and not s.get("always"):
            result["skipped"].append(label)
            continue
        try:
            execute(s)
        except Exception as e:  # noqa: BLE001  every failure is reported, none hides a restore
            result["failed"].append({"step": label, "error": str(e) or e.__class__.__name__})
            result["ok"] = False
        else:
            result["done"].append(label)
    return result
