"""A proxy member of a KubeSphere 4.1 host: the cluster-agent as the tower extension's backend builds it, what it
runs as, the address it dials (versions/v4_1/agent.py), the import's and the unbind's steps for them."""

from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import join as join_plan
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import unbind as unbind_plan
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import v3_4, v4_1
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v4_1 import agent

CLUSTER = {"metadata": {"name": "member2"}, "spec": {"connection": {"type": "proxy", "token": "t0ken"}}}
NODES = [{"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.9"}],
                     "conditions": [{"type": "Ready", "status": "True"}]}}]
TOWER = {"metadata": {"name": "tower", "namespace": "kubesphere-system"},
         "spec": {"type": "NodePort", "ports": [{"port": 8080, "nodePort": 31386}]}}


def test_the_agent_runs_as_its_own_service_account_with_the_extensions_default_image():
    dep = agent.build(CLUSTER, "http://10.0.0.9:31386", agent.agent_image({}))
    pod = dep["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "tower"
    assert pod["containers"][0]["image"] == "kubesphere/tower:v0.2.1"
    assert "--proxy-server=http://10.0.0.9:31386" in pod["containers"][0]["command"]
    assert agent.agent_image({"multicluster": {"agentImage": "mirror/tower:v0.2.1"}}) == "mirror/tower:v0.2.1"
    assert agent.agent_image({}, "given/tower:1") == "given/tower:1"
    # 3.4's is the member KubeSphere's own ServiceAccount
    assert v3_4.agent_deployment(CLUSTER, "http://10.0.0.9:31386", "x")["spec"]["template"]["spec"][
        "serviceAccountName"] == "kubesphere"


def test_what_the_agent_needs_is_the_namespace_its_service_account_and_cluster_admin():
    made = {(o["kind"], o["metadata"]["name"]) for o in agent.access()}
    assert made == {("Namespace", "kubesphere-system"), ("ServiceAccount", "tower"), ("ClusterRoleBinding", "tower")}
    crb = next(o for o in agent.access() if o["kind"] == "ClusterRoleBinding")
    assert crb["roleRef"]["name"] == "cluster-admin"
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": "tower", "namespace": "kubesphere-system"}]
    assert v3_4.agent_access() == []


def test_the_address_defaults_to_the_tower_service_and_falls_back_to_a_node_port():
    assert agent.proxy_service_ref({}) == ("tower", "kubesphere-system")
    assert agent.proxy_service_ref({"multicluster": {"proxyPublishService": "gw.edge"}}) == ("gw", "edge")
    found = agent.proxy_address({}, TOWER, NODES)
    assert (found["address"], found["source"]) == ("http://10.0.0.9:31386", "nodePort")
    assert agent.proxy_address({"multicluster": {"proxyPublishAddress": "http://t.example:8080"}}, None)[
        "address"] == "http://t.example:8080"
    none = agent.proxy_address({}, TOWER, [], allow_node_port=False)
    assert none["address"] is None and "kubesphere_join_proxy_address" in none["error"]
    assert "ClusterConfiguration" not in none["error"]
    # 3.4 reads no Service its config does not name
    assert v3_4.agent.proxy_address({}, TOWER, NODES)["address"] is None


def test_the_import_creates_only_what_the_agent_lacks():
    def ids(found):
        return [s.id for s in join_plan.access_steps("member2", {"agent_access": found}, v4_1)]

    assert ids({}) == ["agent-namespace", "agent-serviceaccount", "agent-clusterrolebinding"]
    assert ids({"Namespace/kubesphere-system": {"metadata": {}}, "ServiceAccount/tower": {"metadata": {}},
                "ClusterRoleBinding/tower": {"metadata": {}}}) == []
    assert ids({"Namespace/kubesphere-system": {"metadata": {}}}) == ["agent-serviceaccount", "agent-clusterrolebinding"]
    assert join_plan.access_steps("member2", {}, v3_4) == []


def test_the_unbind_of_a_proxy_member_removes_the_agent_and_what_it_ran_as():
    cluster = dict(CLUSTER, status={"conditions": [{"type": "Ready", "status": "True"}]})
    facts = {"cluster": cluster, "member": {"reachable": True, "annotations": {}}}
    options = {"remove_agent": True, "wait": False}
    out = unbind_plan.plan("member2", facts, options, io=None, impl=v4_1)
    deletes = [(s["object_kind"], s["name"]) for s in out["steps"] if s.kind == "delete"]
    assert ("Deployment", "cluster-agent") in deletes and ("ServiceAccount", "tower") in deletes \
        and ("ClusterRoleBinding", "tower") in deletes and ("Namespace", "kubesphere-system") not in deletes
    removed = [i["object"] for i in out["report"]["removed_on_member"]]
    assert any("cluster-agent" in o for o in removed) and any("ClusterRoleBinding tower" in o for o in removed), removed
    kept = unbind_plan.plan("member2", facts, dict(options, remove_agent=False), io=None, impl=v4_1)
    assert [s for s in kept["steps"] if s.kind == "delete" and s["object_kind"] != "Cluster"] == []
    assert any("cluster-agent" in i["object"] for i in kept["report"]["stays_on_member"])
