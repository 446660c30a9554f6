# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster: the internal option through which a waiting module's action plugin runs
it in time slices and prints progress (plugins/plugin_utils/sliced.py, plugins/module_utils/execute/slicing.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  _wait_slice:
    description:
      - Internal, set by the module's action plugin; do not set it. Its waits stop after this slice and the
        module returns C(pending), so the plugin can print progress and run it again (see the notes).
    type: dict
notes:
  - >-
    Long waits print progress. The module's action plugin runs it in slices of C(kubesphere_progress_interval)
    seconds (a variable, 20 by default; 0 turns slicing off) and, after each slice whose wait is not over,
    prints at the default verbosity one line per host with the cluster, what it waits for, what it sees now
    and the seconds waited of O(wait_timeout). The result is the one a single run gives (C(changed) and the
    diff from the slice that wrote). Run without the action plugin, the module waits in one go. Check mode
    never waits.
"""
