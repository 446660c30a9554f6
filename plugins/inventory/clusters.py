# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: clusters
short_description: A KubeSphere fleet (host and members) from one compact file
version_added: 0.1.0
description:
  - Reads a compact file whose name ends in C(kubesphere.yml) or C(kubesphere.yaml) that lists the host
    cluster and the member clusters, and turns it into the collection's inventory layout (see
    C(inventories/example/)) - every cluster an inventory host run with C(ansible_connection=local);
    groups C(kubesphere_host) (exactly one) and C(kubesphere_members), both children of
    C(kubesphere_clusters); C(wave_<name>) and C(region_<name>) groups; one group of node hosts per
    cluster for time sync; and the variables C(kubesphere_cluster_name), C(kubesphere_kubeconfig),
    C(kubesphere_context), C(kubesphere_connection_type), C(kubesphere_provider),
    C(kubesphere_cluster_group), C(kubesphere_node_group), C(kubesphere_proxy_publish_address),
    C(kubesphere_install_config).
  - The description is validated before anything runs. Each problem gets one message - no host or two
    hosts, a duplicate cluster name, a name KubeSphere rejects, an unknown connection type, a member
    listed as host, a kubeconfig file that does not exist or has no such context, two clusters that are the
    same API server, an unknown setting - and the source fails with all of them.
  - With O(discover=true) it also reads the host cluster's C(Cluster) objects and adds what the host knows
    (C(kubesphere_joined), C(kubesphere_ready), C(kubesphere_ready_reason), C(kubesphere_labels),
    C(kubesphere_kubernetes_version), C(kubesphere_kubesphere_version)), and from the host's
    C(KubeFedCluster) objects the health verdict the collection's modules give (C(kubesphere_health) - ready,
    offline, unhealthy, joining, not_federated, not_ready, terminating or unknown - and
    C(kubesphere_health_reason)). C(kubesphere_ready) is false when kubefed says a member whose C(Cluster)
    claims Ready is offline or unhealthy - a member that died after joining keeps Ready true on its
    C(Cluster), because KubeSphere's webhook denies the update. Members the host manages but the
    file does not list are added to group C(kubesphere_discovered) (not a child of C(kubesphere_clusters),
    so no play acts on them - they have no kubeconfig here) with C(kubesphere_discovered=true), so an AWX
    inventory source always shows the real fleet. Kubeconfigs and tokens in C(Cluster) objects are never read into
    the inventory.
author:
  - kubesphere.multicluster contributors (@kubesphere)
extends_documentation_fragment:
  - constructed
  - inventory_cache
requirements:
  - kubernetes >= 24.2.0 (only with O(discover=true))
