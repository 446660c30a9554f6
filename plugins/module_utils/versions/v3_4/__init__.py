# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. KubeSphere 3.4: ks-installer's ClusterConfiguration sets the role and
renders kubesphere-config; a member needs the host's jwtSecret and role member before its import; kubefed and
tower are built in; a member is healthy when its Cluster is Ready AND its KubeFedCluster is Ready (a member
that died after joining keeps Ready True on its Cluster: KubeSphere's webhook denies the controller's own
status update); unbinding a dead member needs the webhook configuration out of the way.

This package is the 3.4 implementation of the version seam (versions/__init__.py). Its modules:
installer.py (ClusterConfiguration and kubesphere-config), agent.py (the cluster-agent as ks-apiserver builds
it), components.py (ClusterConfiguration components), clean.py (the workspace conflict the join refuses, the one
permanent join failure, a user's namespaces and workspaces); the checks it uses are checks/join.py, checks/roles.py,
checks/unbind.py, and the health predicate objects/cluster_health.py's `health`."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster_health
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.common import get_path
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import usable
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import agent, apiserver, clean, components, installer, settled
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated as federation
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary

VERSION = "3.4"
NAME = "KubeSphere 3.4 (ks-installer)"
# ks-installer's objects: the role lives in the ClusterConfiguration and the rendered kubesphere-config
ROLE_SOURCE = "%s %s/%s" % (installer.CC_KIND, installer.KS_NAMESPACE, installer.CC_NAME)
# what a healthy member must show (the wait's words)
HEALTHY = "healthy (Ready True and its KubeFedCluster Ready True)"
# components the host runs for the whole fleet, so a member need not enable them (the app store)
HOST_ONLY_COMPONENTS = components.HOST_ONLY
ROLE_BY_HELM = False  # the role is written (ClusterConfiguration) and waited for (4.1: a Helm value, not written)
MEMBER_INSTALLED_BY_HOST = False  # a member is installed and prepared before its import (4.1: by the host)
HEALTH_NEEDS_KUBEFED = True  # a member's health needs its KubeFedCluster (4.1: Ready and KSCoreReady)


def role(state):
    """The role the cluster has now: kubesphere-config's rendered clusterRole (what KubeSphere runs with)."""
    return installer.config_role(state.get("config") or {})


def health(cluster, kubefed_cluster=None, kubefed_read=True):
    """The health verdict {healthy, verdict, reason}: Ready on the Cluster and kubefed's view of it."""
    return cluster_health.health(cluster, kubefed_cluster, kubefed_read=kubefed_read)


# --- unbind
# KubeSphere 3.4's UPDATE webhook on Clusters (failurePolicy Fail): it dials the member on every update of a
# joined Cluster, so a dead member's finalizer cannot be removed while it is there (kubesphere#2306, #6154).
WEBHOOK_NAME = "cluster.kubesphere.io"
# what the API server owns in a webhook configuration (left out of its backup and of the comparison)
WEBHOOK_SERVER_OWNED = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink",
                        "deletionTimestamp", "deletionGracePeriodSeconds")
# kubefedctl's names on a joined member (KubeSphere joins with the host cluster name constant `kubesphere`)


UNBIND_WEBHOOK = True  # the dead-member path: the webhook configuration removed and restored
UNBIND_UNJOINS_KUBEFED = False  # KubeSphere's own controller unjoins kubefed (the dead path does what it could not)


def unbind_dead(cluster, member, kubefed_cluster):
    """True when the dead-member path applies (checks/unbind.py's `dead`)."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import unbind as unbind_checks  # noqa: PLC0415

    return unbind_checks.dead(cluster, member, kubefed_cluster)


def unbind_read_member(conn):
    """The member's facts for the report (read/unbind.py)."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import unbind as unbind_reads  # noqa: PLC0415

    return unbind_reads.read_member(conn)


