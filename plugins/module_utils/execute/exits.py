# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The one exit path of every module (no kubernetes client needed, so the
modules that talk to no cluster use it too): an operation returns its result, raises Refused (problems found
before any write) or KubeSphereError (a failure), or WaitPending at the end of a time slice."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.slicing import WaitPending, pending_result


def fail_from(module, error, **result):
    """fail_json for a KubeSphereError (or Refused): `msg`, `code` and `cluster` (the cluster's name) at the top
    level, with what the run had to return so far and the error's own result values."""
    result.update(getattr(error, "result", {}) or {})
    result["code"] = getattr(error, "code", None) or "failed"
    result["cluster"] = getattr(error, "cluster", None)
    module.fail_json(msg=getattr(error, "msg", str(error)), **result)


def run_operation(module, operation, *args, **kwargs):
    """operation(module, ...) and the module's exit: exit_json with its result, fail_json through fail_from,
    or exit_json with `pending` at the end of a time slice (execute/slicing.py)."""
    try:
        result = operation(module, *args, **kwargs)
    except WaitPending as e:
        module.exit_json(**pending_result(e.result, e))
    except KubeSphereError as e:
        fail_from(module, e)
    module.exit_json(**result)
