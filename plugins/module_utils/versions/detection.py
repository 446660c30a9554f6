# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Which KubeSphere a cluster runs, from what the read model read
(read/cluster_state.py). Pure.

The evidence, strongest first:
1. the `ks-core` Helm release's chart appVersion, from 4 on (v4.1 is that release). ks-installer v3.x installs a
   `ks-core` release too, with its own chart `ks-core` 0.1.0 whose appVersion it never kept up (ks-installer
   v3.4.0 and v3.4.1 ship appVersion v3.3.2, v3.3.x shipped v3.1.0): the release's existence says nothing, and a
   3.x appVersion says KubeSphere 3 but not which; the ClusterConfiguration then says which (2.), else 3.4;
2. ks-installer's ClusterConfiguration (KubeSphere 3.x only): its stamped version, else 3.4;
3. the rendered kubesphere-config: KubeSphere 4 renders `helmExecutor`, `extension` and `composedApp`
   sections and `authentication.issuer.jwtSecret`, which 3.x never has; a 3.x config has
   `multicluster.clusterRole` and none of them.
A cluster that shows none of these has no KubeSphere yet (a bare cluster: a v4.1 member before its import
looks like this). The result names the line ("3.4", "4.1", ...), the full version when known, and a sentence
saying what showed it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.common import get_path
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import installer

# keys KubeSphere 4's kubesphere.yaml renders and 3.x never does (config/ks-core/templates/kubesphere-config.yaml)
V4_CONFIG_KEYS = ("helmExecutor", "extension", "composedApp")
V4_LINE = "4.1"  # the last open-source KubeSphere 4 (v4.1.3); a v4 config without a readable release says 4.1
V3_LINE = "3.4"
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?")


def line(version):
    """'v4.1.3' -> '4.1'; None when the text is no version."""
    m = _VERSION.match(str(version or "").strip())
    return "%s.%s" % (m.group(1), m.group(2)) if m else None


def _release_words(release):
    return "Helm release ks-core revision %s (%s, chart %s %s, appVersion %s)" % (
        release.get("revision"), release.get("status"), release.get("chart"), release.get("chart_version"),
        release.get("app_version"))


def detect(state):
    """{"line": "3.4" | "4.1" | other | None, "version": full version or None, "evidence": a sentence}."""
    release = state.get("ks_core_release") or None
    release_line = line((release or {}).get("app_version"))
    # ks-installer's own chart (3.x appVersion): KubeSphere 3, which one the ClusterConfiguration says
    installer_release = release_line is not None and release_line.startswith("3.")
    if release_line and not installer_release:
        return {"line": release_line, "version": release["app_version"], "evidence": _release_words(release)}
    also = "; %s: ks-installer's chart, whose appVersion is not KubeSphere's version" % _release_words(release) \
        if installer_release else ""
    cc = state.get("cluster_configuration")
    if cc is not None:
        stamped = installer.installer_version(cc)
        return {"line": line(stamped) or V3_LINE, "version": stamped,
                "evidence": "ks-installer's ClusterConfiguration kubesphere-system/ks-installer (%s)%s"
                % ("version %s" % stamped if stamped else "no version stamped yet", also)}
    if installer_release:
        return {"line": V3_LINE, "version": None,
                "evidence": "%s, no ClusterConfiguration readable to say which 3.x: taken as %s"
                % (_release_words(release), V3_LINE)}
    config = state.get("config") or {}
    if state.get("config_present") and config:
        v4_keys = [k for k in V4_CONFIG_KEYS if k in config]
        if v4_keys or get_path(config, "authentication.issuer.jwtSecret"):
            return {"line": V4_LINE, "version": None,
                    "evidence": "kubesphere-config renders KubeSphere 4's %s (no ks-core release readable)"
                    % (", ".join(v4_keys) or "authentication.issuer")}
        if get_path(config, "multicluster.clusterRole"):
            return {"line": V3_LINE, "version": None,
                    "evidence": "kubesphere-config renders multicluster.clusterRole in KubeSphere 3's layout"}
    return {"line": None, "version": None, "evidence": "no KubeSphere found (no ks-core release, "
            "no ClusterConfiguration, no kubesphere-config)"}
