# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The folder of a file the collection writes on the controller and
reads back or keeps a secret in (the install file with the jwtSecret, the webhook configuration's backup).

The rule (docs/evidence.md, files at rest): such a file is 0600 in a folder only its owner can open. A folder
that does not exist is created 0700. An existing folder is never chmod'ed (it is the user's): one open to its
group or to others (any of the bits 0077) is refused before the first write, code `folder_not_private`, with
what to do. Facts come from execute/files.folder_facts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem

OPEN_BITS = 0o077


def private_folder(cluster, facts, holds):
    """[problem] when the existing folder `facts` ({path, exists, isdir, mode}) is not a folder or is open to
    its group or others; [] when it is private or does not exist yet (it is then created 0700). `holds` says
    what the file in it holds, for the message."""
    if not facts["exists"]:
        return []
    path = facts["path"]
    if not facts["isdir"]:
        return [problem("folder_not_private", cluster,
                        "cluster '%s': %s is not a folder: %s goes there; give a path in a folder only you can "
                        "open (a folder that does not exist is created 0700)" % (cluster, path, holds))]
    if facts["mode"] & OPEN_BITS:
        return [problem("folder_not_private", cluster,
                        "cluster '%s': the folder %s is mode %04o (open to its group or others) and would hold %s; "
                        "the collection does not change a folder it did not create: run chmod 700 %s, or give a "
                        "path in a new folder (created 0700)" % (cluster, path, facts["mode"], holds, path))]
    return []
