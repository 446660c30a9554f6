# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The collection's two ways to stop (pure, no dependencies).

- `Refused(problems)`: the checks found problems before the first write; nothing was changed.
- `KubeSphereError` (alias `Failed`): something failed while reading, writing or waiting.

Both are handled once, in `_k8s.KubeSphereModule.run_operation`: every refusal and failure result has
`code`, `cluster` and `msg` at its top level (and `problems` for a refusal)."""

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


Failed = KubeSphereError


def problems_text(problems, subject="the checks"):
    """One block of text: a count, then one line per problem."""
    lines = ["%s found %d problem%s (nothing was changed):" % (subject, len(problems), "" if len(problems) == 1 else "s")]
    lines += ["- [%s] %s" % (p["code"], p["message"]) for p in problems]
    return "\n".join(lines)


class Refused(KubeSphereError):
    """The checks found `problems` ({code, cluster, message} each) before any write. The result's `code` and
    `cluster` are the first problem's; `problems` lists them all."""

    def __init__(self, problems, subject="the checks", **result):
        self.problems = list(problems)
        first = self.problems[0] if self.problems else {"code": "refused", "cluster": None, "message": "refused"}
        result["problems"] = self.problems
        self.text = problems_text(self.problems, subject)
        super(Refused, self).__init__(self.text, cluster=first.get("cluster"), code=first.get("code"), **result)

    @property
    def msg(self):
        return self.text
