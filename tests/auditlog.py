"""Read the lab's kube-apiserver audit logs: who did what to which cluster.

Every lab kube-apiserver writes `<state>/<cluster>/audit.log` (audit.k8s.io/v1 Events, one JSON object a
line, Metadata level: user, verb, requestURI, objectRef, response code; no bodies). The collection (and a
test acting like it) uses the admin kubeconfig kslab writes (user `kslab-admin`); the lab's own components
and KubeSphere's controllers each use their own user (`kslab:<component>`, `system:serviceaccount:...`,
`system:kube-controller-manager`, ...). So "what did the collection write" is a question about one user.

    audit = AuditLog.for_lab(lab)          # lab: tests/conftest.py's LabHandle (or a state folder)
    mark = audit.mark()                    # where every log ends now
    ... run a module in check mode ...
    audit.sync(lab)                        # make sure the logs caught up (one GET per cluster)
    assert audit.writes_by_collection(since=mark) == []

A write is create/update/patch/delete/deletecollection that was not a dry run (`dryRun=All` in the
requestURI: the API server validated it and stored nothing). Requests are counted once (by auditID), at
their last stage; a request the server refused (4xx/5xx) is still a request, and `writes_by_collection`
keeps it (a refused write is still an attempt) unless `succeeded_only=True`."""

import collections
import json
import os
import time
import uuid
from urllib.parse import parse_qs, urlsplit

WRITE_VERBS = frozenset(("create", "update", "patch", "delete", "deletecollection"))
ADMIN_USER = "kslab-admin"
# The lab's KubeSphere, kubefed and tower processes that reach a member with the kubeconfig its Cluster stores
# (the lab's admin user, like the collection): their user agents tell their requests apart.
KUBESPHERE_AGENTS = ("ks-controller-manager", "ks-apiserver", "kubefed", "tower", "agent")


class Request:
    """One audited request (the fields the tests use), built from an audit Event."""

    __slots__ = ("cluster", "audit_id", "user", "user_agent", "verb", "uri", "resource", "subresource",
                 "api_group", "namespace", "name", "code", "dry_run", "time")

    def __init__(self, cluster, event):
        ref = event.get("objectRef") or {}
        self.cluster = cluster
        self.audit_id = event.get("auditID")
        self.user = (event.get("user") or {}).get("username", "")
        self.user_agent = event.get("userAgent", "")
        self.verb = event.get("verb", "")
        self.uri = event.get("requestURI", "")
        self.resource = ref.get("resource", "")
        self.subresource = ref.get("subresource", "")
        self.api_group = ref.get("apiGroup", "")
        self.namespace = ref.get("namespace", "")
        self.name = ref.get("name", "")
        self.code = (event.get("responseStatus") or {}).get("code")
        query = parse_qs(urlsplit(self.uri).query)
        self.dry_run = "All" in query.get("dryRun", [])
        self.time = event.get("requestReceivedTimestamp", "")

    @property
    def is_write(self):
        return self.verb in WRITE_VERBS and not self.dry_run

    @property
    def succeeded(self):
        return self.code is not None and 200 <= self.code < 300

    @property
    def full_resource(self):
        """`configmaps`, `clusters.cluster.kubesphere.io`, `deployments.apps/status` (kubectl's spelling);
        non-resource requests give their path (`/version`)."""
        if not self.resource:
            return urlsplit(self.uri).path
        name = self.resource + ("." + self.api_group if self.api_group else "")
        return name + ("/" + self.subresource if self.subresource else "")

    def __repr__(self):
        return "<%s %s %s %s%s%s -> %s>" % (
            self.cluster, self.user, self.verb, self.full_resource,
            " %s/%s" % (self.namespace, self.name) if self.namespace else (" " + self.name if self.name else ""),
            " (dry run)" if self.dry_run else "", self.code)


def parse_lines(lines, cluster=""):
    """Requests from audit log lines, once each (a request logged at several stages keeps its last one).
    Lines that are not JSON audit Events are skipped (a line being written may be cut)."""
    order, last = [], {}
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict) or event.get("kind") != "Event":
            continue
        key = event.get("auditID") or id(event)
        if key not in last:
            order.append(key)
        if event.get("stage") != "RequestReceived" or key not in last:
            last[key] = event
    return [Request(cluster, last[k]) for k in order]


class Mark(dict):
    """Byte offsets per cluster log at one moment: `since=` reads only what was logged after it."""


