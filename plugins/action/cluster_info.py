# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of kubesphere.multicluster.cluster_info: runs the module in the worker process where the
connection is local (plugins/plugin_utils/in_process.py), else as a module process. The module's code is
imported here, at the top, so that ansible-playbook imports it once and every worker inherits it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.plugin_utils.in_process import ModuleAction, main_of


class ActionModule(ModuleAction):
    MODULE = "kubesphere.multicluster.cluster_info"
    MAIN = main_of("cluster_info")
