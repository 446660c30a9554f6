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
    description: Seconds for each call to the host (and to each cluster read for O(adopt)).
    type: float
  adopt:
    description:
      - "Before the first write, each cluster of the placement is read for an object of the same name (for a
        project its Namespace, for a resource the object itself) made outside federation, that is without the
        label C(kubefed.io/managed=true). kubefed (C(adoptResources: Enabled), as KubeSphere configures it) would
        adopt such an object and overwrite it with the federated template."
      - With O(adopt=false) the run is refused with code C(would_adopt), naming the cluster and the object, and
        nothing is written; delete or rename the object on that cluster, or set O(adopt=true).
      - With O(adopt=true) the run goes on and returns what kubefed adopts in RV(adopted) (in check mode too).
        Objects kubefed already manages are not adoptions, so a rerun reports none.
      - An object labelled C(kubefed.io/managed=false) is always refused (code C(managed_label_false)), since kubefed
        never updates it.
      - A member is read with its connection in O(member_connections) (the inventory's kubeconfig and context for
        it; proxy members included), the host's own Cluster with this connection. A member not listed there is
        read with the kubeconfig its Cluster stores on the host (what KubeSphere and kubefed use); a proxy member
        not listed (its stored kubeconfig points at tower's Service inside the host cluster), or a member that
        cannot be read, is not checked; it is listed in RV(adoption_unchecked) with the reason and the module
        warns.
    type: bool
    default: false
  member_connections:
    description:
      - How this run reaches each member for the O(adopt) check, C({cluster_name, kubeconfig, context}) per member,
        the inventory's connection for that member (the C(federated_project) role passes every member's, from
        the filter P(kubesphere.multicluster.member_connections#filter)). Only the members a placement adds are
        read, and only before the first write.
    type: list
    elements: dict
    default: []
    suboptions:
      cluster_name:
        description: The member's KubeSphere name.
        type: str
        required: true
      kubeconfig:
        description: The member's kubeconfig (as O(kubeconfig)).
        type: raw
      context:
        description: The context of the member's kubeconfig (as O(context)).
        type: str
"""
