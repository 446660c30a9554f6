# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. What the multicluster_role module does, in the architecture's order:
READ the cluster and its host (cluster_state.read; the rest of the fleet arrives as peer facts, never as
connections); CHECK (checks/roles.py); DECIDE with installer.py and components.py (desired patch,
applied?); WRITE through _k8s.ensure_object; WAIT for ks-installer.

Nothing is written before every check has passed. The jwtSecret is hidden with module.hide() as soon as
it is known and masked at installer.SECRET_PATHS in every result and diff."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile
import time

from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import components
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import installer
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import (
    Connection, auth_params, ensure_object)
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import roles as role_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.slicing import Slicer, WaitPending, pending_result
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint

try:
    import yaml
except ImportError:  # reported by KubeSphereModule
    yaml = None

# What this module reads of a cluster (no /version, no kubefed).
PARTS = ("installer", "identity", "clusters")


# ---------------------------------------------------------------------------------------------------
# read


def read(conn):
    """The cluster's state; a cluster that cannot be read, or whose kubesphere-config is not YAML, fails."""
    state = cluster_state.require(cluster_state.read(conn, PARTS))
    if state["config_error"]:
        raise conn.error(state["config_error"], code="bad_config")
    return state


def has_auth(params, prefix):
    return bool(auth_params(params, prefix))


def member_inputs(module, p, host):
    """The member's jwtSecret: `jwt_secret`, else the host's rendered one. Hidden at once (module.hide)."""
    secret = p["jwt_secret"]
    if not secret:
        if host is None:
            raise KubeSphereError("role member needs the host's jwtSecret: give jwt_secret or the host's "
                                  "connection (host_kubeconfig, host_context, ...)", cluster=p["cluster_name"],
                                  code="no_jwt_secret")
        if installer.config_role(host["config"]) != "host":
            why = "is not a host yet (kubesphere-config clusterRole %s)" % (installer.config_role(host["config"]) or "absent")
            if not module.check_mode:
                raise KubeSphereError(why + ": set the host role first", cluster=host["name"], code="host_not_ready")
            module.warn("cluster '%s' %s; check mode predicts with its current jwtSecret" % (host["name"], why))
        secret = installer.config_jwt_secret(host["config"])
        if not secret:
            raise KubeSphereError("its kubesphere-config has no jwtSecret yet", cluster=host["name"],
                                  code="host_not_ready")
    module.hide(secret)
    return secret


def components_for(p, host, target_cc):
    if not p["sync_components"]:
        return []
    if host is None or not host["cluster_configuration"]:
        raise KubeSphereError("sync_components needs the host's connection (host_kubeconfig, ...)",
                              cluster=p["cluster_name"], code="no_host")
    return components.missing_on_member(objects.get_path(host["cluster_configuration"], "spec"),
                                        objects.get_path(target_cc or {}, "spec"),
                                        p["components_include"] or None, p["components_exclude"])


# ---------------------------------------------------------------------------------------------------
# act


def write_dest(module, cc, result):
    """Write the cluster-configuration.yaml (mode 0600: it carries the jwtSecret); idempotent."""
    path = module.params["dest"]
    text = yaml.safe_dump(cc, sort_keys=False, default_flow_style=False)
    old = None
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    changed = old != text
    before = objects.mask(yaml.safe_load(old) if old else {}, installer.JWT_PATHS)
    result.update(changed=changed, dest=path, applied=False)
    if module._diff:
        result["diff"] = {"before": before or {}, "after": objects.mask(cc, installer.JWT_PATHS),
                          "before_header": path, "after_header": path}
    if changed and not module.check_mode:
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".cluster-configuration-")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        module.atomic_move(tmp, path)
    if os.path.exists(path):
        result["changed"] = module.set_mode_if_different(path, "0600", result["changed"]) or result["changed"]
    return result


def create_cc(module, conn, cc, result):
    """Before install: kubesphere-system and the ClusterConfiguration, for ks-installer's first run."""
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": installer.KS_NAMESPACE}}
    ns_result = ensure_object(conn, ns, module.check_mode)
    if ns_result["changed"] and module.check_mode:  # a dry-run create cannot land in a namespace not made
        masked = objects.mask(cc, installer.SECRET_PATHS)
        out = {"changed": True, "after": masked, "diff": {"before": {}, "after": masked}}
    else:
        out = ensure_object(conn, cc, module.check_mode, installer.SECRET_PATHS)
    result.update(changed=out["changed"] or ns_result["changed"], result=out["after"], applied=False,
                  installer="no ClusterConfiguration before: ks-installer applies the role on its first run")
    if module._diff:
        result["diff"] = out["diff"]
    return result


