"""A very small Kubernetes REST client for the lab's own bootstrap (standard library only).

The lab must not depend on the collection, and its start-up should not depend on client libraries'
discovery caches either, so it speaks plain HTTPS with the admin client certificate."""

import base64
import json
import os
import shutil
import ssl
import tempfile
import urllib.error
import urllib.request

import yaml


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
        self.timeout = timeout
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
        headers = {"Accept": "application/json"}
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.server + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, context=self._ssl, timeout=self.timeout) as resp:
                text = resp.read()
        except urllib.error.HTTPError as e:
            raise ApiError(e.code, e.read().decode(errors="replace"), self.server + path) from None
        if raw:
            return text
        return json.loads(text) if text else None

    def get(self, path):
        return self.request("GET", path)

    def try_get(self, path):
        try:
            return self.get(path)
        except ApiError as e:
            if e.status == 404:
                return None
            raise

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
