# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. What the multicluster_role module does, in the one shape:
READ the cluster and its host (read/role.py; the rest of the fleet arrives as peer facts, never as
connections); CHECK (checks/roles.py), every check before the first write; PLAN (plan/role.py); EXECUTE
(execute/executor.py: the write, the one wait loop, check mode, slices); compose the result.

What is KubeSphere-3.4-specific (ks-installer's ClusterConfiguration, what "applied" means, the installer's
failures) comes from the version seam (versions.for_state: the `role_*` names). The jwtSecret is hidden with
module.hide() as soon as it is known and masked at impl.ROLE_SECRET_PATHS in every result and diff."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import Connection, auth_params
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import roles as role_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import versions as version_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, Refused
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import files as file_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute import files
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context, Executor
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.slicing import Slicer, WaitPending
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import role as role_plan
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read.role import read_cluster, read_file
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.vocabulary import DEFAULT_HOST_CLUSTER_NAME

SIDE = role_plan.SIDE


def host_label(p):
    """How messages name the host before its config is read: host_cluster_name, else KubeSphere's default."""
    return (p["role"] == "member" and p["host_cluster_name"]) or DEFAULT_HOST_CLUSTER_NAME


# ---------------------------------------------------------------------------------------------------
# the module's work


def run(module):
    """The result of multicluster_role; raises Refused / KubeSphereError (with what the run had to return so
    far) or WaitPending at the end of a time slice."""
    p = dict(module.params)
    result = {"changed": False, "role": p["role"], "applied": False, "components_enabled": []}
    if settled(module, p, result):
        return result
    try:
        return change(module, p, result)
    except KubeSphereError as e:
        e.result = dict(result, **e.result)
        raise


def settled(module, p, result):
    """True, with the result filled in, when this run's preflight facts (preflight_facts) prove the role settled
    (the version's role_settled): nothing is read, planned or written. False otherwise (the module reads)."""
    facts = p.get("preflight_facts") or {}
    if p.get("jwt_secret"):
        module.hide(p["jwt_secret"])
    why = versions.role_settled(p, facts.get("cluster"), facts.get("host"), p["peers"])
    if not why:
        return False
    result.update(applied=True, plan=[], settled="cluster '%s': %s" % (p["cluster_name"], why),
                  jwt_secret_hash=fingerprint(p["jwt_secret"]) if p.get("jwt_secret") else facts["host"]["jwt_secret_hash"])
    if module._diff:
        shown = {"role": p["role"], "jwt_secret_hash": result["jwt_secret_hash"]}
        result["diff"] = {"before": shown, "after": shown}
    return True


def change(module, p, result):
    host = read_cluster(Connection(module, host_label(p), prefix="host_")) if auth_params(p, "host_") else None
    conn = None if p["dest"] else Connection(module, p["cluster_name"])
    target = read_cluster(conn) if conn is not None else None
    # a cluster without KubeSphere yet (a bare v4.1 member before its import) takes its fleet's line
    impl = versions.for_state(target or {}, default=versions.fleet_line(host, p["peers"]))
    if impl.ROLE_BY_HELM:
        return by_helm(module, p, target, host, impl, result)
    installed = target is not None and impl.role_object(target) is not None
    if target is not None and not installed and not p["create"]:
        raise KubeSphereError(impl.ROLE_NOT_INSTALLED, cluster=p["cluster_name"], code="not_installed")
    slicer = Slicer(p)
    check(module, p, target if installed and not slicer.resuming else None, host, result)
    secret = member_secret(module, p, impl, host)
    options = impl.role_options(p["role"], p["proxy_publish_address"], p["host_cluster_name"])
    wanted = []
    if p["role"] == "member" and p["sync_components"]:
        wanted = impl.role_components(host, target, p["components_include"] or None, p["components_exclude"])
    patch = impl.role_patch(p["role"], secret, options, wanted)
    result["components_enabled"] = wanted
    if secret:
        result["jwt_secret_hash"] = fingerprint(secret)
    if p["dest"]:
        return install_file(module, p, impl, patch, result)
    ctx = Context(module, {SIDE: conn}, slicer=slicer)
    if not installed:
        return create(module, p, ctx, target, impl, impl.role_before_install(patch), result)
    plan = role_plan.plan_change(p, target, impl, patch, secret, options)
    resumed = slicer.resuming
    plan += role_plan.serving_steps(p, target, impl, options, slicer.carried(role_plan.SERVING_RESTART) if resumed else None,
                                    slicer.carried(role_plan.BEFORE) if resumed else None)
    return set_role(module, p, ctx, plan, target, impl, (secret, options), result)


