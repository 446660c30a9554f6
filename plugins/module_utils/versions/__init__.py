# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. What differs between KubeSphere versions, behind one seam.

`detect(state)` tells a cluster's KubeSphere version from what the read model read (read/cluster_state.py),
never from an assumption; `for_state(state)` / `implementation(version)` give that version's package, which
every operation asks for what differs: how a role is set and read, how a member is joined and checked, the
health predicate, the agent, the unbind steps, the federation engine. Names every version shares are in
versions/vocabulary.py. KubeSphere 3.4 (versions/v3_4) is the one implementation today; a second one is a
new package listed in IMPLEMENTATIONS, with no change to the executor or the operations."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import detection
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import v3_4, v4_1

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


def for_state(state, default=v3_4.VERSION):
    """The implementation for a cluster's state; `default` when nothing is installed yet (a role set before
    install, a bare member: the version then comes from what the user installs). A version the collection
    recognizes but does not manage raises KubeSphereError `unsupported_version` naming the cluster and what
    showed the version."""
    found = detect(state)
    if found["version"] is None:
        return implementation(default)
    return implementation(found["version"], cluster=state.get("name"), evidence=found["evidence"])
