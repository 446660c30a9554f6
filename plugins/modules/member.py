#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: member
short_description: Import a member cluster into a KubeSphere 3.4 host (direct or proxy), or unbind it
version_added: 0.2.0
description:
  - O(state=present) imports the member into the host as KubeSphere's console does, and keeps its
    C(Cluster) object (C(cluster.kubesphere.io/v1alpha1)) as wanted. O(state=absent) unbinds it.
  - Runs on the member's inventory host (C(ansible_connection=local)) with the member's connection in
    kubernetes.core's option names and the host's under C(host_). It never connects to another cluster;
    other KubeSphere hosts of the fleet are known from O(peers) (facts, no credentials), and each is
    checked for a Cluster of this member.
  - "O(state=present), in order: read the host (rendered kubesphere-config, Cluster objects, kube-system UID,
    clock; for proxy members tower's Service and the Nodes) and the member (for a direct member with the
    very kubeconfig the host will store: reachable or why not, rendered kubesphere-config, kube-system UID,
    ServiceAccounts, ks-apiserver through the service proxy, clock); run every check (a superset of the
    console's validation API, for both connection types) and refuse with every problem before the first
    write, on any cluster; create the Cluster (or merge-patch the fields the collection owns); for a proxy
    member wait until tower initialised it (C(Initialized)), build the C(kubesphere-system/cluster-agent)
    Deployment exactly as ks-apiserver's C(/agent/deployment) API builds it and apply it on the member, wait
    for C(AgentAvailable) (an agent that dialled another address, re-pointed, or one tower says is not
    connected: wait until tower records a connection made after the re-point, never the Ready or
    C(AgentAvailable) left from before); then wait until the member is healthy (Ready True AND its KubeFedCluster Ready
    True: a dead member keeps Ready True) and verify what Ready does not prove (the member's
    kubesphere-config names this cluster, the KubeSphere version is known, C(status.uid) is set), each
    finding reported (a warning, or a failure with O(verify_strict))."
  - A rerun after a failure part-way finishes the job and leaves exactly one Cluster per member (a Cluster
    of the same name holding the same kube-system UID is this member).
  - "On a KubeSphere 4.1 host (the version is detected from the host's C(ks-core) Helm release): the member needs
    no KubeSphere (the host's controller installs the C(ks-core) release on it once its Cluster exists), so there
    is no role, jwtSecret or ks-apiserver check on the member; reachability, the kubeconfig, clock skew and the
    same cluster twice are checked as on 3.4, and a member whose C(kubesphere-system) namespace names another host
    (annotation C(cluster.kubesphere.io/host-cluster), code C(managed_by_other_host)) or that runs its own
    KubeSphere as a host (code C(member_is_host)) is refused. The wait is for KSCoreReady True and Ready True and
    shows the member's C(ks-core) release while it installs; a timed-out wait says what that release says. A first
    install left C(pending-install) for over 6 minutes (an install stopped by a ks-controller-manager restart: Helm
    then refuses every retry) has its release record deleted and the Cluster annotated C(kubesphere.io/syncAt), with
    a warning, so the host installs again. The
    verification reads the member's C(kubesphere-system) annotations C(cluster.kubesphere.io/name) and
    C(cluster.kubesphere.io/host-cluster). O(dedicated_credential) works as on 3.4. A proxy member needs the tower
    extension on the host (refused before any write with C(extension_missing) while the host has no Service
    C(kubesphere-system/tower)); its agent is built as the extension's backend hands it out: Namespace
    C(kubesphere-system), ServiceAccount C(kubesphere-system/tower) bound to C(cluster-admin) by ClusterRoleBinding
    C(tower), and the Deployment C(cluster-agent) running as it (image: the host's C(multicluster.agentImage), else
    C(kubesphere/tower:v0.2.1)); the address is the host's C(multicluster.proxyPublishAddress), else the Service
    named by C(multicluster.proxyPublishService) (default C(kubesphere-system/tower)): its LoadBalancer address, else a
    node's InternalIP and its nodePort (O(allow_node_port)), else O(proxy_address). The host then installs ks-core on
    the member through the agent's tunnel. O(state=absent) removes the agent, its ServiceAccount and binding."
  - "O(state=absent) on a KubeSphere 4.1 host deletes the Cluster and waits until it is gone: no webhook workaround
    and no O(force) for a dead member (v4.1.3 registers no Cluster webhook). C(ks-core) stays on the member
    (C(helm uninstall ks-core -n kubesphere-system) removes it); a member KubeSphere could not reach keeps its
    C(kubesphere-system) annotations, which the report names with the command that removes them."
  - The stored kubeconfig, the agent's token and the jwtSecrets are never returned, logged or shown in a
    diff; the kubeconfig shows as a mask carrying its fingerprint, so a rotation still shows.
  - Connection options left unset are not taken from C(K8S_AUTH_*) environment variables.
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
  state:
    description: C(present) imports the member; C(absent) unbinds it.
    type: str
    default: present
    choices: [present, absent]
  name:
    description:
      - The member's KubeSphere cluster name (its Cluster object on the host). The console's rule is lowercase
        letters, digits and C(-), starting and ending with a letter or digit (a DNS-1123 label), at most 63
        characters (60 for proxy members, whose tower Service is C(mc-<name>)).
      - The documented inventory layout sets it as C(kubesphere_cluster_name).
    type: str
    required: true
  connection_type:
    description: C(direct) when the host's pods reach the member's API server, C(proxy) (cluster-agent and tower) otherwise.
    type: str
    default: direct
    choices: [direct, proxy]
  host_label:
    description: How messages name the host cluster (its inventory name).
    type: str
    default: host
  stored_kubeconfig:
    description:
      - Direct members. The kubeconfig the host stores in the Cluster (text or path), when it must differ from
        the member connection (for example another server address that the host's pods reach).
      - By default the member connection's kubeconfig, reduced to its context and flattened (files embedded).
    type: str
  group:
    description: The console's cluster group (label C(cluster.kubesphere.io/group)).
    type: str
  provider:
    description: The console's provider (C(spec.provider)).
    type: str
  description:
    description: The console's description (annotation C(kubesphere.io/description)).
    type: str
  alias:
    description: The console's alias (annotation C(kubesphere.io/alias-name)).
    type: str
  labels:
    description: Extra labels of the Cluster; cannot set the group label or KubeSphere's own labels.
    type: dict
  creator:
    description: The annotation C(kubesphere.io/creator) (the console writes the logged-in user); set at creation only.
    type: str
    default: admin
  allow_loopback:
    description:
      - Accept a stored kubeconfig whose server, or a tower address, is on 127.0.0.0/8, ::1 or localhost.
      - Inside the host's pods such an address is the pod itself; only a one-machine lab may set it.
    type: bool
    default: false
  allow_insecure:
    description: Accept C(insecure-skip-tls-verify) in the stored kubeconfig.
    type: bool
    default: false
  cert_expiry_margin_days:
    description: Refuse a stored client certificate that expires sooner than this (token kubeconfigs never expire).
    type: int
    default: 30
  max_clock_skew:
    description: Seconds of clock skew tolerated between host and member; by default the smaller of both clusters' rendered C(maximumClockSkew) (10 s).
    type: float
  dedicated_credential:
    description:
      - Direct members. Create the ServiceAccount C(kube-system/<credential_name>), its token Secret and a
        ClusterRoleBinding to C(cluster-admin) on the member, and store a kubeconfig with that token (the member's
        server and CA from the kubeconfig given) instead of the user's. Least privilege is impossible, since KubeSphere's
        join creates a ClusterRole granting every verb on every resource, which only cluster-admin may create; the
        credential is dedicated and revocable on its own (delete the binding, the Secret and the ServiceAccount).
      - Turning it on for an imported member replaces the stored kubeconfig, after checking that the new one reaches
        the same cluster (KubeSphere's webhook would refuse another).
    type: bool
    default: false
  credential_name:
    description: The ServiceAccount name of O(dedicated_credential).
    type: str
    default: kubesphere-multicluster
  proxy_address:
    description: Proxy members. The address the cluster-agent dials (C(http[s]://host:port)); by default derived as ks-apiserver does.
    type: str
  allow_node_port:
    description: Proxy members. When the host publishes neither C(proxyPublishAddress) nor a LoadBalancer address, use NodeIP:NodePort of tower.
    type: bool
    default: true
  agent_image:
    description: Proxy members. The cluster-agent's image; by default the host's rendered C(multicluster.agentImage).
    type: str
  verify_strict:
    description: Fail when a verification after the import finds a problem (default, warnings).
    type: bool
    default: false
  confirm_unbind:
    description: O(state=absent). Must equal O(name).
    type: str
  force:
    description: O(state=absent). Allow the dead-member path.
    type: bool
    default: false
  remove_from_placements:
    description: O(state=absent). Take the member out of explicit federated placements first.
    type: bool
    default: false
  cleanup_member:
    description: O(state=absent). Delete the member's kube-federation-system leftovers.
    type: bool
    default: false
  remove_agent:
    description: O(state=absent), proxy members. Delete the cluster-agent after the Cluster is gone.
    type: bool
    default: true
  webhook_backup_dir:
    description:
      - O(state=absent), dead path. Where the webhook configuration is saved before it is deleted (mode 0600;
        removed once it is restored exactly).
      - A folder that does not exist is created mode 0700. An existing folder is never changed; one open to its
        group or others is refused before the first write, code C(folder_not_private) (C(chmod 700) it or give another path).
    type: path
    default: ~/.ansible/kubesphere-backups
  wait:
    description: Wait for Initialized, AgentAvailable and health (present), or for the Cluster to be gone (absent). Never in check mode.
    type: bool
    default: true
  timeout:
    description: Seconds one API request (or one poll) may take before the cluster counts as unreachable.
    type: int
    default: 30
  settle_timeout:
    description:
      - The checks probe the member's ks-apiserver through its API server's service proxy, as the console does.
        While that answers 502, 503 or 504 (ks-apiserver restarting, as it does when its kubesphere-config changes,
        and after a role change), the probe is made again every O(wait_sleep) seconds for up to this many seconds
        (with progress, as the other waits), before the import is refused with C(kubesphere_unreachable). 0 probes
        once. Also in check mode.
    type: int
    default: 60
  preflight_facts:
    description:
      - State present, direct members. What this run's preflight read of the member and of its host returned, as
        C({cluster, host}) (the C(cluster) of M(kubesphere.multicluster.cluster_info)'s result for each; the role
        join passes them when the preflight ran and neither the host's nor this member's role changed since).
      - When they prove the import converged, the module reads nothing more, writes nothing and says why in
        RV(settled). Converged means what the full run would find too, decided from those facts. The member renders
        role member with the host's jwtSecret and the name the host wrote there at its join. The host's only
        Cluster of the member's kube-system UID is this one, direct and healthy (Ready and its KubeFedCluster Ready),
        with its KubeSphere version, and already holds what this run would write (labels, annotations, provider,
        the kubeconfig, by fingerprint). The kubeconfig passes its checks (loopback, TLS, client certificate
        expiry with O(cert_expiry_margin_days)) and the measured clock skew is within the limit. No other host
        in O(peers) holds the member.
      - Otherwise they are ignored and the module reads both clusters and runs every check as usual. A settled run
        does not probe the member's ks-apiserver through its API server (the host reached it, since its Cluster has the
        member's KubeSphere version) and does not read the member with the stored kubeconfig (kubefed reaches it).
      - KubeSphere 3.4 only; proxy members and O(dedicated_credential) always read.
    type: dict
notes:
  - KubeSphere 3.4 (Cluster objects, tower, kubefed). Check mode sends the Cluster and the agent as server-side
    dry runs and does not wait; for a new proxy member the agent cannot be built before tower issued its token.
  - >-
    The waits that print progress: the dedicated credential's token (at most 120 s), Initialized, AgentAvailable,
    healthy. The wait of O(state=absent) (until the Cluster is gone) is not sliced yet: it prints nothing until it
    ends.
  - >-
    A clean member (state present, first join): KubeSphere 3.4's join refuses a member holding a Workspace labelled
    C(kubefed.io/managed=true) whose FederatedWorkspace on the host does not place it; the module refuses it first
    (C(workspace_conflict)), and fails the health wait at once (C(join_failed)) if the controller reports that
    conflict later. User namespaces and workspaces already on the member are reported as a warning.
seealso:
  - module: kubesphere.multicluster.multicluster_role
  - module: kubesphere.multicluster.cluster_info
"""

EXAMPLES = r"""
# Tasks of a play over the fleet (hosts: kubesphere_clusters, gather_facts: false), with the inventory layout
# of inventories/example: each cluster's inventory host sets kubesphere_cluster_name, kubesphere_kubeconfig and
# kubesphere_context (and members kubesphere_connection_type); the host cluster is groups['kubesphere_host'][0].

- name: Import each member into the host, directly or by proxy as its inventory host says
  kubesphere.multicluster.member:
    name: "{{ kubesphere_cluster_name }}"
    # direct: the host stores this kubeconfig; proxy: the cluster-agent on the member dials tower
    connection_type: "{{ kubesphere_connection_type | default('direct') }}"
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    host_kubeconfig: "{{ hostvars[groups['kubesphere_host'][0]].kubesphere_kubeconfig }}"
    host_context: "{{ hostvars[groups['kubesphere_host'][0]].kubesphere_context }}"
    group: "{{ kubesphere_cluster_group | default(omit) }}"
    # only for a one-machine lab whose API servers listen on 127.0.0.1 (inventories/lab)
    allow_loopback: "{{ kubesphere_join_allow_loopback | default(false) }}"
  when: inventory_hostname in groups['kubesphere_members']

- name: Unbind member2 (the typed confirmation; its Cluster, KubeFedCluster and agent go)
  kubesphere.multicluster.member:
    name: "{{ kubesphere_cluster_name }}"
    state: absent
    confirm_unbind: member2
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    host_kubeconfig: "{{ hostvars[groups['kubesphere_host'][0]].kubesphere_kubeconfig }}"
    host_context: "{{ hostvars[groups['kubesphere_host'][0]].kubesphere_context }}"
  when: kubesphere_cluster_name == 'member2'
"""

RETURN = r"""
cluster:
  description:
    - The Cluster as it is after the run (in check mode, as the server would store it), kubeconfig and token masked.
    - On failure, the cluster's name.
  returned: state present, after the checks
  type: raw
plan:
  description:
    - State present. The steps of the import, in order (C(id), C(kind), C(side), C(cluster), C(object), C(why), and
      C(verb) for a write); check mode reports the plan the real run executes. A converged member plans no write and
      no wait.
  returned: state present, after the checks
  type: list
  elements: dict
changes:
  description: The fields written (C((create)) for a creation); empty when nothing changed.
  returned: state present, after the checks
  type: list
  elements: str
problems:
  description:
    - What the checks found (each C(code), C(cluster), C(message)); nothing was written on any cluster.
    - C(workspace_conflict) (state present, first join) when the member holds a Workspace labelled
      C(kubefed.io/managed=true) whose FederatedWorkspace on the host does not place the member; KubeSphere's join
      refuses it. The message names the workspace and the way out.
  returned: on refusal
  type: list
  elements: dict
repaired:
  description:
    - What the health wait had to write to get a stuck import going, one sentence each (also warned about); the run
      then reports C(changed). Only on KubeSphere 4.1, for its known defect (ks-controller-manager restarts once when
      the first member of a fresh host turns Ready, and a member whose ks-core install it was running is left with a
      first release record C(pending-install) that Helm refuses every retry for; after 6 minutes the wait deletes that
      record Secret on the member and annotates the Cluster C(kubesphere.io/syncAt) so KubeSphere installs again).
  returned: when something was repaired
  type: list
  elements: str
health:
  description: The verdict on the member (C(verdict), C(healthy), C(reason), C(cluster_ready), C(kubefed)).
  returned: state present, not in check mode
  type: dict
settled:
  description:
    - Why nothing was read nor written, when O(preflight_facts) proved the import converged; RV(cluster) and
      RV(verification) are then not returned, and RV(health) is the preflight's verdict.
  returned: when O(preflight_facts) proved the import converged
  type: str
verification:
  description: What Ready does not prove, checked after the import; empty when the member is usable.
  returned: state present, after a wait
  type: list
  elements: dict
member_objects:
  description:
    - State present, before a first join (no KubeFedCluster yet). The names of the user namespaces (C(namespaces))
      and workspaces (C(workspaces)) the member already holds (not Kubernetes' or KubeSphere's own, not in
      C(system-workspace)).
  returned: state present, first join, member reachable
  type: dict
findings:
  description:
    - Warning-level findings before a first join (each C(code), C(cluster), C(message)); they are also shown as
      warnings and refuse nothing. C(member_not_clean) when O(name) already holds user namespaces or workspaces
      (what was made on a member's own console never reaches the host, and kubefed adopts objects of the same name).
  returned: state present, first join, member reachable
  type: list
  elements: dict
join_failure:
  description:
    - When the run failed with code C(join_failed). The permanent join failure KubeSphere's controller wrote on the
      Cluster (C(code) C(workspace_conflict), C(workspace), C(reason) (Federated False's reason, the controller's
      error) and C(message)); C(problems) then says what conflicts now and the way out.
  returned: on failure with code join_failed
  type: dict
proxy:
  description: Proxy members. The address the agent dials (C(address), C(source), C(api_agrees)); never the token.
  returned: connection_type proxy
  type: dict
credential:
  description: O(dedicated_credential). C(service_account), C(namespace), C(binding), C(cluster_role) and C(why) cluster-admin.
  returned: dedicated_credential
  type: dict
agent:
  description: Proxy members. The applied cluster-agent Deployment, token masked.
  returned: connection_type proxy, once tower initialised the Cluster
  type: dict
agent_reconnect:
  description:
    - Proxy members whose agent this run re-pointed (it dialled another address than the host publishes) or found
      not connected. C(from) and C(to) (the addresses), C(connection) (tower's C(AgentAvailable) record before the re-point, with
      C(status), C(time), C(message)) and C(after) (the record of the connection made after the re-point, the
      proof; null in check mode). When none comes within O(wait_timeout) the run fails with code
      C(agent_not_connected), naming the member and the address.
  returned: connection_type proxy, when the agent was re-pointed or not connected
  type: dict
"""

from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import (
    KubeSphereModule, auth_argspec)
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import join as join_runner
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import unbind as unbind_runner
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.slicing import wait_argspec
from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet.report import peers_argspec


def main():
    spec = dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        name=dict(type="str", required=True),
        connection_type=dict(type="str", default="direct", choices=["direct", "proxy"]),
        host_label=dict(type="str", default="host"),
        stored_kubeconfig=dict(type="str", no_log=True),
        group=dict(type="str"),
        provider=dict(type="str"),
        description=dict(type="str"),
        alias=dict(type="str"),
        labels=dict(type="dict"),
        creator=dict(type="str", default="admin"),
        allow_loopback=dict(type="bool", default=False),
        allow_insecure=dict(type="bool", default=False),
        cert_expiry_margin_days=dict(type="int", default=30),
        max_clock_skew=dict(type="float"),
        dedicated_credential=dict(type="bool", default=False),
        credential_name=dict(type="str", default="kubesphere-multicluster"),
        proxy_address=dict(type="str"),
        allow_node_port=dict(type="bool", default=True),
        agent_image=dict(type="str"),
        verify_strict=dict(type="bool", default=False),
        confirm_unbind=dict(type="str"),
        force=dict(type="bool", default=False),
        remove_from_placements=dict(type="bool", default=False),
        cleanup_member=dict(type="bool", default=False),
        remove_agent=dict(type="bool", default=True),
        webhook_backup_dir=dict(type="path", default="~/.ansible/kubesphere-backups"),
        peers=peers_argspec(),
        timeout=dict(type="int", default=30),
        settle_timeout=dict(type="int", default=60),
        preflight_facts=dict(type="dict"),
    )
    spec.update(wait_argspec(True, 600, wait_sleep=5))
    spec.update(auth_argspec())
    spec.update(auth_argspec("host_"))
    module = KubeSphereModule(argument_spec=spec, supports_check_mode=True)
    if module.params["state"] == "absent":
        module.run_operation(unbind_runner.run)
    else:
        module.run_operation(join_runner.run)


if __name__ == "__main__":
    main()
