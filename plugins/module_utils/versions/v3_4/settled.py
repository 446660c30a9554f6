# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. KubeSphere 3.4: whether the facts this run's preflight read (cluster_info's
summaries of a member and of its host) already show the member role as multicluster_role would leave it
(`member_role`), or the member imported as the `member` module would leave it (`member_import`), so that the
module reads nothing more and writes nothing (issue 21: a converged member costs one read per run).

Pure and conservative: any fact missing, unreadable or different, any option that asks for more than the role and
the host's jwtSecret, or any guard the full run would raise, answers "not proven", and the module reads both
clusters and runs every check as usual."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import clock
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

LINE = "3.4"


def _readable(facts):
    return bool(facts) and facts.get("reachable") is True and not facts.get("unreadable") \
        and facts.get("kubesphere_line") == LINE


def member_role(params, cluster, host, peers=()):
    """One sentence saying what the facts show when the member role is settled (role member in the
    ClusterConfiguration and rendered, both with the host's jwtSecret, the installer not failed, no guard), else
    None. `params` are multicluster_role's, `cluster` and `host` the cluster_info summaries of this run."""
    # imported here: checks/roles.py imports read/cluster_state.py, which imports this version package
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import roles as role_checks  # noqa: PLC0415

    p = params
    if p.get("role") != "member" or p.get("dest") or p.get("sync_components") or p.get("proxy_publish_address"):
        return None
    if not (_readable(cluster) and _readable(host)) or host.get("role") != "host" or not host.get("jwt_secret_hash"):
        return None
    want = fingerprint(p["jwt_secret"]) if p.get("jwt_secret") else host["jwt_secret_hash"]
    installer = cluster.get("installer") or {}
    role = cluster.get("cluster_role") or {}
    if not installer.get("present") or installer.get("failed_components") or installer.get("core_status") == "failed":
        return None
    if role.get("spec") != "member" or role.get("rendered") != "member":
        return None
    if cluster.get("jwt_secret_hash") != want or cluster.get("spec_jwt_secret_hash") != want:
        return None
    name = p["cluster_name"]
    if not _one_host_one_line(name, host, peers):
        return None
    host_name = p.get("host_cluster_name") or host.get("name")
    if role_checks.managed_by(name, cluster.get("kube_system_uid"), cluster.get("host_annotations"),
                              host.get("name"), host_name, host.get("clusters") or []):
        return None
    return ("this run's preflight read shows role member set and rendered with the host's jwtSecret (%s) and the "
            "installer not failed: nothing to write, nothing read again" % want)


