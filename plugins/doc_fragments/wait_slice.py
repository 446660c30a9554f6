# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster: the internal option through which a waiting module's action plugin runs
it in time slices and prints progress (plugins/plugin_utils/sliced.py, plugins/module_utils/progress.py)."""

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
"""
