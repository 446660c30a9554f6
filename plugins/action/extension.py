# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of kubesphere.multicluster.extension: runs the module in time slices and prints its progress
while it waits (plugins/plugin_utils/sliced.py), in the worker process where the connection is local
(plugins/plugin_utils/in_process.py). The module's code is imported here, at the top, so that
ansible-playbook imports it once and every worker inherits it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.plugin_utils.in_process import main_of
from ansible_collections.kubesphere.multicluster.plugins.plugin_utils.sliced import SlicedModuleAction


class ActionModule(SlicedModuleAction):
    MODULE = "kubesphere.multicluster.extension"
    MAIN = main_of("extension")
    # a later slice plans the wait alone: the plan (like the diff) is the one of the slice that wrote
    WRITE_KEYS = ("diff", "plan")
