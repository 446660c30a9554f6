"""A very small Kubernetes REST client for the lab's own bootstrap (standard library only).

The lab must not depend on the collection, and its start-up should not depend on client libraries'
discovery caches either, so it speaks plain HTTPS with the admin client certificate.

It keeps one connection per thread open (HTTP/1.1 keep-alive), as client-go does: the lab's supervisor and
installer stand-in poll every cluster each second, and a new TLS connection per request (with a client
certificate to verify) made the lab's kube-apiservers the largest consumer of CPU in a full test run."""

import base64
import http.client
import json
import os
import shutil
import ssl
import tempfile
import threading
import time
import urllib.parse

import yaml

IDLE_REUSE = 30  # seconds an idle connection is reused for
# how the lab's own requests (the supervisor's, the installer stand-in's, the tests' admin writes) are told apart
# from the collection's in the audit logs, where they share the user kslab-admin
USER_AGENT = "kslab-rest/1.0"


class ApiError(Exception):
    def __init__(self, status, body, url):
        self.status = status
        self.body = body
        self.url = url
        try:
            self.reason = json.loads(body).get("message", body)
        except ValueError:
            self.reason = body
        super().__init__("%s %s: %s" % (status, url, self.reason))


class Rest:
    """Talks to one API server with the credentials of one kubeconfig file (client cert or token)."""

    def __init__(self, kubeconfig_path, timeout=30):
        with open(kubeconfig_path) as f:
            cfg = yaml.safe_load(f)
        ctx_name = cfg.get("current-context")
        ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == ctx_name)
        cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
        self.server = cluster["server"].rstrip("/")
        url = urllib.parse.urlsplit(self.server)
        self._address, self._prefix = (url.hostname, url.port or 443), url.path
        self.timeout = timeout
        self._local = threading.local()
        self.token = user.get("token")
        self._ssl = ssl.create_default_context()
        if cluster.get("certificate-authority-data"):
            self._ssl.load_verify_locations(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
        elif cluster.get("certificate-authority"):
            self._ssl.load_verify_locations(cafile=cluster["certificate-authority"])
        cert, key = user.get("client-certificate"), user.get("client-key")
        if user.get("client-certificate-data"):
            # ssl reads certificates from files only: write them to a private temp dir, load, remove.
            d = tempfile.mkdtemp(prefix="kslab-rest-")
            try:
                cert, key = os.path.join(d, "c.crt"), os.path.join(d, "c.key")
                for path, data in ((cert, user["client-certificate-data"]), (key, user["client-key-data"])):
                    with open(path, "wb") as f:
                        f.write(base64.b64decode(data))
                    os.chmod(path, 0o600)
                self._ssl.load_cert_chain(cert, key)
            finally:
                shutil.rmtree(d, ignore_errors=True)
        elif cert:
            self._ssl.load_cert_chain(cert, key)
        self._plurals = {}

    def request(self, method, path, body=None, content_type="application/json", raw=False):
        data = None
        headers = self._headers()
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        status, text = self._exchange(method, self._prefix + path, data, headers)
        if status >= 400:
            raise ApiError(status, text.decode(errors="replace"), self.server + path)
        if raw:
            return text
        return json.loads(text) if text else None

    def _headers(self):
        """What every request sends: JSON accepted, the lab's user agent, and the token when the kubeconfig has one."""
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        return headers

    def _exchange(self, method, target, data, headers):
        """(status, body) over this thread's open connection. A connection the server closed while it was idle
        fails on its next use before the request was read: that one is retried once on a new connection. Every
        failure is an OSError (http.client's own errors included), as urllib's were."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and time.monotonic() - self._local.used > IDLE_REUSE:
            conn.close()  # the server may be closing it right now (kube-apiserver's idle timeout is 90 s)
            conn = None
        reused = conn is not None
        while True:
            if conn is None:
                conn = http.client.HTTPSConnection(*self._address, context=self._ssl, timeout=self.timeout)
                self._local.conn = conn
            try:
                conn.request(method, target, body=data, headers=headers)
                resp = conn.getresponse()
                text = resp.read()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                self._local.conn = conn = None
                stale = isinstance(e, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError))
                if reused and stale:
                    reused = False
                    continue
                if isinstance(e, OSError):
                    raise
                raise ConnectionError("%s %s: %s" % (method, self.server, e)) from None
            if resp.will_close:
                conn.close()
                self._local.conn = None
            self._local.used = time.monotonic()
            return resp.status, text

    def get(self, path):
        return self.request("GET", path)

    def try_get(self, path):
        try:
            return self.get(path)
        except ApiError as e:
            if e.status == 404:
                return None
            raise

    def watch(self, path, resource_version=None, timeout_seconds=300):
        """The events of a watch on a collection `path` (which may carry a fieldSelector), as dicts, until the
        server ends the watch after `timeout_seconds`. On its own connection (a watch holds it open), not the
        thread's pooled one. An HTTP error status raises ApiError; an ERROR event (410 Gone: the resource
        version is too old) is yielded like any other."""
        query = "watch=1&allowWatchBookmarks=true&timeoutSeconds=%d" % timeout_seconds
        if resource_version:
            query += "&resourceVersion=%s" % urllib.parse.quote(resource_version)
        target = self._prefix + path + ("&" if "?" in path else "?") + query
        conn = http.client.HTTPSConnection(*self._address, context=self._ssl, timeout=timeout_seconds + 30)
        try:
            conn.request("GET", target, headers=self._headers())
            resp = conn.getresponse()
            if resp.status >= 400:
                raise ApiError(resp.status, resp.read().decode(errors="replace"), self.server + path)
            while True:
                line = resp.readline()
                if not line:
                    return
                if line.strip():
                    yield json.loads(line)
        except http.client.HTTPException as e:
            raise ConnectionError("watch %s: %s" % (self.server + path, e)) from None
        finally:
            conn.close()

    # --- objects described by a manifest ------------------------------------------------------------

    def plural(self, api_version, kind):
        """(plural, namespaced) for a kind, from discovery (re-read once when unknown)."""
        key = (api_version, kind)
        if key not in self._plurals:
            base = "/api/v1" if api_version == "v1" else "/apis/" + api_version
            for res in (self.try_get(base) or {}).get("resources", []):
                if "/" not in res["name"]:
                    self._plurals[(api_version, res["kind"])] = (res["name"], res["namespaced"])
        if key not in self._plurals:
            raise ApiError(404, "the server has no kind %s in %s" % (kind, api_version), self.server)
        return self._plurals[key]

    def path_for(self, obj, with_name=True):
        api_version, kind = obj["apiVersion"], obj["kind"]
        plural, namespaced = self.plural(api_version, kind)
        base = "/api/v1" if api_version == "v1" else "/apis/" + api_version
        meta = obj.get("metadata", {})
        if namespaced:
            base += "/namespaces/%s" % meta.get("namespace", "default")
        base += "/" + plural
        if with_name:
            base += "/" + meta["name"]
        return base

    def ensure(self, obj):
        """Create `obj`, or leave the existing one alone. Returns the live object."""
        try:
            return self.request("POST", self.path_for(obj, with_name=False), obj)
        except ApiError as e:
            if e.status == 409:
                return self.get(self.path_for(obj))
            raise

    def apply(self, obj, manager="kslab"):
        """Server-side apply (force) of a whole manifest."""
        path = self.path_for(obj) + "?fieldManager=%s&force=true" % manager
        return self.request("PATCH", path, obj, content_type="application/apply-patch+yaml")

    def merge_patch(self, path, patch):
        return self.request("PATCH", path, patch, content_type="application/merge-patch+json")
