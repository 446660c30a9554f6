# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. KubeSphere's `Cluster` object (cluster.kubesphere.io/v1alpha1):
build it as the console's "Add cluster" does, read it, judge a member's health without trusting `Ready`
alone, and compare a live object with the wanted one for idempotency. Pure functions over plain dicts.

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
- A member that dies after joining stays `Ready True`: once `status.uid` is set, the UPDATE webhook dials
  the member and denies every write, the controller's own status write included. Only kubefed's
  KubeFedCluster (`Offline True ClusterNotReachable`) tells the truth, so `health` reads both.
- A token kubeconfig (no client certificate) joins Ready in 3.4 with `KubeConfigCertExpiresInSevenDays`
  False and an empty message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import copy
import datetime
import ipaddress
import re

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover  Python 2 is not supported by ansible-core 2.16+
    from urlparse import urlsplit

try:
    import yaml
except ImportError:  # reported by the caller that reads kubeconfigs
    yaml = None

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint

API_VERSION = "cluster.kubesphere.io/v1alpha1"
KIND = "Cluster"
CONNECTION_TYPES = ("direct", "proxy")
FINALIZER = "finalizer.cluster.kubesphere.io"
HOST_LABEL = "cluster-role.kubesphere.io/host"
GROUP_LABEL = "cluster.kubesphere.io/group"
MANAGED_LABEL = "kubesphere.io/managed"
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

KUBEFED_NAMESPACE = "kube-federation-system"
KUBEFED_API_VERSION = "core.kubefed.io/v1beta1"
KUBEFED_KIND = "KubeFedCluster"

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
    if isinstance(text, bytes):
        raw = text
    else:
        raw = str(text).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


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


def conditions(cluster):
    """{type: condition dict} of a Cluster (or KubeFedCluster); the last one wins when a type repeats
    (KubeSphere removes and appends conditions on every sync, so order carries no meaning)."""
    out = {}
    found = objects.get_path(cluster or {}, "status.conditions")
    if found is None and isinstance((cluster or {}).get("conditions"), list):
        found = cluster["conditions"]
    for cond in found or []:
        if isinstance(cond, dict) and cond.get("type"):
            out[cond["type"]] = cond
    return out


def condition(cluster, kind):
    return conditions(cluster).get(kind)


def is_true(cluster, kind):
    return (condition(cluster, kind) or {}).get("status") == "True"


def status_of(cluster, kind):
    """'True', 'False', 'Unknown' or None (no such condition)."""
    return (condition(cluster, kind) or {}).get("status")


def ready(cluster):
    return is_true(cluster, "Ready")


def federated(cluster):
    return is_true(cluster, "Federated")


def initialized(cluster):
    return is_true(cluster, "Initialized")


def agent_available(cluster):
    return is_true(cluster, "AgentAvailable")


def cert_expiry(cluster):
    """The KubeConfigCertExpiresInSevenDays condition read as {'expires_in_seven_days': bool|None,
    'not_after': text|None}. 3.4 writes False with an empty message for token kubeconfigs (never expire);
    proxy and host Clusters get no such condition (None)."""
    cond = condition(cluster, "KubeConfigCertExpiresInSevenDays")
    if not cond:
        return {"expires_in_seven_days": None, "not_after": None}
    return {"expires_in_seven_days": cond.get("status") == "True", "not_after": cond.get("message") or None}


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


# ---------------------------------------------------------------------------------------------------
# kubeconfig


