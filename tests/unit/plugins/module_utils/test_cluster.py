"""KubeSphere's Cluster object: the console's import body, the name rule, readers, compare, mask (pure)."""

import base64

import pytest
import yaml

from cluster_fixtures import READY, cluster, cond, kubeconfig

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co


# --- build ---------------------------------------------------------------------------------------------


def test_direct_import_body_is_the_consoles():
    text = kubeconfig()
    obj = co.build("member1", "direct", kubeconfig=text, group="production", provider="kubesphere",
                   description="first member", creator="admin", labels={"region": "eu"})
    assert obj == {
        "apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
        "metadata": {"name": "member1",
                     "labels": {"cluster.kubesphere.io/group": "production", "region": "eu"},
                     "annotations": {"kubesphere.io/way-to-add": "import", "kubesphere.io/description": "first member",
                                     "kubesphere.io/creator": "admin"}},
        "spec": {"provider": "kubesphere", "joinFederation": True,
                 "connection": {"type": "direct", "kubeconfig": base64.b64encode(text.encode()).decode()}},
    }
    assert co.kubeconfig_text(obj) == text


def test_proxy_import_body_has_no_kubeconfig_and_empty_provider_like_the_console():
    obj = co.build("member2", "proxy", kubeconfig="ignored: true")
    assert obj["spec"] == {"provider": "", "joinFederation": True, "connection": {"type": "proxy"}}
    assert "labels" not in obj["metadata"]
    assert obj["metadata"]["annotations"] == {"kubesphere.io/way-to-add": "import"}


@pytest.mark.parametrize("kwargs, text", [
    ({"connection_type": "tunnel"}, "direct or proxy"),
    ({"connection_type": "direct"}, "needs its kubeconfig"),
    ({"connection_type": "proxy", "labels": {"cluster-role.kubesphere.io/host": ""}}, "controller owns"),
    ({"connection_type": "proxy", "labels": {"cluster.kubesphere.io/group": "x"}}, "use the group"),
])
def test_build_refuses_what_kubesphere_would_not_take(kwargs, text):
    with pytest.raises(ValueError, match=text):
        co.build("m", **kwargs)


@pytest.mark.parametrize("name, ctype, ok", [
    ("member1", "direct", True), ("a", "direct", True), ("m-1", "proxy", True),
    ("Member1", "direct", False), ("-m", "direct", False), ("m-", "direct", False), ("m.1", "direct", False),
    ("m_1", "direct", False), ("", "direct", False), (None, "direct", False),
    ("a" * 63, "direct", True), ("a" * 64, "direct", False), ("a" * 60, "proxy", True), ("a" * 61, "proxy", False),
])
def test_valid_name_is_the_consoles_pattern_and_towers_service_limit(name, ctype, ok):
    assert co.valid_name(name, ctype) is ok


def test_scalar_readers():
    c = cluster(ks="unknown")
    assert co.connection_type(c) == "direct"
    assert co.connection_type({"spec": {"connection": {}}}) == "direct"
    assert co.connection_type(cluster(ctype="proxy")) == "proxy"
    assert co.uid(c) == "u-1" and co.uid({}) is None
    assert co.kubesphere_version(c) is None
    assert co.kubesphere_version(cluster()) == "v3.4.1"
    assert co.kubeconfig_text(c) == "a: b"
    assert co.kubeconfig_text(cluster(kubeconfig=None)) is None
    assert co.kubeconfig_fingerprint(c).startswith("sha256:")
    bad = cluster()
    bad["spec"]["connection"]["kubeconfig"] = "not base64!"
    with pytest.raises(ValueError, match="not base64"):
        co.kubeconfig_text(bad)


# --- compare and mask ----------------------------------------------------------------------------------


def live_from(desired, **status):
    """What the API holds after the controller and tower wrote their parts."""
    live = yaml.safe_load(yaml.safe_dump(desired))
    live["metadata"].update(uid="x", resourceVersion="9", finalizers=[co.FINALIZER])
    live["metadata"]["labels"] = dict(live["metadata"].get("labels") or {}, **{"kubefed-extra": "1"})
    live["spec"]["connection"].update(kubernetesAPIEndpoint="https://10.0.0.5:6443")
    live["status"] = dict({"uid": "u-1", "conditions": READY}, **status)
    return live