options:
  plugin:
    description: Marks the file as this plugin's.
    required: true
    choices: [kubesphere.multicluster.clusters]
    type: str
  host:
    description:
      - The host cluster - C(name) (inventory host, and KubeSphere name unless C(cluster_name) is set),
        C(kubeconfig) (a path relative to this file, an absolute path, or inline content), C(context),
        C(connection_type) (direct or proxy), C(provider), C(cluster_group), C(node_group), C(nodes)
        (node host names for time sync), C(wave), C(region).
      - C(proxy_publish_address) (host only) - the tower address proxy-mode agents dial,
        C(http://<address>:<port>) (C(multicluster.proxyPublishAddress)); an empty string removes it so the address
        comes from tower's Service; checked like the rest of the file (code C(bad_proxy_publish_address)).
      - C(install_config) - a path on the controller (relative to this file, or absolute) where the
        C(install_config) role writes the C(cluster-configuration.yaml) this cluster is installed with.
    type: raw
  members:
    description: The member clusters, each with the keys described for O(host).
    type: list
    elements: raw
    default: []
  defaults:
    description: Settings applied to every cluster that does not set them (any key of O(host) but C(name), C(nodes), C(wave), C(region)).
    type: dict
    default: {}
  check_kubeconfigs:
    description:
      - Check that each kubeconfig file exists and has the context, and that no two clusters are the same API
        server. Turn off where the files exist only on the machine that runs the playbooks.
    type: bool
    default: true
    env:
      - name: KUBESPHERE_INVENTORY_CHECK_KUBECONFIGS
  discover:
    description: Read the host's C(Cluster) objects and add what the host knows about each member.
    type: bool
    default: false
    env:
      - name: KUBESPHERE_INVENTORY_DISCOVER
"""

EXAMPLES = r"""
# fleet.kubesphere.yml -- ansible-inventory -i fleet.kubesphere.yml --graph
plugin: kubesphere.multicluster.clusters
defaults:
  provider: kubesphere
host:
  name: host
  kubeconfig: kubeconfigs/host.yaml        # relative to this file
  context: host
  cluster_group: production
  proxy_publish_address: http://192.168.0.10:30721   # tower's address for proxy members
members:
  - name: member1
    kubeconfig: kubeconfigs/member1.yaml
    wave: canary
    region: eu-west
    nodes: [m1-node1.example.com, m1-node2.example.com]
  - name: edge-1
    kubeconfig: kubeconfigs/edge-1.yaml
    connection_type: proxy
    wave: rest
discover: true
keyed_groups:
  - key: kubesphere_cluster_group
    prefix: group
"""

import os

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display

from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet import model as fleet
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import fleet as fleet_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary

try:  # ansible-core >= 2.19 templates only trusted inventory values
    from ansible.template import trust_as_template
except ImportError:  # older cores template every inventory string
    def trust_as_template(value):
        return value

display = Display()


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "kubesphere.multicluster.clusters"
    SUFFIXES = ("kubesphere.yml", "kubesphere.yaml")

    def verify_file(self, path):
        if not super(InventoryModule, self).verify_file(path):
            return False
        if path.endswith(self.SUFFIXES):
            return True
        display.vvv("kubesphere.multicluster.clusters: skipping %s: the file name must end in %s"
                    % (path, " or ".join(self.SUFFIXES)))
        return False

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        doc = {k: self.get_option(k) for k in ("host", "members", "defaults")}
        clusters, problems = fleet.parse_compact(doc, base_dir=os.path.dirname(os.path.abspath(path)))
        problems += fleet_checks.check(clusters, read_kubeconfigs=self.get_option("check_kubeconfigs"))
        if problems:
            raise AnsibleParserError("%s: %s" % (path, fleet_checks.format_fleet_problems(problems)))
        if self.get_option("discover"):
            clusters = fleet.merge_discovered(clusters, self._discovered(path, clusters, cache))
        self._populate(clusters)

    def _discovered(self, path, clusters, cache):
        """The host's Cluster objects as `fleet.discovered_clusters` sees them, through the cache."""
        key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        if use_cache:
            try:
                return self._cache[key]
            except KeyError:
                pass
        host = next(c for c in clusters if c["role"] == "host")
        params = {"kubeconfig": host["kubeconfig"], "context": host["context"]}
        try:
            from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import Connection  # noqa: PLC0415

            conn = Connection(None, host["cluster_name"], params=params)
            items = conn.list(vocabulary.CLUSTER_API_VERSION, vocabulary.CLUSTER_KIND)
            # kubefed's view: a member that died after joining keeps Ready True on its Cluster
            kubefed = conn.list(vocabulary.KUBEFED_API_VERSION, vocabulary.KUBEFED_CLUSTER_KIND,
                                vocabulary.KUBEFED_NAMESPACE, if_served=True)
        except KubeSphereError as e:
            raise AnsibleParserError("%s: cannot discover the fleet from the host: %s" % (path, e.msg))
        found = fleet.discovered_clusters(items, kubefed)
        if self.get_option("cache"):
            self._cache[key] = found
        return found

    def _populate(self, clusters):
        inv = self.inventory
        inv.add_group(fleet.CLUSTERS_GROUP)
        for group in (fleet.HOST_GROUP, fleet.MEMBERS_GROUP):
            inv.add_group(group)
            inv.add_child(fleet.CLUSTERS_GROUP, group)
        for var, value in fleet.CLUSTER_GROUP_VARS.items():  # our own constants: safe to template
            inv.set_variable(fleet.CLUSTERS_GROUP, var, trust_as_template(value))
        strict = self.get_option("strict")
        for c in clusters:
            name = c["name"]
            for group in fleet.inventory_groups(c):
                inv.add_group(group)
                inv.add_host(name, group=group)
            hostvars = fleet.inventory_hostvars(c)
            for var, value in hostvars.items():
                inv.set_variable(name, var, value)
            if c["nodes"]:
                inv.add_group(c["node_group"])
                for node in c["nodes"]:
                    inv.add_host(node, group=c["node_group"])
            variables = dict(fleet.CLUSTER_GROUP_VARS, **hostvars)
            self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)
