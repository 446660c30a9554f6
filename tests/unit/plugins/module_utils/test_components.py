"""components.py: which pluggable components a member must enable."""

from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import components as comp

HOST = {
    "authentication": {"enabled": True},            # not a component
    "common": {"opensearch": {"enabled": True}},    # infrastructure, not a component
    "devops": {"enabled": True},
    "logging": {"enabled": True, "logsidecar": {"enabled": True}},
    "openpitrix": {"store": {"enabled": True}},
    "network": {"networkpolicy": {"enabled": True}, "topology": {"type": "none"}},
    "servicemesh": {"enabled": False},
    "alerting": {"enabled": "true"},                # only a real boolean counts
}


def test_spec_components():
    assert comp.spec_components(HOST) == ["devops", "logging", "logging.logsidecar", "network.networkpolicy",
                                          "openpitrix.store"]
    assert comp.spec_components(None) == []


def test_wanted_on_member_never_the_app_store():
    assert comp.wanted_on_member(HOST) == ["devops", "logging", "logging.logsidecar", "network.networkpolicy"]


def test_include_and_exclude_select_sub_components():
    assert comp.wanted_on_member(HOST, include=["logging"]) == ["logging", "logging.logsidecar"]
    assert comp.wanted_on_member(HOST, exclude=["logging", "network"]) == ["devops"]
    assert comp.wanted_on_member(HOST, include=["openpitrix.store"]) == []


def test_missing_on_member():
    member = {"devops": {"enabled": True}, "logging": {"enabled": False}}
    assert comp.missing_on_member(HOST, member) == ["logging", "logging.logsidecar", "network.networkpolicy"]
    assert comp.missing_on_member(HOST, HOST) == []
