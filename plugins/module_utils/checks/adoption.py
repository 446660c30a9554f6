# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Adoption by kubefed (pure): what a federated_project or
federated_resource run would take over on its clusters, judged before the first write.

What kubefed v0.8.1 does (sigs.k8s.io/kubefed@v0.8.1): its sync controller caches a member's objects only
when they carry `kubefed.io/managed=true` (pkg/controller/util/resourceinformer.go:42-44), so an object made
outside federation is "not there" for it and it creates one (pkg/controller/sync/controller.go:373-377); the
create meets AlreadyExists, and unless the KubeFedConfig says `adoptResources: Disabled`
(cmd/controller-manager/app/controller-manager.go:381; KubeSphere sets Enabled) it reads the object and updates
it to the federated template, overrides and the managed label (pkg/controller/sync/dispatch/managed.go:169-190,
Update at :196-245, the label added by pkg/controller/sync/resource.go:229): the object is adopted and
overwritten. With adoption disabled it records the status `AlreadyExists` (managed.go:184-187). An object
labelled `kubefed.io/managed=false` is never updated: the status is `ManagedLabelFalse` (managed.go:202-205,
pkg/controller/util/managedlabel.go:39-47).

Facts (read/adoption.py), one per cluster of the placement: {cluster, kind, namespace, name, state} with
state `absent`, `managed` (label true: kubefed's already, not an adoption), `unmanaged` (exists without the
label: would be adopted), `unmanaged_false` (label false: kubefed refuses it) or `unchecked` (with `reason`)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import describe
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

ADOPT_HINT = "set adopt: true (the role's federated_project_adopt, or adopt on the project) to let kubefed take it over"


def _what(fact):
    return describe(fact["kind"], fact["name"], fact.get("namespace"))


def would_adopt(subject, facts, adopt):
    """One `would_adopt` problem per object that exists on a cluster of the placement without kubefed's
    managed label, unless `adopt`; one `managed_label_false` problem per object labelled
    kubefed.io/managed=false (kubefed never updates it, so the propagation would never finish), always."""
    out = []
    for fact in facts or []:
        cluster, what = fact["cluster"], _what(fact)
        if fact["state"] == "unmanaged" and not adopt:
            out.append(problem("would_adopt", cluster, "cluster %r: %s: %s already exists there without the label "
                               "%s=true (it was made outside federation): kubefed (adoptResources: Enabled) would "
                               "adopt it and overwrite it with the federated template; %s, or delete or rename "
                               "%s on %r first" % (cluster, subject, what, v.KUBEFED_MANAGED_LABEL, ADOPT_HINT,
                                                   what, cluster)))
        elif fact["state"] == "unmanaged_false":
            out.append(problem("managed_label_false", cluster, "cluster %r: %s: %s exists there labelled %s=false: "
                               "kubefed never updates such an object (propagation status ManagedLabelFalse), so "
                               "it would never hold what is declared; remove that label (kubectl label ... %s-) or "
                               "delete %s on %r first" % (cluster, subject, what, v.KUBEFED_MANAGED_LABEL,
                                                          v.KUBEFED_MANAGED_LABEL, what, cluster)))
    return out


def adopted(facts):
    """What the run adopts: [{cluster, kind, namespace, name}] of the `unmanaged` facts, sorted."""
    rows = [{"cluster": f["cluster"], "kind": f["kind"], "namespace": f.get("namespace"), "name": f["name"]}
            for f in facts or [] if f["state"] == "unmanaged"]
    return sorted(rows, key=lambda r: (r["cluster"], r["kind"], r["namespace"] or "", r["name"]))


def unchecked(facts):
    """The clusters that could not be read: [{cluster, reason}], sorted."""
    return sorted(({"cluster": f["cluster"], "reason": f.get("reason")} for f in facts or []
                   if f["state"] == "unchecked"), key=lambda r: r["cluster"])


def state_of(obj):
    """The fact's state for an object as read on a cluster (None: absent)."""
    if obj is None:
        return "absent"
    value = ((obj.get("metadata") or {}).get("labels") or {}).get(v.KUBEFED_MANAGED_LABEL)
    if value == "true":
        return "managed"
    if value == "false":
        return "unmanaged_false"
    return "unmanaged"
