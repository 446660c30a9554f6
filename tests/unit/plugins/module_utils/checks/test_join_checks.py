import base64
import datetime

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import agent
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import PROBLEM_KEYS, codes
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import join

NOW = datetime.datetime(2026, 11, 26, 0, 0, 0, tzinfo=datetime.timezone.utc)
JWT = "host-jwt-secret-32-characters-xx"


def make_cert(not_after):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"admin")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(datetime.datetime(2020, 1, 1)).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    return base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode()


def kubeconfig(server="https://10.0.0.5:6443", user=None, cluster_extra="certificate-authority-data: Q0E=",
               not_after=datetime.datetime(2030, 1, 1)):
    user = user or "client-certificate-data: %s\n    client-key-data: S0VZ" % make_cert(not_after)
    return ("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
            "contexts:\n- name: c\n  context: {cluster: m, user: u}\n"
            "clusters:\n- name: m\n  cluster:\n    server: %s\n    %s\n"
            "users:\n- name: u\n  user:\n    %s\n" % (server, cluster_extra, user))


GOOD_KUBECONFIG = kubeconfig()


def member(**over):
    m = {
        "reachable": True, "error": None,
        "config": {"multicluster": {"clusterRole": "member"}, "authentication": {"jwtSecret": JWT}},
        "kube_system_uid": "uid-member1",
        "ks_namespace_annotations": {},
        "kubesphere_api": {"reachable": True, "error": None, "version": "v3.4.1"},
        "service_accounts": {"kubesphere-system": ["default", "kubesphere"], "kube-federation-system": []},
        "clock": 0.2,
    }
    m.update(over)
    return m


def cluster_obj(name, uid=None, ctype="direct", deleting=False):
    c = {"metadata": {"name": name, "finalizers": ["finalizer.cluster.kubesphere.io"]},
         "spec": {"connection": {"type": ctype}}, "status": {}}
    if uid:
        c["status"]["uid"] = uid
    if deleting:
        c["metadata"]["deletionTimestamp"] = "2026-11-25T00:00:00Z"
    return c


def host(**over):
    h = {
        "name": "host",
        "config": {"multicluster": {"clusterRole": "host", "proxyPublishService": "tower.kubesphere-system.svc",
                                    "proxyPublishAddress": "http://203.0.113.7:30721"},
                   "authentication": {"jwtSecret": JWT}},
        "clusters": [cluster_obj("host", "uid-host")],
        "kube_system_uid": "uid-host",
        "clock": 0.0,
        "proxy": {"address": "http://203.0.113.7:30721", "source": "proxyPublishAddress", "api_agrees": True,
                  "error": None},
        "other_hosts": {},
    }
    h.update(over)
    return h


def check(name="member1", ctype="direct", m=None, h=None, kc=GOOD_KUBECONFIG, **options):
    options.setdefault("now", NOW)
    return join.import_problems(name, ctype, m or member(), h or host(), kubeconfig=kc if ctype == "direct" else None,
                                options=options)


def test_a_good_member_has_no_problem_for_either_connection_type():
    assert check() == []
    assert check(ctype="proxy") == []


def test_every_problem_has_the_one_shape_and_names_the_cluster():
    probs = check(m=member(config={"multicluster": {"clusterRole": "none"}, "authentication": {"jwtSecret": "x"}},
                           kubesphere_api={"reachable": False, "error": "HTTP 503"}, clock=60.0),
                  kc=kubeconfig(server="https://127.0.0.1:6443", cluster_extra="insecure-skip-tls-verify: true"))
    assert codes(probs) == ["loopback_server", "tls_verification_off", "member_role_not_member", "jwt_mismatch",
                            "kubesphere_unreachable", "clock_skew"]
    for p in probs:
        assert tuple(sorted(p)) == tuple(sorted(PROBLEM_KEYS))
        assert p["cluster"] == "member1" and "'member1'" in p["message"]


# --- name, connection type, kubeconfig ------------------------------------------------------------------


@pytest.mark.parametrize("name, ctype", [("Member1", "direct"), ("m.1", "direct"), ("a" * 61, "proxy")])
def test_invalid_names(name, ctype):
    assert "invalid_name" in codes(check(name=name, ctype=ctype))


