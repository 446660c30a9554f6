# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Checks of a fleet description (pure): one host, names KubeSphere
accepts, unique names, kubeconfigs and contexts that exist, distinct API servers; and, for a static
inventory, node groups that exist and one rollout wave per cluster. `views` are kubeconfig.summary
results (what a kubeconfig says, never its secrets). `check(...)` is the one composition the fleet_check
action and the inventory plugin both use. Codes: no_host, two_hosts, member_as_host, duplicate_name,
invalid_name, unknown_connection_type, kubeconfig_missing, kubeconfig_invalid, no_such_context,
same_server, node_group_missing, two_waves, bad_proxy_publish_address (the host's)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet import model as fleet
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import kubeconfig
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import join as join_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import roles as role_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem


def validate(clusters, views=None):
    """Every problem of a fleet, in a stable order. `views` maps a cluster's inventory name to its
    `kubeconfig.summary` (omit it to skip the kubeconfig checks, e.g. when files live elsewhere)."""
    problems = []
    hosts = [c for c in clusters if c["role"] == "host"]
    members = {c["name"] for c in clusters if c["role"] == "member"}
    if not hosts:
        problems.append(problem("no_host", None, "the fleet has no host cluster: put exactly one cluster in group "
                                "%s (in a compact file: `host:`); in an AWX slice whose share lacks the host, run "
                                "playbooks/members.yml with kubesphere_host_context" % fleet.HOST_GROUP))
    elif len({c["name"] for c in hosts}) > 1:
        names = ", ".join(sorted({c["name"] for c in hosts}))
        problems.append(problem("two_hosts", None, "the fleet has %d host clusters (%s): KubeSphere has exactly one "
                                "host; keep one in %s and make the others members" % (len(hosts), names, fleet.HOST_GROUP)))
    for c in hosts:
        if c["name"] in members:
            problems.append(problem("member_as_host", c["name"], "cluster '%s' is listed both as the host and as a "
                                    "member: a cluster is either the host or a member" % c["name"]))
    seen = {}
    for c in clusters:
        seen.setdefault(c["cluster_name"], set()).add(c["name"])
    for name, hosts_of_name in sorted(seen.items()):
        if len(hosts_of_name) > 1:
            problems.append(problem("duplicate_name", name, "cluster '%s': the name is used by %d inventory hosts "
                                    "(%s): KubeSphere cluster names must be unique" % (
                                        name, len(hosts_of_name), ", ".join(sorted(hosts_of_name)))))
    checked = set()
    for c in clusters:
        if c["name"] in checked:
            continue
        checked.add(c["name"])
        problems += _cluster_problems(c, views.get(c["name"]) if views is not None else False)
    problems += _same_servers(clusters, views or {})
    return problems


def inventory_problems(clusters, groups):
    """Problems only a static inventory can have: a kubesphere_node_group that names no inventory group
    (time sync would find no node to check), and a cluster in two rollout waves (it would be rolled twice)."""
    out = []
    for c in clusters:
        if c.get("node_group") and c["node_group"] not in groups:
            out.append(problem("node_group_missing", c["cluster_name"], "cluster '%s': node group '%s' "
                               "(kubesphere_node_group) is not an inventory group: add the group of its node hosts "
                               "or remove the variable" % (c["cluster_name"], c["node_group"])))
        waves = sorted(g for g, hosts in groups.items() if g.startswith(fleet.WAVE_PREFIX) and c["name"] in (hosts or []))
        if len(waves) > 1:
            out.append(problem("two_waves", c["cluster_name"], "cluster '%s' is in %d rollout waves (%s): put each "
                               "cluster in one wave_* group" % (c["cluster_name"], len(waves), ", ".join(waves))))
    return out


def _cluster_problems(c, view):
    out = []
    name = c["cluster_name"]
    out += join_checks.name_problems(name, c["connection_type"])
    if c["connection_type"] not in fleet.CONNECTION_TYPES:
        out.append(problem("unknown_connection_type", name, "cluster '%s': connection type '%s' is unknown: use %s"
                           % (name, c["connection_type"], " or ".join("'%s'" % t for t in fleet.CONNECTION_TYPES))))
    # the host's only (members ignore it: an AWX survey answer reaches every inventory host)
    out += role_checks.proxy_address_problems(name, c["role"], c.get("proxy_publish_address"))
    if not view:  # False: checks skipped; None: no kubeconfig set (kubernetes.core's default applies)
        return out
    if not view["exists"]:
        out.append(problem("kubeconfig_missing", name, "cluster '%s': kubeconfig file %s does not exist"
                           % (name, view["source"])))
    elif view["error"]:
        out.append(problem("kubeconfig_invalid", name, "cluster '%s': kubeconfig %s %s" % (name, view["source"], view["error"])))
    else:
        context = c["context"] or view["current"]
        if context not in view["contexts"]:
            out.append(problem("no_such_context", name, "cluster '%s': kubeconfig %s has no context '%s' (it has: %s)" % (
                name, view["source"], context, ", ".join(sorted(view["contexts"])) or "none")))
    return out


def _same_servers(clusters, views):
    out = []
    by_server = {}
    for c in clusters:
        server = fleet.server_of(c, views.get(c["name"]))
        if server and c["name"] not in by_server.get(server, []):
            by_server.setdefault(server, []).append(c["name"])
    for server, names in sorted(by_server.items()):
        if len(names) > 1:
            out.append(problem("same_server", names[1], "clusters %s are the same API server (%s): list each "
                               "cluster once" % (" and ".join("'%s'" % n for n in names), server)))
    return out


def check(clusters, groups=None, read_kubeconfigs=True):
    """Every problem of a fleet: `validate` over the clusters (with their kubeconfig views when
    `read_kubeconfigs`), plus `inventory_problems` when the inventory's `groups` are given."""
    views = {c["name"]: kubeconfig.summary(c.get("kubeconfig")) for c in clusters} if read_kubeconfigs else None
    problems = validate(clusters, views)
    if groups is not None:
        problems += inventory_problems(clusters, groups)
    return problems


def format_fleet_problems(problems):
    """'the fleet description has N problems:' and one line per problem (fleet_check's and the inventory
    plugin's message)."""
    lines = ["the fleet description has %d problem%s:" % (len(problems), "" if len(problems) == 1 else "s")]
    lines += ["- [%s] %s" % (p["code"], p["message"]) for p in problems]
    return "\n".join(lines)
