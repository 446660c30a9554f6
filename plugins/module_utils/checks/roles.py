# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Checks before a cluster's multi-cluster role changes (pure).

Facts are plain values: the target's and its host's states (cluster_state.read) and the other clusters
of the fleet as PEER FACTS, never connections or inventory variables:
    {"name", "role", "kube_system_uid", "clusters": [{"name", "uid"}, ...]}
(what the preflight role read of each cluster with cluster_info). Codes:
- second_host            another cluster of the fleet is already a host
- host_has_members       a host with members would become a member or none
- member_imported        a cluster imported as a member somewhere would become a host
- managed_by_other_host  a cluster another host manages (or the same host under another name) would become
                         a member of ours
and what the change itself needs (never forced):
- no_jwt_secret          a member without jwt_secret nor the host's connection to read it from
- host_not_ready         the host a member takes its jwtSecret from is not a host yet, or has no jwtSecret
- no_host                sync_components without the host's connection
- bad_proxy_publish_address  proxy_publish_address that tower's agent cannot dial (not a http(s)/ws(s) URL with
                         a host and an optional port)"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import installer
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read.cluster_state import spec_role
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.vocabulary import (
    HOST_CLUSTER_ANNOTATION as V4_HOST_ANNOTATION)
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.common import get_path
from ansible.module_utils.six.moves.urllib.parse import urlsplit

FORCE_HINT = "force: true to do it anyway"


def guard_problems(name, role, current_role, members=(), imported_by=(), peer_hosts=(), managed_by=()):
    """Every guard for setting cluster `name` to `role`; [] when it is safe.
      current_role   the cluster's role now (ClusterConfiguration spec)
      members        names of Cluster objects on this cluster other than its own
      imported_by    where this cluster is imported (host names / "kubesphere-config clusterName X")
      peer_hosts     other clusters of the fleet whose role is host
      managed_by     hosts, other than the one we join, that manage this cluster"""
    out = []
    if role == "host" and peer_hosts:
        out.append(problem("second_host", name, "cluster '%s' cannot become a host: %s already %s the host of the "
                           "fleet; a fleet has one host (%s)"
                           % (name, ", ".join("'%s'" % p for p in sorted(peer_hosts)),
                              "is" if len(peer_hosts) == 1 else "are", FORCE_HINT)))
    if current_role == "host" and role != "host" and members:
        out.append(problem("host_has_members", name, "cluster '%s' is a host with members (%s); turning it into "
                           "'%s' would orphan them: unbind them first (%s)"
                           % (name, ", ".join(sorted(members)), role, FORCE_HINT)))
    if role == "host" and current_role != "host" and imported_by:
        out.append(problem("member_imported", name, "cluster '%s' is imported as a member (%s); unbind it before "
                           "it becomes a host (%s)" % (name, "; ".join(sorted(imported_by)), FORCE_HINT)))
    if role == "member" and managed_by:
        out.append(problem("managed_by_other_host", name, "cluster '%s' is managed by another host (%s); unbind "
                           "it there first (%s)" % (name, "; ".join(sorted(managed_by)), FORCE_HINT)))
    return out


def members_of(clusters, own_uid, own_name):
    """Names of the Cluster summaries on a host other than the host's own (by kube-system UID or name)."""
    return sorted(c["name"] for c in clusters or ()
                  if c.get("name") != own_name and not (own_uid and c.get("uid") == own_uid))


def imports_of(uid, clusters):
    """The names under which a host's Cluster summaries record the cluster with kube-system `uid`."""
    return sorted(c["name"] for c in clusters or () if uid and c.get("uid") == uid)


def managed_by(name, uid, annotations, host_label, host_name, host_clusters, peer_host_clusters=None):
    """Hosts other than `host_label` that manage this member, and imports by `host_label` under another
    name. `annotations` are the member's kubesphere-system annotations (v4), `host_clusters` the Cluster
    summaries of the host we join, `peer_host_clusters` {label: Cluster summaries} of other hosts."""
    out = []
    annotated = (annotations or {}).get(V4_HOST_ANNOTATION)
    if annotated and annotated != host_name:
        out.append("kubesphere-system is annotated %s=%s" % (V4_HOST_ANNOTATION, annotated))
    for cname in imports_of(uid, host_clusters):
        if cname != name:
            out.append("host '%s' already imports it as '%s'" % (host_label, cname))
    for label, clusters in sorted((peer_host_clusters or {}).items()):
        if label != host_label:
            out.extend("host '%s' imports it as '%s'" % (label, c) for c in imports_of(uid, clusters))
    return out


def imported_evidence(config, annotations, peer_host_clusters, uid):
    """Signs that a cluster is a member of some host: the clusterName the host's controller writes into
    its kubesphere-config, the v4 host annotation, or a host's Cluster object with its kube-system UID."""
    out = []
    if get_path(config or {}, "multicluster.clusterName"):
        out.append("its kubesphere-config has clusterName '%s'" % get_path(config, "multicluster.clusterName"))
    annotated = (annotations or {}).get(V4_HOST_ANNOTATION)
    if annotated:
        out.append("kubesphere-system is annotated %s=%s" % (V4_HOST_ANNOTATION, annotated))
    for label, clusters in sorted((peer_host_clusters or {}).items()):
        out.extend("host '%s' imports it as '%s'" % (label, c) for c in imports_of(uid, clusters))
    return out