def check(module, p, target, host, result):
    """Every check before the first write: the guards on `target` (None: not checked, before install or in a
    later slice, whose read comes after the first slice's write), forced or refused, and what the change
    itself needs (never forced). Raises Refused."""
    guards = []
    if target is not None:
        guards = role_checks.role_problems(p["cluster_name"], p["role"], target, host, p["peers"],
                                           p["host_cluster_name"] if p["role"] == "member" else None)
    problems = [] if p["force"] else list(guards)
    if target is not None:  # one fleet, one KubeSphere line (never forced)
        problems += version_checks.mixed_lines(p["cluster_name"], version_checks.peer_lines(
            p["peers"], (p["cluster_name"], versions.detect(target)["version"])))
    problems += role_checks.proxy_address_problems(p["cluster_name"], p["role"], p["proxy_publish_address"])
    if p["role"] == "member":
        problems += role_checks.secret_problems(p["cluster_name"], bool(p["jwt_secret"]), host,
                                                predict=module.check_mode)
        problems += role_checks.components_problems(p["cluster_name"], p["sync_components"], host)
    if guards:
        result["problems"] = guards
    if problems:
        raise Refused(problems)
    for x in guards:
        module.warn("forced: " + x["message"])


def by_helm(module, p, target, host, impl, result):
    """KubeSphere 4.1 (impl.ROLE_BY_HELM): the role is the Helm value multicluster.role of the release ks-core,
    which the collection does not change, and a member needs nothing written (the host installs ks-core on it
    with its jwtSecret when its Cluster is created). Every check, then the result: changed false, applied when
    the cluster renders the role (a member: or has no KubeSphere yet), and a note saying where the role comes
    from. Nothing is written, in any mode."""
    name = p["cluster_name"]
    guards, problems = impl.role_problems(p, target, host, p["peers"])
    if target is not None:  # one fleet, one KubeSphere line (never forced)
        lines = version_checks.peer_lines(p["peers"], (name, versions.detect(target)["version"]))
        if host is not None:
            lines.setdefault(host["name"], versions.detect(host)["version"])
        problems = problems + version_checks.mixed_lines(name, lines)
    if guards:
        result["problems"] = guards
    refused = problems + ([] if p["force"] else guards)
    if refused:
        raise Refused(refused)
    for x in guards:
        module.warn("forced: " + x["message"])
    if p["jwt_secret"]:
        module.hide(p["jwt_secret"])
        module.warn("cluster '%s': jwt_secret is ignored on KubeSphere 4.1: the host passes its own jwtSecret to "
                    "ks-core on every member it installs" % name)
    shown = impl.role_shown(target)
    out = impl.role_outcome(p, target, host["name"] if host else host_label(p), forced=bool(guards))
    result.update(changed=False, applied=out["applied"], note=out["note"], role_source=impl.ROLE_SOURCE,
                  role_before=impl.role(target) or "none", result=shown, plan=[], kubesphere_line=impl.VERSION)
    if module._diff:
        result["diff"] = {"before": shown, "after": shown}
    return result


def member_secret(module, p, impl, host):
    """The member's jwtSecret (`jwt_secret`, else the host's rendered one), hidden at once; for a host before
    install (dest, create) the `jwt_secret` it is installed with; None otherwise."""
    if p["role"] == "host" and p["jwt_secret"]:
        module.hide(p["jwt_secret"])
        if p["dest"] or p["create"]:
            return p["jwt_secret"]
        module.warn("cluster '%s': jwt_secret is ignored for an installed host (its jwtSecret is what its members "
                    "share; it is set only before install, with dest or create)" % p["cluster_name"])
    if p["role"] != "member":
        return None
    if not p["jwt_secret"] and module.check_mode and role_checks.not_a_host_yet(host):
        module.warn("cluster '%s' %s; check mode predicts with its current jwtSecret"
                    % (host["name"], role_checks.not_a_host_yet(host)))
    secret = p["jwt_secret"] or impl.role_host_secret(host)
    module.hide(secret)
    return secret


