# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The wait of federated_project and federated_resource (wait=true): kubefed
propagated the federated object to every placed cluster (and, for replicas by weight, wrote the planned
division). One wait step (plan/steps.py) run by the executor's one wait loop; `settled` tells from the read
alone whether a converged object needs no wait (then the plan has none)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, describe
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import drift
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import overrides
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps

WAIT_ID = "wait-propagated"
SLEEP = 2


def division(fed_obj):
    """{cluster: replicas} of the /spec/replicas overrides of a federated object."""
    out = {}
    for entry in (federated.normalize_federated(fed_obj or {}).get("spec") or {}).get("overrides") or []:
        for item in entry["clusterOverrides"]:
            if item["path"] == overrides.REPLICAS_PATH:
                out[entry["clusterName"]] = item.get("value")
    return out


def settled(fed_obj, clusters, replicas=None):
    """kubefed has processed the last change and propagated to every cluster of `clusters`; with `replicas`
    ({cluster: n}, replicas by weight) it also wrote that division."""
    if not fed_obj:
        return False
    prop = drift.propagation(fed_obj)
    if prop["stale"] or prop["status"] != "True":
        return False
    if (fed_obj.get("status") or {}).get("observedGeneration") is None:
        return False
    if not all(prop["clusters"].get(c) == "" for c in clusters):
        return False
    if replicas is not None:
        written = division(fed_obj)
        return all(written.get(c, 0) == n for c, n in replicas.items())
    return True


def state(obj):
    """What the wait sees now, in words (safe to print)."""
    prop = drift.propagation(obj or {})
    others = sorted("%s: %s" % (c, code) for c, code in prop["clusters"].items() if code)
    return "%s%s%s" % (prop["message"] or "propagation %s" % prop["status"], "; stale" if prop["stale"] else "",
                       "; " + ", ".join(others) if others else "")


def silent(obj):
    """What to do when kubefed has not processed the object's last change (no status, or an older generation):
    its controller is stopped or busy. Empty otherwise."""
    prop = drift.propagation(obj or {})
    if obj and prop["status"] is not None and not prop["stale"]:
        return ""
    return ("; kubefed's controller on the host has not processed %s: check that kubefed-controller-manager runs "
            "(kubectl -n kube-federation-system get pods) and its log, then run this task again" % (
                "the object yet" if obj else "anything (the object was not read)"))


def last(values):
    """The federated object the wait read last (None before its first poll)."""
    return values.get(WAIT_ID + ".last")


def wait(cluster, api_version, kind, name, namespace, clusters, timeout, replicas=None):
    """The wait step: poll the federated object until `settled`; on timeout the error says what kubefed
    reports (the object's propagation)."""
    clusters = sorted(set(clusters))
    obj_text = describe(kind, name, namespace)

    def poll(ctx):
        obj = ctx.conn("host").get(api_version, kind, name, namespace)
        ctx.values[WAIT_ID + ".last"] = obj
        return settled(obj, clusters, replicas), state(obj), obj

    def fail(ctx, _state):
        return KubeSphereError("kubefed has not propagated it to every cluster within %d s: %s" % (
            timeout, state(last(ctx.values)) + silent(last(ctx.values))), cluster=cluster, obj=obj_text, code="timeout")

    return steps.wait(WAIT_ID, "host", cluster, obj_text,
                      "propagated by kubefed to %s" % (", ".join(clusters) or "no cluster"), poll, timeout,
                      sleep=SLEEP, fail=fail, why="wait: true")
