# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The plan of an import (the `member` module's state present), made from
what read/join.py read once the checks found nothing (checks/join.py). Steps, in order (plan/steps.py):

- (direct, dedicated_credential) `credential-serviceaccount`, `credential-secret`, `credential-binding`:
  create or patch the credential's objects on the member (objects/credential.py); `credential-token`: wait
  until the member's token controller filled the Secret's token (only when the read found none), the
  kubeconfig then being built from it (a deferred body of the Cluster write);
- (direct) `rotation-check`: before a stored kubeconfig is replaced, what KubeSphere's webhook would refuse,
  probed with the new kubeconfig (a verification: it writes nothing);
- `cluster`: create the Cluster on the host, or merge-patch the fields the collection owns;
- (proxy) `initialized`: wait until tower initialised the Cluster (its token); `agent`: apply the
  cluster-agent built from that token on the member (a plain apply when the token was read already, else an
  act: the token exists only after the wait); `agent-available`: wait until it connected; when the live agent
  dials another address than the host publishes now (or dials it but tower says it is not connected),
  `agent-before` (tower's AgentAvailable as read, carried to later slices) comes first and `agent-reconnected`
  replaces `agent-available`: a connection tower recorded after the re-point, never a Ready left from before;
- `healthy`: wait until the version's health predicate holds (3.4: Ready True and the KubeFedCluster Ready);
  it fails at once (code join_failed) when the Cluster reports a permanent join failure (impl.join_failure)
  that still holds when read again (`join_failed`);
- `verify-usable`: the verification after the import (warnings, or a failure with verify_strict).

A converged member plans no write and no wait (the verification alone stays, as in every run that waits).
The facts (a dict): host (read_host's facts), live and kubefed (the Cluster and KubeFedCluster), kubeconfig
(direct: the text the host stores), credential (read_credential's, with dedicated_credential), dedicated_kubeconfig
(built from the token read, when there was one), agent (proxy: the live Deployment), host_label. The rotation
check probes with `ctx.connect(kubeconfig_text)`, a connection the operation puts on the executor's Context."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import format_problems
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import clean as clean_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import join as join_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, describe
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import credential as cred
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import join as read_join
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import v3_4
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

TOKEN_WAIT = "credential-token"
TOKEN_TIMEOUT = 120  # the member's token controller fills a legacy token Secret within seconds
CREDENTIAL_STEPS = {"ServiceAccount": "credential-serviceaccount", "Secret": "credential-secret",
                    "ClusterRoleBinding": "credential-binding"}


def plan(facts, params, impl=v3_4):
    """The steps of the import (see the module docstring). Raises KubeSphereError (invalid_input,
    connection_type_change) for a Cluster that cannot be written as asked."""
    name, ctype = params["name"], params["connection_type"]
    out = []
    kubeconfig = facts.get("kubeconfig")
    desired_cluster(name, ctype, kubeconfig, params)  # invalid input is refused before any step
    if ctype == "direct" and params.get("dedicated_credential"):
        out += credential_steps(name, facts, params)
        kubeconfig = facts.get("dedicated_kubeconfig") or _deferred_kubeconfig(kubeconfig)
    out += cluster_steps(name, ctype, facts.get("live"), kubeconfig, params)
    if ctype == "proxy":
        out += agent_steps(name, facts, params, impl, wrote=bool(steps.writes(out)))
    if params["wait"]:
        live, kubefed = facts.get("live"), facts.get("kubefed")
        if steps.writes(out) or any(s.kind == "wait" for s in out) or not impl.health(live, kubefed)["healthy"]:
            out.append(_pair_wait("healthy", name, impl.HEALTHY, lambda c, k: impl.health(c, k)["healthy"],
                                  params, impl, why="Ready alone proves little: a dead member keeps Ready True"))
        verify = _verify(name, params, impl, {"cluster": live, "kubefed": kubefed}, (facts.get("host") or {}).get("name"))
        out.append(steps.verify("verify-usable", "member", name, describe(v.CLUSTER_KIND, name), verify,
                                why="what Ready does not prove: the member's config names it, its version is known"))
    return out


# --- the Cluster --------------------------------------------------------------------------------------


def desired_cluster(name, ctype, kubeconfig, params):
    try:
        return co.build(name, ctype, kubeconfig=kubeconfig, group=params.get("group"), provider=params.get("provider"),
                        description=params.get("description"), alias=params.get("alias"),
                        creator=params.get("creator"), labels=params.get("labels"))
    except ValueError as e:
        raise KubeSphereError(str(e), cluster=name, code="invalid_input")


def shown_cluster(cluster):
    """A Cluster as results and diffs show it: normalized, kubeconfig and token masked."""
    return co.mask(objects.normalize(cluster)) if cluster else cluster


def _deferred_kubeconfig(user_kubeconfig):
    """The credential's kubeconfig once the token wait gave it (check mode skips the wait: the user's)."""
    return lambda values: values.get(TOKEN_WAIT) or user_kubeconfig


def cluster_steps(name, ctype, live, kubeconfig, params):
    """[rotation-check, cluster] as needed: `kubeconfig` is text, None (proxy) or values -> text."""
    deferred = callable(kubeconfig)

    def desired(values=None):
        return desired_cluster(name, ctype, kubeconfig(values) if deferred else kubeconfig, params)

    obj = describe(v.CLUSTER_KIND, name)
    if live is None:
        return [steps.create("cluster", "host", name, desired if deferred else desired(), obj=obj, show=shown_cluster,
                             why="register the member as the console does", changes=["(create)"])]
    compared = co.compare(live, desired({}) if deferred else desired())
    if compared["refused"]:
        raise KubeSphereError("; ".join(compared["refused"]), cluster=name, code="connection_type_change")
    out = []
    rotates = deferred or "spec.connection.kubeconfig" in compared["changes"]
    if ctype == "direct" and rotates:
        out.append(steps.verify("rotation-check", "member", name, obj, _rotation_check(name, live, kubeconfig),
                                why="KubeSphere's webhook refuses a kubeconfig of another cluster or one that "
                                    "cannot read kube-system"))
    if deferred:
        changes = sorted(set(compared["changes"]) | {"spec.connection.kubeconfig"})

        def patch(values):
            return co.compare(live, desired(values))["patch"] or {}
    elif compared["patch"]:
        changes, patch = compared["changes"], compared["patch"]
    else:
        return out
    out.append(steps.patch("cluster", "host", name, v.CLUSTER_API_VERSION, v.CLUSTER_KIND, name, patch, before=live,
                           show=shown_cluster, changes=changes, why="update %s" % ", ".join(changes)))
    return out


def _rotation_check(name, live, kubeconfig):
    def run(ctx):
        new = kubeconfig(ctx.values) if callable(kubeconfig) else kubeconfig
        if not new or co.kubeconfig_fingerprint(live) == co.kubeconfig_fingerprint(
                {"spec": {"connection": {"kubeconfig": co.encode_kubeconfig(new)}}}):
            return None
        try:
            uid, error = read_join.probe_uid(ctx.connect(new))
        except KubeSphereError as e:
            uid, error = None, e.reason
        problems = join_checks.rotation_problems(name, live, {"uid": uid, "error": error})
        if problems:
            raise KubeSphereError(format_problems(problems, "the checks before replacing the kubeconfig"), cluster=name,
                                  code=problems[0]["code"], problems=problems)
        return uid
    return run


# --- the dedicated credential ---------------------------------------------------------------------------


def credential_steps(name, facts, params):
    """Create (absent) or merge-patch (different) each credential object on the member, then wait for its
    token when the read found none."""
    found = (facts.get("credential") or {}).get("objects") or {}
    out = []
    for obj in cred.build(facts.get("host_label") or "host", params["credential_name"]):
        meta, step_id = obj["metadata"], CREDENTIAL_STEPS[obj["kind"]]
        live = found.get(obj["kind"])
        if live is None:
            out.append(steps.create(step_id, "member", name, obj, secret_paths=(("data",),),
                                    why="the host's own revocable credential on the member"))
        elif not objects.contains(live, objects.fields_to_hold(obj)):
            out.append(steps.patch(step_id, "member", name, obj["apiVersion"], obj["kind"], meta["name"],
                                   objects.fields_to_hold(obj), namespace=meta.get("namespace"), before=live,
                                   secret_paths=(("data",),), why="the credential's labels and annotations"))
    if not (facts.get("credential") or {}).get("token"):
        out.append(_token_wait(name, facts.get("kubeconfig"), params))
    return out


def _token_wait(name, user_kubeconfig, params):
    n = cred.names(params["credential_name"])
    obj = describe("Secret", n["secret"], n["namespace"])
    timeout = min(TOKEN_TIMEOUT, params["wait_timeout"])

    def poll(ctx):
        token = cred.token_of(ctx.conn("member").get("v1", "Secret", n["secret"], n["namespace"]))
        if not token:
            return False, "the Secret has no token yet", None
        ctx.hide(token)
        text = cred.kubeconfig_from(name, user_kubeconfig, token)
        ctx.hide(text, co.encode_kubeconfig(text))
        return True, "filled", text

    def fail(_ctx, _state):
        return KubeSphereError("the member's token controller did not fill the token within %s s (is "
                               "kube-controller-manager running there?)" % timeout, cluster=name, obj=obj,
                               code="credential_token_missing")

    return steps.wait(TOKEN_WAIT, "member", name, obj, "filled by the member's token controller", poll, timeout,
                      sleep=1, fail=fail, why="the credential's kubeconfig is built from its token")


# --- proxy: tower and the cluster-agent -----------------------------------------------------------------


def agent_steps(name, facts, params, impl, wrote=False):
    live = facts.get("live")
    address = (facts["host"].get("proxy") or {}).get("address")
    image = impl.agent_image(facts["host"].get("config"), params.get("agent_image"))
    out = []
    reconnect = reconnect_before(name, facts, address, impl) if params["wait"] else None
    if reconnect is not None:
        out.append(reconnect)
    out += access_steps(name, facts, impl)
    if impl.initialized(live):
        desired = _agent(name, live, address, image, impl)
        if impl.agent_needs_update(facts.get("agent"), desired):
            out.append(steps.apply("agent", "member", name, desired, before=facts.get("agent"), show=impl.agent_shown,
                                   why="the cluster-agent as ks-apiserver builds it, from the Cluster's token"))
    elif params["wait"]:
        out.append(_pair_wait("initialized", name, impl.INITIALIZED, lambda c, k: impl.initialized(c), params, impl,
                              why="tower allocates the ports and the agent's token"))
        out.append(steps.act("agent", "member", name, impl.AGENT_OBJECT, _apply_agent(name, address, image, impl),
                             verb="apply", why="built from the token tower wrote once Initialized"))
    if reconnect is not None:
        out.append(reconnect_wait(name, address, facts, params, impl))
    elif params["wait"] and (wrote or out or not impl.agent_connected(live)):
        out.append(_pair_wait("agent-available", name, impl.AGENT_CONNECTED, lambda c, k: impl.agent_connected(c),
                              params, impl, why="the agent dialled tower and tower issued the kubeconfig"))
    return out


def access_steps(name, facts, impl):
    """Create what the agent needs on the member and does not exist yet (impl.agent_access: 4.1's namespace,
    ServiceAccount and ClusterRoleBinding; nothing on 3.4)."""
    found = facts.get("agent_access") or {}
    return [steps.apply("agent-%s" % obj["kind"].lower(), "member", name, obj,
                        why="the cluster-agent runs as it (the tower extension hands it out with the agent)")
            for obj in impl.agent_access() if found.get(read_join.access_key(obj)) is None]


# --- proxy: an agent re-pointed to the host's new address, or left unconnected: a fresh connection proven


RECONNECT_BEFORE, RECONNECT = "agent-before", "agent-reconnected"


def reconnect_before(name, facts, address, impl):
    """The `agent-before` step (carried to later slices) when this run must see the agent connect afresh: a live
    agent that dials another address than `address` (the host's changed: it is re-pointed), or one that dials it but
    tower says is not connected (AgentAvailable False), or a later slice of such a run (`facts["agent_before"]`, what
    the first slice read before its write). Its value is {from, to, connection}: tower's AgentAvailable read before
    the re-point (impl.agent_connection). None otherwise: a first import waits for `agent-available` as before."""
    carried = facts.get("agent_before")
    if carried:
        value = carried
    else:
        live_agent, cluster = facts.get("agent"), facts.get("live")
        if not live_agent or not impl.initialized(cluster) or not address:
            return None
        dials = impl.agent_proxy_server(live_agent)
        found = impl.agent_connection(cluster)
        if dials == address and (found is None or found.get("status") == "True"):
            return None
        value = {"from": dials, "to": address, "connection": found}
    return steps.verify(RECONNECT_BEFORE, "host", name, describe(v.CLUSTER_KIND, name), lambda ctx: value, carry=True,
                        why="tower's record of the agent's connection before the re-point (a connection after it "
                            "is the proof)")


def reconnect_wait(name, address, facts, params, impl):
    """Wait until tower records a connection of the agent after the re-point (impl.agent_reconnected: never the
    Ready or AgentAvailable left from before); the time up, fail (code agent_not_connected) naming the member, the
    address its agent dials and what tower says."""
    host = facts.get("host_label") or (facts.get("host") or {}).get("name") or "host"
    seen = {}

    def poll(ctx):
        before = (ctx.values.get(RECONNECT_BEFORE) or {}).get("connection")
        live = seen["live"] = read_join.read_pair(ctx.conn("host"), name)[0]
        ctx.hide(objects.get_path(live or {}, co.TOKEN_PATH))
        if impl.agent_reconnected(live, before):
            return True, "connected", impl.agent_connection(live)
        return False, _connection_state(impl.agent_connection(live)), None

    def fail(_ctx, state):
        return KubeSphereError(
            "cluster '%s': its cluster-agent, re-pointed to %s, did not connect to tower within %s s (tower's record: "
            "%s): nothing answers for tower there, as seen from the member. Check the proxy address host '%s' publishes "
            "(kubesphere_proxy_publish_address, or tower's Service), then run join.yml again"
            % (name, address, params["wait_timeout"], state, host), cluster=name, obj=describe(v.CLUSTER_KIND, name),
            code="agent_not_connected", proxy_address=address)

    return steps.wait(RECONNECT, "host", name, describe(v.CLUSTER_KIND, name), impl.AGENT_RECONNECTED, poll,
                      params["wait_timeout"], sleep=params.get("wait_sleep") or 5, fail=fail,
                      condition="cluster-agent of %s connected through %s" % (name, address),
                      why="a connection recorded after the re-point proves the agent reaches tower at the new address")


def _connection_state(found):
    if not found:
        return "no AgentAvailable condition yet"
    return "AgentAvailable %s since %s (%s)" % (found.get("status"), found.get("time"), found.get("message") or "-")


def _agent(name, cluster, address, image, impl):
    try:
        return impl.agent_deployment(cluster, address, image)
    except ValueError as e:
        raise KubeSphereError("the cluster-agent cannot be built: %s" % e, cluster=name, code="no_proxy_address")


def _apply_agent(name, address, image, impl):
    def run(ctx):
        cluster = ctx.values.get("initialized") or read_join.read_pair(ctx.conn("host"), name)[0]
        ctx.hide(objects.get_path(cluster or {}, co.TOKEN_PATH))
        desired = _agent(name, cluster, address, image, impl)
        conn = ctx.conn("member")
        before = read_join.read_agent(conn)
        after = conn.apply(desired) if impl.agent_needs_update(before, desired) else before
        return {"before": before, "after": after}
    return run


# --- waits on the host's Cluster and the verification ------------------------------------------------------


# a Cluster with no condition at all: KubeSphere's controller has not acted on it (yet: it does within seconds)
NO_CONDITION = ("; the Cluster has no status condition at all: KubeSphere's ks-controller-manager on the host has not "
                "acted on it (if this lasts: check that it runs and reaches the host's API server, "
                "kubectl -n kubesphere-system get pods -l app=ks-controller-manager, and its log), then run the "
                "import again")


def _pair_wait(step_id, name, what, predicate, params, impl, why=None):
    """Wait until predicate(Cluster, KubeFedCluster) holds; the value is the last Cluster (and KubeFedCluster
    for `healthy`). Host read errors are retried (the executor)."""
    def poll(ctx):
        live, kubefed = read_join.read_pair(ctx.conn("host"), name)
        ctx.hide(objects.get_path(live or {}, co.TOKEN_PATH))
        value = {"cluster": live, "kubefed": kubefed} if step_id == "healthy" else live
        done = predicate(live, kubefed)
        state = impl.health(live, kubefed)["reason"]
        if not done and step_id == "healthy":
            state = join_failed(ctx, name, impl, live, kubefed) or impl.wait_detail(ctx, name, live) or state
            if live is not None and not objects.get_path(live, "status.conditions"):
                state += NO_CONDITION
        return done, state, value

    def fail(ctx, state):
        return impl.healthy_timeout(ctx, name, params["wait_timeout"], state)
    return steps.wait(step_id, "host", name, describe(v.CLUSTER_KIND, name), what, poll, params["wait_timeout"],
                      sleep=params.get("wait_sleep") or 5, why=why, fail=fail if step_id == "healthy" else None)


def join_failed(ctx, name, impl, live, kubefed):
    """When the Cluster reports a permanent join failure (impl.join_failure: 3.4's workspace conflict), the
    conflict is read again (the member's Workspaces, the host's FederatedWorkspace): still there -> a final
    KubeSphereError `join_failed` with the controller's reason and message (the wait does not go on to its
    timeout); resolved since -> the state to wait on (the controller retries with back-off). None otherwise."""
    failure = impl.join_failure(live)
    if failure is None:
        return None
    found = read_join.read_member_objects(ctx.conn("member"), ctx.conn("host"), impl)
    conflicts = impl.workspace_conflicts(name, found["workspaces"], found["federated_workspaces"], kubefed)
    if not conflicts:
        return ("the Cluster still says Federated False (%s), but the conflict is resolved: waiting for "
                "KubeSphere's controller to retry the join" % failure["reason"])
    problems = clean_checks.workspace_conflict_problems(name, conflicts)
    error = KubeSphereError("KubeSphere's controller refused the join: Federated False, reason \"%s\", message \"%s\". "
                            "%s" % (failure["reason"], failure["message"], clean_checks.way_out(name, conflicts[0]["workspace"])),
                            cluster=name, obj=describe(v.CLUSTER_KIND, name), code="join_failed",
                            problems=problems, join_failure=failure)
    error.final = True
    raise error


def _verify(name, params, impl, read_pair, host_name=None):
    """The verification of the Cluster the health wait saw last (converged: the one read): what the version
    reads on the member (impl.verification_facts: 3.4 its kubesphere-config, 4.1 its kubesphere-system
    annotations) and impl.usable_problems."""
    def run(ctx):
        if ctx.check_mode:
            return None
        pair = ctx.values.get("healthy") or read_pair
        found = impl.verification_facts(ctx.conn("member"), name, host_name)
        ctx.hide(impl.jwt_secret(found))
        problems = impl.usable_problems(name, pair["cluster"], pair["kubefed"], found, host_name=host_name)
        if problems and params.get("verify_strict"):
            raise KubeSphereError(format_problems(problems, "the verification after the import"), cluster=name,
                                  code=problems[0]["code"], problems=problems)
        for item in problems:
            ctx.warn(item["message"])
        return problems
    return run