def test_a_live_cluster_written_by_the_controller_and_tower_needs_no_patch():
    desired = co.build("member1", "direct", kubeconfig=kubeconfig(), group="g", creator="admin")
    live = live_from(desired)
    live["metadata"]["annotations"]["kubesphere.io/creator"] = "someone-else"  # create-only
    assert co.compare(live, desired) == {"patch": None, "changes": [], "refused": []}
    proxy = co.build("member2", "proxy")
    live = live_from(proxy)
    live["spec"]["connection"].update(token="f" * 64, kubernetesAPIServerPort=6123, kubesphereAPIServerPort=16123,
                                      kubeconfig=co.encode_kubeconfig("issued: by tower"))
    assert co.compare(live, proxy)["patch"] is None


def test_kubeconfig_is_compared_by_content_not_encoding():
    text = kubeconfig()
    desired = co.build("member1", "direct", kubeconfig=text)
    live = live_from(desired)
    live["spec"]["connection"]["kubeconfig"] = base64.encodebytes(text.encode()).decode()  # same text, wrapped
    assert co.compare(live, desired)["patch"] is None
    rotated = co.build("member1", "direct", kubeconfig=text.replace("10.0.0.5", "10.0.0.6"))
    result = co.compare(live, rotated)
    assert result["changes"] == ["spec.connection.kubeconfig"]
    assert result["patch"] == {"spec": {"connection": {"kubeconfig": rotated["spec"]["connection"]["kubeconfig"]}}}


def test_owned_fields_produce_a_minimal_patch():
    desired = co.build("member1", "direct", kubeconfig="k", group="prod", provider="aws", description="new")
    live = live_from(co.build("member1", "direct", kubeconfig="k", group="dev", description="old"))
    live["spec"]["joinFederation"] = False
    result = co.compare(live, desired)
    assert result["patch"] == {"metadata": {"labels": {"cluster.kubesphere.io/group": "prod"},
                                            "annotations": {"kubesphere.io/description": "new"}},
                               "spec": {"provider": "aws", "joinFederation": True}}
    assert sorted(result["changes"]) == ["metadata.annotations.kubesphere.io/description",
                                         "metadata.labels.cluster.kubesphere.io/group", "spec.joinFederation",
                                         "spec.provider"]
    after = co.after_patch(live, result["patch"])
    assert co.compare(after, desired)["patch"] is None
    assert after["metadata"]["labels"]["kubefed-extra"] == "1"  # labels it does not own are kept


def test_changing_the_connection_type_is_refused():
    live = live_from(co.build("member1", "proxy"))
    result = co.compare(live, co.build("member1", "direct", kubeconfig="k"))
    assert result["refused"] and "unbind it and import it again" in result["refused"][0]
    assert "kubeconfig" not in str(result["patch"])
    assert co.compare(None, co.build("m", "proxy"))["changes"] == ["(create)"]


def test_diff_masks_the_kubeconfig_and_token_but_shows_a_change():
    text = kubeconfig()
    before = live_from(co.build("member1", "direct", kubeconfig=text))
    before["spec"]["connection"]["token"] = "secret-token"
    after = co.after_patch(before, co.compare(before, co.build("member1", "direct", kubeconfig="other"))["patch"])
    d = co.diff(before, after)
    dumped = yaml.safe_dump(d)
    assert text not in dumped and co.encode_kubeconfig(text) not in dumped and "secret-token" not in dumped
    assert "abc.def" not in dumped
    assert d["before"]["spec"]["connection"]["kubeconfig"] != d["after"]["spec"]["connection"]["kubeconfig"]
    assert d["before"]["spec"]["connection"]["kubeconfig"].startswith("********")
    assert "status" not in d["before"] and "resourceVersion" not in d["before"]["metadata"]
    assert co.diff(None, after)["before"] == {} and co.diff(before, None)["after"] == {}
    assert before["spec"]["connection"]["token"] == "secret-token"  # input untouched


def test_readers_take_the_read_models_summaries_too():
    summary = {"name": "member1", "uid": "u-9", "role": "member", "connection_type": "proxy",
               "conditions": [cond("Ready", "True")]}
    assert co.name_of(summary) == "member1" and co.uid(summary) == "u-9"
    assert co.connection_type(summary) == "proxy" and not co.is_host(summary)
    assert co.is_host({"name": "host", "role": "host"})
    assert co.deleting({"name": "x", "deleting": True}) and co.finalizers({"finalizers": ["f"]}) == ["f"]


def test_error_text_takes_text_or_the_read_models_dict():
    assert co.error_text({"code": "unreachable", "message": "connection refused"}) == "connection refused"
    assert co.error_text({"code": "unauthorized"}) == "unauthorized"
    assert co.error_text("boom") == "boom" and co.error_text(None) == "no answer"
