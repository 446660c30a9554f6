"""What every stand-in controller shares: the lab's clusters and a polling loop.

A controller is an object with `name` and `step()`. `step()` makes one idempotent reconcile pass over
everything it looks after, against the real API servers, and returns. The background process
(`python -m standins --state DIR`, started by `kslab up`) calls every controller's step() in turn,
forever; a test can instead build the controllers itself and call step() when it wants."""

import base64
import json
import logging
import os
import tempfile
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


def run_forever(controllers, interval=1.0):
    while True:
        for c in controllers:
            try:
                c.step()
            except Exception:  # noqa: BLE001  a stand-in must keep running, as a controller would
                log.exception("%s: step failed", c.name)
        time.sleep(interval)