def execute(ctx, plan, result):
    """Run the plan; the first failure raised (the operation's result so far travels with it)."""
    result["plan"] = steps.public(plan)
    executor = Executor(ctx, result)
    outcome = executor.run(plan)
    if not outcome.ok:
        raise outcome.failed[1]
    return outcome


# ---------------------------------------------------------------------------------------------------
# the three cases (plan/role.py)


def install_file(module, p, impl, patch, result):
    """dest: the file to install with, on the controller (the cluster is not contacted). A new file is the
    installer's whole default shape with the role patch; an existing one keeps every other setting (and its
    other documents, as KubeKey's config-sample.yaml has) and gets the patch merged into its role object; an
    existing file without one is refused before anything is written."""
    found = read_file(p["dest"])
    folder = file_checks.private_folder(p["cluster_name"], files.folder_facts(os.path.dirname(os.path.abspath(p["dest"]))),
                                        "the file to install KubeSphere with (%s), which holds the jwtSecret" % p["dest"])
    if folder:
        raise Refused(folder)
    old = None
    if found["text"] is not None and found["text"].strip():
        try:
            docs, index = impl.role_file_documents(found["text"])
        except ValueError as e:
            raise Refused([problem("install_file_invalid", p["cluster_name"],
                                   "cluster '%s': dest %s %s: give the path of a cluster-configuration.yaml (or of a "
                                   "file that does not exist yet)" % (p["cluster_name"], p["dest"], e))])
        old = docs[index]
        obj = objects.merge(old, patch)
        text = found["text"] if objects.contains(old, patch) else impl.role_file_text(docs[:index] + [obj] + docs[index + 1:])
    else:
        obj = impl.role_before_install(patch)
        text = impl.role_file_text([obj])
    plan = role_plan.plan_file(p, found, text, impl)
    execute(Context(module, {}), plan, result)
    result.update(changed=bool(plan), dest=p["dest"], applied=False)
    if module._diff:
        result["diff"] = {"before": objects.mask(old, impl.ROLE_FILE_SECRET_PATHS) or {},
                          "after": objects.mask(obj, impl.ROLE_FILE_SECRET_PATHS),
                          "before_header": p["dest"], "after_header": p["dest"]}
    return result


def create(module, p, ctx, target, impl, obj, result):
    """create: the role object before the installer's first run (no wait follows)."""
    outcome = execute(ctx, role_plan.plan_create(p, target, obj, impl), result)
    after = ctx.values.get(role_plan.CREATE) or obj
    result.update(result=objects.mask(objects.normalize(after), impl.ROLE_SECRET_PATHS), applied=False,
                  installer=impl.ROLE_CREATED)
    if module._diff:
        result["diff"] = outcome.diff_of(role_plan.CREATE)
    return result


def set_role(module, p, ctx, plan, target, impl, wanted, result):
    """The role patched into the installed cluster's role object, and the wait until it is applied.
    `wanted` is (the member's jwtSecret or None, the host's options)."""
    executor = Executor(ctx, result)
    result["plan"] = steps.public(plan)
    try:
        outcome = executor.run(plan)
    except WaitPending:
        written(module, ctx, executor.outcome, target, impl, result)
        raise
    before = written(module, ctx, outcome, target, impl, result)
    if not outcome.ok:
        raise outcome.failed[1]
    state = ctx.values.get(role_plan.APPLIED)
    if state is None:
        state = read_cluster(ctx.conn(SIDE)) if outcome.changed and not module.check_mode else target
    result["applied"] = not impl.role_applied_problems(p["role"], state, *wanted)
    if ctx.values.get(role_plan.SERVING_RESTART) is not None:
        result["ks_apiserver_restart"] = ctx.values[role_plan.SERVING_RESTART]
    result["installer"] = impl.role_activity(state, before if before["wrote"] else None)
    return result


def written(module, ctx, outcome, target, impl, result):
    """What the write left in the result (also at the end of a slice or on a failure): the role object after
    it, the role before it, the diff. Returns the facts read before the write (role-before)."""
    before = ctx.values.get(role_plan.BEFORE) or dict(impl.role_before_facts(target), wrote=False)
    after = ctx.values.get(role_plan.PATCH)
    shown = objects.mask(objects.normalize(after if after is not None else impl.role_object(target)),
                         impl.ROLE_SECRET_PATHS)
    result.update(result=shown, role_before=before["role_before"])
    if module._diff:
        result["diff"] = outcome.diff_of(role_plan.PATCH) or {"before": shown, "after": shown}
    return before
