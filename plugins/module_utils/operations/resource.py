# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The work of the federated_resource module, in the one shape: READ the host
(read/federation.py), CHECK every input (checks/federation.py; Refused before any write), PLAN
(plan/resource.py), EXECUTE (operations/federation_run.py: the writes, then the propagation wait).

Federated objects are owned whole: server-side apply (field manager kubesphere.multicluster), `changed` decided
by federated.comparable, which sorts the lists kubefed rewrites in Go-map order, so a second run reports no
change. A Secret's values are no_log values and are masked in results and diffs. A later slice of the same
run (wait: true) only goes on waiting: it does not make the checks again (see operations/project.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy

from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import Connection
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import federation as fchecks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import Refused, describe
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import overrides
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import placement
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import federation_run
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import resource as resource_plan
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import federation as read


def run(module, connect=Connection):
    p = module.params
    cluster, conn, ctx = federation_run.host_context(module, connect)
    manifest = copy.deepcopy(p["definition"])
    settings = copy.deepcopy(p.get("settings") or {})
    if manifest.get("kind") == "Secret":
        hide_secret(module, manifest, settings)
    _refuse(fchecks.definition(manifest))
    meta = manifest.get("metadata") or {}
    kind, api_version, name, namespace = manifest["kind"], manifest["apiVersion"], meta["name"], meta.get("namespace")
    subject = describe(kind, name, namespace)
    _refuse(fchecks.name(subject, kind, name) + (fchecks.name(subject, "Namespace", namespace) if namespace else []),
            subject)
    state = federation_run.host_version(conn, cluster, subject)[0]
    ftc_list = read.ftcs(conn)
    _refuse(fchecks.federated_type(subject, api_version, kind, ftc_list), subject)
    ftc = federated.find_ftc(ftc_list, api_version, kind)
    types = federated.federated_types(ftc)
    _refuse(fchecks.definition_namespace(subject, types["target"], kind, namespace), subject)
    params = dict(p, definition=manifest, settings=settings)
    if p["state"] == "absent":
        res = resource_plan.Resource(params, ftc, [])
        facts = read.resource(conn, types["federated"], types["target"], name, namespace)
        plan = resource_plan.deletion(res, facts, cluster)
        return federation_run.run(module, ctx, plan, lambda _v: (
            {"result": {}, "rsp": None, "replicas": {}, "placement": []}, None), waits=False)

    facts = read.resource(conn, types["federated"], types["target"], name, namespace, state)
    fed_ns = facts["federated_namespace"]
    project_names = (placement.placement_names(fed_ns) or []) if fed_ns else None
    if p.get("project_clusters") is not None:  # the project as this run leaves it (a check before its write)
        project_names = list(p["project_clusters"])
    clusters = p.get("clusters")
    if clusters is None:
        clusters = list(project_names or [])
    res = resource_plan.Resource(params, ftc, clusters)
    if ctx.slicer.resuming:
        built = res.build()
    else:
        built = check(res, facts, project_names, ctx.check_mode, subject)
    placed = [c for c in clusters if project_names is None or not types["target"]["namespaced"] or c in project_names]
    adopting = federation_run.adoption(module, ctx, conn, connect, subject, placed, types["target"], name, namespace,
                                       facts["live"])
    desired = res.desired(built, facts["live"])
    replicas = res.replicas()
    plan = resource_plan.plan(res, facts, desired, replicas, cluster)
    fed_changed = any(s.id == resource_plan.FEDERATED_ID for s in plan)

    def compose(values):
        fed = values.get(resource_plan.FEDERATED_ID, facts["live"])
        keys = resource_plan.results(res, facts, values, desired, replicas)
        keys.update(adopting)
        return keys, fed
    return federation_run.run(module, ctx, plan, compose, shown=res.shown,
                              extra_diffs=[resource_plan.division_diff(res, facts["live"], replicas, fed_changed)])


def _refuse(problems, subject="the checks"):
    if problems:
        raise Refused(problems, subject, changed=False)


def check(res, facts, project_names, check_mode, subject):
    """Every check of state=present; returns the federated object the parameters describe or raises Refused."""
    p, target, clusters, settings = res.p, res.target, res.clusters, res.settings
    problems = []
    if target["namespaced"] and not check_mode:
        problems += fchecks.namespace_federated(subject, res.namespace, facts["federated_namespace"])
    problems += fchecks.clusters(subject, clusters, facts["members"])
    if project_names is not None:
        problems += fchecks.project_clusters(subject, clusters, project_names)
    problems += fchecks.served(subject, target["apiVersion"], clusters, p.get("member_api_versions"),
                               ready_members=[m["name"] for m in facts["members"] if m["kubefed_ready"]])
    template = federated.template_of(res.manifest, target["apiVersion"])
    problems += fchecks.settings(subject, res.kind, template, clusters, settings)
    problems += fchecks.template(subject, res.manifest)
    problems += fchecks.replicas(subject, settings)
    rbw = res.rbw
    if rbw is not None:
        problems += fchecks.weights(subject, rbw.get("total"), rbw.get("weights") or {},
                                    rbw.get("min_replicas"), rbw.get("max_replicas"))
        problems += fchecks.weight_mode(subject, res.kind, clusters, rbw.get("weights") or {}, settings)
    _refuse(problems, subject)
    try:
        built = res.build()
    except overrides.FederationError as e:
        raise Refused([problem("setting_invalid", None, "%s: %s" % (subject, e))], subject, changed=False)
    _refuse(fchecks.overrides(subject, built, target), subject)
    return built


def hide_secret(module, manifest, settings):
    """Every value of a Secret's data/stringData and of per-cluster data settings, in clear and base64, is
    a no_log value: it can never appear in the output (the results are masked as well)."""
    values = []
    for key in ("data", "stringData"):
        values.extend((manifest.get(key) or {}).values())
    for cluster_settings in (settings or {}).values():
        values.extend(((cluster_settings or {}).get("data") or {}).values())
    for value in values:
        text = value if isinstance(value, str) else str(value)
        module.hide(text)
        try:
            module.hide(base64.b64decode(text, validate=True).decode("utf-8"))
        except Exception:  # noqa: BLE001  not base64 text: the clear value itself
            module.hide(base64.b64encode(text.encode("utf-8")).decode("ascii"))
