# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. KubeSphere's `Cluster` object (cluster.kubesphere.io/v1alpha1):
build it as the console's "Add cluster" does, read it, compare a live object with the wanted one for
idempotency, mask it for results and diffs; KubeSphere's rule for a cluster name. Pure functions over plain
dicts. A member's health is in cluster_health.py, kubeconfigs in kubeconfig.py.

Facts these functions rest on (KubeSphere 3.4.1, tower v0.2.1, kubefed v0.8.1, console v3.4.1):
- The console posts IMPORT_CLUSTER_SPEC: `spec: {provider, joinFederation: true, connection: {type,
  kubeconfig}}` with the kubeconfig base64-encoded (`btoa`) for direct members and removed for proxy
  members; the form fills `metadata.labels['cluster.kubesphere.io/group']`, `spec.provider` and
  `metadata.annotations['kubesphere.io/description']`; the "import" choice sets
  `kubesphere.io/way-to-add: import`; the request layer adds `kubesphere.io/creator` (the logged-in user)
  to every POST body with metadata.
- ks-controller-manager owns the finalizer, `spec.connection.kubernetesAPIEndpoint` and `status`; tower
  owns `spec.connection.{token, kubernetesAPIServerPort, kubesphereAPIServerPort, kubesphereAPIEndpoint}`
  and, for proxy members, `spec.connection.kubeconfig` (re-issued on every agent connection).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import copy
import re

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

API_VERSION = v.CLUSTER_API_VERSION
KIND = v.CLUSTER_KIND
CONNECTION_TYPES = ("direct", "proxy")
FINALIZER = v.CLUSTER_FINALIZER
HOST_LABEL = v.HOST_LABEL
GROUP_LABEL = v.GROUP_LABEL
MANAGED_LABEL = v.MANAGED_LABEL
DESCRIPTION = "kubesphere.io/description"
ALIAS_NAME = "kubesphere.io/alias-name"
WAY_TO_ADD = "kubesphere.io/way-to-add"
CREATOR = "kubesphere.io/creator"

KUBECONFIG_PATH = ("spec", "connection", "kubeconfig")
TOKEN_PATH = ("spec", "connection", "token")
SECRET_PATHS = (KUBECONFIG_PATH, TOKEN_PATH)

# Labels and annotations the collection never writes: the controller's or KubeSphere's own.
RESERVED_LABELS = (HOST_LABEL, MANAGED_LABEL)
# Annotations set once, at creation, as the console does; a rerun by another user does not rewrite them.
CREATE_ONLY_ANNOTATIONS = (CREATOR, WAY_TO_ADD)
# Every annotation an import sets (the console's and the collection's); cluster_info's summaries carry these only.
OWNED_ANNOTATIONS = (DESCRIPTION, ALIAS_NAME) + CREATE_ONLY_ANNOTATIONS

KUBEFED_NAMESPACE = v.KUBEFED_NAMESPACE
KUBEFED_API_VERSION = v.KUBEFED_API_VERSION
KUBEFED_KIND = v.KUBEFED_CLUSTER_KIND

# The console's PATTERN_NAME and its 63-character input limit (CON src/utils/constants.js, BaseInfo form).
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAME_MAX = 63
# tower names the member's Service `mc-<name>` (a DNS-1035 label of at most 63 characters).
PROXY_NAME_MAX = NAME_MAX - len("mc-")
NAME_RULE = ("lowercase letters, digits and '-', starting and ending with a letter or digit, at most %d "
             "characters (%d for proxy members: tower names a Service mc-<name>)" % (NAME_MAX, PROXY_NAME_MAX))


# ---------------------------------------------------------------------------------------------------
# build


