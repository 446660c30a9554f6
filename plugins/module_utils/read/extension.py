# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. What the extension module reads on the host (plain dicts): its state (the
installer part: version and role), the extension's InstallPlan, the ExtensionVersion it would install and the
versions the host offers of the extension."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state

PARTS = ("installer",)


def host(conn):
    """The host's state (version and role); a cluster that cannot be read fails."""
    return cluster_state.require(cluster_state.read(conn, PARTS))


def facts(conn, ext, name, version=None):
    """{"served": whether the host serves InstallPlans, "plan": the InstallPlan `name` or None, "version": the
    ExtensionVersion of `version` or None, "versions": the versions of the extension the host offers (its
    ExtensionVersions labelled with it), sorted}. `ext` is the version's extension vocabulary."""
    plan = conn.get(ext.API_VERSION, ext.INSTALL_PLAN, name, if_served=True)
    offered = conn.list(ext.API_VERSION, ext.EXTENSION_VERSION, label_selector="%s=%s" % (ext.EXTENSION_REF_LABEL, name),
                        if_served=True)
    wanted = None
    if version and offered is not None:
        wanted_name = ext.version_name(name, version)
        wanted = next((v for v in offered if (v.get("metadata") or {}).get("name") == wanted_name), None)
        if wanted is None:  # one not labelled with the extension (added by hand) is still KubeSphere's to install
            wanted = conn.get(ext.API_VERSION, ext.EXTENSION_VERSION, wanted_name)
    return {"served": offered is not None, "plan": plan, "version": wanted,
            "versions": sorted({(v.get("spec") or {}).get("version") for v in offered or []} - {None, ""})}


def plan_of(conn, ext, name):
    """The InstallPlan `name` as it is now (None when gone): what the waits poll."""
    return conn.get(ext.API_VERSION, ext.INSTALL_PLAN, name)
