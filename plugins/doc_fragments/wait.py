# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster: how long and how often the modules that wait for KubeSphere
(multicluster_role, member) poll. What each waits for is its own O(wait) option; the argument spec is in
each module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  wait_timeout:
    description:
      - How many seconds O(wait) may take in all. Real KubeSphere resyncs every 120 s and kubefed needs three
        probes 10 s apart before a member is Ready.
    type: int
    default: 600
  wait_sleep:
    description: Seconds between two polls.
    type: int
    default: 5
"""
