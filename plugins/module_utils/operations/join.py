# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The `member` module's `state: present` (import) path: read both
clusters, run every check of `checks.join.import_problems` before the first write, create or patch the
Cluster object as the console does, for proxy members wait for tower and apply the cluster-agent built as
ks-apiserver builds it, wait for real health, verify what Ready does not prove.

The glue only: the decisions are the pure functions of objects/cluster.py, cluster_health.py, agent.py,
checks/join.py and checks/usable.py.
Secrets (the stored kubeconfig, its base64, the agent token, jwtSecrets) are handed to `module.hide`
before anything is returned."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import agent as agent_mod
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import clock
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import installer
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster_health
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import kubeconfig as kc
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import usable
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import credential as cred
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import format_problems
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import join as join_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, describe
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.slicing import Slicer, WaitPending, pending_result

KS_API_PROBE = "/api/v1/namespaces/kubesphere-system/services/:ks-apiserver:/proxy/kapis/version"
SA_NAMESPACES = (join_checks.KS_NAMESPACE, join_checks.KUBEFED_NAMESPACE)
READ_PARTS = ("version", "installer", "identity")


# ---------------------------------------------------------------------------------------------------
# reading


def read_member(conn):
    """The member facts checks.join needs, read with `conn` (the stored kubeconfig for direct members)."""
    state = cluster_state.read(conn, parts=READ_PARTS, samples=2)
    out = {"reachable": state["reachable"], "error": state["error"], "config": state["config"] or None,
           "kube_system_uid": state["kube_system_uid"],
           "ks_namespace_annotations": state["ks_namespace_annotations"],
           "clock": clock.combine([clock.sample_offset(*s) for s in state["date_samples"] or []]),
           "kubesphere_api": None, "service_accounts": {}}
    if not state["reachable"]:
        return out
    if not state["config_present"]:
        out["config"] = None
    try:
        status, _headers, body = conn.raw("GET", KS_API_PROBE)
        if 200 <= status < 300:
            out["kubesphere_api"] = {"reachable": True, "error": None,
                                     "version": (body or {}).get("gitVersion") if isinstance(body, dict) else None}
        else:
            out["kubesphere_api"] = {"reachable": False, "version": None,
                                     "error": "HTTP %s%s" % (status, (": %s" % str(body)[:200]) if body else "")}
    except KubeSphereError as e:
        out["kubesphere_api"] = {"reachable": False, "error": e.reason, "version": None}
    for ns in SA_NAMESPACES:
        try:
            items = conn.list("v1", "ServiceAccount", ns)
        except KubeSphereError:
            continue
        if items or conn.get("v1", "Namespace", ns) is not None:
            out["service_accounts"][ns] = sorted(objects.get_path(i, "metadata.name") for i in items or [])
    return out


def read_host(conn, peers, connection_type, allow_node_port=True, label="host"):
    """The host facts checks.join needs. Raises KubeSphereError when the host cannot be read (nothing can
    be decided without it)."""
    state = cluster_state.require(cluster_state.read(conn, parts=READ_PARTS, samples=2))
    config = state["config"] or {}
    clusters = conn.list(co.API_VERSION, co.KIND, if_served=True)
    if clusters is None:
        raise conn.error("the host does not serve %s/%s: KubeSphere's multi-cluster CRDs are not installed (is its "
                         "role host?)" % (co.API_VERSION, co.KIND), code="kind_not_served")
    host = {"name": installer.host_cluster_name(config), "config": config, "clusters": clusters,
            "kube_system_uid": state["kube_system_uid"],
            "clock": clock.combine([clock.sample_offset(*s) for s in state["date_samples"] or []]),
            "other_hosts": {}}
    for peer in peers or []:
        if peer.get("role") == "host" and peer.get("name") not in (label, host["name"]) and \
                peer.get("kube_system_uid") != host["kube_system_uid"]:
            host["other_hosts"][peer["name"]] = [{"name": c.get("name"), "uid": c.get("uid")}
                                                 for c in peer.get("clusters") or []]
    if connection_type == "proxy":
        ref = agent_mod.proxy_service_ref(config)
        service = conn.get("v1", "Service", ref[0], ref[1]) if ref else None
        nodes = conn.list("v1", "Node") if allow_node_port else []
        host["proxy"] = agent_mod.proxy_address(config, service, nodes, allow_node_port=allow_node_port)
    return host


def max_skew(member, host, given):
    if given is not None:
        return float(given)
    configs = ((member or {}).get("config"), (host or {}).get("config"))
    values = [clock.parse_duration(installer.config_max_clock_skew(c)) for c in configs if c]
    return min(values) if values else clock.DEFAULT_MAX_SKEW