# ---------------------------------------------------------------------------------------------------
# wait


def applied_problems(p, state, secret):
    return installer.applied_problems(p["role"], state["config"], state["cluster_configuration"], secret, host_opts(p))


CONDITION = "ks-installer applied role '%s'"


def before_facts(target, changed):
    """What the wait needs from the state read before our write, safe to print and to hand to the next
    slice: the rendered role, status.core.enabledTime and spec's role, and whether this run wrote."""
    return {"config_role": installer.config_role(target["config"]),
            "enabled_time": installer.core_enabled_time(target["cluster_configuration"]),
            "role_before": cluster_state.spec_role(target), "wrote": bool(changed)}


def before_objects(before):
    """Minimal ClusterConfiguration and kubesphere-config carrying just the facts of before_facts(), for
    installer.multicluster_task_failed / installer_activity."""
    cc = {"status": {"core": {"enabledTime": before["enabled_time"]}}} if before["enabled_time"] else {}
    config = {"multicluster": {"clusterRole": before["config_role"]}} if before["config_role"] else {}
    return cc, config


def wait_applied(module, p, conn, target, secret, slicer=None, before=None):
    """Poll until installer.applied_problems is empty. ks-installer writes no `failed` status (servicemesh
    aside), so a failure is told from what a run leaves: for a host, a run since our write that rendered
    clusterRole host without enabling multicluster fails at once (installer.multicluster_task_failed);
    anything else ends at wait_timeout with what the installer last did. Returns the last state read.
    `before` (before_facts) is what was read before our write, handed over by the previous slice when the
    action plugin runs the wait in slices (progress.py); at the end of a slice this raises WaitPending."""
    before = before or before_facts(target, False)
    slicer = slicer or Slicer(p)
    before_cc, before_config = before_objects(before)
    wait = slicer.wait(p["cluster_name"], CONDITION % p["role"], p["wait_timeout"])
    while True:
        state = read(conn)
        left = applied_problems(p, state, secret)
        if not left:
            return state
        cc, config = state["cluster_configuration"], state["config"]
        if installer.multicluster_task_failed(p["role"], before_config, before_cc, config, cc):
            log = installer_log(conn)
            raise KubeSphereError(
                "ks-installer's multicluster task failed in its run after role '%s' was written: that run "
                "rendered kubesphere-config (clusterRole host) but did not set status.multicluster to enabled "
                "(no tower/kubefed release). Last seen: %s. See the ks-installer pod's log in %s (\"Task "
                "'multicluster' failed:\")%s. %s"
                % (p["role"], installer.installer_activity(cc, config, before_cc), installer.KS_NAMESPACE,
                   ": %s" % log if log else "", installer.RERUN_HINT),
                cluster=p["cluster_name"], code="installer_failed")
        if wait.spent():
            break
        wait.check(lambda: "; ".join(left), before=before)
        time.sleep(wait.nap(max(p["wait_sleep"], 0.2)))
    log = installer_log(conn)
    raise KubeSphereError("ks-installer had not applied role '%s' after %ss: %s. Last seen: %s%s. If its last run "
                          "failed (its pod's log in %s says \"Task '...' failed:\"), %s"
                          % (p["role"], p["wait_timeout"], "; ".join(left),
                             installer.installer_activity(state["cluster_configuration"], state["config"],
                                                          before_cc),
                             ". Installer log: %s" % log if log else "", installer.KS_NAMESPACE,
                             installer.RERUN_HINT),
                          cluster=p["cluster_name"], code="timeout")


