# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Writing a file on the controller (the `local` side of a plan's acts).

Every file the collection's modules write goes through here: 0600, in a folder that is created 0700 when it
does not exist (an existing folder is checked before the first write by checks/files.py, never chmod'ed)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import tempfile

FOLDER_MODE = 0o700


def folder_facts(path):
    """{path, exists, isdir, mode (permission bits, None when absent)} of the folder `path` (a read)."""
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.exists(path):
        return {"path": path, "exists": False, "isdir": False, "mode": None}
    st = os.stat(path)
    return {"path": path, "exists": True, "isdir": stat.S_ISDIR(st.st_mode), "mode": stat.S_IMODE(st.st_mode)}


def make_private_folder(path):
    """Create the folder `path` 0700 when it does not exist (its parents as os.makedirs makes them); an
    existing folder is left as it is."""
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(path):
        os.makedirs(path, FOLDER_MODE)
        os.chmod(path, FOLDER_MODE)  # exactly 0700 whatever the umask
    return path


def write_private(module, path, text, mode="0600", prefix=".tmp-"):
    """Write `text` to `path` when it differs: into a temporary file of the same folder (created 0700 when
    absent), moved over `path` (a reader never sees half a file), then the mode made `mode` (the file may
    carry a secret). Returns whether anything changed (the text or the mode)."""
    old = None
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    changed = old != text
    if changed:
        folder = make_private_folder(os.path.dirname(os.path.abspath(path)))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        module.atomic_move(tmp, path)
    return bool(module.set_mode_if_different(path, mode, changed)) or changed