def build(name, connection_type, kubeconfig=None, group=None, provider=None, description=None, alias=None,
          creator=None, labels=None):
    """The Cluster object the console's "Add cluster / Import" posts.

    `kubeconfig` is the member kubeconfig's text (direct only; base64-encoded here as the console's
    `btoa` does); proxy members get no kubeconfig (tower issues one when the agent connects). `labels`
    are extra labels; the group label and KubeSphere's own labels cannot be set through them.
    Raises ValueError for input KubeSphere would not accept."""
    if connection_type not in CONNECTION_TYPES:
        raise ValueError("connection type must be direct or proxy, not %r" % (connection_type,))
    if connection_type == "direct" and not kubeconfig:
        raise ValueError("a direct member needs its kubeconfig")
    metadata = {"name": name}
    all_labels = {}
    for key, value in sorted((labels or {}).items()):
        if key in RESERVED_LABELS or key == GROUP_LABEL:
            raise ValueError("label %s is not set through extra labels (%s)" % (
                key, "use the group" if key == GROUP_LABEL else "KubeSphere's controller owns it"))
        all_labels[key] = "" if value is None else str(value)
    if group:
        all_labels[GROUP_LABEL] = group
    if all_labels:
        metadata["labels"] = all_labels
    annotations = {WAY_TO_ADD: "import"}
    if description:
        annotations[DESCRIPTION] = description
    if alias:
        annotations[ALIAS_NAME] = alias
    if creator:
        annotations[CREATOR] = creator
    metadata["annotations"] = annotations
    connection = {"type": connection_type}
    if connection_type == "direct":
        connection["kubeconfig"] = encode_kubeconfig(kubeconfig)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": metadata,
        "spec": {"provider": provider or "", "joinFederation": True, "connection": connection},
    }


def encode_kubeconfig(text):
    """base64 of the kubeconfig text (the CRD field is Go []byte: base64 in JSON)."""
    return objects.b64(text)


def valid_name(name, connection_type=None):
    """True when KubeSphere's console (and, for proxy members, tower's mc-<name> Service) accept `name`."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        return False
    return len(name) <= (PROXY_NAME_MAX if connection_type == "proxy" else NAME_MAX)


# ---------------------------------------------------------------------------------------------------
# read


# The readers take a Cluster object as the API returns it, or the read model's summary of one
# ({name, uid, role, connection_type, conditions, ...}; deleting/finalizers when it carries them).


def name_of(cluster):
    return objects.get_path(cluster or {}, "metadata.name") or (cluster or {}).get("name")


def connection_type(cluster):
    """'direct' or 'proxy'. An empty type counts as direct, as KubeSphere's controller treats it."""
    value = objects.get_path(cluster or {}, "spec.connection.type") or (cluster or {}).get("connection_type")
    return value or "direct"


def kubeconfig_text(cluster):
    """The Cluster's kubeconfig, decoded; None when it has none. Raises ValueError when it is not base64."""
    encoded = objects.get_path(cluster or {}, KUBECONFIG_PATH)
    if not encoded:
        return None
    try:
        return base64.b64decode("".join(str(encoded).split()), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError) as e:
        raise ValueError("spec.connection.kubeconfig of Cluster %s is not base64 text: %s" % (name_of(cluster), e))


def kubeconfig_fingerprint(cluster):
    """Fingerprint of the Cluster's decoded kubeconfig (None without one), for comparisons and diffs."""
    try:
        return fingerprint(kubeconfig_text(cluster))
    except ValueError:
        return fingerprint(objects.get_path(cluster or {}, KUBECONFIG_PATH))


def uid(cluster):
    """status.uid: the member's kube-system namespace UID, KubeSphere's identity of a cluster."""
    return objects.get_path(cluster or {}, "status.uid") or (cluster or {}).get("uid") or None


def kubesphere_version(cluster):
    """status.kubeSphereVersion when known; None when unset or 'unknown' (the controller could not read
    the member's /kapis/version; it only logs that and sets Ready anyway)."""
    value = objects.get_path(cluster or {}, "status.kubeSphereVersion")
    return None if value in (None, "", "unknown") else value


def kubernetes_version(cluster):
    return objects.get_path(cluster or {}, "status.kubernetesVersion") or None


def is_host(cluster):
    labels = objects.get_path(cluster or {}, "metadata.labels") or (cluster or {}).get("labels") or {}
    return HOST_LABEL in labels or (cluster or {}).get("role") == "host"


def deleting(cluster):
    return bool(objects.get_path(cluster or {}, "metadata.deletionTimestamp") or (cluster or {}).get("deleting"))


def finalizers(cluster):
    return list(objects.get_path(cluster or {}, "metadata.finalizers") or (cluster or {}).get("finalizers") or [])


def error_text(error):
    """An error as the read model gives it (text, or {code, message}) as one phrase."""
    if isinstance(error, dict):
        return error.get("message") or error.get("code") or "no answer"
    return str(error) if error else "no answer"


# ---------------------------------------------------------------------------------------------------
# compare (idempotency) and mask (diffs)