def test_connection_type_must_be_direct_or_proxy():
    assert codes(join.import_problems("member1", "tunnel", member(), host())) == ["connection_type_invalid"]


@pytest.mark.parametrize("kc, code", [
    (None, "kubeconfig_missing"), ("", "kubeconfig_missing"), ("- a", "kubeconfig_invalid"),
    (kubeconfig(cluster_extra="certificate-authority: /etc/ca.crt"), "kubeconfig_not_self_contained"),
    (kubeconfig(user="tokenFile: /var/run/token"), "kubeconfig_not_self_contained"),
    (kubeconfig(server="https://localhost:6443"), "loopback_server"),
    (kubeconfig(server="https://[::1]:6443"), "loopback_server"),
    (kubeconfig(cluster_extra="insecure-skip-tls-verify: true"), "tls_verification_off"),
    (kubeconfig(not_after=datetime.datetime(2026, 12, 10)), "certificate_expiring"),
    (kubeconfig(not_after=datetime.datetime(2026, 11, 1)), "certificate_expired"),
    (kubeconfig(user="client-certificate-data: %s" % base64.b64encode(b"junk").decode()), "certificate_unreadable"),
])
def test_kubeconfig_problems(kc, code):
    assert codes(check(kc=kc)) == [code]


def test_allow_loopback_and_allow_insecure_and_the_expiry_margin():
    kc = kubeconfig(server="https://127.0.0.1:6443", cluster_extra="insecure-skip-tls-verify: true",
                    not_after=datetime.datetime(2026, 12, 10))
    assert codes(check(kc=kc)) == ["loopback_server", "tls_verification_off", "certificate_expiring"]
    assert check(kc=kc, allow_loopback=True, allow_insecure=True, cert_expiry_margin_days=7) == []
    expiring = check(kc=kc, allow_loopback=True, allow_insecure=True)
    assert "2026-12-10 00:00:00 UTC" in expiring[0]["message"] and "30 days" in expiring[0]["message"]


def test_token_kubeconfigs_never_expire():
    assert check(kc=kubeconfig(user="token: abc.def")) == []


def test_proxy_members_need_no_kubeconfig():
    assert check(ctype="proxy", kc=None) == []


# --- host ------------------------------------------------------------------------------------------------


def test_host_must_render_role_host_and_a_jwt_secret():
    assert codes(check(h=host(config=None))) == ["host_config_missing"]
    bad = host(config={"multicluster": {"clusterRole": "none"}, "authentication": {}})
    assert codes(check(h=bad)) == ["host_not_host", "host_config_missing"]


def test_existing_cluster_objects_on_the_host():
    rerun = host(clusters=[cluster_obj("host", "uid-host"), cluster_obj("member1", "uid-member1")])
    assert check(h=rerun) == []  # the same member under the same name: a rerun finishes the job
    halfway = host(clusters=[cluster_obj("host", "uid-host"), cluster_obj("member1")])
    assert check(h=halfway) == []
    taken = host(clusters=[cluster_obj("host", "uid-host"), cluster_obj("member1", "uid-other")])
    assert codes(check(h=taken)) == ["name_taken"]
    typed = host(clusters=[cluster_obj("host", "uid-host"), cluster_obj("member1", "uid-member1", ctype="proxy")])
    probs = check(h=typed)
    assert codes(probs) == ["connection_type_change"] and "unbind it and import it again" in probs[0]["message"]
    dying = host(clusters=[cluster_obj("host", "uid-host"), cluster_obj("member1", "uid-member1", deleting=True)])
    assert codes(check(h=dying)) == ["cluster_terminating"]


# --- member --------------------------------------------------------------------------------------------


def test_an_unreachable_member_stops_the_member_checks():
    probs = check(m=member(reachable=False, error="dial tcp 10.0.0.5:6443: connect: connection refused",
                           config=None, kubesphere_api=None))
    assert codes(probs) == ["member_unreachable"]
    assert "connection refused" in probs[0]["message"]


def test_member_config_role_and_jwt():
    assert codes(check(m=member(config=None))) == ["member_config_missing"]
    wrong = check(m=member(config={"multicluster": {"clusterRole": "member"}, "authentication": {"jwtSecret": "other"}}))
    assert codes(wrong) == ["jwt_mismatch"]
    assert JWT not in wrong[0]["message"] and "other" not in wrong[0]["message"] and "sha256:" in wrong[0]["message"]
    assert codes(check(m=member(config={"multicluster": {}, "authentication": {"jwtSecret": JWT}}))) == \
        ["member_role_not_member"]


