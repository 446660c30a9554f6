"""A fake HTTP transport under the REAL kubernetes client, for tests of `_k8s.Connection` as it runs.

`real_connection(answers)` gives a `_k8s.Connection` whose client is the real stack -- kubernetes.core's
K8SClient over kubernetes' DynamicClient (discovery included) over kubernetes' ApiClient -- with only the
ApiClient's `rest_client` replaced by `FakeTransport`: it answers each request with a urllib3.HTTPResponse
(wrapped in kubernetes' RESTResponse, as RESTClientObject does), from `answers` {(METHOD, path): (status,
body)} or a 404 Status. The kubernetes client then raises what it raises for a real API server's answer
(ApiException.from_response, then kubernetes.dynamic.exceptions.api_exception: NotFoundError, GoneError...),
so the mapping under test is the real one end to end."""

import json
from urllib.parse import urlsplit

import urllib3
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.rest import RESTResponse
from kubernetes.dynamic import DynamicClient

from ansible_collections.kubesphere.multicluster.plugins.module_utils import _k8s
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import K8SClient

HOST = "https://kube.invalid:6443"
DISCOVERY = {
    "/version": {"major": "1", "minor": "34", "gitVersion": "v1.34.3"},
    "/api": {"kind": "APIVersions", "versions": ["v1"]},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
        {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]},
        {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret",
         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "cluster.kubesphere.io",
         "versions": [{"groupVersion": "cluster.kubesphere.io/v1alpha1", "version": "v1alpha1"}],
         "preferredVersion": {"groupVersion": "cluster.kubesphere.io/v1alpha1", "version": "v1alpha1"}},
        {"name": "admissionregistration.k8s.io",
         "versions": [{"groupVersion": "admissionregistration.k8s.io/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": "admissionregistration.k8s.io/v1", "version": "v1"}}]},
    "/apis/cluster.kubesphere.io/v1alpha1": {"kind": "APIResourceList", "groupVersion": "cluster.kubesphere.io/v1alpha1",
                                             "resources": [{"name": "clusters", "singularName": "cluster",
                                                            "namespaced": False, "kind": "Cluster",
                                                            "verbs": ["create", "delete", "get", "list", "patch",
                                                                      "update", "watch"]}]},
    "/apis/admissionregistration.k8s.io/v1": {
        "kind": "APIResourceList", "groupVersion": "admissionregistration.k8s.io/v1",
        "resources": [{"name": "validatingwebhookconfigurations", "singularName": "validatingwebhookconfiguration",
                       "namespaced": False, "kind": "ValidatingWebhookConfiguration",
                       "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]},
}


def status(code, reason, message, details=None):
    """A Status body as the API server sends with an error."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


def not_found(kind_plural, name, group=""):
    resource = "%s.%s" % (kind_plural, group) if group else kind_plural
    return status(404, "NotFound", '%s "%s" not found' % (resource, name),
                  {"name": name, "group": group, "kind": kind_plural})


def gone(message="the object has been deleted"):
    return status(410, "Gone", message)


def expired():
    return status(410, "Expired", "The provided continue parameter is too old to display a consistent list result.")


def http_response(code, body):
    """What RESTClientObject.request returns: kubernetes' RESTResponse over a urllib3.HTTPResponse."""
    data = json.dumps(body).encode("utf-8")
    reasons = {200: "OK", 201: "Created", 403: "Forbidden", 404: "Not Found", 410: "Gone"}
    return RESTResponse(urllib3.HTTPResponse(body=data, status=code, reason=reasons.get(code, "Error"),
                                             headers={"Content-Type": "application/json"}, preload_content=True))


class FakeTransport:
    """The ApiClient's rest_client: answers from `answers` {(METHOD, path): (status, body)}, discovery from
    DISCOVERY, everything else 404. Every non-discovery request is recorded in `requests` as (METHOD, path)."""

    def __init__(self, answers):
        self.answers = dict(answers)
        self.requests = []

    def request(self, method, url, headers=None, body=None, post_params=None, _request_timeout=None):
        path = urlsplit(url).path
        method = method.upper()
        if method == "GET" and path in DISCOVERY:
            return http_response(200, DISCOVERY[path])
        self.requests.append((method, path))
        code, answer = self.answers.get((method, path), (404, status(404, "NotFound", "the server could not find "
                                                                     "the requested resource")))
        return http_response(code, answer)


def real_connection(answers, tmp_path, label="host"):
    """(Connection, FakeTransport): a `_k8s.Connection` whose client is the real kubernetes stack over the
    fake transport. `tmp_path` holds the discovery cache (never shared between tests)."""
    configuration = Configuration(host=HOST)
    api_client = ApiClient(configuration)
    transport = FakeTransport(answers)
    api_client.rest_client = transport
    dynamic = DynamicClient(api_client, cache_file=str(tmp_path / "discovery.json"))
    conn = _k8s.Connection(None, label, params={})
    conn._client = K8SClient(configuration=configuration, client=dynamic)
    return conn, transport