def role_problems(name, role, target, host=None, peers=(), host_cluster_name=None):
    """Every guard for setting cluster `name` (state `target`) to `role`, with the state of the host it
    joins (`host`, None when not given) and the fleet's peer facts. The peer entry named `name` is the
    target itself and is skipped."""
    peers = [p for p in peers or () if p.get("name") != name]
    peer_hosts = {p["name"]: p.get("clusters") or [] for p in peers if p.get("role") == "host"}
    current = spec_role(target)
    members = imported = managed = ()
    if current == "host" and role != "host":
        members = members_of(target["clusters"], target["kube_system_uid"],
                             installer.host_cluster_name(target["config"]))
    if role == "host" and current != "host":
        imported = imported_evidence(target["config"], target["ks_namespace_annotations"], peer_hosts,
                                     target["kube_system_uid"])
    if role == "member":  # without the host's state, only the annotation and the peers are checked
        host_name = host_cluster_name or installer.host_cluster_name(host["config"] if host else {})
        managed = managed_by(name, target["kube_system_uid"], target["ks_namespace_annotations"],
                             host["name"] if host else host_name, host_name,
                             (host["clusters"] or []) if host else [], peer_hosts)
    return guard_problems(name, role, current, members=members, imported_by=imported,
                          peer_hosts=sorted(peer_hosts), managed_by=managed)


def not_a_host_yet(host):
    """Why the host's rendered kubesphere-config does not make it a host yet, or None."""
    rendered = installer.config_role(host["config"])
    if rendered == "host":
        return None
    return "is not a host yet (kubesphere-config clusterRole %s)" % (rendered or "absent")


def secret_problems(name, secret_given, host, predict=False):
    """Where a member's jwtSecret comes from: `jwt_secret` (secret_given), else the host's rendered one,
    which needs the host's state (`host`, None when no connection was given), a host role rendered (not
    checked when `predict`: check mode predicts with the secret the host has now) and a jwtSecret."""
    if secret_given:
        return []
    if host is None:
        return [problem("no_jwt_secret", name, "cluster '%s': role member needs the host's jwtSecret: give "
                        "jwt_secret or the host's connection (host_kubeconfig, host_context, ...)" % name)]
    why = not_a_host_yet(host)
    if why and not predict:
        return [problem("host_not_ready", host["name"], "cluster '%s' %s: set the host role first" % (host["name"], why))]
    if not installer.config_jwt_secret(host["config"]):
        return [problem("host_not_ready", host["name"], "cluster '%s': its kubesphere-config has no jwtSecret yet"
                        % host["name"])]
    return []


def components_problems(name, sync_components, host):
    """sync_components reads what the host enables: it needs the host's ClusterConfiguration."""
    if sync_components and (host is None or not host["cluster_configuration"]):
        return [problem("no_host", name, "cluster '%s': sync_components needs the host's connection "
                        "(host_kubeconfig, ...)" % name)]
    return []


# What tower v0.2.1's agent accepts as --proxy-server (TWR cmd/agent/app/options.go Validate: url.Parse, ":80" or
# ":443" added when the host has no port, http -> ws; gorilla/websocket v1.4.0 Dial: scheme ws or wss only, no
# user info). ks-apiserver hands multicluster.proxyPublishAddress to the agent as it is (KS
# pkg/kapis/cluster/v1alpha1/handler.go populateProxyAddress), e.g. http://139.198.120.120:30721.
PROXY_SCHEMES = ("http", "https", "ws", "wss")
PROXY_EXAMPLE = "http://<address>:<port>, e.g. http://192.168.0.10:30721"


def proxy_address_error(address):
    """Why `address` is not a proxyPublishAddress tower's agent can dial, or None ('' and None: nothing set)."""
    if not address:
        return None
    if address != address.strip() or any(c.isspace() for c in address):
        return "contains white space"
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError as e:
        return "is not a URL (%s)" % e
    if parts.scheme.lower() not in PROXY_SCHEMES or "//" not in address:
        return "has no scheme http://, https://, ws:// or wss:// (the agent dials it as a URL)"
    if not parts.hostname:
        return "has no host"
    if parts.username is not None or parts.password is not None:
        return "carries user information, which the agent's websocket client refuses"
    if port is not None and not 0 < port < 65536:
        return "has port %s, not 1-65535" % port
    if parts.netloc.endswith(":"):
        return "has an empty port"
    if parts.query or parts.fragment or address.endswith(("?", "#")):
        return "has a query or fragment"
    return None


def proxy_address_problems(name, role, address):
    """The host's proxy_publish_address in a form tower's agent can dial ('' clears it, None leaves it)."""
    why = proxy_address_error(address) if role == "host" else None
    if not why:
        return []
    message = ("cluster '%s': proxy_publish_address (inventory kubesphere_proxy_publish_address) %r %s; give %s, "
               "or an empty string to clear it so the address comes from tower's Service" % (name, address, why, PROXY_EXAMPLE))
    return [problem("bad_proxy_publish_address", name, message)]
