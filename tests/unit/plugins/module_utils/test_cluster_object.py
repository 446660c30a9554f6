import base64
import datetime

import pytest
import yaml

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import codes

KUBECONFIG = """apiVersion: v1
kind: Config
current-context: admin@member1
contexts:
- name: admin@member1
  context: {cluster: member1, user: admin}
- name: token@member1
  context: {cluster: member1, user: robot}
clusters:
- name: member1
  cluster: {server: "https://10.0.0.5:6443", certificate-authority-data: Q0E=}
users:
- name: admin
  user: {client-certificate-data: %s, client-key-data: S0VZ}
- name: robot
  user: {token: abc.def}
"""


def make_cert(not_after, generalized=False):
    """A self-signed certificate (PEM) valid until `not_after`, made with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"kubernetes-admin")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime(2020, 1, 1))
            .not_valid_after(not_after).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def kubeconfig(not_after=datetime.datetime(2030, 5, 6, 7, 8, 9)):
    return KUBECONFIG % base64.b64encode(make_cert(not_after)).decode()


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


# --- readers -------------------------------------------------------------------------------------------


def cond(kind, status, reason="", message=""):
    return {"type": kind, "status": status, "reason": reason, "message": message}


def cluster(name="member1", ctype="direct", conds=(), uid="u-1", ks="v3.4.1", kubeconfig="a: b", **extra):
    obj = {"apiVersion": co.API_VERSION, "kind": "Cluster",
           "metadata": {"name": name, "finalizers": [co.FINALIZER]},
           "spec": {"joinFederation": True, "provider": "", "connection": {"type": ctype}},
           "status": {"conditions": list(conds), "uid": uid, "kubeSphereVersion": ks}}
    if kubeconfig:
        obj["spec"]["connection"]["kubeconfig"] = co.encode_kubeconfig(kubeconfig)
    obj.update(extra)
    return obj


def test_condition_readers_take_the_last_of_a_type():
    c = cluster(conds=[cond("Ready", "False"), cond("Federated", "True"), cond("Ready", "True")])
    assert co.ready(c) and co.federated(c)
    assert not co.initialized(c) and co.status_of(c, "Initialized") is None
    assert co.conditions(None) == {}


def test_cert_expiry_condition_reads_token_kubeconfigs_as_never_expiring():
    token = cluster(conds=[cond("KubeConfigCertExpiresInSevenDays", "False", "KubeConfigCertExpiresInSevenDays")])
    assert co.cert_expiry(token) == {"expires_in_seven_days": False, "not_after": None}
    soon = cluster(conds=[cond("KubeConfigCertExpiresInSevenDays", "True", "x", "2026-11-30 00:00:00 +0000 UTC")])
    assert co.cert_expiry(soon) == {"expires_in_seven_days": True, "not_after": "2026-11-30 00:00:00 +0000 UTC"}
    assert co.cert_expiry(cluster(ctype="proxy")) == {"expires_in_seven_days": None, "not_after": None}


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


def test_parse_kubeconfig_certificate_and_token_users():
    text = kubeconfig()
    view = co.parse_kubeconfig(text)
    assert view["server"] == "https://10.0.0.5:6443" and view["auth"] == "certificate"
    assert view["has_ca"] and not view["insecure"] and not view["token"]
    assert co.certificate_not_after(view["client_certificate_data"]) == datetime.datetime(
        2030, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    robot = co.parse_kubeconfig(text, context="token@member1")
    assert robot["auth"] == "token" and robot["client_certificate_data"] is None


@pytest.mark.parametrize("text, msg", [
    ("[1, 2]", "not a YAML mapping"), ("a: [", "not YAML"), ("clusters: []", "no current-context"),
    ("current-context: x\ncontexts: []", "no context 'x'"),
    ("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]", "does not define"),
])
def test_parse_kubeconfig_says_what_is_wrong(text, msg):
    with pytest.raises(ValueError, match=msg):
        co.parse_kubeconfig(text)


def test_certificate_not_after_reads_generalized_time_beyond_2049():
    assert co.certificate_not_after(make_cert(datetime.datetime(2051, 1, 2, 3, 4, 5))).year == 2051
    with pytest.raises(ValueError):
        co.certificate_not_after(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
    with pytest.raises(ValueError, match="no PEM"):
        co.certificate_not_after("junk")


@pytest.mark.parametrize("server, loop", [
    ("https://127.0.0.1:6443", True), ("https://127.9.9.9", True), ("https://[::1]:6443", True),
    ("https://localhost:6443", True), ("https://api.localhost", True),
    ("https://10.0.0.1:6443", False), ("https://member.example.com:6443", False), ("", False), (None, False),
])
def test_is_loopback(server, loop):
    assert co.is_loopback(server) is loop


# --- health --------------------------------------------------------------------------------------------


def kfc(*conds):
    return {"kind": "KubeFedCluster", "metadata": {"name": "member1"}, "status": {"conditions": list(conds)}}


READY = [cond("Federated", "True"), cond("Ready", "True", "Ready", "Cluster is available now")]


def test_dead_member_stays_ready_on_its_cluster_but_health_says_offline():
    verdict = co.health(cluster(conds=READY),
                        kfc(cond("Offline", "True", "ClusterNotReachable", "cluster is not reachable")))
    assert verdict["verdict"] == "offline" and not verdict["healthy"]
    assert "ClusterNotReachable" in verdict["reason"] and "still says Ready True" in verdict["reason"]
    assert verdict["cluster_ready"] == "True"


def test_health_verdicts():
    ok = kfc(cond("Ready", "True", "ClusterReady", "/healthz responded with ok"))
    assert co.health(cluster(conds=READY), ok)["verdict"] == "ready"
    assert co.health(cluster(conds=READY), ok)["healthy"]
    assert co.health(cluster(conds=READY), None, kubefed_read=False)["verdict"] == "unknown"
    assert co.health(cluster(conds=READY), None)["verdict"] == "unknown"
    assert co.health(cluster(conds=READY), kfc())["verdict"] == "joining"
    assert co.health(cluster(conds=READY), kfc(cond("Ready", "False", "ClusterNotReady")))["verdict"] == "unhealthy"
    failed = [cond("Federated", "False", "the server could not find the requested resource"),
              cond("Ready", "False", "Cluster join federation control plane failed", "Cluster is Not Ready now")]
    v = co.health(cluster(conds=failed), None)
    assert v["verdict"] == "not_federated" and "could not find" in v["reason"]
    assert co.health(cluster(conds=[cond("Ready", "False", "x")]), None)["verdict"] == "not_ready"
    assert co.health(cluster(kubeconfig=None), None)["verdict"] == "joining"
    assert co.health(None)["verdict"] == "absent"
    gone = cluster(conds=READY)
    gone["metadata"]["deletionTimestamp"] = "2026-11-26T00:00:00Z"
    assert co.health(gone, ok)["verdict"] == "terminating"
    off = cluster(conds=READY)
    off["spec"]["joinFederation"] = False
    assert co.health(off, ok)["verdict"] == "not_federated"


def test_proxy_health_follows_tower():
    assert co.health(cluster(ctype="proxy", kubeconfig=None), None)["verdict"] == "joining"
    init = [cond("Initialized", "True", "Initialized", "Cluster has been initialized")]
    v = co.health(cluster(ctype="proxy", kubeconfig=None, conds=init), None)
    assert v["verdict"] == "agent_not_connected" and "cluster-agent" in v["reason"]
    conn = init + [cond("AgentAvailable", "True")]
    assert co.health(cluster(ctype="proxy", conds=conn), None)["verdict"] == "joining"
    assert co.health(cluster(ctype="proxy", conds=conn + READY),
                     kfc(cond("Ready", "True")))["verdict"] == "ready"


def test_usable_after_import_checks_what_ready_does_not_prove():
    ok = kfc(cond("Ready", "True"))
    assert co.usable_problems("member1", cluster(conds=READY), ok, {"multicluster": {"clusterName": "member1"}}) == []
    probs = co.usable_problems("member1", cluster(conds=READY, ks="unknown", uid=""), kfc(cond("Offline", "True")),
                               {"multicluster": {"clusterRole": "member"}})
    assert codes(probs) == ["health_offline", "no_uid", "kubesphere_version_unknown", "cluster_name_not_written"]
    assert all(p["cluster"] == "member1" and "member1" in p["message"] for p in probs)
    assert codes(co.usable_problems("member1", cluster(conds=READY), ok, None)) == ["member_config_unread"]
    other = co.usable_problems("member1", cluster(conds=READY), ok, {"multicluster": {"clusterName": "old"}})
    assert codes(other) == ["cluster_name_not_written"] and "'old'" in other[0]["message"]


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
    assert co.connection_type(summary) == "proxy" and co.ready(summary) and not co.is_host(summary)
    assert co.is_host({"name": "host", "role": "host"})
    assert co.deleting({"name": "x", "deleting": True}) and co.finalizers({"finalizers": ["f"]}) == ["f"]
    assert co.kubefed_state({"name": "member1", "ready": False, "offline": True}) == "offline"
    assert co.kubefed_state({"name": "member1", "ready": True, "offline": False}) == "ready"
    assert co.kubefed_state({"name": "member1", "ready": False, "offline": False}) == "not_ready"
    v = co.health(cluster(conds=READY), {"name": "member1", "ready": False, "offline": True})
    assert v["verdict"] == "offline" and "reports Offline;" in v["reason"]


def test_error_text_takes_text_or_the_read_models_dict():
    assert co.error_text({"code": "unreachable", "message": "connection refused"}) == "connection refused"
    assert co.error_text({"code": "unauthorized"}) == "unauthorized"
    assert co.error_text("boom") == "boom" and co.error_text(None) == "no answer"
