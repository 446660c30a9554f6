# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. What a role change reads: a cluster's state (the parts the role needs:
no /version, no kubefed) and, before install, the file it writes on the controller (plain dicts)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state

# What a role change reads of a cluster (no /version, no kubefed).
PARTS = ("installer", "identity", "clusters")


def read_cluster(conn):
    """The cluster's state; a cluster that cannot be read, or whose kubesphere-config is not YAML, fails."""
    state = cluster_state.require(cluster_state.read(conn, PARTS))
    if state["config_error"]:
        raise conn.error(state["config_error"], code="bad_config")
    return state


def read_file(path):
    """{"path", "text" (None when absent), "mode" (permission bits, None when absent)} of a file."""
    if not os.path.exists(path):
        return {"path": path, "text": None, "mode": None}
    with open(path) as f:
        text = f.read()
    return {"path": path, "text": text, "mode": stat.S_IMODE(os.stat(path).st_mode)}
