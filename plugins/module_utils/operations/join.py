# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The `member` module's `state: present` (import): read both clusters
(read/join.py), run every check of checks/join.py before the first write, plan (plan/join.py) and run the
plan with the executor (execute/executor.py); the result is composed from what the steps did.

Secrets (the stored kubeconfig and its base64, the dedicated credential's token and kubeconfig, the agent
token, jwtSecrets) are handed to `module.hide` as soon as they are read or built."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import clean as clean_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import join as join_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import versions as version_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, Refused
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context, Executor
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.slicing import WaitPending
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import credential as cred
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import join as join_plan
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import join as read_join
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.kubeconfig import flatten as flatten_kubeconfig

# the key of the checks' wait for a member's ks-apiserver that restarts (a slice that ends in it: the next slice
# makes every check again)
SETTLE_KEY = "kubesphere-api"


def run(module, connection_class=None):
    """The `member` module's state present: returns the result, or raises Refused / KubeSphereError."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import Connection  # noqa: PLC0415

    Conn = connection_class or Connection
    p = module.params
    name = p["name"]
    if p["dedicated_credential"] and p["connection_type"] != "direct":
        raise KubeSphereError("dedicated_credential is for direct members (tower issues a proxy member's kubeconfig)",
                              cluster=name, code="invalid_input")
    stored = None
    if p.get("preflight_facts") and p["connection_type"] == "direct":
        try:
            stored = stored_kubeconfig(module)
        except KubeSphereError:
            stored = None  # not settled: the full run below refuses it with the same words as without the facts
        found = settled(module, stored) if stored else None
        if found is not None:
            return found
    # the connections first: a kubeconfig file that does not exist is refused by them (kubeconfig_missing)
    host = Conn(module, p.get("host_label") or "host", prefix="host_", timeout=p["timeout"])
    member = Conn(module, name, timeout=p["timeout"])
    if stored is None and p["connection_type"] == "direct":
        stored = stored_kubeconfig(module)
    read_conn = Conn(module, name, params={"kubeconfig": stored}, timeout=p["timeout"]) if stored else member
    ctx = Context(module, {"host": host, "member": member})
    ctx.connect = lambda kubeconfig: Conn(module, name, params={"kubeconfig": kubeconfig}, timeout=p["timeout"])
    return import_member(module, ctx, read_conn, stored)


def stored_kubeconfig(module):
    """The kubeconfig text the host stores for a direct member (hidden), or KubeSphereError kubeconfig_invalid."""
    p = module.params
    if p["stored_kubeconfig"]:
        source = p["stored_kubeconfig"]
    elif p.get("kubeconfig") is not None:
        source = p["kubeconfig"]
    else:
        source = os.path.expanduser("~/.kube/config")
    try:
        stored = flatten_kubeconfig(source, None if p["stored_kubeconfig"] else p.get("context"))
    except (ValueError, IOError, OSError) as e:
        found = {"code": "kubeconfig_invalid", "cluster": p["name"], "message": str(e)}
        raise KubeSphereError("the kubeconfig to store in its Cluster: %s" % e, cluster=p["name"],
                              code="kubeconfig_invalid", problems=[found])
    module.hide(stored, co.encode_kubeconfig(stored))
    return stored


def settled(module, stored):
    """The result of a run that reads and writes nothing, when this run's preflight facts (preflight_facts) prove
    the import converged (the version's import_settled); None otherwise (the module reads and checks as usual)."""
    p = module.params
    facts = p.get("preflight_facts") or {}
    why = versions.import_settled(p, facts.get("cluster"), facts.get("host"), stored, p["peers"] or [])
    if not why:
        return None
    live = next(c for c in facts["host"]["clusters"] if c.get("name") == p["name"])  # the one the predicate judged
    health = {"verdict": live["health"], "healthy": True, "reason": live.get("health_reason"),
              "cluster_ready": "True", "kubefed": live.get("kubefed")}
    return {"changed": False, "name": p["name"], "connection_type": p["connection_type"], "plan": [], "changes": [],
            "health": health, "settled": "cluster '%s': %s" % (p["name"], why)}


def import_member(module, ctx, read_conn, stored):
    """Read, check, plan, execute (the connections are the context's; `read_conn` reads the member as the
    host will reach it)."""
    p = module.params
    # a later slice of the wait reads again first: a host that does not answer for a moment (its API server
    # restarting) is waited out as the wait's own polls are, not a failure of the run
    facts = ctx.slicer.ride_out(lambda: read(module, ctx, stored), nap=p.get("wait_sleep") or 5,
                                reset=lambda: reset_bounds(ctx))
    impl = versions.for_state(facts["host_state"])
    result = {"changed": False, "name": p["name"], "connection_type": p["connection_type"]}
    if impl.JOIN_NOTES and p["connection_type"] == "direct" and p["dedicated_credential"]:
        result["notes"] = list(impl.JOIN_NOTES)
    if p["connection_type"] == "proxy":
        result["proxy"] = {k: facts["host"]["proxy"].get(k) for k in ("address", "source", "api_agrees")}
    if not (ctx.slicer.resuming and ctx.slicer.resume.get("key") != SETTLE_KEY and facts["live"] is not None):
        # a later slice of a run that wrote the Cluster does not make the checks again: a member that stops
        # answering after its Cluster was written fails in the wait, naming the Cluster, as in one run
        check(module, ctx, facts, read_conn, result)
    plan = join_plan.plan(facts, dict(p), impl)
    result["plan"] = steps.public(plan)
    result["changes"] = next((s["changes"] for s in plan if s.id == "cluster"), [])
    if p["connection_type"] == "direct" and p["dedicated_credential"]:
        result["credential"] = credential_result(p["credential_name"])
        made = ["%s %s" % (s["object_kind"] if s.kind == "patch" else s["body"]["kind"],
                           s["name"] if s.kind == "patch" else s["body"]["metadata"]["name"])
                for s in plan if s.id in join_plan.CREDENTIAL_STEPS.values()]
        if made:
            result["credential_changes"] = made
    executor = Executor(ctx, result)
    try:
        outcome = executor.run(plan)
    except WaitPending:
        add_diff(module, result, executor.outcome, ctx.values, impl)
        raise
    if outcome.failed is not None:
        error = outcome.failed[1]
        for key, value in result.items():
            if key != "cluster":
                error.result.setdefault(key, value)
        raise error
    return compose(module, ctx, facts, impl, outcome, result)


def reset_bounds(ctx):
    """Each retried read gets its connections' whole time bound again (as each poll of a wait does)."""
    for conn in ctx.connections.values():
        if hasattr(conn, "new_bound"):
            conn.new_bound()


def read(module, ctx, stored):
    """The facts the checks and the plan need (plan/join.py's docstring); every secret read is hidden."""
    p = module.params
    host, member = ctx.conn("host"), ctx.conn("member")
    facts = {"kubeconfig": stored, "host_label": host.label}
    facts["host"], facts["host_state"] = read_join.read_host(host, p["peers"] or [], p["connection_type"],
                                                             p["allow_node_port"], label=host.label)
    module.hide(versions.for_state(facts["host_state"]).jwt_secret(facts["host"]["config"]))
    if p["connection_type"] == "proxy" and p["proxy_address"]:
        facts["host"]["proxy"] = {"address": p["proxy_address"], "source": "proxy_address option",
                                  "api_agrees": False, "error": None}
    facts["live"], facts["kubefed"] = read_join.read_pair(host, p["name"])
    module.hide(objects.get_path(facts["live"] or {}, co.TOKEN_PATH))
    if p["connection_type"] == "direct" and p["dedicated_credential"]:
        facts["credential"] = read_join.read_credential(member, p["credential_name"])
        token = facts["credential"]["token"]
        if token:
            module.hide(token)
            text = cred.kubeconfig_from(p["name"], stored, token)
            module.hide(text, co.encode_kubeconfig(text))
            facts["dedicated_kubeconfig"] = text
    if p["connection_type"] == "proxy":
        facts["agent"] = read_join.read_agent(member)
        facts["agent_access"] = read_join.read_agent_access(
            member, versions.for_state(facts["host_state"]).agent_access())
        # a later slice of a run that re-pointed the agent: what the first slice read before its write
        facts["agent_before"] = ctx.slicer.carried(join_plan.RECONNECT_BEFORE) if ctx.slicer.resuming else None
    return facts


def check(module, ctx, facts, read_conn, result):
    """Every check before the first write: Refused with every problem found."""
    p = module.params
    impl = versions.for_state(facts["host_state"])
    member = read_join.read_member(read_conn, probe_kubesphere=impl.MEMBER_NEEDS_KUBESPHERE)
    member["kubesphere_api"] = settled_probe(module, ctx, read_conn, member["kubesphere_api"])
    module.hide(impl.jwt_secret(member.get("config")))
    options = {"allow_loopback": p["allow_loopback"], "allow_insecure": p["allow_insecure"],
               "cert_expiry_margin_days": p["cert_expiry_margin_days"],
               "max_clock_skew": join_checks.max_skew(member, facts["host"], p["max_clock_skew"])}
    problems = impl.import_problems(p["name"], p["connection_type"], member, facts["host"], facts["kubeconfig"],
                                    options)
    problems += version_checks.mixed_lines(p["name"], {
        facts["host_state"].get("name") or "host": versions.detect(facts["host_state"])["version"], p["name"]: member["kubesphere_line"]})
    if impl.CLEAN_MEMBER_CHECK and member.get("reachable") and facts["kubefed"] is None:
        problems += clean_problems(module, facts, impl, read_join.read_member_objects(read_conn, ctx.conn("host"), impl),
                                   result)
    if problems:
        raise Refused(problems, "the checks before importing cluster '%s'" % p["name"], **result)


def settled_probe(module, ctx, read_conn, probe):
    """The member's ks-apiserver probe, made again while its answer says ks-apiserver restarts
    (read_join.PROBE_RESTARTING), for up to settle_timeout seconds: a wait of its own, sliced as every wait
    (progress printed; a slice that ends in it makes the checks again). The result says `waited`."""
    p = module.params
    if read_join.probe_settled(probe) or not p["settle_timeout"]:
        return probe
    probe, waited = ctx.slicer.settle(
        probe, lambda: read_join.probe_kubesphere_api(read_conn), read_join.probe_settled, p["settle_timeout"], p["name"],
        "its ks-apiserver answers through its API server's service proxy", SETTLE_KEY,
        lambda seen: "kubesphere-system/ks-apiserver /kapis/version: %s" % co.error_text(seen.get("error")),
        nap=max(p["wait_sleep"], 1), between=read_conn.new_bound)
    return dict(probe, waited=int(waited)) if not probe["reachable"] else probe


def clean_problems(module, facts, impl, found, result):
    """Before a first join (no KubeFedCluster yet, as KubeSphere's checkWorkspaces): the workspace conflicts (a
    refusal), and the user namespaces and workspaces the member already holds (`member_objects`, warnings)."""
    name = module.params["name"]
    conflicts = impl.workspace_conflicts(name, found["workspaces"], found["federated_workspaces"], facts["kubefed"])
    result["member_objects"] = impl.user_objects(found["namespaces"], found["workspaces"])
    findings = clean_checks.member_not_clean(name, result["member_objects"]["namespaces"],
                                             result["member_objects"]["workspaces"])
    result["findings"] = findings
    for item in findings:
        module.warn(item["message"])
    return clean_checks.workspace_conflict_problems(name, conflicts)


def credential_result(credential_name):
    n = cred.names(credential_name)
    return {"service_account": n["service_account"], "namespace": n["namespace"], "binding": n["binding"],
            "cluster_role": cred.CLUSTER_ROLE, "why": cred.WHY_CLUSTER_ADMIN}


# --- the result ---------------------------------------------------------------------------------------


def compose(module, ctx, facts, impl, outcome, result):
    """The result of a run that ran its plan to the end: the Cluster, its health, the agent, the verification."""
    values, check_mode = ctx.values, module.check_mode
    cluster = values.get("cluster") or facts["live"]
    if values.get("healthy"):
        cluster = values["healthy"]["cluster"]
        result["health"] = impl.health(cluster, values["healthy"]["kubefed"])
    elif check_mode:
        result["health"] = None
    elif module.params["wait"]:
        result["health"] = impl.health(facts["live"], facts["kubefed"])
    else:
        live, kubefed = read_join.read_pair(ctx.conn("host"), module.params["name"])
        module.hide(objects.get_path(live or {}, co.TOKEN_PATH))
        result["health"] = impl.health(live, kubefed)
    if "verify-usable" in outcome.done and not check_mode:
        result["verification"] = values.get("verify-usable") or []
    if module.params["connection_type"] == "proxy":
        agent_result(module, facts, impl, values, result)
    if check_mode and module.params["connection_type"] == "direct" and module.params["dedicated_credential"] \
            and "dedicated_kubeconfig" not in facts:
        n = cred.names(module.params["credential_name"])
        result.setdefault("notes", []).append(
            "the dedicated credential's token exists once the member's token controller filled Secret %s/%s: check "
            "mode shows the Cluster with the kubeconfig given" % (n["namespace"], n["secret"]))
    result["cluster"] = join_plan.shown_cluster(cluster)
    add_diff(module, result, outcome, values, impl)
    return result


def agent_result(module, facts, impl, values, result):
    done = values.get("agent")
    if isinstance(done, dict) and "after" in done:  # the act (token read in the run)
        done = done["after"]
    agent = done or (facts.get("agent") if impl.initialized(facts["live"]) else None)
    result["agent"] = impl.agent_shown(agent) if agent else None
    if values.get(join_plan.RECONNECT_BEFORE):
        result["agent_reconnect"] = dict(values[join_plan.RECONNECT_BEFORE], after=values.get(join_plan.RECONNECT))
    if agent is None:
        result.setdefault("notes", []).append(
            "the cluster-agent is built once tower initialised the Cluster (its token); %s"
            % ("check mode does not wait for it" if module.check_mode else "wait is false"))


def add_diff(module, result, outcome, values, impl):
    """`diff` (the Cluster's, else the agent's) and `diff_agent` when both were written, as before/after."""
    if not module._diff:
        return
    found = {}
    cluster_diff = outcome.diff_of("cluster")
    if cluster_diff:
        found["cluster"] = {"before": cluster_diff["before"], "after": cluster_diff["after"]}
    agent_diff = outcome.diff_of("agent")
    act = values.get("agent")
    if agent_diff:
        found["agent"] = {"before": agent_diff["before"], "after": agent_diff["after"]}
    elif isinstance(act, dict) and "after" in act:
        found["agent"] = {"before": impl.agent_shown(act["before"]) or {}, "after": impl.agent_shown(act["after"]) or {}}
    if found:
        result["diff"] = found.get("cluster") or found.get("agent")
        if "cluster" in found and "agent" in found:
            result["diff_agent"] = found["agent"]
