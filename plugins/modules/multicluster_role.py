#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: multicluster_role
short_description: Set a KubeSphere 3.x cluster's multi-cluster role (host, member, none) and wait until applied
version_added: 0.1.0
description:
  - Sets C(spec.multicluster.clusterRole) of the ClusterConfiguration C(kubesphere-system/ks-installer),
    with the host's options (O(proxy_publish_address), O(host_cluster_name)) or the member's jwtSecret,
    and waits until ks-installer has applied it. Applied means the rendered ConfigMap
    C(kubesphere-system/kubesphere-config) shows the role and the wanted jwtSecret (compared by hash)
    and, on a host, C(status.multicluster.status) is C(enabled).
  - For a member, the jwtSecret is read from the host's rendered kubesphere-config through the
    C(host_) connection options, or given as O(jwt_secret). It is never returned, logged or shown in a
    diff in clear; results carry its fingerprint (C(sha256:<12 hex>)).
  - Checks run before anything is written and refuse, unless O(force=true), to make a second host of the
    fleet (O(peers)), to turn a host that has members into a member or C(none), to turn a cluster that is
    imported as a member into a host, and to make a member of a cluster another host manages.
  - The module connects to this cluster and, with the C(host_) options, to its host; never to the rest
    of the fleet, which it knows only from O(peers) (facts, no credentials).
  - Connection options left unset are not taken from C(K8S_AUTH_*) environment variables (unlike
    kubernetes.core's modules); when such variables are set the module warns that they were ignored.
  - Renamed from C(cluster_role) in 0.2.0 (C(kubesphere.multicluster.cluster_role) still redirects here).
  - Before KubeSphere is installed, O(dest) writes the C(cluster-configuration.yaml) to install with, and
    O(create=true) creates the ClusterConfiguration so that ks-installer starts in the wanted role. Both
    carry the full shape of ks-installer v3.4.1's own C(cluster-configuration.yaml), which ks-installer
    keeps as it is (it deletes and re-creates a ClusterConfiguration it has to migrate).
  - On KubeSphere 4.1 (detected per cluster from the C(ks-core) Helm release; a cluster without KubeSphere yet
    takes the line of its fleet's host, read through the C(host_) options or from O(peers)) the module writes
    nothing, in any mode. The role is the Helm value C(multicluster.role) of the release C(ks-core), rendered
    in kubesphere-config as C(multicluster.clusterRole); the module does not run Helm. Role C(host) on a
    cluster that renders it (and O(host_cluster_name) when given) returns C(changed=false), C(applied=true)
    and C(role_source); one that differs, role C(none), O(dest) and O(create) are refused with code
    C(role_set_by_helm) and the C(helm upgrade ks-core ... --reuse-values --set multicluster.role=...) that
    changes it; O(proxy_publish_address) is refused with C(proxy_publish_address_not_in_v41) (no chart value, only
    a hand edit of kubesphere-config the next C(helm upgrade) drops; proxy connections are the tower
    extension's). Role C(member) needs nothing written (the host installs ks-core on the member with its own
    jwtSecret when its Cluster is created; O(jwt_secret) is ignored), so it returns C(changed=false), C(applied=true) and a
    C(note). Refused, unless O(force=true), a cluster that runs its own KubeSphere 4.1 as a host
    (C(member_runs_host_ks_core)) and one another host annotated (C(managed_by_other_host)); never forced,
    O(sync_components) (C(components_not_in_v41)).
author:
  - kubesphere.multicluster contributors (@kubesphere)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - kubesphere.multicluster.wait_slice
  - kubesphere.multicluster.host_auth_options
  - kubesphere.multicluster.peers
  - kubesphere.multicluster.wait
  - kubesphere.multicluster.attributes
options:
  role:
    description: The cluster's role.
    type: str
    required: true
    choices: [host, member, none]
  cluster_name:
    description:
      - The cluster's KubeSphere name (its C(Cluster) object on the host); names the cluster in
        messages and is compared with the host's C(Cluster) objects by the guards.
      - The documented inventory layout sets it as C(kubesphere_cluster_name).
    type: str
    required: true
  proxy_publish_address:
    description:
      - Role C(host) only. C(multicluster.proxyPublishAddress), the tower address proxy-mode agents dial, as a URL
        C(http://<address>:<port>) (also C(https://), C(ws://), C(wss://); without a port the agent dials 80 or 443).
        Any other form is refused before anything is written (code C(bad_proxy_publish_address)).
      - An empty string removes it from the ClusterConfiguration, so that ks-apiserver takes the address from
        tower's LoadBalancer Service again. Omitted, the ClusterConfiguration's value is left as it is.
      - A change (an address set, changed or removed), with O(wait), restarts the host's ks-apiserver once
        ks-installer applied it (a rollout restart of Deployment C(kubesphere-system/ks-apiserver), as the how-to does, because
        ks-apiserver hands out cluster-agents with the address it read at start) and waits until the rollout is
        complete (code C(ks_apiserver_not_restarted) when it is not within O(wait_timeout)), so that no agent is
        re-pointed before ks-apiserver serves the new address.
      - The documented inventory layout sets it as C(kubesphere_proxy_publish_address) on the host.
    type: str
  host_cluster_name:
    description:
      - The host's KubeSphere name, C(multicluster.hostClusterName) (the name of the host's own Cluster object).
      - Role C(host), when given, it is set in the ClusterConfiguration (KubeSphere's default is C(host)).
        Choose it before the first members join; renaming a host later is not supported by KubeSphere.
      - Role C(member), the host's name in messages and guards; by default read from the host's
        rendered kubesphere-config.
    type: str
  jwt_secret:
    description:
      - Role C(member). The host's jwtSecret. When omitted, it is read from the host's rendered
        kubesphere-config through the C(host_) connection options.
      - Role C(host), with O(dest) or O(create) only (before install), the jwtSecret the host is installed with,
        which its members then need too; an installed host's is never changed (the option is ignored with a warning).
    type: str
  sync_components:
    description:
      - Role C(member). Enable on the member the pluggable components enabled in the host's
        ClusterConfiguration, except the App Store (C(openpitrix.store)), as KubeSphere requires.
      - Components are never disabled.
    type: bool
    default: false
  components_include:
    description: With O(sync_components), only these components (dotted names such as C(devops), C(logging)).
    type: list
    elements: str
    default: []
  components_exclude:
    description: With O(sync_components), never these components.
    type: list
    elements: str
    default: []
  preflight_facts:
    description:
      - Role C(member). What this run's preflight read of the member and of its host returned, as C({cluster,
        host}) (the C(cluster) of M(kubesphere.multicluster.cluster_info)'s result for each; the role member_config
        passes them when the preflight ran and the host's role did not change since).
      - When they show the member role already set and rendered with the host's jwtSecret, the installer not
        failed and no guard, the module reads nothing more and writes nothing, and says so in RV(settled) (a
        converged member costs no further request). Otherwise they are ignored and the module reads both
        clusters and runs every check as usual. KubeSphere 3.4 only (on 4.1 the role step writes nothing anyway).
    type: dict
  force:
    description: Do it even when a guard refuses (each problem is then returned as a warning).
    type: bool
    default: false
  create:
    description:
      - When the cluster has no ClusterConfiguration (KubeSphere not installed yet), create it, with
        the role, in C(kubesphere-system), so that ks-installer applies the role on its first run.
        Without it, such a cluster is an error. No wait follows a creation.
    type: bool
    default: false
  dest:
    description:
      - Write the C(cluster-configuration.yaml) to install KubeSphere with (role, host options, jwtSecret)
        to this path on the controller, mode 0600, instead of touching the cluster. The cluster itself
        is not contacted (guards need it and do not run).
      - A new file gets ks-installer's whole default shape. An existing file is patched instead, every other
        setting kept, its one ClusterConfiguration document (beside others, as in KubeKey's C(config-sample.yaml))
        gets the role, host options and jwtSecret; comments and formatting are kept only when nothing changes. A
        file that is not YAML or holds no (or several) ClusterConfiguration is refused, code C(install_file_invalid).
      - A folder that does not exist is created mode 0700. An existing folder is never changed; one open to its
        group or others is refused before anything is written, code C(folder_not_private) (C(chmod 700) it or give
        another path).
    type: path
  wait:
    description:
      - Wait until ks-installer has applied the role (not in check mode).
      - ks-installer writes no C(failed) status for its tasks (its pod's log says C(Task '<name>' failed:)).
        On a host, a run since the write that rendered C(clusterRole host) (which ks-installer does at the
        very end of a run) and moved C(status.core.enabledTime), without enabling C(status.multicluster),
        fails at once with code C(installer_failed). Any other failure ends at O(wait_timeout) with code
        C(timeout) and what the installer last did.
    type: bool
    default: true
notes:
  - KubeSphere 3.x with ks-installer. KubeSphere v4 has no ClusterConfiguration; there the host installs
    ks-core into members itself.
  - >-
    The waits that print progress: ks-installer applied the role.
seealso:
  - module: kubesphere.multicluster.cluster_info
  - module: kubesphere.multicluster.fleet_check
"""

EXAMPLES = r"""
# Tasks of a play over the fleet (hosts: kubesphere_clusters, gather_facts: false), with the inventory layout
# of inventories/example: each cluster's inventory host sets kubesphere_cluster_name, kubesphere_kubeconfig and
# kubesphere_context (and members kubesphere_connection_type); the host cluster is groups['kubesphere_host'][0].
# install_dir: a folder on the controller for the files of clusters not installed yet.

- name: Make the host cluster
  kubesphere.multicluster.multicluster_role:
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    cluster_name: "{{ kubesphere_cluster_name }}"
    role: host
    # the address proxy members' agents dial, when the host has neither a LoadBalancer nor reachable NodePorts
    proxy_publish_address: "{{ kubesphere_proxy_publish_address | default(omit) }}"
  when: inventory_hostname in groups['kubesphere_host']

- name: Make the members, with the host's jwtSecret and components
  kubesphere.multicluster.multicluster_role:
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    cluster_name: "{{ kubesphere_cluster_name }}"
    role: member
    host_kubeconfig: "{{ hostvars[groups['kubesphere_host'][0]].kubesphere_kubeconfig }}"
    host_context: "{{ hostvars[groups['kubesphere_host'][0]].kubesphere_context }}"
    sync_components: true
    components_exclude: [servicemesh]
  when: inventory_hostname in groups['kubesphere_members']

- name: Write the cluster-configuration.yaml a new member (member3) is installed with
  kubesphere.multicluster.multicluster_role:
    cluster_name: member3
    role: member
    host_kubeconfig: "{{ hostvars[groups['kubesphere_host'][0]].kubesphere_kubeconfig }}"
    host_context: "{{ hostvars[groups['kubesphere_host'][0]].kubesphere_context }}"
    dest: "{{ install_dir }}/member3-cluster-configuration.yaml"
  run_once: true
"""

RETURN = r"""
result:
  description:
    - The ClusterConfiguration after the change (in check mode, as the server would store it), jwtSecret masked.
    - On KubeSphere 4.1, C(multicluster) (C(clusterRole), C(hostClusterName) as ks-core renders them),
      C(role_read_from) (C(kubesphere-config); C(Helm values) when that ConfigMap renders no role or cannot be read
      and the role comes from the release's values C(multicluster.role) and C(multicluster.hostClusterName)) and
      C(release) (the C(ks-core) release's name, revision, status, chart_version, app_version).
  returned: when the cluster was contacted
  type: dict
role:
  description: The role that was set.
  returned: always
  type: str
  sample: member
role_before:
  description: The role in the ClusterConfiguration before the change (C(none) when there was none).
  returned: when the cluster was contacted
  type: str
  sample: none
applied:
  description: Whether ks-installer's rendered kubesphere-config shows the wanted role (and secret).
  returned: always
  type: bool
installer:
  description:
    - What ks-installer last did (rendered role, jwtSecret fingerprint, C(status.core.enabledTime) and, after
      a write, whether a run got past ks-core since, C(status.multicluster)).
  returned: when the cluster was contacted
  type: str
jwt_secret_hash:
  description: Fingerprint of the jwtSecret the member was given (never the secret).
  returned: role member
  type: str
  sample: sha256:3f2a9c0e1b7d
components_enabled:
  description: Components this run enabled (O(sync_components)).
  returned: always
  type: list
  elements: str
settled:
  description:
    - Why nothing was read nor written, when O(preflight_facts) proved the member role settled; RV(result),
      RV(installer) and RV(role_before) are then not returned.
  returned: when O(preflight_facts) proved the role settled
  type: str
problems:
  description: Problems the checks found (each C(code), C(cluster) and C(message)); the module refused unless O(force).
  returned: when a guard found something
  type: list
  elements: dict
dest:
  description: The file written (O(dest)).
  returned: with O(dest)
  type: str
note:
  description: KubeSphere 4.1 only. What the cluster renders and why nothing was written.
  returned: on KubeSphere 4.1
  type: str
role_source:
  description: KubeSphere 4.1 only. Where the role comes from (the Helm release C(ks-core)'s value, as rendered).
  returned: on KubeSphere 4.1
  type: str
kubesphere_line:
  description: KubeSphere 4.1 only. The line the cluster runs, or its fleet's for a cluster without KubeSphere yet.
  returned: on KubeSphere 4.1
  type: str
  sample: "4.1"
ks_apiserver_restart:
  description:
    - A changed O(proxy_publish_address). The rollout restart of the host's ks-apiserver; C(restarted) (false when
      the host has no Deployment C(kubesphere-system/ks-apiserver)), C(from) and C(to) (the addresses; C(tower's
      Service address) when none is set), C(at) (the restart's time, UTC) and C(generation) (the Deployment's
      generation the rollout wait followed).
  returned: when the run restarted ks-apiserver (not in check mode)
  type: dict
plan:
  description:
    - The steps of the run (C(id), C(kind), C(side), C(cluster), C(object), C(verb) for a write, C(why)); in
      check mode, the steps the real run executes. Empty when the cluster already has the role applied.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import (
    KubeSphereModule, auth_argspec)
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations.role import run
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4.installer import ROLES
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.slicing import wait_argspec
from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet.report import peers_argspec


def main():
    spec = dict(
        role=dict(type="str", required=True, choices=list(ROLES)),
        cluster_name=dict(type="str", required=True),
        proxy_publish_address=dict(type="str"),
        host_cluster_name=dict(type="str"),
        jwt_secret=dict(type="str", no_log=True),
        sync_components=dict(type="bool", default=False),
        components_include=dict(type="list", elements="str", default=[]),
        components_exclude=dict(type="list", elements="str", default=[]),
        peers=peers_argspec(),
        force=dict(type="bool", default=False),
        create=dict(type="bool", default=False),
        dest=dict(type="path"),
        preflight_facts=dict(type="dict"),
    )
    spec.update(wait_argspec(True, 600, wait_sleep=5))
    spec.update(auth_argspec())
    spec.update(auth_argspec("host_"))
    module = KubeSphereModule(argument_spec=spec, supports_check_mode=True,
                              mutually_exclusive=[("dest", "create")])
    module.run_operation(run)


if __name__ == "__main__":
    main()
