# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. A cluster's multi-cluster role on KubeSphere 4.1, and what the role step may
do about it. Pure.

Facts (../shared/docs/kubesphere-v4.1.md 1.1, 1.3, 1.5 and 6 items 1-6):
- KubeSphere is the Helm release `ks-core` in kubesphere-system; the role is its value `multicluster.role` (unset:
  host; roles are host and member only), the host's name `multicluster.hostClusterName` (default `host`), both
  rendered into ConfigMap kubesphere-system/kubesphere-config as `multicluster.clusterRole` and
  `multicluster.hostClusterName`. The collection does not run Helm: a role that differs is changed with
  `helm upgrade ks-core ... --reuse-values --set multicluster.role=...`, never by editing the ConfigMap (the next
  upgrade re-renders it);
- `proxyPublishAddress` is no chart value: only a hand edit of kubesphere-config, which the next `helm upgrade`
  drops; proxy connections are the tower extension's;
- a member needs nothing prepared: the host's controller installs ks-core on it with `multicluster.role: member`
  and the host's jwtSecret when its Cluster is created, so there is nothing to write on the member and no
  jwtSecret to copy;
- a cluster that runs a standalone KubeSphere 4.1 renders role host; importing it would make the host's
  `helm upgrade` with role member remove its host-only workloads (ks-apiserver, ks-console,
  ks-controller-manager);
- a member's kubesphere-system Namespace carries `cluster.kubesphere.io/host-cluster: <host>` once a host
  imported it (a standalone KubeSphere annotates its own with its own name).

Codes (checks before any write; the role step never writes on 4.1):
- role_set_by_helm            the role (or hostClusterName) differs from what ks-core renders, role `none`, or an
                              install file / ClusterConfiguration asked for (never forced)
- not_installed               role host on a cluster without ks-core (install it with Helm)
- proxy_publish_address_not_in_v41  proxy_publish_address given (never forced)
- components_not_in_v41       sync_components (components are extensions on 4.1; never forced)
- member_runs_host_ks_core    role member on a cluster whose ks-core renders role host (forced with `force`)
- managed_by_other_host       role member on a cluster another host manages (checks/roles.py; forced with `force`)
- second_host                 role host while a peer is the host (checks/roles.py; forced with `force`)"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.common import get_path
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

FORCE_HINT = "force: true to do it anyway"
RELEASE = "ks-core"
CONFIG_MAP = "kubesphere-config"
ROLE_SOURCE = ("the Helm release %s in %s (value multicluster.role, rendered in ConfigMap %s/%s as "
               "multicluster.clusterRole)" % (RELEASE, v.KS_NAMESPACE, v.KS_NAMESPACE, CONFIG_MAP))
ROLES = ("host", "member")
CHART_HINT = "<the ks-core chart you installed it with>"
VALUES_SOURCE = "Helm values"  # rendered()'s source when kubesphere-config renders no role: the release's values


def rendered(state):
    """{"role", "host_cluster_name", "source"}: the role and host name as ks-core renders them in kubesphere-config;
    when that ConfigMap renders neither (absent, or unreadable to the credential) but the ks-core release was read,
    its values multicluster.role and multicluster.hostClusterName (objects/helm_release.py: the user's value over
    the chart's default, None when unset). `source` says which ("kubesphere-config", "Helm values", None)."""
    state = state or {}
    config = state.get("config") or {}
    role = get_path(config, "multicluster.clusterRole")
    name = get_path(config, "multicluster.hostClusterName")
    if role or name:
        return {"role": role, "host_cluster_name": name, "source": CONFIG_MAP}
    values = (state.get("ks_core_release") or {}).get("multicluster") or {}
    if state.get("ks_core_release"):
        return {"role": values.get("role"), "host_cluster_name": values.get("host_cluster_name"),
                "source": VALUES_SOURCE}
    return {"role": None, "host_cluster_name": None, "source": None}


def says(now, role):
    """How `now` (rendered()) shows `role`: rendered in kubesphere-config, or the release's value."""
    if now.get("source") == VALUES_SOURCE:
        return "has the Helm value multicluster.role %s (kubesphere-config renders no role)" % role
    return "renders clusterRole %s" % role


def installed(state):
    """Whether the cluster runs KubeSphere 4.1 (its ks-core release or a rendered kubesphere-config)."""
    state = state or {}
    return bool(state.get("ks_core_release") or state.get("config_present"))


