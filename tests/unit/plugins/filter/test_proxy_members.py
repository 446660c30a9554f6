"""The proxy_members filter: the inventory hosts imported by proxy, read as the join role reads the connection
type (kubesphere_join_connection_type, else kubesphere_connection_type, else direct)."""

from ansible_collections.kubesphere.multicluster.plugins.filter.proxy_members import FilterModule, proxy_members


def test_the_members_imported_by_proxy_in_the_order_given():
    hostvars = {"m1": {"kubesphere_connection_type": "direct"},
                "m2": {"kubesphere_connection_type": "proxy"},
                "m3": {"kubesphere_connection_type": "direct", "kubesphere_join_connection_type": "proxy"},
                "m4": {"kubesphere_connection_type": "proxy", "kubesphere_join_connection_type": "direct"},
                "m5": {}}
    assert proxy_members(["m5", "m3", "m4", "m2", "m1", "absent"], hostvars) == ["m3", "m2"]
    assert proxy_members([], hostvars) == [] and proxy_members(None, hostvars) == []
    assert FilterModule().filters()["proxy_members"] is proxy_members
