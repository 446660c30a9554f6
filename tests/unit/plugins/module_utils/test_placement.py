"""kubefed placement: label selectors, and where a federated object really propagates (pure)."""

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import placement as pl


def fed_deployment(clusters=("member1", "member2")):
    """A FederatedDeployment's identity and placement: all placement reads."""
    return {"apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedDeployment",
            "metadata": {"name": "web", "namespace": "demo"}, "spec": {"placement": pl.placement(clusters)}}


KFC = [{"name": "host", "labels": {"cluster-role.kubesphere.io/host": ""}},
       {"name": "member1", "labels": {"env": "prod"}}, {"name": "member2", "labels": {"env": "dev"}}]


def test_selector_semantics():
    assert not pl.selector_matches(None, {"a": "b"})
    assert pl.selector_matches({}, {})
    assert pl.selector_matches({"matchLabels": {"env": "prod"}}, {"env": "prod"})
    assert pl.selector_matches({"matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "prod"]}]},
                               {"env": "prod"})
    assert pl.selector_matches({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}, {})
    assert not pl.selector_matches({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, {})
    assert pl.selector_matches({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, {})


def test_effective_clusters_intersect_with_the_federated_namespace():
    fns = federated.federated_namespace("demo", "ws1", ["member1", "member2"])
    obj = fed_deployment(("member1", "host", "gone"))
    assert pl.effective_clusters(obj, KFC, fns) == ["member1"]
    assert pl.effective_clusters(obj, KFC, None) == []                  # NamespaceNotFederated
    assert pl.effective_clusters(fns, KFC) == ["member1", "member2"]
    by_selector = fed_deployment()
    by_selector["spec"]["placement"] = {"clusterSelector": {"matchLabels": {"env": "prod"}}}
    assert pl.effective_clusters(by_selector, KFC, fns) == ["member1"]
    by_selector["spec"]["placement"] = {}
    assert pl.effective_clusters(by_selector, KFC, fns) == []           # no selector selects nothing


def test_rsp_with_intersect_and_console_placement_selects_nothing():
    # fidelity-audit section B: GetResourceClusters uses selectorOnly placement of target and namespace
    fns = federated.federated_namespace("demo", "ws1", ["member1", "member2"])
    obj = fed_deployment()
    assert pl.selected_clusters(obj, KFC, selector_only=True) == set()
    assert pl.selected_clusters(fns, KFC, selector_only=True) == set()