def unbind_report(name, cluster, member=None, federated=None, remove_agent=True, cleanup_member=False,
                  remove_from_placements=False):
    """What an unbind removes and what stays (plan/unbind.py's `report`)."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import unbind as unbind_plan  # noqa: PLC0415

    return unbind_plan.report(name, cluster, member, federated, remove_agent=remove_agent,
                              cleanup_member=cleanup_member, remove_from_placements=remove_from_placements)


def unbind_remaining(name, host, member=None):
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import unbind as unbind_plan  # noqa: PLC0415

    return unbind_plan.remaining(name, host, member)


def kubefed_sa_name(name):
    return "%s-kubesphere" % name


def kubefed_rbac_name(name):
    return "kubefed-controller-manager:%s" % kubefed_sa_name(name)


# --- role
# How 3.4 sets a cluster's role: a merge patch of ks-installer's ClusterConfiguration spec; ks-installer applies
# it and renders kubesphere-config, which tells the role applied. operations/role.py and plan/role.py use only
# these names (a version that sets the role another way gives its own).

ROLE_OBJECT = {"api_version": installer.CC_API_VERSION, "kind": installer.CC_KIND, "name": installer.CC_NAME,
               "namespace": installer.KS_NAMESPACE}
ROLE_SECRET_PATHS = installer.SECRET_PATHS  # where a written or read role object holds the jwtSecret
ROLE_FILE_SECRET_PATHS = installer.JWT_PATHS  # ... and the install file
ROLE_FILE_PREFIX = ".cluster-configuration-"
ROLE_NOT_INSTALLED = ("has no ClusterConfiguration %s/%s: KubeSphere (ks-installer) is not installed; use create: "
                      "true to create it before the installer runs, or dest: to write the cluster-configuration.yaml "
                      "to install with" % (installer.KS_NAMESPACE, installer.CC_NAME))
ROLE_CREATED = "no ClusterConfiguration before: ks-installer applies the role on its first run"


role_settled = settled.member_role  # a converged member proven by the preflight's facts (None: no shortcut)
import_settled = settled.member_import  # a converged import proven by the preflight's facts (None: no shortcut)


def role_object(state):
    """The object that holds the role (the ClusterConfiguration), None when KubeSphere is not installed."""
    return state.get("cluster_configuration")


def role_options(role, proxy_publish_address=None, host_cluster_name=None):
    """The host's options, in the role object's words ({} for other roles)."""
    if role != "host":
        return {}
    return {"proxyPublishAddress": proxy_publish_address, "hostClusterName": host_cluster_name}


def role_patch(role, jwt_secret=None, options=None, wanted=()):
    """The merge patch of the role object for `role` (see installer.role_patch)."""
    return installer.role_patch(role, jwt_secret, options, wanted)


def role_before_install(patch):
    """The whole role object a cluster is installed with (the cluster-configuration.yaml), with `patch`."""
    return installer.before_install_cc(patch)


def role_file_documents(text):
    """(documents, index of the role object) of an existing install file; ValueError when it holds none."""
    return installer.install_file_documents(text)


def role_file_text(docs):
    return installer.install_file_text(docs)


def role_host_secret(host_state):
    """The host's jwtSecret as rendered (None when not rendered yet)."""
    return installer.config_jwt_secret(host_state["config"])


def role_components(host_state, target_state, include=None, exclude=()):
    """Components enabled on the host that the member lacks (what sync_components enables)."""
    return components.missing_on_member(get_path(host_state["cluster_configuration"], "spec"),
                                        get_path((target_state or {}).get("cluster_configuration") or {}, "spec"),
                                        include, exclude)


def role_before_facts(state):
    """What the wait needs of the state read before the write (safe to print, handed to later slices): the
    rendered role, status.core.enabledTime and the role in the spec."""
    cc = state["cluster_configuration"]
    return {"config_role": installer.config_role(state["config"]), "enabled_time": installer.core_enabled_time(cc),
            "role_before": installer.spec_role(cc) if cc else "none",
            "proxy_publish_address": apiserver.served_address(state["config"])}


def role_condition(role):
    """The wait's words in progress lines."""
    return "ks-installer applied role '%s'" % role


