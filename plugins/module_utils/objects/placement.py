# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. kubefed placement (util/placement.go): spec.placement as the
collection writes it, the clusters a placement selects among the KubeFedClusters (explicit list or label
selector), and where kubefed really propagates an object (intersected with its FederatedNamespace). Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def placement(clusters):
    """spec.placement with explicit clusters, de-duplicated and sorted (an empty list = no cluster)."""
    return {"clusters": [{"name": c} for c in sorted(set(clusters or []))]}


def placement_names(obj):
    """The cluster names of spec.placement.clusters, or None when the list is absent (kubefed then uses the
    clusterSelector)."""
    clusters = ((obj.get("spec") or {}).get("placement") or {}).get("clusters")
    if clusters is None:
        return None
    return [c.get("name") for c in clusters]


def placed_clusters(clusters, settings=None):
    """The clusters a resource is placed on: `clusters` minus those whose replicas setting is 0 (the
    console removes a cluster set to 0 replicas from the placement)."""
    settings = settings or {}
    return sorted(c for c in set(clusters or [])
                  if (settings.get(c) or {}).get("replicas") is None or int(settings[c]["replicas"]) != 0)


def _requirement_matches(expr, labels):
    key, operator, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False


def selector_matches(selector, labels):
    """A metav1.LabelSelector against labels: None selects nothing, {} selects everything."""
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_requirement_matches(e, labels) for e in selector.get("matchExpressions") or [])


def selected_clusters(obj, kubefed_clusters, selector_only=False):
    """The names an object's placement selects among `kubefed_clusters` ([{name, labels}]): the explicit
    clusters list when present (and not selector_only), else the clusterSelector."""
    known = set(c["name"] for c in kubefed_clusters)
    names = placement_names(obj)
    if names is not None and not selector_only:
        return known & set(names)
    selector = ((obj.get("spec") or {}).get("placement") or {}).get("clusterSelector")
    return set(c["name"] for c in kubefed_clusters if selector_matches(selector, c.get("labels")))


def effective_clusters(fed_obj, kubefed_clusters, fed_namespace=None, namespaced=True):
    """Where kubefed propagates a federated object: its placement among the KubeFedClusters, intersected,
    for a namespaced kind, with its FederatedNamespace's placement (none at all without one:
    NamespaceNotFederated). Sorted names."""
    selected = selected_clusters(fed_obj, kubefed_clusters)
    if namespaced and fed_obj.get("kind") != "FederatedNamespace":
        if fed_namespace is None:
            return []
        selected &= selected_clusters(fed_namespace, kubefed_clusters)
    return sorted(selected)