def installer_log(conn):
    """The progress lines of the ks-installer pod's log ('' when there is no such pod or log)."""
    try:
        pods = conn.list("v1", "Pod", installer.KS_NAMESPACE, label_selector=installer.INSTALLER_POD_SELECTOR)
        if not pods:
            return ""
        name = objects.get_path(pods[-1], "metadata.name")
        status, _headers, body = conn.raw("GET", "/api/v1/namespaces/%s/pods/%s/log?tailLines=300"
                                          % (installer.KS_NAMESPACE, name))
    except KubeSphereError:
        return ""
    return installer.installer_log_summary(body if isinstance(body, str) and status < 400 else "")


def host_label(p):
    """How messages name the host before its config is read: host_cluster_name, else 'host'."""
    return (p["role"] == "member" and p["host_cluster_name"]) or installer.DEFAULT_HOST_CLUSTER_NAME


def host_opts(p):
    if p["role"] != "host":
        return {}
    return {"proxyPublishAddress": p["proxy_publish_address"], "hostClusterName": p["host_cluster_name"]}


# ---------------------------------------------------------------------------------------------------
# the module's work


def run(module):
    p = module.params
    result = {"changed": False, "role": p["role"], "applied": False, "components_enabled": []}
    try:
        module.exit_json(**change(module, p, result))
    except WaitPending as e:
        module.exit_json(**pending_result(result, e))
    except KubeSphereError as e:
        module.fail_from(e, **result)


def change(module, p, result):
    host = None
    if has_auth(p, "host_"):
        host = read(Connection(module, host_label(p), prefix="host_"))
    if p["dest"]:
        return before_install(module, p, None, None, host, result)
    conn = Connection(module, p["cluster_name"])
    target = read(conn)
    if target["cluster_configuration"] is None:
        if not p["create"]:
            raise KubeSphereError("has no ClusterConfiguration %s/%s: KubeSphere (ks-installer) is not installed; "
                                  "use create: true to create it before the installer runs, or dest: to write "
                                  "the cluster-configuration.yaml to install with"
                                  % (installer.KS_NAMESPACE, installer.CC_NAME), cluster=p["cluster_name"],
                                  code="not_installed")
        return before_install(module, p, conn, target, host, result)
    problems = role_checks.role_problems(p["cluster_name"], p["role"], target, host, p["peers"],
                                         p["host_cluster_name"] if p["role"] == "member" else None)
    if problems:
        result["problems"] = problems
        if not p["force"]:
            raise KubeSphereError("refused: " + " | ".join(x["message"] for x in problems), code=problems[0]["code"])
        for x in problems:
            module.warn("forced: " + x["message"])
    secret = member_inputs(module, p, host) if p["role"] == "member" else None
    wanted = components_for(p, host, target["cluster_configuration"]) if p["role"] == "member" else []
    patch = installer.role_patch(p["role"], secret, host_opts(p), wanted)
    out = ensure_object(conn, installer.desired_cc(patch), module.check_mode, installer.SECRET_PATHS)
    slicer = Slicer(p)
    # a later slice of the same wait: what the first slice read before its write stands for `target`
    before = (slicer.resume.get("before") if slicer.resume.get("cluster") == p["cluster_name"]
              and slicer.resume.get("condition") == CONDITION % p["role"] else None) or before_facts(target, out["changed"])
    result.update(changed=out["changed"], result=out["after"], role_before=before["role_before"],
                  components_enabled=wanted)
    if secret:
        result["jwt_secret_hash"] = fingerprint(secret)
    if module._diff:
        result["diff"] = out["diff"]
    if p["wait"] and not module.check_mode:
        state = wait_applied(module, p, conn, target, secret, slicer, before)
    else:
        state = read(conn)
    result["applied"] = not applied_problems(p, state, secret)
    result["installer"] = installer.installer_activity(state["cluster_configuration"], state["config"],
                                                       before_objects(before)[0] if before["wrote"] else None)
    return result


def before_install(module, p, conn, target, host, result):
    """No KubeSphere yet: the full default ClusterConfiguration with the role, as a file or an object."""
    secret = member_inputs(module, p, host) if p["role"] == "member" else None
    wanted = components_for(p, host, None) if p["role"] == "member" and p["sync_components"] else []
    cc = installer.before_install_cc(installer.role_patch(p["role"], secret, host_opts(p), wanted))
    result["components_enabled"] = wanted
    if secret:
        result["jwt_secret_hash"] = fingerprint(secret)
    if target is None:
        return write_dest(module, cc, result)
    return create_cc(module, conn, cc, result)