def role_applied_problems(role, state, jwt_secret=None, options=None):
    """What still differs from the role applied ([] once applied); each item is safe to print."""
    return installer.applied_problems(role, state["config"], state["cluster_configuration"], jwt_secret, options)


def role_activity(state, before=None):
    """One line on what ks-installer last did; `before` (role_before_facts, after a write) says whether a run
    got past ks-core since."""
    before_cc = installer.before_objects(before)[0] if before is not None else None
    return installer.installer_activity(state["cluster_configuration"], state["config"], before_cc)


def role_failure(role, before, state, conn):
    """The reason to fail at once (code installer_failed), or None: on a host, ks-installer's run since our
    write rendered clusterRole host without enabling multicluster (installer.multicluster_task_failed)."""
    before_cc, before_config = installer.before_objects(before)
    cc, config = state["cluster_configuration"], state["config"]
    if not installer.multicluster_task_failed(role, before_config, before_cc, config, cc):
        return None
    log = installer.installer_log(conn)
    return ("ks-installer's multicluster task failed in its run after role '%s' was written: that run rendered "
            "kubesphere-config (clusterRole host) but did not set status.multicluster to enabled (no tower/kubefed "
            "release). Last seen: %s. See the ks-installer pod's log in %s (\"Task 'multicluster' failed:\")%s. %s"
            % (role, installer.installer_activity(cc, config, before_cc), installer.KS_NAMESPACE,
               ": %s" % log if log else "", installer.RERUN_HINT))


def role_timeout(role, timeout, left, state, before, conn):
    """The reason of a wait that timed out: what is left, what the installer last did, its log; when no run got
    past ks-core since the write, that the installer may still be running (a slow one is not a failed one)."""
    log = installer.installer_log(conn)
    before_cc = installer.before_objects(before or {})[0]
    running = "" if installer.run_since(before_cc, state["cluster_configuration"]) else (
        "No ks-installer run has finished since the write: it may still be running (a run takes minutes), so run "
        "this again later or with a longer wait_timeout. ")
    return ("ks-installer had not applied role '%s' after %ss: %s. Last seen: %s%s. %sIf its last run failed (its "
            "pod's log in %s says \"Task '...' failed:\"), %s"
            % (role, timeout, "; ".join(left), role_activity(state, before or {}),
               ". Installer log: %s" % log if log else "", running, installer.KS_NAMESPACE, installer.RERUN_HINT))


# --- the host's proxy address changed: ks-apiserver serves it after a rollout restart (versions/v3_4/apiserver.py)
ROLE_SERVING_OBJECT = apiserver.DEPLOYMENT
ROLE_SERVING = "ks-apiserver's rollout complete (its pods serve the new proxy address)"


def role_serving_address(state):
    """The proxy address ks-apiserver serves from the rendered config (None: tower's Service address)."""
    return apiserver.served_address(state.get("config"))


def role_serving_changes(served, options):
    """The host's options change the proxy address ks-apiserver serves (`served`: role_serving_address before)."""
    return apiserver.serves_changes(served, options)


def role_serving_restart(now):
    return apiserver.restart_patch(now)


def role_serving_rollout(deployment):
    """(done, state) of ks-apiserver's rollout."""
    return apiserver.rollout(deployment)


# --- import (member state present) --------------------------------------------------------------------
# tower initialises a proxy member's Cluster (Initialized, its token), the cluster-agent is the Deployment
# ks-apiserver's /agent/deployment API hands out (versions/v3_4/agent.py), it connects (AgentAvailable).

INITIALIZED = "Initialized by tower"
AGENT_CONNECTED = "connected to its cluster-agent (AgentAvailable)"
AGENT_OBJECT = "Deployment kubesphere-system/cluster-agent"


def initialized(cluster):
    return bool(cluster) and cluster_health.initialized(cluster)


def agent_connected(cluster):
    return bool(cluster) and (cluster_health.agent_available(cluster) or cluster_health.ready(cluster))


def agent_image(host_config, given=None):
    return given or agent.agent_image(host_config)


