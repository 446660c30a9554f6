# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster: the options every module that writes federated objects on the host
shares (federated_project, federated_resource): state, the propagation wait, the host's name and the
request timeout. The argument spec is in each module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  state:
    description: C(present) or C(absent).
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait until kubefed reports the federated object propagated to every cluster of its placement (for a
        project, its namespace; in weight mode, also until kubefed wrote the planned division).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait with O(wait).
    type: int
    default: 120
  cluster_name:
    description: The host's KubeSphere name, used in messages.
    type: str
    default: host
  timeout:
    description: Seconds for each call to the host.
    type: float
"""
