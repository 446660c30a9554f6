"""tests/auditlog.py: parsing a sample audit log (pure), and one lab test that a kubectl-style write by
the admin user is counted as the collection's while a GET is not a write."""

import json
import os
import time

import pytest
from auditlog import ADMIN_USER, AuditLog, Mark, parse_lines


def event(verb, uri, user=ADMIN_USER, resource="configmaps", ns="default", name="x", code=200, stage="ResponseComplete",
          audit_id=None, group="", subresource=None, agent="kubectl/v1.34.3 (linux/amd64) kubernetes/abc"):
    ref = {"resource": resource, "namespace": ns, "name": name, "apiVersion": "v1"}
    if group:
        ref["apiGroup"] = group
    if subresource:
        ref["subresource"] = subresource
    return json.dumps({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": audit_id or os.urandom(8).hex(),
        "stage": stage, "requestURI": uri, "verb": verb, "user": {"username": user, "groups": ["system:masters"]},
        "sourceIPs": ["127.0.0.1"], "userAgent": agent, "objectRef": ref, "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": "2020-01-01T00:00:01.000001Z", "stageTimestamp": "2020-01-01T00:00:01.000101Z"})


SAMPLE = [
    event("create", "/api/v1/namespaces/default/configmaps?fieldManager=kubectl-client-side-apply", code=201),
    event("get", "/api/v1/namespaces/default/configmaps/x"),
    event("patch", "/api/v1/namespaces/default/configmaps/x?dryRun=All&fieldManager=ansible", code=200),
    event("update", "/apis/cluster.kubesphere.io/v1alpha1/clusters/m1", resource="clusters", ns="",
          name="m1", group="cluster.kubesphere.io", code=403),
    event("update", "/apis/cluster.kubesphere.io/v1alpha1/clusters/m1", user="kslab:ks-controller-manager",
          resource="clusters", ns="", name="m1", group="cluster.kubesphere.io"),
    event("patch", "/apis/apps/v1/namespaces/ks/deployments/a/status", user="kslab:ks-installer",
          resource="deployments", group="apps", subresource="status", ns="ks", name="a"),
    event("watch", "/api/v1/secrets?watch=true", user="system:kube-controller-manager", resource="secrets", ns="",
          name="", stage="ResponseStarted", audit_id="w1"),
    event("watch", "/api/v1/secrets?watch=true", user="system:kube-controller-manager", resource="secrets", ns="",
          name="", stage="ResponseComplete", audit_id="w1"),
    '{"kind": "Event", "auditID": "cut", "verb": "cre',  # a line being written
    "",
]


def test_parse_counts_each_request_once_at_its_last_stage():
    reqs = parse_lines(SAMPLE, "host")
    assert [r.verb for r in reqs] == ["create", "get", "patch", "update", "update", "patch", "watch"]
    assert reqs[-1].audit_id == "w1" and reqs[-1].uri == "/api/v1/secrets?watch=true"
    assert reqs[2].dry_run and not reqs[2].is_write
    assert reqs[0].is_write and reqs[0].succeeded and reqs[0].code == 201
    assert reqs[3].full_resource == "clusters.cluster.kubesphere.io" and not reqs[3].succeeded
    assert reqs[5].full_resource == "deployments.apps/status"
    assert reqs[0].user_agent.startswith("kubectl/")


def test_writes_by_collection_separates_users_and_dry_runs(tmp_path):
    (tmp_path / "host").mkdir()
    (tmp_path / "m1").mkdir()
    (tmp_path / "host" / "audit.log").write_text("\n".join(SAMPLE) + "\n")
    (tmp_path / "m1" / "audit.log").write_text(event("delete", "/api/v1/namespaces/a", resource="namespaces",
                                                     ns="", name="a") + "\n")
    state = {"state_dir": str(tmp_path), "clusters": {"host": {"dir": str(tmp_path / "host")},
                                                      "m1": {"audit_log": str(tmp_path / "m1" / "audit.log")}}}
    audit = AuditLog.for_lab(state)
    writes = audit.writes_by_collection()
    assert [(w.cluster, w.verb, w.full_resource) for w in writes] == [
        ("host", "create", "configmaps"), ("host", "update", "clusters.cluster.kubesphere.io"),
        ("m1", "delete", "namespaces")]
    assert [w.verb for w in audit.writes_by_collection(succeeded_only=True)] == ["create", "delete"]
    counts = audit.counts()
    assert counts[("host", "collection", "patch", "configmaps")] == 1  # the dry run is a request, not a write
    assert counts[("host", "lab", "update", "clusters.cluster.kubesphere.io")] == 1
    assert counts[("host", "lab", "watch", "secrets")] == 1
    assert audit.counts(by_user=True)[("host", "kslab:ks-installer", "patch", "deployments.apps/status")] == 1

    # since= a mark: only what was logged after it
    mark = audit.mark()
    assert isinstance(mark, Mark) and audit.writes_by_collection(since=mark) == []
    with open(tmp_path / "host" / "audit.log", "a") as f:
        f.write(event("deletecollection", "/api/v1/namespaces/default/configmaps", name="") + "\n")
        f.write(event("get", "/api/v1/namespaces/default/configmaps") + "\n")
    assert [w.verb for w in audit.writes_by_collection(since=mark)] == ["deletecollection"]
    assert [r.verb for r in audit.requests(since=mark, who="collection")] == ["deletecollection", "get"]
    # since= a time: by requestReceivedTimestamp
    assert audit.writes_by_collection(since=time.time()) == []
    assert len(audit.writes_by_collection(since="2020-01-01T00:00:00Z")) == 4


def test_a_kubectl_style_write_by_the_admin_is_counted_and_a_get_is_not(lab, unique):
    audit = AuditLog.for_lab(lab)
    if not os.path.exists(audit.paths[lab.host]):
        pytest.fail("no audit log at %s: the lab runtime writes one per kube-apiserver" % audit.paths[lab.host])
    client = lab.client(lab.host)
    name = "audit-" + unique
    path = "/api/v1/namespaces/default/configmaps"
    audit.sync(lab)
    mark = audit.mark()
    client.request("POST", path, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
    try:
        client.get(path + "/" + name)
        client.request("PATCH", path + "/" + name + "?dryRun=All", {"data": {"k": "v"}},
                       content_type="application/merge-patch+json")
        client.request("PATCH", path + "/" + name, {"data": {"k": "v"}}, content_type="application/merge-patch+json")
    finally:
        client.request("DELETE", path + "/" + name)
    audit.sync(lab)
    mine = [r for r in audit.requests(cluster=lab.host, since=mark, who="collection") if r.name == name
            or (r.verb == "create" and r.resource == "configmaps" and r.namespace == "default")]
    assert [(r.verb, r.dry_run) for r in mine] == [("create", False), ("get", False), ("patch", True),
                                                   ("patch", False), ("delete", False)], mine
    writes = [r for r in audit.writes_by_collection(since=mark, cluster=lab.host) if r.resource == "configmaps"]
    assert [(w.verb, w.code) for w in writes] == [("create", 201), ("patch", 200), ("delete", 200)]
    assert all(w.user == ADMIN_USER for w in writes)
    # nothing was written to the other clusters by the admin meanwhile
    for member in lab.members:
        assert audit.writes_by_collection(since=mark, cluster=member) == []
