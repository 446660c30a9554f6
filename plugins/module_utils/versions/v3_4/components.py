# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Pluggable components in a ClusterConfiguration spec (3.x).

KubeSphere expects every pluggable component enabled on the host to be enabled on its members too,
except the App Store (`openpitrix.store`), which runs on the host only. A component is named by its
dotted path in `spec` without `.enabled`: `devops`, `logging`, `openpitrix.store`,
`network.networkpolicy`. Pure functions over plain dicts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Host-only components: never copied to members.
HOST_ONLY = ("openpitrix.store",)
# Top-level spec keys that are settings, not pluggable components.
NOT_COMPONENTS = ("authentication", "common", "multicluster", "persistence", "etcd", "local_registry")


def spec_components(spec):
    """Sorted names of the components with `enabled: true` in a CC spec (one or two levels deep)."""
    found = []
    for key, value in (spec or {}).items():
        if key in NOT_COMPONENTS or not isinstance(value, dict):
            continue
        if value.get("enabled") is True:
            found.append(key)
        for sub, subvalue in value.items():
            if isinstance(subvalue, dict) and subvalue.get("enabled") is True:
                found.append("%s.%s" % (key, sub))
    return sorted(found)


def wanted_on_member(host_spec, include=None, exclude=()):
    """Components the member must enable: those enabled on the host, minus the host-only ones and
    `exclude`; when `include` is given, only those of it (a name also selects its sub-components:
    `logging` selects `logging.logsidecar`)."""
    names = [n for n in spec_components(host_spec) if n not in HOST_ONLY and not _selected(n, exclude)]
    if include:
        names = [n for n in names if _selected(n, include)]
    return names


def missing_on_member(host_spec, member_spec, include=None, exclude=()):
    """What sync would enable on the member ([] when it already has them all)."""
    have = set(spec_components(member_spec))
    return [n for n in wanted_on_member(host_spec, include, exclude) if n not in have]


def _selected(name, names):
    return any(name == n or name.startswith(n + ".") for n in names or ())
