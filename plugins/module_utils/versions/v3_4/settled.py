# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. KubeSphere 3.4: whether the facts this run's preflight read (cluster_info's
summaries of a member and of its host) already show the member role as multicluster_role would leave it, so that
the module reads nothing more and writes nothing (issue 21: a converged member costs one read per run).

Pure and conservative: any fact missing, unreadable or different, any option that asks for more than the role and
the host's jwtSecret, or any guard the full run would raise, answers "not proven", and the module reads both
clusters and runs every check as usual."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint

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
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import versions as version_checks  # noqa: PLC0415

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
    others = [x for x in peers or () if x.get("name") not in (name, host.get("name"))]
    if any(x.get("role") == "host" for x in others):  # another host in the fleet: the full checks judge it
        return None
    host_name = p.get("host_cluster_name") or host.get("name")
    if role_checks.managed_by(name, cluster.get("kube_system_uid"), cluster.get("host_annotations"),
                              host.get("name"), host_name, host.get("clusters") or []):
        return None
    if version_checks.mixed_lines(name, version_checks.peer_lines(peers, (name, LINE))):
        return None
    return ("this run's preflight read shows role member set and rendered with the host's jwtSecret (%s) and the "
            "installer not failed: nothing to write, nothing read again" % want)
