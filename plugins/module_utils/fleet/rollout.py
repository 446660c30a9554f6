# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The order in which members are changed: wave by wave.

The inventory puts members into rollout waves with groups `wave_<name>` (see inventories/example). A
playbook then runs its member play over `pattern`, in batches `serial`, with max_fail_percentage 0, so a
failure in one wave stops the rollout before the next wave is touched. Members in no wave come last.
Pure: groups in, plan out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet.model import WAVE_PREFIX


class RolloutError(ValueError):
    """The wave order names a wave the inventory does not have, or a member is in two waves."""


def plan(groups, waves=None, members_group="kubesphere_members"):
    """{'pattern', 'serial', 'waves': [{'name', 'hosts'}]} for the members of `groups` (Ansible's `groups`).

    `waves`: wave names in rollout order (without the `wave_` prefix); default: every wave group of the
    inventory, sorted by name. A wave without members of `members_group` is left out."""
    members = list(groups.get(members_group) or [])
    present = sorted(g[len(WAVE_PREFIX):] for g in groups if g.startswith(WAVE_PREFIX))
    order = list(present if waves is None else waves)
    unknown = [w for w in order if w not in present]
    if unknown:
        raise RolloutError("the rollout order names wave%s %s, but the inventory has no group %s (waves: %s)" % (
            "s" if len(unknown) > 1 else "", ", ".join(unknown),
            ", ".join(WAVE_PREFIX + w for w in unknown), ", ".join(present) or "none"))
    seen = {}
    batches = []
    for wave in order:
        hosts = [h for h in groups.get(WAVE_PREFIX + wave) or [] if h in members]
        for h in hosts:
            if h in seen:
                raise RolloutError("member %s is in waves %s and %s: put it in one wave" % (h, seen[h], wave))
            seen[h] = wave
        if hosts:
            batches.append({"name": wave, "hosts": hosts})
    rest = [h for h in members if h not in seen]
    if rest:
        batches.append({"name": None, "hosts": rest})
    pattern = ":".join([WAVE_PREFIX + b["name"] for b in batches if b["name"]] + [members_group])
    return {
        "pattern": "%s:&%s" % (pattern, members_group),
        "serial": [len(b["hosts"]) for b in batches] or ["100%"],
        "waves": batches,
    }
