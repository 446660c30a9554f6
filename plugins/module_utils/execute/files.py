# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Writing a file on the controller (the `local` side of a plan's acts)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile


def write_private(module, path, text, mode="0600", prefix=".tmp-"):
    """Write `text` to `path` when it differs: into a temporary file of the same folder, moved over `path`
    (a reader never sees half a file), then the mode made `mode` (the file may carry a secret). Returns
    whether anything changed (the text or the mode)."""
    old = None
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    changed = old != text
    if changed:
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        module.atomic_move(tmp, path)
    return bool(module.set_mode_if_different(path, mode, changed)) or changed