def agent_deployment(cluster, proxy_address, image):
    """The cluster-agent Deployment built from the Cluster's token (as ks-apiserver builds it)."""
    return agent.build(cluster, proxy_address, image)


def agent_access():
    """Nothing: the agent runs as the member KubeSphere's own ServiceAccount kubesphere."""
    return []


agent_removed_with = agent_access  # nothing beside the Deployment


def agent_needs_update(live, desired):
    return agent.needs_update(live, desired)


def agent_shown(deployment):
    """The agent Deployment as results and diffs show it: normalized, its token masked."""
    return agent.mask(common.normalize(deployment)) if deployment else deployment


# --- a proxy member's agent re-pointed (the host's address changed): tower's record of a fresh connection
AGENT_RECONNECTED = "connected again (tower's AgentAvailable True, written after the re-point)"


def agent_proxy_server(deployment):
    """The address the live cluster-agent Deployment dials (None without one)."""
    return agent.proxy_server(deployment)


def agent_connection(cluster):
    """tower's last record of the agent's connection: {status, time, message} of AgentAvailable, or None."""
    return agent.connection(cluster)


def agent_reconnected(cluster, before):
    """tower recorded a connection after `before` (agent_connection read before the re-point)."""
    return agent.reconnected(cluster, before)


def jwt_secret(config):
    """The jwtSecret of a rendered kubesphere-config (a secret: the caller hides it)."""
    return installer.config_jwt_secret(config or {})


# A 3.4 member must run KubeSphere before its import (role member, the host's jwtSecret, ks-apiserver up): the
# import reads and checks that (checks/join.py), and the clean-member check before a first kubefed join.
MEMBER_NEEDS_KUBESPHERE = True
CLEAN_MEMBER_CHECK = True
JOIN_NOTES = ()


def import_problems(name, connection_type, member, host, kubeconfig=None, options=None):
    """Every check before importing a member (checks/join.py)."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import join as join_checks  # noqa: PLC0415

    return join_checks.import_problems(name, connection_type, member, host, kubeconfig, options)


def wait_detail(ctx, name, live):
    """Nothing beside the health verdict while the health wait waits."""
    return None


def healthy_timeout(ctx, name, timeout, state):
    """None: the executor's timeout error (the last verdict) says it."""
    return None


def verification_facts(conn, name, host_name=None):
    """The member's rendered kubesphere-config (None when absent or unreadable): the host writes clusterName."""
    try:
        cm = conn.get("v1", "ConfigMap", installer.CONFIG_MAP, installer.KS_NAMESPACE)
        return installer.parse_config(cm) if cm else None
    except (KubeSphereError, ValueError):
        return None


def usable_problems(name, cluster, kubefed_cluster, member_config, host_name=None):
    """What Ready does not prove, checked after an import ([] when the member is usable)."""
    return usable.usable_problems(name, cluster, kubefed_cluster, member_config)


# --- federation (federated_project, federated_resource, federation_info)
# KubeSphere 3.4 federates with kubefed v0.8.1; a multi-cluster project is a host Namespace labelled as the
# console labels it plus a FederatedNamespace, and a workspace's placement is its WorkspaceTemplate's (KubeSphere's
# workspacetemplate controller makes the FederatedWorkspace of it).

# None: multi-cluster projects and workspaces are written as below (kubefed is built into KubeSphere 3.4)
FEDERATION_UNSUPPORTED = None
FEDERATION_EXTENSION = None  # no extension to install first

# KubeSphere 3.4 has no extensions (the extension module refuses it before any write)
EXTENSIONS = None
EXTENSIONS_UNSUPPORTED = ("KubeSphere 3.4 has no extensions (kubefed and tower are built in; its optional components are "
                          "set in the ClusterConfiguration ks-installer applies), so nothing was written")

# the Namespace target, as federation's FederatedTypeConfig `namespaces` declares it
NAMESPACE_TARGET = {"apiVersion": "v1", "kind": "Namespace", "group": "", "version": "v1", "plural": "namespaces",
                    "namespaced": False}