def test_kubesphere_api_probe():
    assert check(m=member(kubesphere_api=None)) == []
    assert codes(check(m=member(kubesphere_api={"reachable": False, "error": "503"}))) == ["kubesphere_unreachable"]


@pytest.mark.parametrize("m_clock, h_clock, threshold, expected", [
    (0.0, 0.0, 10, []), (None, 5.0, 10, []), (9.9, 0.0, 10, []), (11.0, 0.0, 10, ["clock_skew"]),
    (-11.0, 0.0, 10, ["clock_skew"]), (11.0, 0.0, 30, []),
    ({"low": 10.5, "high": 11.5}, {"low": -0.5, "high": 0.5}, 10, ["clock_skew_possible"]),
    ({"low": 11.0, "high": 12.0}, {"low": -0.5, "high": 0.5}, 10, ["clock_skew"]),
])
def test_clock_skew(m_clock, h_clock, threshold, expected):
    assert codes(check(m=member(clock=m_clock), h=host(clock=h_clock), max_clock_skew=threshold)) == expected


def test_the_same_cluster_under_another_name_is_refused_host_included():
    imported = host(clusters=[cluster_obj("host", "uid-host"), cluster_obj("old", "uid-member1")])
    probs = check(h=imported)
    assert codes(probs) == ["already_imported"] and "'old'" in probs[0]["message"]
    itself = check(m=member(kube_system_uid="uid-host"))
    assert codes(itself) == ["already_imported"] and "the host itself" in itself[0]["message"]


def test_managed_by_another_host():
    v4 = check(m=member(ks_namespace_annotations={"cluster.kubesphere.io/host-cluster": "other-host"}))
    assert codes(v4) == ["managed_by_other_host"] and "other-host" in v4[0]["message"]
    assert check(m=member(ks_namespace_annotations={"cluster.kubesphere.io/host-cluster": "host"})) == []
    elsewhere = check(h=host(other_hosts={"host2": [cluster_obj("m1", "uid-member1")]}))
    assert codes(elsewhere) == ["managed_by_other_host"] and "'host2'" in elsewhere[0]["message"]


def test_a_reimport_must_use_the_former_name():
    left = member(config={"multicluster": {"clusterRole": "member", "clusterName": "old"},
                          "authentication": {"jwtSecret": JWT}},
                  service_accounts={"kubesphere-system": ["kubesphere"],
                                    "kube-federation-system": ["old-kubesphere", "default"]})
    probs = check(m=left)
    assert codes(probs) == ["reimport_name_changed"]
    assert "'old'" in probs[0]["message"] and "clusterName" in probs[0]["message"] and \
        "old-kubesphere" in probs[0]["message"]
    assert check(name="old", m=left) == []
    v4 = check(m=member(ks_namespace_annotations={"cluster.kubesphere.io/name": "prev"}))
    assert codes(v4) == ["reimport_name_changed"]
    # imported here right now under this name: its own leftovers are not a former name
    here = member(config={"multicluster": {"clusterRole": "member", "clusterName": "member1"},
                          "authentication": {"jwtSecret": JWT}},
                  service_accounts={"kube-federation-system": ["member1-kubesphere"]})
    assert check(m=here, h=host(clusters=[cluster_obj("member1", "uid-member1")])) == []


def test_proxy_members_need_a_published_address_and_the_kubesphere_service_account():
    no_addr = host(proxy=agent.proxy_address({"multicluster": {"proxyPublishService": "tower"}}, None))
    probs = check(ctype="proxy", h=no_addr)
    assert codes(probs) == ["no_proxy_address"] and "tower" in probs[0]["message"]
    no_sa = member(service_accounts={"kubesphere-system": ["default"]})
    assert codes(check(ctype="proxy", m=no_sa)) == ["no_kubesphere_service_account"]
    assert check(ctype="direct", m=no_sa) == []
    assert check(ctype="proxy", m=member(service_accounts={})) == []  # not read: not judged


# --- the console's validation API as an oracle ---------------------------------------------------------

