"""member_connections: each member's own connection from the inventory (cluster name, kubeconfig, context), in
the input order, for federate.yml's wait and the federated_project role's adoption check."""

from ansible_collections.kubesphere.multicluster.plugins.filter.member_connections import FilterModule

member_connections = FilterModule().filters()["member_connections"]


def test_each_member_gets_its_own_kubeconfig_and_context_and_its_name():
    hostvars = {
        "member1": {"kubesphere_cluster_name": "m1", "kubesphere_kubeconfig": "/inv/m1.kubeconfig",
                    "kubesphere_context": "ctx-m1", "kubesphere_connection_type": "direct"},
        "member2": {"kubesphere_kubeconfig": {"apiVersion": "v1", "kind": "Config"}},  # inline, no context
        "host": {"kubesphere_cluster_name": "host", "kubesphere_kubeconfig": "/inv/host.kubeconfig"},
    }
    assert member_connections(["member2", "member1"], hostvars) == [
        {"cluster_name": "member2", "kubeconfig": {"apiVersion": "v1", "kind": "Config"}, "context": None},
        {"cluster_name": "m1", "kubeconfig": "/inv/m1.kubeconfig", "context": "ctx-m1"}]
    assert member_connections([], hostvars) == [] and member_connections(None, hostvars) == []
    # a host the inventory does not hold: its name, no credentials (never another host's)
    assert member_connections(["member9"], hostvars) == [{"cluster_name": "member9", "kubeconfig": None, "context": None}]