NAMESPACE_FTC = {"metadata": {"name": "namespaces"},
                 "spec": {"propagation": "Enabled",
                          "targetType": {"kind": "Namespace", "version": "v1", "pluralName": "namespaces",
                                         "scope": "Cluster"},
                          "federatedType": {"group": "types.kubefed.io", "version": "v1beta1",
                                            "kind": "FederatedNamespace", "pluralName": "federatednamespaces",
                                            "scope": "Namespaced"}}}


def project_host_namespace(name, workspace, labels=None):
    """The host Namespace of a multi-cluster project, as the 3.4 console creates it."""
    return federation.host_namespace(name, workspace, labels)


def project_federated_namespace(name, workspace, clusters, labels=None, annotations=None, settings=None):
    return federation.federated_namespace(name, workspace, clusters, labels=labels, annotations=annotations,
                                          settings=settings)


# KubeSphere 3.4's WorkspaceTemplate CRD (ks-core's tenant.kubesphere.io_workspacetemplates.yaml) declares
# spec.template.metadata as an object with no fields and no x-kubernetes-preserve-unknown-fields: the API server
# prunes spec.template.metadata.labels on every write, so the workspace controller has no label to copy to the
# Workspace. The workspace module refuses `labels` here (checks/workspace.labels_kept) rather than write them in vain.
WORKSPACE_TEMPLATE_KEEPS_LABELS = False


WORKSPACE_TEMPLATE_API_VERSION = vocabulary.TENANT_API_VERSION  # KubeSphere 3.4's v1alpha2


def workspace_template(name, clusters, manager=None, labels=None, annotations=None):
    """A workspace placed on `clusters`: its WorkspaceTemplate (the controller writes the FederatedWorkspace)."""
    return federation.workspace_template(name, clusters, manager=manager, labels=labels, annotations=annotations)


def _workspace_state(obj, clusters):
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import workspace as workspace_plan  # noqa: PLC0415

    return workspace_plan.federated_state(obj, clusters)


# the record of a workspace's sync the workspace module waits for (plan/workspace.py): KubeSphere's FederatedWorkspace
# (read as the fact `fact`) with the placement, propagated by kubefed
WORKSPACE_SYNC = {"api_version": "types.kubefed.io/v1beta1", "kind": "FederatedWorkspace", "fact": "federated_workspace",
                  "state": _workspace_state, "propagated": True, "what": "made by KubeSphere and propagated by kubefed to %s",
                  "how": "KubeSphere's workspacetemplate controller makes the FederatedWorkspace, kubefed the Workspace "
                         "on each member"}


# --- a clean member (versions/v3_4/clean.py): the workspace conflict checkWorkspaces refuses, the one
# permanent join failure, and what counts as a user's namespace or workspace

WORKSPACE_API_VERSION = clean.WORKSPACE_API_VERSION
WORKSPACE_KIND = clean.WORKSPACE_KIND
FEDERATED_WORKSPACE_KIND = clean.FEDERATED_WORKSPACE_KIND


def workspace_conflicts(name, member_workspaces, federated_workspaces, kubefed_cluster):
    return clean.workspace_conflicts(name, member_workspaces, federated_workspaces, kubefed_cluster)


def managed_workspaces(workspaces):
    """The workspaces the join compares (its label selector)."""
    return [w for w in workspaces or [] if clean.managed(w)]


def join_failure(cluster):
    """The permanent join failure the Cluster reports ({code, workspace, reason, message}), or None."""
    return clean.join_failure(cluster)


def made_locally(namespaces, workspaces):
    """{namespaces, workspaces}: a user's namespaces and workspaces that kubefed does not manage."""
    return clean.made_locally(namespaces, workspaces)


def user_objects(namespaces, workspaces):
    """{namespaces, workspaces}: the names of what a user made on a member (not Kubernetes', not KubeSphere's)."""
    return {"namespaces": clean.user_namespaces(namespaces), "workspaces": clean.user_workspaces(workspaces)}