def parse_kubeconfig(text, context=None):
    """What a kubeconfig says, as client-go's clientcmd would pick it: the context (`context` or the
    current one), its cluster's server and TLS settings, its user's kind of credential.

    Returns {context, cluster, user, server, insecure, has_ca, auth, client_certificate_data, token, files}
    where auth is one of certificate, token, exec, auth-provider, basic, none;
    client_certificate_data is the PEM bytes (None when the certificate is a file or absent); files lists
    the fields that name files instead of embedding data (certificate-authority, client-certificate,
    client-key, tokenFile), which a kubeconfig stored in a Cluster cannot use.
    Raises ValueError with a sentence when the text is not a usable kubeconfig."""
    if yaml is None and isinstance(text, (str, bytes)):
        raise ValueError("reading a kubeconfig needs the PyYAML Python package on the controller")
    try:
        doc = yaml.safe_load(text) if isinstance(text, (str, bytes)) else text
    except yaml.YAMLError as e:
        raise ValueError("the kubeconfig is not YAML: %s" % str(e).splitlines()[0])
    if not isinstance(doc, dict):
        raise ValueError("the kubeconfig is not a YAML mapping")
    ctx_name = context or doc.get("current-context")
    if not ctx_name:
        raise ValueError("the kubeconfig has no current-context and none was given")
    ctx = _named(doc, "contexts", ctx_name, "context")
    if ctx is None:
        raise ValueError("the kubeconfig has no context %r" % ctx_name)
    cluster = _named(doc, "clusters", ctx.get("cluster"), "cluster")
    if cluster is None:
        raise ValueError("context %r names cluster %r, which the kubeconfig does not define" % (ctx_name, ctx.get("cluster")))
    user = _named(doc, "users", ctx.get("user"), "user") or {}
    cert_data = None
    if user.get("client-certificate-data"):
        try:
            cert_data = base64.b64decode(user["client-certificate-data"])
        except (binascii.Error, ValueError):
            raise ValueError("user %r: client-certificate-data is not base64" % ctx.get("user"))
    if user.get("client-certificate-data") or user.get("client-certificate"):
        auth = "certificate"
    elif user.get("token") or user.get("tokenFile"):
        auth = "token"
    elif user.get("exec"):
        auth = "exec"
    elif user.get("auth-provider"):
        auth = "auth-provider"
    elif user.get("username"):
        auth = "basic"
    else:
        auth = "none"
    return {
        "context": ctx_name,
        "cluster": ctx.get("cluster"),
        "user": ctx.get("user"),
        "server": cluster.get("server"),
        "insecure": bool(cluster.get("insecure-skip-tls-verify")),
        "has_ca": bool(cluster.get("certificate-authority-data") or cluster.get("certificate-authority")),
        "auth": auth,
        "client_certificate_data": cert_data,
        "token": bool(user.get("token") or user.get("tokenFile")),
        "files": (["certificate-authority"] if cluster.get("certificate-authority") else [])
        + [k for k in ("client-certificate", "client-key", "tokenFile") if user.get(k)],
    }


def _named(doc, section, name, key):
    for entry in doc.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry.get(key) or {}
    return None


def error_text(error):
    """An error as the read model gives it (text, or {code, message}) as one phrase."""
    if isinstance(error, dict):
        return error.get("message") or error.get("code") or "no answer"
    return str(error) if error else "no answer"


def server_host(server):
    """The host part of an API server URL ('https://10.0.0.1:6443' -> '10.0.0.1'), lower-cased."""
    try:
        return (urlsplit(server or "").hostname or "").lower() or None
    except ValueError:
        return None


def is_loopback(server):
    """True when the API server URL points at this machine (127.0.0.0/8, ::1, localhost): inside the
    host's ks-controller-manager pod that address is the pod itself, never the member."""
    host = server_host(server)
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def certificate_not_after(pem):
    """The notAfter of the first certificate in `pem` (bytes or text) as an aware UTC datetime.
    A small DER reader (tbsCertificate -> validity), so no crypto library is needed.
    Raises ValueError when there is no readable certificate."""
    if isinstance(pem, bytes):
        pem = pem.decode("ascii", "replace")
    match = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem or "", re.S)
    if not match:
        raise ValueError("no PEM certificate found")
    try:
        der = base64.b64decode("".join(match.group(1).split()))
    except (binascii.Error, ValueError):
        raise ValueError("the PEM certificate is not base64")
    try:
        cert = _der(der, 0)[0]
        tbs = _der(cert["value"], 0)[0]
        item, pos = _der(tbs["value"], 0)
        if item["tag"] == 0xA0:  # [0] version
            item, pos = _der(tbs["value"], pos)
        for dummy in range(3):  # after serialNumber: signature, issuer, validity
            item, pos = _der(tbs["value"], pos)
        validity = item
        vpos = _der(validity["value"], 0)[1]  # skip notBefore
        return _asn1_time(_der(validity["value"], vpos)[0])
    except (IndexError, KeyError, ValueError) as e:
        raise ValueError("the certificate cannot be read: %s" % e)