def owned(desired):
    """The fields of a desired Cluster the collection owns, as a merge-patch-shaped dict: the labels and
    annotations it sets (create-only annotations excepted), spec.provider, spec.joinFederation,
    spec.connection.type and, for direct members, spec.connection.kubeconfig. Everything else --
    finalizers, status, kubernetesAPIEndpoint, tower's token/ports/endpoints, a proxy member's
    kubeconfig -- belongs to KubeSphere's controller or tower."""
    meta = desired.get("metadata") or {}
    spec = desired.get("spec") or {}
    out = {"metadata": {}, "spec": {"connection": {"type": connection_type(desired)}}}
    if meta.get("labels"):
        out["metadata"]["labels"] = dict(meta["labels"])
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in CREATE_ONLY_ANNOTATIONS}
    if annotations:
        out["metadata"]["annotations"] = annotations
    out["spec"]["provider"] = spec.get("provider") or ""
    out["spec"]["joinFederation"] = bool(spec.get("joinFederation"))
    if connection_type(desired) == "direct" and objects.get_path(desired, KUBECONFIG_PATH):
        out["spec"]["connection"]["kubeconfig"] = objects.get_path(desired, KUBECONFIG_PATH)
    if not out["metadata"]:
        del out["metadata"]
    return out


def compare(live, desired):
    """What to do about a live Cluster, given the desired one.

    Returns {'patch': merge patch or None, 'changes': [field paths that differ], 'refused': [sentences]}.
    The kubeconfig is compared by fingerprint of its decoded text (base64 padding or a re-encode does not
    count as a change). A change of connection type is refused (it needs an unbind and a new import: tower
    and the controller keep state for the old type)."""
    if not live:
        return {"patch": None, "changes": ["(create)"], "refused": []}
    want = owned(desired)
    patch, changes, refused = {}, [], []
    if connection_type(live) != want["spec"]["connection"]["type"]:
        refused.append("cluster '%s' is imported with connection type %s, not %s: unbind it and import it again "
                       "to change the connection type" % (name_of(live), connection_type(live),
                                                          want["spec"]["connection"]["type"]))
    live_meta = live.get("metadata") or {}
    for section in ("labels", "annotations"):
        for key, value in sorted(((want.get("metadata") or {}).get(section) or {}).items()):
            if (live_meta.get(section) or {}).get(key) != value:
                patch.setdefault("metadata", {}).setdefault(section, {})[key] = value
                changes.append("metadata.%s.%s" % (section, key))
    live_spec = live.get("spec") or {}
    if (live_spec.get("provider") or "") != want["spec"]["provider"]:
        patch.setdefault("spec", {})["provider"] = want["spec"]["provider"]
        changes.append("spec.provider")
    if bool(live_spec.get("joinFederation")) != want["spec"]["joinFederation"]:
        patch.setdefault("spec", {})["joinFederation"] = want["spec"]["joinFederation"]
        changes.append("spec.joinFederation")
    wanted_kc = want["spec"]["connection"].get("kubeconfig")
    if wanted_kc and not refused:
        if kubeconfig_fingerprint(live) != kubeconfig_fingerprint(desired):
            patch.setdefault("spec", {}).setdefault("connection", {})["kubeconfig"] = wanted_kc
            changes.append("spec.connection.kubeconfig")
    return {"patch": patch or None, "changes": changes, "refused": refused}


def mask(cluster):
    """A copy safe to print: the kubeconfig replaced by a mask that carries its fingerprint (so a diff
    still shows that it changed) and tower's token masked."""
    if not cluster:
        return cluster
    out = copy.deepcopy(cluster)
    conn = objects.get_path(out, ("spec", "connection"))
    if isinstance(conn, dict):
        if conn.get("kubeconfig"):
            conn["kubeconfig"] = "%s (%s)" % (objects.MASK, kubeconfig_fingerprint(cluster))
        if conn.get("token"):
            conn["token"] = objects.MASK
    return out


def diff(before, after):
    """The module's `diff` for a Cluster: normalized (server-owned metadata and status dropped) and masked.
    `before` None is a create, `after` None a delete."""
    return {"before": mask(objects.normalize(before)) if before else {},
            "after": mask(objects.normalize(after)) if after else {}}


def after_patch(live, patch):
    """The object `live` becomes once `patch` (a merge patch) is applied; for diffs and check mode."""
    return objects.merge(live, patch) if patch else copy.deepcopy(live)
