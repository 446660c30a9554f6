"""kubefed's replica planner as a pure function (kubefed `pkg/controller/util/planner/planner.go`).

Written from /work/shared/testdata/kubefed-planner.md (the step numbers below are that file's), checked
against its 40 vectors (tests/lab/tests/test_planner.py). Used by the kubefed stand-in's
ReplicaSchedulingPreference controller."""

FNV32_OFFSET = 2166136261
FNV32_PRIME = 16777619


def fnv1_32(data):
    """32-bit FNV-1 (Go hash/fnv.New32): multiply, then XOR. Not FNV-1a."""
    h = FNV32_OFFSET
    for b in data:
        h = (h * FNV32_PRIME) & 0xFFFFFFFF
        h ^= b
    return h


def _pref(prefs, cluster):
    """Step 1: the cluster's own preference, else "*", else None. Missing fields default like Go's zero values."""
    p = prefs.get(cluster, prefs.get("*"))
    if p is None:
        return None
    return {"weight": p.get("weight") or 0, "minReplicas": p.get("minReplicas") or 0,
            "maxReplicas": p.get("maxReplicas")}


def _cap(value, limit):
    return value if limit is None else min(value, limit)


def plan(prefs, total_replicas, clusters, existing=None, capacity=None, rebalance=False, key=""):
    """Distribute `total_replicas` over `clusters`. Returns (plan, overflow), both {cluster: int}."""
    existing, capacity = existing or {}, capacity or {}
    result = {c: 0 for c in clusters}
    named = [(c, _pref(prefs, c)) for c in clusters]
    named = [(c, p) for c, p in named if p is not None]
    # Steps 2-3: weight descending, then FNV-1 of clusterName+key ascending.
    named.sort(key=lambda cp: (-cp[1]["weight"], fnv1_32((cp[0] + key).encode())))
    order = [c for c, _ in named]
    pref = dict(named)

    remaining = total_replicas
    for c in order:  # step 4: minimum pass (not capped by maxReplicas)
        result[c] = _cap(min(pref[c]["minReplicas"], remaining), capacity.get(c))
        remaining -= result[c]

    preallocated = {}
    if not rebalance:  # step 5: keep what already runs
        for c in order:
            if existing.get(c, 0) > result[c]:
                target = _cap(_cap(existing[c], pref[c]["maxReplicas"]), capacity.get(c))
                extra = max(min(target - result[c], remaining), 0)
                result[c] += extra
                remaining -= extra
                preallocated[c] = extra

    overflow = {}
    active = list(order)
    modified = True
    while modified and remaining > 0:  # step 6
        modified = False
        weight_sum = sum(pref[c]["weight"] for c in active)
        if weight_sum == 0:
            break
        pool = remaining
        full = set()
        for c in active:
            share = min((pool * pref[c]["weight"] + weight_sum - 1) // weight_sum, remaining)
            used = min(share, preallocated.get(c, 0))
            if used > 0:
                preallocated[c] -= used
                share -= used
                modified = True
            total = result[c] + share
            if pref[c]["maxReplicas"] is not None and total > pref[c]["maxReplicas"]:
                total = pref[c]["maxReplicas"]
                full.add(c)
            if c in capacity and total > capacity[c]:
                overflow[c] = total - capacity[c]
                total = capacity[c]
                full.add(c)
            remaining -= total - result[c]
            if total > result[c]:
                modified = True
            result[c] = total
        active = [c for c in active if c not in full]

    if not rebalance:  # step 7: trim the overflow to what is really unplaced
        overflow = {c: min(v, remaining) for c, v in overflow.items() if min(v, remaining) > 0}
    return result, overflow
