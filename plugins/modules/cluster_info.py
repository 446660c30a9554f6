#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cluster_info
short_description: What one cluster looks like to KubeSphere multi-cluster management
version_added: 0.1.0
description:
  - Reads, without changing anything, what matters for KubeSphere multi-cluster management on one cluster
    (KubeSphere 3.4 with ks-installer; KubeSphere v4 annotations where present).
  - Kubernetes version, whether KubeSphere is installed and its version, the installer's status, the
    cluster role (as set in the ClusterConfiguration and as rendered into C(kubesphere-config)), a
    fingerprint of the jwtSecret (never the secret), C(maximumClockSkew), the enabled pluggable components,
    the kube-system namespace UID (KubeSphere's cluster identity), the host annotations KubeSphere v4 puts on
    a member's C(kubesphere-system) namespace, the API server's clock offset against the controller, and the
    C(Cluster) objects the cluster holds (on a host, the members it manages, with their conditions).
  - A cluster that cannot be reached is reported with the reason (unreachable, no answer in time, no such
    context, untrusted certificate, unknown or unusable kubeconfig, rejected credentials) and a stable code;
    the task does not fail unless O(fail_on_unreachable=true).
  - Connection options left unset are not taken from C(K8S_AUTH_*) environment variables (unlike
    kubernetes.core's modules). A fleet tool reaches each cluster only as its own options say. When such
    variables are set, the module warns that they were ignored.
  - Never returns kubeconfigs, tokens or the jwtSecret.
author:
  - kubesphere.multicluster contributors (@kubesphere)
options:
  cluster_name:
    description:
      - The cluster's KubeSphere name, used in every message and returned as RV(cluster.name).
      - The inventory plugin and the documented inventory layout set it as C(kubesphere_cluster_name).
    type: str
    required: true
  fail_on_unreachable:
    description:
      - Fail the task when the cluster cannot be read. By default the reason is returned and the task succeeds,
        so that a fleet report still covers the other clusters.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to read the cluster in all. A cluster that has not answered by then is reported with reason
        code C(timeout) ("did not answer within N s"). Without a deadline, an address that silently drops
        packets would hold the whole fleet report for minutes (the kubernetes client sets no timeout).
    type: float
    default: 30
  clock_samples:
    description:
      - How many requests to time for the clock offset. The C(Date) header has a resolution of one second;
        several samples spread over one second narrow the interval; N samples take about one second more.
    type: int
    default: 1
  read_proxy:
    description:
      - Read where the proxy connection stands - the C(cluster-agent) Deployment (RV(cluster.agent_proxy_server)) and,
        on a host, where tower is published (RV(cluster.proxy_publish)).
      - With V(false) both are null and one or two requests fewer are made. The preflight of C(site.yml) turns it
        off for a member the inventory connects directly, whose agent nothing in that run looks at.
    type: bool
    default: true
  api_versions:
    description:
      - Also read the group/versions the cluster serves (RV(cluster.api_versions); C(GET /api) and C(/apis)), which the
        checks of multi-cluster projects compare each object's C(apiVersion) with.
      - The preflight of C(site.yml) turns it on for members when the host describes projects, so that
        C(federate.yml) needs no module run per member to read them.
    type: bool
    default: false
  local_objects:
    description:
      - Also list the namespaces and workspaces a user made on this cluster that kubefed does not manage
        (RV(cluster.made_locally)); on a joined member, what was made on its own console, which the host never
        shows. Two more list requests. The fleet doctor's role turns it on.
    type: bool
    default: false
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - kubesphere.multicluster.attributes.info
requirements:
  - kubernetes >= 24.2.0
notes:
  - The clock offset is an interval, not a point, see RV(cluster.clock).
  - Where the connection is C(local), the action plugin runs this module inside Ansible's worker process (the
    kubernetes client is imported once per run, not once per task and cluster), with the controller's Python;
    arguments, check mode, C(no_log), warnings and failures are the module's own. With another connection,
    C(become), C(async), a task C(environment), or the variable C(kubesphere_in_process=false), it runs as a
    module process. C(-vvv) shows which.
"""

EXAMPLES = r"""
# Tasks of a play over the fleet (hosts: kubesphere_clusters, gather_facts: false), with the inventory layout
# of inventories/example: each cluster's inventory host sets kubesphere_cluster_name, kubesphere_kubeconfig and
# kubesphere_context (and members kubesphere_connection_type); the host cluster is groups['kubesphere_host'][0].

- name: Read each cluster of the fleet
  kubesphere.multicluster.cluster_info:
    cluster_name: "{{ kubesphere_cluster_name }}"
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
  register: ks_info

- name: Stop when a member's jwtSecret differs from the host's
  ansible.builtin.assert:
    that: ks_info.cluster.jwt_secret_hash == hostvars[groups['kubesphere_host'][0]].ks_info.cluster.jwt_secret_hash
    fail_msg: "{{ ks_info.cluster.name }}: jwtSecret differs from the host's"
  when: inventory_hostname in groups['kubesphere_members']

- name: Fail at once when a cluster cannot be reached
  kubesphere.multicluster.cluster_info:
    cluster_name: "{{ kubesphere_cluster_name }}"
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    fail_on_unreachable: true
"""

RETURN = r"""
msg:
  description: One line about the cluster.
  returned: always
  type: str
  sample: "cluster 'member1': Kubernetes v1.34.3, KubeSphere v3.4.1, role member"
cluster:
  description: The cluster's facts. Keys other than name, reachable, reason_code and reason are null when it is not reachable.
  returned: always
  type: dict
  contains:
    name: {description: The cluster name (O(cluster_name)), type: str, returned: always}
    reachable: {description: Whether the API server answered, type: bool, returned: always}
    reason_code:
      description: Why it could not be read.
      type: str
      returned: always
      sample: unreachable
      choices: [unreachable, timeout, tls_untrusted, unauthorized, forbidden, no_such_context, kubeconfig_missing,
                kubeconfig_invalid, kind_not_served, not_found, api_error]
    reason: {description: The reason in words and the underlying error, type: str, returned: always}
    kubernetes_version: {description: C(gitVersion) of C(/version), type: str, returned: always, sample: v1.34.3}
    kubesphere_installed:
      description:
        - A ClusterConfiguration, a kubesphere-config or a C(ks-core) Helm release exists.
        - None when the credential may read neither the ClusterConfiguration nor the kubesphere-config (see RV(cluster.unreadable)).
      type: bool
      returned: always
    kubesphere_version:
      description:
        - The full KubeSphere version when something states it, strongest first, the C(ks-core) Helm release's chart
          appVersion from KubeSphere 4 on, then ks-installer's stamp (C(status.core.version) or its C(version)
          label).
      type: str
      returned: always
    kubesphere_line:
      description:
        - The KubeSphere line the cluster runs (C(3.4), C(4.1)), detected, never assumed, from the C(ks-core) Helm
          release's chart appVersion, ks-installer's ClusterConfiguration, or the layout of the rendered
          kubesphere-config (KubeSphere 4 renders C(helmExecutor), C(extension) and C(composedApp)). A C(ks-core)
          release alone says nothing (ks-installer v3.4.1 makes one too); its appVersion does from 4 on. A 3.x
          appVersion only says KubeSphere 3 (ks-installer's own chart says C(v3.3.2) on 3.4.0 and 3.4.1), so the
          ClusterConfiguration says which, else C(3.4).
        - Null when the cluster shows no KubeSphere (not installed, or a bare KubeSphere 4.1 member before its import).
      type: str
      returned: always
      sample: "3.4"
    version_evidence: {description: What showed the line (one sentence), type: str, returned: always}
    version_managed:
      description: Whether this release of the collection manages that line; modules that write refuse another
        line with code C(unsupported_version), naming the cluster, and change nothing.
      type: bool
      returned: always
    ks_core_release:
      description:
        - The C(ks-core) Helm release's latest record (release name, namespace, revision, status, chart,
          chart_version, app_version, description); null without one. Of its values only C(multicluster)
          (C(role) and C(host_cluster_name), the values C(multicluster.role) and C(multicluster.hostClusterName),
          null when unset); nothing of its manifests.
        - When the credential may not read Secrets in C(kubesphere-system) it is null and C(warnings) says so.
      type: dict
      returned: always
      sample: {name: ks-core, namespace: kubesphere-system, revision: 1, status: deployed, chart: ks-core,
               chart_version: 1.1.4, app_version: v4.1.3, description: Install complete,
               multicluster: {role: null, host_cluster_name: host}}
    installer:
      description: The ks-installer ClusterConfiguration's status.
      type: dict
      returned: when reachable
      sample: {present: true, core_status: enabled, enabled_components: [core, multicluster], failed_components: []}
    components: {description: Pluggable components enabled in the ClusterConfiguration spec, type: list, elements: str, returned: when reachable}
    cluster_role:
      description: C(multicluster.clusterRole) in the ClusterConfiguration (spec) and in kubesphere-config (rendered).
      type: dict
      returned: always
      sample: {spec: member, rendered: member}
    role: {description: "The effective role: rendered, else spec, else none; None when neither could be read", type: str, returned: always}
    jwt_secret_hash: {description: Fingerprint (C(sha256:<12 hex>)) of the rendered jwtSecret, type: str, returned: always}
    spec_jwt_secret_hash:
      description: Fingerprint of the jwtSecret in the ClusterConfiguration's spec (what ks-installer renders next).
      type: str
      returned: always
    rendered_cluster_name:
      description: KubeSphere 3.4. The C(multicluster.clusterName) of the rendered kubesphere-config (the host's controller writes it at a join).
      type: str
      returned: always
    maximum_clock_skew: {description: C(authentication.maximumClockSkew) as rendered, type: str, returned: always}
    maximum_clock_skew_seconds: {description: The same in seconds (10 when unset), type: float, returned: when reachable}
    kube_system_uid: {description: UID of namespace kube-system (KubeSphere's cluster identity), type: str, returned: always}
    host_annotations:
      description: C(cluster.kubesphere.io/name) and C(cluster.kubesphere.io/host-cluster) on namespace kubesphere-system (KubeSphere v4).
      type: dict
      returned: always
    clock:
      description:
        - Offset of the API server's clock against the controller's, in seconds (positive = ahead), from the
          C(Date) header. C(low)/C(high) bound the true offset; C(uncertainty) is half the width (at least 0.5 s).
      type: dict
      returned: always
      sample: {offset: 0.42, uncertainty: 0.51, low: -0.09, high: 0.93}
    clusters:
      description:
        - The Cluster objects on this cluster (a host's members), without kubeconfigs or tokens.
        - Not read (an empty list) on a cluster whose role is member by every source (the role it runs with and,
          on KubeSphere 3.4, its ClusterConfiguration's); a cluster that is being made a host, or a host that is
          being made a member, has them read.
        - C(ready) is the Cluster's own Ready condition. A member that died after joining keeps Ready True
          (KubeSphere's webhook denies every update of a Cluster whose member it cannot reach), so each entry
          also carries C(kubefed) (the host's KubeFedCluster of it - C(ready), C(offline), C(not_ready),
          C(pending), C(absent)) and C(health), the verdict from both (C(ready), C(offline), C(joining),
          C(not_ready), C(unknown), ...) with C(health_reason).
        - C(client_cert_not_after) is when the client certificate of the kubeconfig the Cluster stores expires
          (UTC, ISO 8601); null for a token, a proxy or the host's own Cluster. Only the date is returned.
        - C(annotations) (only those an import sets - way-to-add, description, alias-name, creator),
          C(join_federation) and C(kubeconfig_fingerprint) (C(sha256:<12 hex>) of the stored kubeconfig, never the
          kubeconfig) are what the member module compares, so that a converged import is told from these facts.
      type: list
      elements: dict
      returned: always
      sample: [{name: member1, uid: 0b5c6d3e-5f0a-4a53-9e0c-2f6f1d0c1a11, role: member, connection_type: direct, ready: true,
                kubefed: offline, health: offline,
                health_reason: "cluster 'member1': KubeFedCluster kube-federation-system/member1 reports Offline ...",
                kubernetes_version: v1.34.3, conditions: []}]
    kubefed_clusters:
      description:
        - On a host with kubefed, its C(KubeFedCluster) objects (name, ready, offline, reason); null when kubefed is not
          served, and on a cluster whose role is member by every source (not read, as RV(cluster.clusters)).
      type: list
      elements: dict
      returned: always
    agent_proxy_server:
      description:
        - The address the cluster's C(cluster-agent) dials (its C(--proxy-server)), on a member imported by proxy;
          null without an agent, or when the version is not one this collection manages.
        - Compare with the host's RV(cluster.proxy_publish) C(address); the fleet doctor's
          C(stale_proxy_address) and the status table's notes do.
      type: str
      returned: always
      sample: http://10.0.0.11:30080
    proxy_publish:
      description:
        - On a host, where tower is published for proxy members' agents, derived as ks-apiserver does -
          C(address), C(source) (C(proxyPublishAddress), C(loadBalancer) or C(nodePort)), C(api_agrees) (false
          for the NodePort fallback, which ks-apiserver's agent/deployment does not serve) and C(error) (why there is
          no address). Null on other clusters.
      type: dict
      returned: always
      sample: {address: "http://10.0.0.11:30080", source: proxyPublishAddress, api_agrees: true, error: null}
    made_locally:
      description:
        - With O(local_objects), the names of the namespaces and workspaces a user made on the cluster that kubefed
          does not manage (no C(kubefed.io/managed=true) label; Kubernetes' and KubeSphere's own are left out) -
          C(namespaces) and C(workspaces). Null when not asked for, or when they could not be read.
      type: dict
      returned: always
      sample: {namespaces: [team-a-dev], workspaces: [team-a]}
    unreadable:
      description:
        - The reads the credential may not make (HTTP 403); the cluster is still reported, the facts that come from
          those objects are unknown. A read-only credential that lacks a permission shows here, not as a failure.
      type: list
      elements: dict
      returned: always
      contains:
        code: {description: C(forbidden), type: str}
        kind: {description: "The kind that could not be read (C(Cluster), C(KubeFedCluster), C(Secret), ...)", type: str}
        namespace: {description: Its namespace (None for cluster-scoped kinds), type: str}
        message: {description: The API server's answer, type: str}
    api_versions:
      description: With O(api_versions=true), the group/versions the cluster serves; else null.
      type: list
      elements: str
      returned: always
      sample: [v1, apps/v1, batch/v1, cluster.kubesphere.io/v1alpha1]
    extensions:
      description:
        - On a KubeSphere 4.1 host, each extension that has an InstallPlan, as KubeSphere reports it - C(name),
          C(version) (asked for), C(state) (C(Installed), C(InstallFailed), C(UpgradeFailed), C(Installing), ...),
          C(installed) and C(failed) (the state judged), C(installed_version), C(target_namespace), C(release_name),
          C(job_name), C(failure) (the reason of a failed state), C(fix) (what removes the cause of a known wedge, such as kubefed's
          KubeFedConfig without feature gates) and C(state_history) (C({state, time})). Null
          elsewhere (KubeSphere 3.4 has no extensions), or when InstallPlans could not be read.
      type: list
      elements: dict
      returned: always
      sample: [{name: kubefed, version: 1.0.0, state: Installed, installed_version: 1.0.0, failure: null}]
    warnings:
      description: Things read but not understood (e.g. kubesphere-config that is not YAML), and each kind that could not be read.
      type: list
      elements: str
      returned: always
"""

from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import KubeSphereModule, auth_argspec
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import cluster_info


def main():
    argspec = auth_argspec()
    argspec.update(cluster_name={"type": "str", "required": True},
                   fail_on_unreachable={"type": "bool", "default": False},
                   timeout={"type": "float", "default": 30},
                   clock_samples={"type": "int", "default": 1},
                   read_proxy={"type": "bool", "default": True},
                   local_objects={"type": "bool", "default": False},
                   api_versions={"type": "bool", "default": False})
    module = KubeSphereModule(argument_spec=argspec, supports_check_mode=True)
    module.run_operation(cluster_info.run)


if __name__ == "__main__":
    main()
