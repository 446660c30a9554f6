# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. One fleet, one KubeSphere line: a host and its members run the same
KubeSphere (3.4's join relies on ks-installer and kubefed on both sides; 4.1's host installs its own ks-core
on the member). Pure: the lines come from versions.detect on what each cluster read of itself (the peers'
`kubesphere_line`, cluster_info's result)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem


def mixed_lines(cluster, lines):
    """[problem mixed_versions] when the clusters that run KubeSphere run more than one line. `lines`:
    {cluster name: line or None}; clusters without KubeSphere (None) do not count. `cluster` is the cluster
    the calling operation is about (the problem's cluster)."""
    by_line = {}
    for name, found in sorted((lines or {}).items()):
        if found:
            by_line.setdefault(found, []).append(name)
    if len(by_line) < 2:
        return []
    text = "; ".join("KubeSphere %s on %s" % (found, ", ".join(names)) for found, names in sorted(by_line.items()))
    return [problem("mixed_versions", cluster,
                    "the fleet mixes KubeSphere versions (%s): a host and its members run one version, so "
                    "upgrade the others to the same one first, or keep each version in its own inventory; "
                    "nothing was changed" % text)]


def peer_lines(peers, own=None):
    """{name: kubesphere_line} of the peers' facts, with the cluster's own (`own`: (name, line)) replacing
    its peer entry."""
    lines = {p["name"]: p.get("kubesphere_line") for p in peers or () if p.get("name")}
    if own is not None:
        lines[own[0]] = own[1]
    return lines