class AuditLog:
    """The audit logs of one lab. `collection_users` are the users counted as the collection (default: the
    admin user of the kubeconfig kslab writes)."""

    def __init__(self, paths, collection_users=(ADMIN_USER,)):
        self.paths = dict(paths)  # cluster -> audit.log path
        self.collection_users = frozenset(collection_users)

    @classmethod
    def for_lab(cls, lab, collection_users=(ADMIN_USER,)):
        """From a LabHandle (tests/conftest.py), a lab.json dict, or a state folder."""
        state = lab
        if isinstance(lab, str):
            with open(os.path.join(lab, "lab.json")) as f:
                state = json.load(f)
        elif hasattr(lab, "state"):
            state = lab.state
        paths = {}
        for name, c in state["clusters"].items():
            paths[name] = c.get("audit_log") or os.path.join(c.get("dir") or os.path.join(
                state["state_dir"], name), "audit.log")
        return cls(paths, collection_users)

    # --- reading ---------------------------------------------------------------------------------

    def mark(self):
        m = Mark()
        for cluster, path in self.paths.items():
            try:
                m[cluster] = os.path.getsize(path)
            except OSError:
                m[cluster] = 0
        return m

    def _read(self, cluster, since=None):
        path = self.paths[cluster]
        offset = since.get(cluster, 0) if isinstance(since, Mark) else 0
        lines = []
        # a rotated log (maxsize) moves the old one to audit-<time>.log: older than a mark, not needed
        try:
            with open(path, "rb") as f:
                if offset and os.path.getsize(path) >= offset:
                    f.seek(offset)
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return []
        reqs = parse_lines(lines, cluster)
        if since is not None and not isinstance(since, Mark):
            stamp = since if isinstance(since, str) else time.strftime(
                "%Y-%m-%dT%H:%M:%S", time.gmtime(since)) + (".%06dZ" % int((since % 1) * 1e6))
            reqs = [r for r in reqs if r.time >= stamp]
        return reqs

    def requests(self, cluster=None, since=None, who=None, verbs=None):
        """Requests (optionally of one cluster, after `since` (a Mark, a unix time or an RFC 3339 string),
        by `who` = "collection" | "lab" | a user name, with a verb in `verbs`)."""
        out = []
        for c in ([cluster] if cluster else sorted(self.paths)):
            for r in self._read(c, since):
                if who == "collection" and r.user not in self.collection_users:
                    continue
                if who == "lab" and r.user in self.collection_users:
                    continue
                if who not in (None, "collection", "lab") and r.user != who:
                    continue
                if verbs is not None and r.verb not in verbs:
                    continue
                out.append(r)
        return out

    def who(self, request):
        return "collection" if request.user in self.collection_users else "lab"

    def counts(self, since=None, cluster=None, by_user=False):
        """Counter of (cluster, "collection"|"lab" (or the user name with by_user), verb, resource)."""
        c = collections.Counter()
        for r in self.requests(cluster=cluster, since=since):
            c[(r.cluster, r.user if by_user else self.who(r), r.verb, r.full_resource)] += 1
        return c

    def writes_by_collection(self, since=None, cluster=None, succeeded_only=False):
        """Every non-dry-run create/update/patch/delete/deletecollection the collection's user sent."""
        return [r for r in self.requests(cluster=cluster, since=since, who="collection")
                if r.is_write and (r.succeeded or not succeeded_only)]

    def writes_by_collection_alone(self, since=None, cluster=None):
        """writes_by_collection without the requests of KubeSphere's own processes that use the same user on a
        member (the kubeconfig its Cluster stores): what the collection itself wrote."""
        return [r for r in self.writes_by_collection(since=since, cluster=cluster)
                if not r.user_agent.startswith(KUBESPHERE_AGENTS)]

    def sync(self, lab, timeout=15, clusters=None):
        """Wait until each cluster's log holds a request made now (a GET of a unique, missing ConfigMap by
        the admin client), so that requests made before this call are in the files. A cluster whose API
        server does not answer (stopped by a test) is skipped: its log cannot grow."""
        for cluster in clusters or self.paths:
            name = "kslab-audit-sync-" + uuid.uuid4().hex[:10]
            before = Mark({cluster: self.mark()[cluster]})
            try:
                lab.client(cluster).try_get("/api/v1/namespaces/default/configmaps/" + name)
            except OSError:
                continue
            deadline = time.time() + timeout
            while not any(r.name == name for r in self._read(cluster, before)):
                if time.time() > deadline:
                    raise AssertionError("audit log of %s did not show the sync request after %ss (%s)"
                                         % (cluster, timeout, self.paths[cluster]))
                time.sleep(0.2)
