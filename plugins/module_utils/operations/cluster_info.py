# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The cluster_info module: read one cluster (read/cluster_state.py),
turn it into facts, warn; fail only when asked to and the cluster cannot be read. It writes nothing: its
plan is always empty."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state


def run(module, connection_class=None):
    from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import Connection  # noqa: PLC0415

    p = module.params
    name = p["cluster_name"]
    try:
        conn = (connection_class or Connection)(module, name, timeout=p["timeout"])
        # a report: a read the credential may not make is reported (facts' `unreadable`), not a failure
        parts = tuple(part for part in cluster_state.PARTS if part != "proxy" or p.get("read_proxy", True)) \
            + (("local_objects",) if p["local_objects"] else ()) + (("api_versions",) if p.get("api_versions") else ())
        state = cluster_state.read(conn, parts=parts, samples=p["clock_samples"], tolerate_forbidden=True)
    except KubeSphereError as e:  # a kubeconfig that cannot even be resolved
        state = dict(cluster_state.empty(name), reachable=False,
                     error={"code": e.code or "api_error", "message": e.reason})
    result = cluster_state.facts(state)
    if not state["reachable"]:
        result = cluster_state.unreachable(name, state["error"]["code"], state["error"]["message"], p.get("context"))
        if p["fail_on_unreachable"]:
            # the one failure shape: msg, code and the cluster's name at the top level; the facts beside
            raise KubeSphereError("not reachable: %s" % result["reason"], cluster=name, code=result["reason_code"],
                                  facts=result)
    for warning in result["warnings"]:
        module.warn("cluster '%s': %s" % (name, warning))
    return {"changed": False, "msg": cluster_state.summary(result), "cluster": result}
