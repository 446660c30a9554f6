# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The checks of an extension's install, upgrade or uninstall (pure: facts from
read/extension.py, the module's parameters and the version's extension vocabulary `ext` -> problems). Codes:

- not_a_host               the cluster's role is not host (KubeSphere runs InstallPlans on the host only)
- extensions_not_served    the host serves no InstallPlan (kubesphere.io/v1alpha1)
- extension_version_not_found  ExtensionVersion <name>-<version> does not exist on the host
- config_invalid           the config is not a YAML mapping (KubeSphere's webhook refuses what is not YAML)
- extension_uninstalling   the InstallPlan is being deleted (its uninstall runs)
- extension_failed         the last install or upgrade of this very version and config failed: KubeSphere retries
                           only when one of them changes
- confirmation_mismatch    state=absent without the name typed again in confirm"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem

try:
    import yaml
except ImportError:  # pragma: no cover (kubernetes needs PyYAML)
    yaml = None


def host_problems(cluster, role, served):
    if role != "host":
        return [problem("not_a_host", cluster, "cluster '%s': its KubeSphere role is %s: extensions are installed on "
                        "the host (its ks-controller-manager runs the InstallPlans); give the host's kubeconfig and "
                        "context" % (cluster, role))]
    if not served:
        return [problem("extensions_not_served", cluster, "cluster '%s' serves no InstallPlan (kubesphere.io/v1alpha1): "
                        "check that ks-core is installed and its CRDs are there" % cluster)]
    return []


def config_problems(cluster, subject, config):
    """The values YAML must be a mapping (or empty)."""
    try:
        values = yaml.safe_load(config) if config else None
    except yaml.YAMLError as e:
        return [problem("config_invalid", cluster, "%s: config is not YAML (%s): give the extension's values as YAML "
                        "text, e.g. \"{{ values | to_nice_yaml }}\"" % (subject, str(e).replace("\n", " ")))]
    if values is not None and not isinstance(values, dict):
        return [problem("config_invalid", cluster, "%s: config is YAML but not a mapping of values (it is a %s): give "
                        "the extension's values as a mapping" % (subject, type(values).__name__))]
    return []


def install_problems(ext, cluster, subject, facts, name, version, config):
    """Before an install or upgrade: the version offered, the config, and a plan that is neither being
    uninstalled nor failed for exactly what this run asks."""
    out = []
    if facts["version"] is None:
        offered = ", ".join(facts["versions"]) or "none (the host knows no version of this extension)"
        out.append(problem("extension_version_not_found", cluster, "%s: the host has no ExtensionVersion %s, so "
                           "KubeSphere would not act on the InstallPlan; versions offered: %s. Give one of them, or add "
                           "the extension's Repository (or ExtensionVersion) to the host first"
                           % (subject, ext.version_name(name, version), offered)))
    out += config_problems(cluster, subject, config)
    live = facts["plan"]
    if live is not None and (live.get("metadata") or {}).get("deletionTimestamp"):
        out.append(problem("extension_uninstalling", cluster, "%s: its InstallPlan is being deleted (helm uninstall "
                           "runs in a Job): wait until it is gone, then run this again" % subject))
    elif live is not None and ext.wanted_spec(live) == (version, config):
        judged = ext.verdict(live)
        if judged["failed"]:
            out.append(problem("extension_failed", cluster, "%s: the last install or upgrade of version %s with this "
                               "config failed (%s): %s. %s"
                               % (subject, version, judged["state"], judged["reason"] or "no reason recorded",
                                  ext.RETRY_BY_CHANGE)))
    return out


def uninstall_problems(subject, cluster, name, confirm):
    if confirm != name:
        return [problem("confirmation_mismatch", cluster, "%s: uninstalling removes the extension's Helm release and "
                        "everything it installed; set confirm to %r to go on" % (subject, name))]
    return []