# ---------------------------------------------------------------------------------------------------
# the run


class Importer:
    def __init__(self, module, host_conn, member_conn, read_conn):
        self.module = module
        self.p = module.params
        self.slicer = Slicer(module.params)
        self.name = self.p["name"]
        self.type = self.p["connection_type"]
        self.host = host_conn
        self.member = member_conn  # the member connection (agent, verification)
        self.read_conn = read_conn  # what the host will use (direct) or the member connection (proxy)
        self.check = module.check_mode
        self.result = {"changed": False, "name": self.name, "connection_type": self.type}
        self.diff = {}

    def hide_config(self, config):
        self.module.hide(installer.config_jwt_secret(config or {}))

    def fail(self, msg, **extra):
        self.result.update(extra)
        self.module.fail_json(msg=msg, **self.result)

    # --- waits ------------------------------------------------------------------------------------

    def read_pair(self):
        live = self.host.get(co.API_VERSION, co.KIND, self.name)
        kf = self.host.get(co.KUBEFED_API_VERSION, co.KUBEFED_KIND, self.name, co.KUBEFED_NAMESPACE, if_served=True)
        if live and objects.get_path(live, co.TOKEN_PATH):
            self.module.hide(objects.get_path(live, co.TOKEN_PATH))
        return live, kf

    def wait_until(self, what, predicate, describe_state):
        """Poll the host's Cluster (and KubeFedCluster) until predicate(cluster, kubefed) holds; fail with
        the last state when wait_timeout passes. Host read errors during the wait are retried. Run by the
        action plugin, the wait stops at the end of its slice with WaitPending (progress.py)."""
        wait = self.slicer.wait(self.name, "%s is %s" % (describe(co.KIND, self.name), what), self.p["wait_timeout"])
        last, last_error = None, None
        while True:
            self.host._deadline = None  # the connection's timeout bounds each poll, not the whole wait
            try:
                live, kf = self.read_pair()
                last, last_error = (live, kf), None
                if predicate(live, kf):
                    return live, kf
            except KubeSphereError as e:
                last_error = e.msg
            state = last_error or (describe_state(*last) if last else "nothing read")
            if wait.spent():
                self.fail("cluster '%s': %s: not %s within %s s: %s" % (
                    self.name, describe(co.KIND, self.name), what, self.p["wait_timeout"], state),
                    cluster=co.mask(last[0]) if last else None,
                    health=cluster_health.health(*last) if last else None)
            wait.check(lambda: state)
            time.sleep(wait.nap(self.p["wait_sleep"]))

    # --- steps ------------------------------------------------------------------------------------

    def write_cluster(self, desired, live):
        result = co.compare(live, desired) if live else {"patch": None, "changes": ["(create)"], "refused": []}
        if result["refused"]:
            self.fail("; ".join(result["refused"]), code="connection_type_change")
        if live is None:
            after = self.host.create(desired, dry_run=self.check)
            self.result["changed"] = True
            self.diff["cluster"] = co.diff(None, after)
            self.result["changes"] = ["(create)"]
        elif result["patch"]:
            after = self.host.merge_patch(co.API_VERSION, co.KIND, self.name, result["patch"], dry_run=self.check)
            if after is None:
                raise self.host.vanished(describe(co.KIND, self.name), "updating it")
            self.result["changed"] = True
            self.diff["cluster"] = co.diff(live, after)
            self.result["changes"] = result["changes"]
        else:
            after = live
            self.result["changes"] = []
        return after

    def apply_agent(self, cluster, proxy):
        image = self.p["agent_image"] or agent_mod.agent_image(self.host_facts["config"])
        token = objects.get_path(cluster, co.TOKEN_PATH)
        if not token:
            self.result["agent"] = None
            self.result.setdefault("notes", []).append(
                "the cluster-agent is built once tower initialised the Cluster (its token); %s"
                % ("check mode does not wait for it" if self.check else "wait is false"))
            return
        self.module.hide(token)
        desired = agent_mod.build(cluster, proxy["address"], image)
        live = self.member.get("apps/v1", "Deployment", agent_mod.NAME, agent_mod.NAMESPACE)
        if agent_mod.needs_update(live, desired):
            after = self.member.apply(desired, dry_run=self.check)
            self.result["changed"] = True
            self.diff["agent"] = agent_mod.diff(live, after)
        else:
            after = live
        self.result["agent"] = agent_mod.mask(objects.normalize(after))

    def dedicated_kubeconfig(self):
        """The dedicated credential (credential.py) applied on the member, and the token kubeconfig built from
        it; None in check mode while the token does not exist yet (the user's kubeconfig then stands in)."""
        from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import ensure_object  # noqa: PLC0415

        p = self.p
        n = cred.names(p["credential_name"])
        for obj in cred.build(self.host.label, p["credential_name"]):
            outcome = ensure_object(self.member, obj, check_mode=self.check, secret_paths=(("data",),))
            if outcome["changed"]:
                self.result["changed"] = True
                self.result.setdefault("credential_changes", []).append("%s %s" % (obj["kind"], obj["metadata"]["name"]))
        self.result["credential"] = {"service_account": n["service_account"], "namespace": n["namespace"],
                                     "binding": n["binding"], "cluster_role": cred.CLUSTER_ROLE,
                                     "why": cred.WHY_CLUSTER_ADMIN}
        deadline = time.time() + (0 if self.check else min(120, p["wait_timeout"]))
        while True:
            secret = self.member.get("v1", "Secret", n["secret"], n["namespace"])
            token = cred.token_of(secret)
            if token or time.time() >= deadline:
                break
            time.sleep(1)
        if not token:
            if self.check:
                self.result.setdefault("notes", []).append(
                    "the dedicated credential's token exists once the member's token controller filled Secret "
                    "%s/%s: check mode shows the Cluster with the kubeconfig given" % (n["namespace"], n["secret"]))
                return None
            waited = min(120, p["wait_timeout"])
            self.fail("cluster '%s': Secret %s/%s: the member's token controller did not fill the token within %s s "
                      "(is kube-controller-manager running there?)" % (self.name, n["namespace"], n["secret"], waited),
                      code="credential_token_missing")
        self.module.hide(token)
        view = kc.view(self.stored)
        text = cred.kubeconfig(self.name, view["server"], token, cred.ca_of(self.stored), insecure=view["insecure"])
        self.module.hide(text, co.encode_kubeconfig(text))
        return text

    def rotation_check(self, live, new_kubeconfig):
        """Before replacing an imported member's stored kubeconfig: what KubeSphere's webhook would refuse."""
        if not live or co.kubeconfig_fingerprint(live) == co.kubeconfig_fingerprint(
                {"spec": {"connection": {"kubeconfig": co.encode_kubeconfig(new_kubeconfig)}}}):
            return
        new_uid, error = None, None
        try:
            probe = self.conn_class(self.module, self.name, params={"kubeconfig": new_kubeconfig}, timeout=self.p["timeout"])
            new_uid = objects.get_path(probe.get("v1", "Namespace", "kube-system") or {}, "metadata.uid")
        except KubeSphereError as e:
            error = e.reason
        problems = cred.rotation_problems(self.name, live, new_uid, error)
        if problems:
            self.fail(format_problems(problems, "the checks before replacing the kubeconfig of cluster '%s'" % self.name),
                      problems=problems)

    def verify(self, live, kf):
        member_config = None
        try:
            cm = self.member.get("v1", "ConfigMap", installer.CONFIG_MAP, installer.KS_NAMESPACE)
            member_config = installer.parse_config(cm) if cm else None
            self.hide_config(member_config)
        except (KubeSphereError, ValueError):
            member_config = None
        problems = usable.usable_problems(self.name, live, kf, member_config)
        self.result["verification"] = problems
        for item in problems:
            if not self.p["verify_strict"]:
                self.module.warn(item["message"])
        if problems and self.p["verify_strict"]:
            self.fail(format_problems(problems, "the verification after the import"), problems=problems)

    # --- the whole run ----------------------------------------------------------------------------

    def run(self):
        p = self.p
        peers = p["peers"] or []
        self.host_facts = read_host(self.host, peers, self.type, p["allow_node_port"], label=self.host.label)
        self.hide_config(self.host_facts["config"])
        if self.type == "proxy" and p["proxy_address"]:
            self.host_facts["proxy"] = {"address": p["proxy_address"], "source": "proxy_address option",
                                        "api_agrees": False, "error": None}
        live = self.host.get(co.API_VERSION, co.KIND, self.name)
        if self.type == "proxy":
            proxy = self.host_facts["proxy"]
            self.result["proxy"] = {k: proxy.get(k) for k in ("address", "source", "api_agrees")}
        if self.slicer.resuming and live is not None:
            # The checks are not made again: a member that stops answering after its Cluster was written
            # fails in the wait, naming the Cluster, as in one run.
            cluster = live
        else:
            member = read_member(self.read_conn)
            self.hide_config(member.get("config"))
            options = {"allow_loopback": p["allow_loopback"], "allow_insecure": p["allow_insecure"],
                       "cert_expiry_margin_days": p["cert_expiry_margin_days"],
                       "max_clock_skew": max_skew(member, self.host_facts, p["max_clock_skew"])}
            problems = join_checks.import_problems(self.name, self.type, member, self.host_facts, self.stored, options)
            if problems:
                self.fail(format_problems(problems, "the checks before importing cluster '%s'" % self.name),
                          problems=problems)
            if self.type == "direct" and p["dedicated_credential"]:
                dedicated = self.dedicated_kubeconfig()
                if dedicated:
                    self.rotation_check(live, dedicated)
                    self.stored = dedicated
            elif self.type == "direct":
                self.rotation_check(live, self.stored)
            try:
                desired = co.build(self.name, self.type, kubeconfig=self.stored, group=p["group"], provider=p["provider"],
                                   description=p["description"], alias=p["alias"], creator=p["creator"],
                                   labels=p["labels"])
            except ValueError as e:
                self.fail("cluster '%s': %s" % (self.name, e), code="invalid_input")
            cluster = self.write_cluster(desired, live)
        if self.type == "proxy":
            if p["wait"] and not self.check and not cluster_health.initialized(cluster):
                cluster, _kf = self.wait_until("Initialized by tower", lambda c, k: cluster_health.initialized(c),
                                               lambda c, k: cluster_health.health(c, k)["reason"])
            self.apply_agent(cluster, self.host_facts["proxy"])
            if p["wait"] and not self.check:
                cluster, _kf = self.wait_until("connected to its cluster-agent (AgentAvailable)",
                                               lambda c, k: cluster_health.agent_available(c) or cluster_health.ready(c),
                                               lambda c, k: cluster_health.health(c, k)["reason"])
        if p["wait"] and not self.check:
            live, kf = self.wait_until("healthy (Ready True and its KubeFedCluster Ready True)",
                                       lambda c, k: cluster_health.health(c, k)["healthy"],
                                       lambda c, k: cluster_health.health(c, k)["reason"])
            self.result["health"] = cluster_health.health(live, kf)
            self.verify(live, kf)
            cluster = live
        else:
            live, kf = self.read_pair() if not self.check else (cluster, None)
            self.result["health"] = cluster_health.health(live, kf) if not self.check else None
        self.result["cluster"] = co.mask(objects.normalize(cluster))
        self.module.exit_json(**self.outcome())

    def outcome(self):
        """The result with the diff of what this run wrote."""
        if self.module._diff and self.diff:
            self.result["diff"] = self.diff.get("cluster") or self.diff.get("agent")
            if "cluster" in self.diff and "agent" in self.diff:
                self.result["diff_agent"] = self.diff["agent"]
        return self.result