def _der(data, pos):
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not count or count > 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(bytes(data[pos:pos + count]), "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return {"tag": tag, "value": data[pos:pos + length]}, pos + length


def _asn1_time(item):
    text = bytes(item["value"]).decode("ascii")
    if item["tag"] == 0x17:  # UTCTime YYMMDDHHMMSSZ
        parsed = datetime.datetime.strptime(text, "%y%m%d%H%M%SZ")
    elif item["tag"] == 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
        parsed = datetime.datetime.strptime(text, "%Y%m%d%H%M%SZ")
    else:
        raise ValueError("validity is not a time")
    return parsed.replace(tzinfo=datetime.timezone.utc)


# ---------------------------------------------------------------------------------------------------
# health


VERDICTS = ("ready", "offline", "unhealthy", "joining", "agent_not_connected", "not_federated", "not_ready",
            "terminating", "absent", "unknown")


def kubefed_state(kubefed_cluster):
    """What kubefed's health check says of a KubeFedCluster: 'offline' (Offline True, e.g.
    ClusterNotReachable), 'ready' (Ready True), 'not_ready' (Ready False: /healthz without ok),
    'pending' (no condition yet) or 'absent'."""
    if not kubefed_cluster:
        return "absent"
    if "status" not in kubefed_cluster and ("ready" in kubefed_cluster or "offline" in kubefed_cluster):
        # the read model's summary {name, ready, offline}
        if kubefed_cluster.get("offline"):
            return "offline"
        return "ready" if kubefed_cluster.get("ready") else "not_ready"
    if is_true(kubefed_cluster, "Offline"):
        return "offline"
    state = status_of(kubefed_cluster, "Ready")
    if state == "True":
        return "ready"
    if state in ("False", "Unknown"):
        return "not_ready"
    return "pending"


def _why(cond):
    if not cond:
        return "no condition"
    parts = [p for p in (cond.get("reason"), cond.get("message")) if p]
    return "%s %s" % (cond.get("status"), "(%s)" % ": ".join(parts) if parts else "")


def health(cluster, kubefed_cluster=None, kubefed_read=True):
    """A verdict on a member that does not trust `Ready` alone.

    `kubefed_cluster` is the host's KubeFedCluster kube-federation-system/<name> (None when absent);
    `kubefed_read` False means it was not read at all (the verdict is then at best 'unknown' for a
    Cluster that says Ready). Returns {verdict, healthy, reason, cluster_ready, kubefed}."""
    name = name_of(cluster)
    kf = kubefed_state(kubefed_cluster) if kubefed_read else "unread"
    out = {"cluster_ready": status_of(cluster, "Ready"), "kubefed": kf}

    def verdict(v, reason):
        out.update(verdict=v, healthy=(v == "ready"), reason="cluster '%s': %s" % (name, reason) if name else reason)
        return out

    if not cluster:
        return verdict("absent", "no Cluster object")
    if deleting(cluster):
        return verdict("terminating", "the Cluster is being deleted (finalizers: %s)"
                       % (", ".join(finalizers(cluster)) or "none"))
    if kf == "offline":
        kf_cond = condition(kubefed_cluster, "Offline")
        detail = " " + _why(kf_cond).strip() if kf_cond else ""
        text = "KubeFedCluster %s/%s reports Offline%s" % (KUBEFED_NAMESPACE, name, detail)
        if ready(cluster):
            text += ("; its Cluster still says Ready True because KubeSphere's webhook denies every update of "
                     "a Cluster whose member it cannot reach: the member is down or unreachable from the host")
        return verdict("offline", text)
    if not objects.get_path(cluster, "spec.joinFederation"):
        return verdict("not_federated", "spec.joinFederation is not true: KubeSphere does not join it")
    if status_of(cluster, "Federated") == "False":
        return verdict("not_federated", "Federated %s" % _why(condition(cluster, "Federated")).strip())
    if connection_type(cluster) == "proxy" and not ready(cluster):
        if not initialized(cluster):
            return verdict("joining", "tower has not initialised the proxy connection yet (Initialized %s)"
                           % _why(condition(cluster, "Initialized")).strip())
        if not agent_available(cluster):
            return verdict("agent_not_connected", "the cluster-agent on the member has not connected to tower "
                           "(AgentAvailable %s)" % _why(condition(cluster, "AgentAvailable")).strip())
    state = status_of(cluster, "Ready")
    if state == "False":
        return verdict("not_ready", "Ready %s" % _why(condition(cluster, "Ready")).strip())
    if state != "True":
        if not objects.get_path(cluster, KUBECONFIG_PATH):
            return verdict("joining", "the Cluster has no kubeconfig yet%s" % (
                " (tower writes it when the agent connects)" if connection_type(cluster) == "proxy" else ""))
        return verdict("joining", "KubeSphere has not set Ready yet")
    if kf == "ready":
        return verdict("ready", "Ready True and KubeFedCluster Ready True")
    if kf == "unread":
        return verdict("unknown", "the Cluster says Ready True, but its KubeFedCluster was not read: Ready alone "
                       "does not prove the member is reachable")
    if kf == "absent":
        return verdict("unknown", "the Cluster says Ready True but KubeFedCluster %s/%s does not exist"
                       % (KUBEFED_NAMESPACE, name))
    if kf == "pending":
        return verdict("joining", "KubeFedCluster %s/%s has no health condition yet (kubefed probes every 10 s)"
                       % (KUBEFED_NAMESPACE, name))
    return verdict("unhealthy", "KubeFedCluster %s/%s reports Ready %s although the Cluster says Ready True"
                   % (KUBEFED_NAMESPACE, name, _why(condition(kubefed_cluster, "Ready")).strip()))


def usable_problems(name, cluster, kubefed_cluster, member_config, kubefed_read=True):
    """What `Ready` does not prove, checked after an import: [] when the member is usable.

    - the health verdict (Cluster conditions and the KubeFedCluster) is 'ready';
    - the member's rendered kubesphere-config (`member_config`, the parsed kubesphere.yaml; None when it
      could not be read) names this cluster in multicluster.clusterName (the host's controller writes it
      after a successful sync);
    - the member's KubeSphere version is known (the host reached the member's ks-apiserver);
    - status.uid is set."""
    out = []
    verdict = health(cluster, kubefed_cluster, kubefed_read=kubefed_read)
    if not verdict["healthy"]:
        out.append(problem("health_" + verdict["verdict"], name, verdict["reason"]))
    if cluster and not uid(cluster):
        out.append(problem("no_uid", name, "cluster '%s': the Cluster has no status.uid yet: KubeSphere has not "
                           "completed a sync of it" % name))
    if cluster and not kubesphere_version(cluster):
        out.append(problem("kubesphere_version_unknown", name, "cluster '%s': the host has not read the member's "
                           "KubeSphere version (status.kubeSphereVersion %s): its ks-apiserver is not reachable "
                           "through the member's service proxy (kubesphere-system/ks-apiserver); check it runs"
                           % (name, objects.get_path(cluster, "status.kubeSphereVersion") or "unset")))
    if member_config is None:
        out.append(problem("member_config_unread", name, "cluster '%s': its kubesphere-config could not be read, "
                           "so the clusterName the host writes there is unverified" % name))
    else:
        written = objects.get_path(member_config, "multicluster.clusterName")
        if written != name:
            out.append(problem("cluster_name_not_written", name, "cluster '%s': its kubesphere-config shows "
                               "multicluster.clusterName %s, not '%s': the host's controller has not completed a "
                               "sync of this member yet (it writes the name after joining; wait, or check "
                               "ks-controller-manager's log on the host)" % (name, repr(written) if written else "unset", name)))
    return out


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
