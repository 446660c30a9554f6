"""The filters that let a playbook skip what this run's readings already hold (issue 21): unread_clusters picks the
hosts a fallback play must still read, member_api_versions takes each member's served versions from whichever
reading holds them."""

from ansible_collections.kubesphere.multicluster.plugins.filter.member_api_versions import FilterModule as Versions
from ansible_collections.kubesphere.multicluster.plugins.filter.unread_clusters import FilterModule as Unread

unread_clusters = Unread().filters()["unread_clusters"]
member_api_versions = Versions().filters()["member_api_versions"]

HOSTVARS = {
    "host": {"preflight_cluster_info": {"cluster": {"name": "host", "api_versions": None}}},
    "member1": {"preflight_cluster_info": {"cluster": {"name": "m1", "api_versions": ["v1", "apps/v1"]}}},
    "member2": {"preflight_cluster_info": {"cluster": {"name": "m2", "api_versions": None}},
                "federate_member_info": {"cluster": "m2", "api_versions": ["v1"]}},
    "member3": {"kubesphere_cluster_name": "m3"},  # not read in this run
    "member4": {"preflight_cluster_info": {"cluster": {"name": "m4", "api_versions": None}},
                "federate_member_info": {"skipped": True, "changed": False}},
}


def test_only_the_hosts_without_a_reading_are_left_to_read_in_the_input_order():
    hosts = ["member3", "host", "member1", "member2", "member4", "absent"]
    assert unread_clusters(hosts, HOSTVARS) == ["member3", "absent"]
    assert unread_clusters(hosts, HOSTVARS, result_var="federate_member_info") == [
        "member3", "host", "member1", "absent"]
    assert unread_clusters([], HOSTVARS) == [] and unread_clusters(None, HOSTVARS) == []


def test_with_a_fact_a_reading_without_it_is_still_to_read():
    hosts = ["member1", "member2", "member3", "member4"]
    assert unread_clusters(hosts, HOSTVARS, fact="api_versions") == ["member2", "member3", "member4"]


def test_served_versions_come_from_federation_info_else_the_preflight_by_cluster_name():
    got = member_api_versions(["member1", "member2", "member3", "member4"], HOSTVARS)
    assert got == {"m1": ["v1", "apps/v1"], "m2": ["v1"]}