def member_import(params, cluster, host, kubeconfig, peers=(), now=None):
    """One sentence saying what the facts show when the import is converged, else None. `params` are the
    `member` module's (state present), `cluster` and `host` the cluster_info summaries of this run, `kubeconfig`
    the text the module would store. Converged means that the full run would find no problem, plan no write and
    no wait, and its verification would pass:
    - a direct member, without a dedicated credential (its token is read on the member);
    - the member renders role member with the host's jwtSecret and the name the host's controller wrote at its
      join (multicluster.clusterName); no other host in the fleet, no v4 annotation naming another host, one line;
    - the host's one Cluster of this kube-system UID is this name's, direct, healthy by the version's verdict
      (Ready and its KubeFedCluster Ready), with status.uid and the member's KubeSphere version;
    - that Cluster already holds what the module would write (labels, annotations, provider, joinFederation,
      the kubeconfig by fingerprint);
    - the checks that need no read pass on the facts: the kubeconfig (loopback, TLS, client certificate expiry
      with this run's margin) and the clock skew the preflight measured.
    Left to the full run only: the probe of the member's ks-apiserver through its API server (a converged member's
    Cluster says the host reached it: status.kubeSphereVersion) and the read of the member with the stored
    kubeconfig (its KubeFedCluster Ready says the host reaches it)."""
    # imported here: checks/join.py imports this version's installer module, whose package imports this file
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import join as join_checks  # noqa: PLC0415

    p = params
    name = p["name"]
    if p.get("connection_type") != "direct" or p.get("dedicated_credential") or not kubeconfig:
        return None
    if not (_readable(cluster) and _readable(host)) or host.get("role") != "host" or not host.get("jwt_secret_hash"):
        return None
    role = cluster.get("cluster_role") or {}
    if role.get("spec") != "member" or role.get("rendered") != "member":
        return None
    if cluster.get("jwt_secret_hash") != host["jwt_secret_hash"] or cluster.get("rendered_cluster_name") != name:
        return None
    uid = cluster.get("kube_system_uid")
    if not uid or uid == host.get("kube_system_uid"):
        return None
    annotated = (cluster.get("host_annotations") or {}).get(v.HOST_CLUSTER_ANNOTATION)
    if annotated and annotated != host.get("name"):
        return None
    if not _one_host_one_line(name, host, peers):
        return None
    live = _the_cluster(name, uid, host.get("clusters"))
    if live is None:
        return None
    try:
        desired = co.build(name, "direct", kubeconfig=kubeconfig, group=p.get("group"), provider=p.get("provider"),
                           description=p.get("description"), alias=p.get("alias"), creator=p.get("creator"),
                           labels=p.get("labels"))
    except ValueError:
        return None
    if live.get("kubeconfig_fingerprint") != co.kubeconfig_fingerprint(desired):
        return None
    as_read = {"metadata": {"name": name, "labels": dict(live.get("labels") or {}),
                            "annotations": dict(live.get("annotations") or {})},
               "spec": {"provider": live.get("provider") or "", "joinFederation": live.get("join_federation"),
                        "connection": dict((desired.get("spec") or {}).get("connection") or {})}}
    if co.compare(as_read, desired)["patch"] is not None:
        return None
    skews = [x.get("maximum_clock_skew_seconds") for x in (cluster, host) if x.get("maximum_clock_skew_seconds")]
    options = {"allow_loopback": p.get("allow_loopback"), "allow_insecure": p.get("allow_insecure"),
               "cert_expiry_margin_days": p.get("cert_expiry_margin_days"), "now": now,
               "max_clock_skew": p.get("max_clock_skew") if p.get("max_clock_skew") is not None
               else (min(skews) if skews else clock.DEFAULT_MAX_SKEW)}
    if not (cluster.get("clock") and host.get("clock")) or join_checks.fact_problems(
            name, kubeconfig, cluster["clock"], host["clock"], options):
        return None
    return ("this run's preflight read shows it imported (Cluster of kube-system UID %s, %s) with the kubeconfig it "
            "would store (%s), its role member rendered with the host's jwtSecret and its name: nothing to write, "
            "nothing read again" % (uid, live.get("health_reason") or "healthy", live["kubeconfig_fingerprint"]))


def _the_cluster(name, uid, clusters):
    """The host's Cluster summary of this member when it is the only one of its kube-system UID, a direct member
    Cluster of this name, healthy by the version's verdict, with status.uid and a KubeSphere version; else None."""
    same = [c for c in clusters or [] if c.get("uid") == uid]
    if len(same) != 1 or same[0].get("name") != name:
        return None
    live = same[0]
    if live.get("role") != "member" or live.get("connection_type") != "direct" or live.get("health") != "ready":
        return None
    if live.get("kubesphere_version") in (None, "", "unknown"):
        return None
    return live


def _one_host_one_line(name, host, peers):
    """Whether the fleet (`peers`) has no host but `host` and no KubeSphere line but 3.4: anything else is for the
    full checks to judge (another host holding the member, a mixed fleet)."""
    # imported here: checks/versions.py reaches read/cluster_state.py, which imports this version package
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import versions as version_checks  # noqa: PLC0415

    others = [x for x in peers or () if x.get("name") not in (name, host.get("name"))]
    if any(x.get("role") == "host" for x in others):
        return False
    return not version_checks.mixed_lines(name, version_checks.peer_lines(peers, (name, LINE)))