CONSOLE = [
    ("cluster connection type MUST be direct", "console_direct_only"),
    ("cluster kubeconfig MUST NOT be empty", "kubeconfig_missing"),
    ("cluster member9 already exists (member1), MUST not import the same cluster twice", "already_imported"),
    ("unable validate kubesphere endpoint, invalid response: ks-apiserver , please make sure "
     "kubesphere-system.404 page not found.svc of member cluster is up and running", "kubesphere_unreachable"),
    ('unable validate kubesphere endpoint, Get "https://10.0.0.5:6443/api/v1/namespaces/kubesphere-system/'
     'services/:ks-apiserver:/proxy/kapis/version": EOF', "kubesphere_unreachable"),
    ("failed to validate member cluster configuration, err: the clusterRole of the member cluster must be 'member'",
     "member_role_not_member"),
    ("failed to validate member cluster configuration, err: hostcluster Jwt is not equal to member cluster jwt, "
     "please edit the member cluster cluster config", "jwt_mismatch"),
    ("failed to get host cluster kubesphere-system/configmap/kubesphere-config, err: configmap \"kubesphere-config\" "
     "not found", "host_config_missing"),
    ('failed to validate member cluster configuration, err: configmaps "kubesphere-config" not found',
     "member_config_missing"),
    ('Get "https://10.0.0.5:6443/api/v1/namespaces/kube-system": dial tcp 10.0.0.5:6443: connect: connection refused',
     "member_unreachable"),
    ("Unauthorized", "member_unreachable"),
    ("couldn't get version/kind; json parse error: unexpected end of JSON input", "kubeconfig_invalid"),
]


@pytest.mark.parametrize("message, code", CONSOLE)
def test_console_messages_map_to_the_checks_that_refuse_the_same_member(message, code):
    assert join.console_code(message) == code


def test_what_the_console_refuses_the_checks_refuse_too():
    """The console's cases, expressed as facts: each is refused here, with the code console_code maps to."""
    cases = {
        "kubeconfig_missing": dict(kc=""),
        "already_imported": dict(h=host(clusters=[cluster_obj("member1x", "uid-member1")])),
        "kubesphere_unreachable": dict(m=member(kubesphere_api={"reachable": False, "error": "404"})),
        "member_role_not_member": dict(m=member(config={"multicluster": {"clusterRole": "host"},
                                                        "authentication": {"jwtSecret": JWT}})),
        "jwt_mismatch": dict(m=member(config={"multicluster": {"clusterRole": "member"},
                                              "authentication": {"jwtSecret": "x"}})),
        "host_config_missing": dict(h=host(config=None)),
        "member_config_missing": dict(m=member(config=None)),
        "member_unreachable": dict(m=member(reachable=False, error="connection refused")),
    }
    for message, code in CONSOLE:
        if code == "console_direct_only":
            continue
        if code == "kubeconfig_invalid":
            assert "kubeconfig_invalid" in codes(check(kc="[]"))
            continue
        assert code in codes(check(**cases[code])), message


def test_the_read_models_shapes_are_accepted():
    summaries = host(clusters=[{"name": "host", "uid": "uid-host", "role": "host", "connection_type": "direct"},
                               {"name": "old", "uid": "uid-member1", "role": "member", "connection_type": "direct"}])
    probs = check(h=summaries)
    assert codes(probs) == ["already_imported"] and "'old'" in probs[0]["message"]
    down = check(m=member(reachable=False, error={"code": "unreachable", "message": "dial tcp: i/o timeout"}))
    assert codes(down) == ["member_unreachable"] and "i/o timeout" in down[0]["message"]
    typed = host(clusters=[{"name": "member1", "uid": "uid-member1", "connection_type": "proxy"}])
    assert codes(check(h=typed)) == ["connection_type_change"]


def test_a_loopback_proxy_address_is_refused_unless_allowed():
    lab = host(proxy={"address": "http://127.0.0.1:29610", "source": "proxyPublishAddress", "api_agrees": True,
                      "error": None})
    probs = check(ctype="proxy", h=lab)
    assert codes(probs) == ["loopback_proxy_address"] and "127.0.0.1:29610" in probs[0]["message"]
    assert check(ctype="proxy", h=lab, allow_loopback=True) == []