def run(module, connection_class=None):
    """The `member` module's state present."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import Connection  # noqa: PLC0415

    Conn = connection_class or Connection
    p = module.params
    name = p["name"]
    if p["dedicated_credential"] and p["connection_type"] != "direct":
        module.fail_json(msg="cluster '%s': dedicated_credential is for direct members (tower issues a proxy member's "
                         "kubeconfig)" % name, code="invalid_input")
    try:
        host = Conn(module, p.get("host_label") or "host", prefix="host_", timeout=p["timeout"])
        member = Conn(module, name, timeout=p["timeout"])
        stored = None
        if p["connection_type"] == "direct":
            if p["stored_kubeconfig"]:
                source = p["stored_kubeconfig"]
            elif p.get("kubeconfig") is not None:
                source = p["kubeconfig"]
            else:
                source = os.path.expanduser("~/.kube/config")
            try:
                stored = kc.flatten(source, None if p["stored_kubeconfig"] else p.get("context"))
            except (ValueError, IOError, OSError) as e:
                found = {"code": "kubeconfig_invalid", "cluster": name, "message": str(e)}
                module.fail_json(msg="cluster '%s': the kubeconfig to store in its Cluster: %s" % (name, e),
                                 code="kubeconfig_invalid", problems=[found])
            module.hide(stored, co.encode_kubeconfig(stored))
            read_conn = Conn(module, name, params={"kubeconfig": stored}, timeout=p["timeout"])
        else:
            read_conn = member
        importer = Importer(module, host, member, read_conn)
        importer.stored = stored
        importer.conn_class = Conn
        try:
            importer.run()
        except WaitPending as e:
            module.exit_json(**pending_result(importer.outcome(), e))
    except KubeSphereError as e:
        module.fail_from(e)
