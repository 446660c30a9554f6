"""What every stand-in controller shares: the lab's clusters and a polling loop.

A controller is an object with `name` and `step()`. `step()` makes one idempotent reconcile pass over
everything it looks after, against the real API servers, and returns. The background process
(`python -m standins --state DIR`, started by `kslab up`) calls every controller's step() in turn,
forever; a test can instead build the controllers itself and call step() when it wants."""

import base64
import json
import logging
import os
import random
import tempfile
import threading
import time

from kslabkit.rest import ApiError, Rest  # noqa: F401  (re-exported for the controllers)

log = logging.getLogger("standins")


class Lab:
    """The clusters of a running kslab (from its lab.json). With `component`, clients use that lab
    component's own identity (user kslab:<component>, see kslabkit.kubeconfigs.component_kubeconfig), so the audit
    log tells it from the collection (user kslab-admin); without, the admin kubeconfig."""

    def __init__(self, state_dir, component=None):
        self.component = component
        self.state_dir = os.path.abspath(state_dir)
        with open(os.path.join(self.state_dir, "lab.json")) as f:
            self.state = json.load(f)
        self.names = list(self.state["clusters"])
        self.crds_dir = self.state["crds_dir"]
        self._rest = {}

    def kubeconfig(self, name):
        return self.state["clusters"][name]["kubeconfig"]

    def server(self, name):
        return self.state["clusters"][name]["server"]

    def rest(self, name):
        """Client for a lab cluster (the component's identity, else admin)."""
        if name not in self._rest:
            path = self.kubeconfig(name)
            if self.component:
                from kslabkit.kubeconfigs import component_kubeconfig  # noqa: PLC0415

                c = self.state["clusters"][name]
                path = component_kubeconfig(c["dir"], name, c["server"], self.component)
            self._rest[name] = Rest(path, timeout=10)
        return self._rest[name]


def rest_from_kubeconfig_bytes(data, timeout=10):
    """A client built from kubeconfig content (e.g. Cluster.spec.connection.kubeconfig, base64 or raw)."""
    if isinstance(data, str):
        try:
            raw = base64.b64decode(data, validate=True)
        except ValueError:
            raw = data.encode()
    else:
        raw = data
    fd, path = tempfile.mkstemp(prefix="kslab-kubeconfig-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        return Rest(path, timeout=timeout)
    finally:
        os.unlink(path)


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Wakeup:
    """Tells the loop when something the stand-ins read has changed, as the watches of a real controller do.

    One thread per (cluster, collection) holds a watch (`Rest.watch`) and sets the event on every change. A
    watch the server ends, or that fails (the API server stopped), is reopened from the last resource version seen,
    every few seconds until it opens; a collection that does not exist yet (its CRD comes with the host role) is
    looked for again the same way, without waking anyone. What changed while a watch was down wakes the loop when
    it is reopened (or the loop's pass every COLD seconds sees it)."""

    RETRY = 3.0  # seconds between attempts to (re)open a watch that failed

    def __init__(self, rest_for, watches):
        self.event = threading.Event()
        self.threads = []
        for cluster, path in watches:
            t = threading.Thread(target=self._follow, args=(rest_for, cluster, path), daemon=True,
                                 name="watch %s %s" % (cluster, path))
            t.start()
            self.threads.append(t)

    def _follow(self, rest_for, cluster, path):
        rv = None
        while True:
            try:
                for ev in rest_for(cluster).watch(path, rv, timeout_seconds=random.randint(240, 300)):
                    obj = ev.get("object") or {}
                    if ev.get("type") == "ERROR":  # 410 Gone: start again from the current state
                        rv = None
                        break
                    rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                    if ev.get("type") != "BOOKMARK":
                        self.event.set()
                continue
            except ApiError as e:
                rv = None if e.status in (404, 410) else rv
            except (OSError, ValueError):
                pass
            time.sleep(self.RETRY)

    def wait(self, seconds, pending=()):
        """Until a watch saw a change, a `pending()` callable answers true (checked each second), or `seconds`
        have passed. True when woken before the timeout."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self.event.wait(min(1.0, left)) or any(p() for p in pending):
                return True

    def consume(self):
        """Whether a change was seen since the last call."""
        seen = self.event.is_set()
        self.event.clear()
        return seen


HOT = 30.0   # seconds after the last change during which the loop polls every `interval`, as it always did
COLD = 30.0  # with nothing changed for HOT seconds: the longest wait before a pass anyway


def run_forever(controllers, interval=1.0, wakeup=None, pending=()):
    """Calls every controller's step() in turn, forever. Without `wakeup`, every `interval` seconds. With it,
    every `interval` seconds while things change (a watch event, or a `pending()` callable answering true, in the
    last HOT seconds); when nothing has changed for HOT seconds, it waits for the next change (at most COLD
    seconds). An idle lab then makes no requests but the watches', where it made several each second."""
    last_change = time.monotonic()
    while True:
        for c in controllers:
            try:
                c.step()
            except Exception:  # noqa: BLE001  a stand-in must keep running, as a controller would
                log.exception("%s: step failed", c.name)
        if wakeup is None:
            time.sleep(interval)
            continue
        if wakeup.consume() or any(p() for p in pending):
            last_change = time.monotonic()
        if time.monotonic() - last_change < HOT:
            time.sleep(interval)
        elif wakeup.wait(COLD, pending):
            last_change = time.monotonic()
