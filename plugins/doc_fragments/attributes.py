# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# Apache License 2.0 (see LICENSE)
"""PRIVATE to kubesphere.multicluster: the attributes every module of the collection declares."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # A module that writes: full check mode (server-side dry run) and diff, create and delete included.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
"""

    # A read-only module (always changed=false).
    INFO = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: This module only reads; it never changes anything.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""