def helm_upgrade(role, host_cluster_name=None, install=False):
    """The Helm command that sets the role (the collection does not run Helm)."""
    sets = " --set multicluster.role=%s" % role
    if host_cluster_name:
        sets += " --set multicluster.hostClusterName=%s" % host_cluster_name
    if install:
        return "helm upgrade --install %s %s -n %s --create-namespace%s" % (RELEASE, CHART_HINT, v.KS_NAMESPACE, sets)
    return "helm upgrade %s %s -n %s --reuse-values%s" % (RELEASE, CHART_HINT, v.KS_NAMESPACE, sets)


def shown(state):
    """What results show of the role on 4.1 (no secret): the rendered role and host name, the release."""
    release = (state or {}).get("ks_core_release") or {}
    r = rendered(state)
    return {"multicluster": {"clusterRole": r["role"], "hostClusterName": r["host_cluster_name"]},
            "role_read_from": r["source"],
            "release": {k: release.get(k) for k in ("name", "revision", "status", "chart_version", "app_version")}
            if release else None}


def _refused_file(name, role, dest):
    how = "dest (an install file)" if dest else "create (a ClusterConfiguration)"
    return [problem("role_set_by_helm", name, "cluster '%s': KubeSphere 4.1 has no ks-installer, so %s has nothing "
                    "to write: the role is the Helm value multicluster.role of the release %s; install with `%s`"
                    % (name, how, RELEASE, helm_upgrade(role, install=True)) if role == "host" else
                    "cluster '%s': KubeSphere 4.1 has no ks-installer, so %s has nothing to write, and a member needs "
                    "nothing prepared: the host installs ks-core on it when its Cluster is created (join.yml)"
                    % (name, how))]


