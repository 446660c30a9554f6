# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The collection's one exception type (pure, no dependencies)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def describe(kind, name, namespace=None):
    """'ClusterConfiguration kubesphere-system/ks-installer' -- how messages name an object."""
    return "%s %s" % (kind, "%s/%s" % (namespace, name) if namespace else name)


class KubeSphereError(Exception):
    """A failure a module reports with fail_json.

    The message always names the cluster, then the object (when there is one), then the reason:
    "cluster 'member1': ClusterConfiguration kubesphere-system/ks-installer: <reason>".
    `code` is a stable identifier that tests and roles can match on; `result` holds extra return values.
    """

    def __init__(self, reason, cluster=None, obj=None, code=None, **result):
        self.reason = reason
        self.cluster = cluster
        self.obj = obj
        self.code = code
        self.result = result
        super(KubeSphereError, self).__init__(self.msg)

    @property
    def msg(self):
        parts = []
        if self.cluster:
            parts.append("cluster '%s'" % self.cluster)
        if self.obj:
            parts.append(self.obj)
        parts.append(self.reason)
        return ": ".join(parts)
