# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. kubefed v0.8.1's replica division, as a pure function.

A ReplicaSchedulingPreference (RSP) asks kubefed to split `totalReplicas` of a FederatedDeployment over
clusters by weight. kubefed's scheduler (pkg/controller/util/planner/planner.go, driven by
pkg/schedulingtypes/replicascheduler.go) decides the split; this module reproduces that decision so a module
can show "member1: 2, member2: 8" in its result and --diff BEFORE it writes the RSP. It is checked against
the 40 vectors of kubefed's own planner_test.go (../shared/testdata/kubefed-planner-vectors.json).

The rules, in the order kubefed applies them (facts from planner.go; this is an independent implementation):
1. Each cluster takes its own preference, else the "*" one (whole, no field merging); a cluster with
   neither gets 0 and takes no further part.
2. Clusters with a preference are sorted by weight (descending), then by FNV-1 32-bit hash (ascending) of
   the cluster name followed by the key (kubefed's key is "<namespace>/<name>" of the RSP).
3. Minimum pass: in that order, each gets min(minReplicas, remaining), capped by its capacity.
4. Without rebalance, a cluster already running more than planned keeps up to min(current, max, capacity)
   replicas (greedy, in order), recorded as "preallocated".
5. Rounds while replicas remain and the previous round changed something: every active cluster takes
   ceil(pool * weight / weightSum) of the round's pool, clamped by what is left right now; preallocated
   replicas pay for that share first; max and capacity cap the total (a capped cluster is full and leaves;
   a capacity cut is recorded as overflow).
6. Without rebalance, overflow is trimmed to what stayed unplaced; non-positive entries are dropped.

What kubefed writes back (replicascheduler.go `schedule`): plan + overflow per cluster, with 0 for clusters
that run the target but got nothing. `schedule()` below returns exactly that; `preview()` is the call modules
use before writing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

FNV32_OFFSET = 0x811C9DC5
FNV32_PRIME = 0x01000193
WILDCARD = "*"


def fnv1_32(text):
    """32-bit FNV-1 (multiply, then xor; NOT FNV-1a) of the UTF-8 bytes of `text`, as Go's hash/fnv.New32."""
    value = FNV32_OFFSET
    data = text.encode("utf-8") if not isinstance(text, bytes) else text
    for byte in bytearray(data):
        value = (value * FNV32_PRIME) & 0xFFFFFFFF
        value ^= byte
    return value


def _pref(prefs, cluster):
    """The cluster's own preference, else the wildcard's, else None. Values normalized to ints / None."""
    raw = prefs.get(cluster)
    if raw is None:
        raw = prefs.get(WILDCARD)
    if raw is None:
        return None
    max_replicas = raw.get("maxReplicas")
    return {
        "weight": int(raw.get("weight") or 0),
        "min": int(raw.get("minReplicas") or 0),
        "max": None if max_replicas is None else int(max_replicas),
    }


def plan(prefs, total_replicas, clusters, existing=None, capacity=None, rebalance=False, key=""):
    """kubefed's Plan(): returns (plan, overflow).

    prefs: {cluster or "*": {weight, minReplicas, maxReplicas (None = unbounded)}} (the RSP's spec.clusters);
    total_replicas: spec.totalReplicas; clusters: candidate cluster names; existing: {cluster: current
    replicas}; capacity: {cluster: estimated capacity} (absent = unlimited); rebalance: spec.rebalance;
    key: mixed into the tie-breaking hash ("<namespace>/<name>" in kubefed's scheduler).
    plan maps every cluster in `clusters` to its replicas (0 included); overflow maps clusters whose capacity
    cut their share. Replicas that fit nowhere are dropped, so sum(plan) may be below total_replicas.
    """
    existing = existing or {}
    capacity = capacity or {}
    result = {}
    ranked = []
    for cluster in clusters:
        pref = _pref(prefs, cluster)
        if pref is None:
            result[cluster] = 0
            continue
        ranked.append((cluster, pref, fnv1_32(cluster + key)))
    ranked.sort(key=lambda item: (-item[1]["weight"], item[2]))

    remaining = int(total_replicas)

    # minimum pass (minReplicas is not capped by maxReplicas here, as in kubefed)
    for cluster, pref, _hash in ranked:
        take = min(pref["min"], remaining)
        if cluster in capacity and capacity[cluster] < take:
            take = capacity[cluster]
        result[cluster] = take
        remaining -= take

    # keep what is already running (no rebalance)
    preallocated = {}
    if not rebalance:
        for cluster, pref, _hash in ranked:
            current = existing.get(cluster, 0)
            if current <= result[cluster]:
                continue
            target = current
            if pref["max"] is not None and target > pref["max"]:
                target = pref["max"]
            if cluster in capacity and target > capacity[cluster]:
                target = capacity[cluster]
            extra = max(min(target - result[cluster], remaining), 0)
            result[cluster] += extra
            remaining -= extra
            preallocated[cluster] = extra

    # weighted rounds
    overflow = {}
    active = list(ranked)
    changed = True
    while changed and remaining > 0:
        changed = False
        weight_sum = sum(pref["weight"] for _c, pref, _h in active)
        if weight_sum <= 0:
            break
        pool = remaining
        still_active = []
        for cluster, pref, cluster_hash in active:
            share = (pool * pref["weight"] + weight_sum - 1) // weight_sum
            share = min(share, remaining)
            used = min(share, preallocated.get(cluster, 0))
            if used > 0:
                preallocated[cluster] -= used
                share -= used
                changed = True
            planned = result[cluster]
            total = planned + share
            full = False
            if pref["max"] is not None and total > pref["max"]:
                total = pref["max"]
                full = True
            if cluster in capacity and total > capacity[cluster]:
                overflow[cluster] = total - capacity[cluster]
                total = capacity[cluster]
                full = True
            if not full:
                still_active.append((cluster, pref, cluster_hash))
            remaining -= total - planned
            if total > planned:
                changed = True
            result[cluster] = total
        active = still_active

    if not rebalance:
        trimmed = {}
        for cluster, value in overflow.items():
            value = min(value, remaining)
            if value > 0:
                trimmed[cluster] = value
        overflow = trimmed
    return result, overflow


def schedule(prefs, total_replicas, clusters, existing=None, capacity=None, rebalance=False, key=""):
    """What kubefed's replica scheduler writes into the federated object: {cluster: replicas}, plan plus
    overflow, and 0 for every cluster listed in `existing` (clusters where the target already exists).
    An empty `prefs` means {"*": {weight: 1}}, as kubefed defaults it."""
    if not prefs:
        prefs = {WILDCARD: {"weight": 1}}
    planned, overflow = plan(prefs, total_replicas, clusters, existing, capacity, rebalance, key)
    out = dict((cluster, 0) for cluster in (existing or {}))
    out.update(planned)
    for cluster, extra in overflow.items():
        out[cluster] = out.get(cluster, 0) + extra
    return out


def rsp_preferences(weights, min_replicas=None, max_replicas=None):
    """The RSP's spec.clusters from the collection's terms: weights {cluster: int}, optional
    min_replicas / max_replicas {cluster: int}. No wildcard: a cluster without a weight gets nothing."""
    min_replicas = min_replicas or {}
    max_replicas = max_replicas or {}
    prefs = {}
    for cluster in sorted(weights):
        entry = {"weight": int(weights[cluster])}
        if min_replicas.get(cluster):
            entry["minReplicas"] = int(min_replicas[cluster])
        if max_replicas.get(cluster) is not None:
            entry["maxReplicas"] = int(max_replicas[cluster])
        prefs[cluster] = entry
    return prefs


def preview(total, weights, clusters, min_replicas=None, max_replicas=None, key="", existing=None,
            capacity=None, rebalance=True):
    """The division kubefed will make, shown before anything is written: {cluster: replicas}.

    total: the RSP's totalReplicas; weights: {cluster: weight}; clusters: the candidate clusters (kubefed's
    candidates are the host's Ready KubeFedClusters; a candidate without a weight gets 0); key:
    "<namespace>/<name>" of the RSP (the hash that breaks weight ties includes it). The collection writes RSPs
    with rebalance true (as the console does), so by default current replicas do not matter; pass existing,
    capacity and rebalance=False to reproduce other cases. Only the clusters in `clusters` are returned.
    """
    prefs = rsp_preferences(weights, min_replicas, max_replicas)
    result = schedule(prefs, total, clusters, existing, capacity, rebalance, key)
    return dict((cluster, result.get(cluster, 0)) for cluster in clusters)