def problems(p, target, host=None, peers=()):
    """(guards, problems) of setting the role on KubeSphere 4.1: `guards` may be forced (`force`), `problems`
    never. `p` the module's parameters, `target` the cluster's state (None with dest), `host` the host's state
    (None without the host_ connection), `peers` the fleet's peer facts."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import roles as role_checks  # noqa: PLC0415

    name, role = p["cluster_name"], p["role"]
    if p.get("dest") or target is None:
        return [], _refused_file(name, role, bool(p.get("dest")))
    others = [x for x in peers or () if x.get("name") != name]
    peer_hosts = {x["name"]: x.get("clusters") or [] for x in others if x.get("role") == "host"}
    now = rendered(target)
    out, guards = [], []
    if role not in ROLES:
        out.append(problem("role_set_by_helm", name, "cluster '%s': KubeSphere 4.1 has the roles host and member "
                           "only (an unset multicluster.role renders host); ks-core renders clusterRole %s here, and "
                           "nothing was changed" % (name, now["role"] or "none")))
        return guards, out
    if role == "host":
        out += host_problems(name, p, target, now)
        guards += role_checks.guard_problems(name, role, now["role"] or "none", peer_hosts=sorted(peer_hosts))
    else:
        guards += member_guards(name, p, target, host, peer_hosts, now)
        if p.get("sync_components"):
            out.append(problem("components_not_in_v41", name, "cluster '%s': sync_components enables ks-installer "
                               "components, which KubeSphere 4.1 does not have (optional features are extensions, "
                               "installed once on the host); leave member_config_sync_components false"
                               % name))
    return guards, out


def host_problems(name, p, target, now):
    """Role host on 4.1: ks-core must render it already (the collection does not run Helm)."""
    out = []
    if not installed(target):
        out.append(problem("not_installed", name, "cluster '%s' has no KubeSphere (no Helm release %s in %s): "
                           "KubeSphere 4.1 is installed with Helm, e.g. `%s`; nothing was changed"
                           % (name, RELEASE, v.KS_NAMESPACE,
                              helm_upgrade("host", p.get("host_cluster_name"), install=True))))
        return out
    wanted_name = p.get("host_cluster_name")
    # an unset multicluster.role renders host (config/ks-core/templates/_helpers.tpl)
    role_now = now["role"] or "host"
    name_now = now["host_cluster_name"] or v.DEFAULT_HOST_CLUSTER_NAME
    differs = []
    if role_now != "host":
        differs.append("clusterRole %s (wanted host)" % role_now)
    if wanted_name and wanted_name != name_now:
        differs.append("hostClusterName %s (wanted %s)" % (name_now, wanted_name))
    if differs:
        out.append(problem("role_set_by_helm", name, "cluster '%s': its ks-core renders %s in %s/%s; on KubeSphere "
                           "4.1 the role is the Helm value multicluster.role of the release %s, which the collection "
                           "does not change: run `%s` (renaming a host with members is not supported by KubeSphere); "
                           "nothing was changed" % (name, " and ".join(differs), v.KS_NAMESPACE, CONFIG_MAP, RELEASE,
                                                    helm_upgrade("host", wanted_name if wanted_name != name_now else None))))
    if p.get("proxy_publish_address"):
        out.append(problem("proxy_publish_address_not_in_v41", name, "cluster '%s': proxy_publish_address "
                           "(kubesphere_proxy_publish_address) is no ks-core chart value on KubeSphere 4.1: it would "
                           "be a hand edit of %s/%s that the next `helm upgrade ks-core` drops, and proxy "
                           "connections are the tower extension's; remove it from the inventory (nothing was "
                           "changed)" % (name, v.KS_NAMESPACE, CONFIG_MAP)))
    return out


def member_guards(name, p, target, host, peer_hosts, now):
    """Role member on 4.1: a standalone KubeSphere (ks-core renders host), another host's annotation."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import roles as role_checks  # noqa: PLC0415

    out = []
    if installed(target) and (now["role"] or "host") == "host":
        out.append(problem("member_runs_host_ks_core", name, "cluster '%s' runs its own KubeSphere 4.1 as a host "
                           "(its ks-core renders clusterRole host): importing it would make the host's `helm "
                           "upgrade` with role member remove its host-only workloads (ks-apiserver, ks-console, "
                           "ks-controller-manager); uninstall it (`helm uninstall %s -n %s`) or leave it out of the "
                           "fleet (%s); nothing was changed" % (name, RELEASE, v.KS_NAMESPACE, FORCE_HINT)))
    host_name = p.get("host_cluster_name") or (rendered(host)["host_cluster_name"] if host else None) \
        or v.DEFAULT_HOST_CLUSTER_NAME
    managed = role_checks.managed_by(name, target.get("kube_system_uid"), target.get("ks_namespace_annotations"),
                                     host["name"] if host else host_name, host_name,
                                     (host.get("clusters") or []) if host else [], peer_hosts)
    if managed and out and (target.get("ks_namespace_annotations") or {}).get(v.HOST_CLUSTER_ANNOTATION) \
            == now["host_cluster_name"]:
        # a standalone KubeSphere annotates itself with its own name: said once, by member_runs_host_ks_core
        managed = [m for m in managed if not m.startswith("kubesphere-system is annotated")]
    out += role_checks.guard_problems(name, "member", now["role"] or "none", managed_by=managed)
    return out


def outcome(p, target, host_label, forced=False):
    """{applied, note} of the role on 4.1 (nothing is written): what the cluster renders and why nothing was
    done."""
    name, role = p["cluster_name"], p["role"]
    now = rendered(target)
    if role == "host":
        return {"applied": True, "note": "cluster '%s': ks-core %s (hostClusterName %s); on "
                "KubeSphere 4.1 the role comes from %s, so nothing was written"
                % (name, says(now, "host"), now["host_cluster_name"] or v.DEFAULT_HOST_CLUSTER_NAME, ROLE_SOURCE)}
    if installed(target) and now["role"] == "member":
        return {"applied": True, "note": "cluster '%s': ks-core %s (installed by host '%s' "
                "with its jwtSecret); nothing to write on the member" % (name, says(now, "member"), host_label)}
    if forced and installed(target):
        return {"applied": False, "note": "cluster '%s': ks-core %s, not member; forced, nothing was written, and "
                "the import into host '%s' (join.yml) refuses it (member_is_host: the host's `helm upgrade` with role "
                "member would remove its host-only workloads) until KubeSphere is removed from it (`helm uninstall "
                "%s -n %s`)" % (name, says(now, now["role"] or "host"), host_label, RELEASE, v.KS_NAMESPACE)}
    return {"applied": True, "note": "cluster '%s': nothing to write on the member on KubeSphere 4.1: host '%s' "
            "installs ks-core on it in role member with its own jwtSecret when its Cluster is created (join.yml); "
            "no jwtSecret is copied" % (name, host_label)}
