# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. What differs between KubeSphere versions, behind one seam.

`detect(state)` tells a cluster's KubeSphere version from what the read model read (read/cluster_state.py),
never from an assumption; `for_state(state)` / `implementation(version)` give that version's package, which
every operation asks for what differs: how a role is set and read, how a member is joined and checked, the
health predicate, the agent, the unbind steps, the federation engine. Names every version shares are in
versions/vocabulary.py. KubeSphere 3.4 (versions/v3_4) and 4.1 (versions/v4_1) are the implementations, listed
in IMPLEMENTATIONS; a cluster without KubeSphere yet takes its fleet's line (`fleet_line`: a bare v4.1 member
before its import is in a v4.1 fleet), else 3.4."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import detection
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import v3_4
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import v4_1

IMPLEMENTATIONS = (v3_4, v4_1)
SUPPORTED = tuple(impl.VERSION for impl in IMPLEMENTATIONS)


def detect(state):
    """{"version": the line ("3.4", "4.1", ...) or None, "kubesphere_version": the full version when known,
    "evidence": one sentence, "managed": whether an implementation serves that line}. None when the cluster
    shows no KubeSphere yet (not installed, or a bare v4.1 member before its import). See detection.py."""
    found = detection.detect(state)
    return {"version": found["line"], "kubesphere_version": found["version"], "evidence": found["evidence"],
            "managed": found["line"] in SUPPORTED}


def implementation(version, cluster=None, evidence=None):
    for impl in IMPLEMENTATIONS:
        if impl.VERSION == version:
            return impl
    raise KubeSphereError("KubeSphere %s found%s; this release of the collection manages KubeSphere %s only, "
                          "so nothing was changed" % (version, " (%s)" % evidence if evidence else "",
                                                      ", ".join(SUPPORTED)),
                          cluster=cluster, code="unsupported_version")


def host_only_components(line):
    """The components a host of KubeSphere `line` runs for the whole fleet (a member need not enable them);
    nothing for a line the collection does not manage."""
    for impl in IMPLEMENTATIONS:
        if impl.VERSION == line:
            return impl.HOST_ONLY_COMPONENTS
    return ()


def role_settled(params, cluster, host, peers=()):
    """Why this run's preflight facts (cluster_info summaries of the cluster and its host) prove the role settled,
    so that multicluster_role need read nothing more; None when they do not (the version has no such shortcut,
    or any fact says otherwise: the module then reads and checks as usual)."""
    line = (cluster or {}).get("kubesphere_line")
    for impl in IMPLEMENTATIONS:
        if impl.VERSION == line and impl.role_settled is not None:  # the version's predicate judges the host too
            return impl.role_settled(params, cluster, host, peers)
    return None


def import_settled(params, cluster, host, kubeconfig, peers=()):
    """Why this run's preflight facts prove the import converged (the `member` module then reads and writes
    nothing), None when they do not (the version has no such shortcut, or any fact says otherwise)."""
    line = (cluster or {}).get("kubesphere_line")
    for impl in IMPLEMENTATIONS:
        if impl.VERSION == line and impl.import_settled is not None:
            return impl.import_settled(params, cluster, host, kubeconfig, peers)
    return None


def member_needs_no_install(line):
    """Whether a member of a fleet of KubeSphere `line` gets its KubeSphere from the host at its import (4.1: the
    host installs ks-core on it), so a member without KubeSphere before its import is expected."""
    for impl in IMPLEMENTATIONS:
        if impl.VERSION == line:
            return impl.MEMBER_INSTALLED_BY_HOST
    return False


def fleet_line(host_state=None, peers=()):
    """The KubeSphere line of the fleet a cluster belongs to, for a cluster that shows none yet (a bare v4.1
    member before its import): the host's, read through the host_ connection (`host_state`), else the peers'
    (cluster_info facts: the host's entry first, else the one line every peer with KubeSphere shows). None when
    nothing tells (no host, no peer with KubeSphere) or the peers disagree (checks/versions.py refuses a mixed
    fleet)."""
    if host_state and host_state.get("reachable", True):
        found = detect(host_state)["version"]
        if found:
            return found
    peers = [p for p in peers or () if p.get("kubesphere_line")]
    hosts = set(p["kubesphere_line"] for p in peers if p.get("role") == "host")
    if len(hosts) == 1:
        return hosts.pop()
    lines = set(p["kubesphere_line"] for p in peers)
    return lines.pop() if len(lines) == 1 else None


def for_state(state, default=v3_4.VERSION):
    """The implementation for a cluster's state; `default` when nothing is installed yet (a role set before
    install, a bare member: the version then comes from what the user installs). A version the collection
    recognizes but does not manage raises KubeSphereError `unsupported_version` naming the cluster and what
    showed the version."""
    found = detect(state)
    if found["version"] is None:
        return implementation(default or v3_4.VERSION, cluster=state.get("name"),
                              evidence="the version of its fleet's host")
    return implementation(found["version"], cluster=state.get("name"), evidence=found["evidence"])


def federation_problems(impl, cluster, state=None):
    """[] when the version's multi-cluster projects and workspaces can be written on this host, else the problem that
    refuses them before any write: not_supported_on_version, or extension_missing when the version federates through
    an extension (impl.FEDERATION_EXTENSION: 4.1's kubefed) that the host's `state` shows not installed (its
    extensions read; not judged when they could not be read)."""
    if impl.FEDERATION_UNSUPPORTED is not None:
        return [problem("not_supported_on_version", cluster,
                        "cluster '%s' runs %s: %s" % (cluster, impl.NAME, impl.FEDERATION_UNSUPPORTED))]
    name = impl.FEDERATION_EXTENSION
    if not name or state is None or state.get("extensions") is None:
        return []
    found = next((e for e in state["extensions"] if e.get("name") == name), None)
    if found and found.get("installed"):
        return []
    now = ("its InstallPlan %s is %s" % (name, found.get("state") or "not reporting a state")) if found \
        else "it has no InstallPlan %s" % name
    return [problem("extension_missing", cluster,
                    "cluster '%s' runs %s, whose multi-cluster projects need the extension %s, and %s: "
                    "install it (kubesphere.multicluster.extension name=%s; federate.yml does it when "
                    "kubesphere_projects_install_kubefed is true)" % (cluster, impl.NAME, name, now, name))]


def extension_problems(impl, cluster):
    """[] when the version installs extensions through InstallPlans, else the one problem (code
    not_supported_on_version) that refuses them before any write."""
    if impl.EXTENSIONS_UNSUPPORTED is None:
        return []
    return [problem("not_supported_on_version", cluster,
                    "cluster '%s' runs %s: %s" % (cluster, impl.NAME, impl.EXTENSIONS_UNSUPPORTED))]
