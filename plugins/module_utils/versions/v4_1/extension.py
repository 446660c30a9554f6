# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. KubeSphere 4.1's extensions, as its InstallPlan controller handles them
(v4.1.3, pkg/controller/core/installplan_controller.go, util.go, installplan_webhook.go; facts in
../shared/docs/kubesphere-v4.1.md section 2). Pure: the InstallPlan to write and the verdict on one read.

- Everything is cluster-scoped on the host, API group kubesphere.io/v1alpha1. The InstallPlan of an extension is
  named as the extension (the controller routes its Job's and Helm release's events by that name); it installs
  ExtensionVersion `<name>-<version>`, which must exist (without it the plan gets no status at all).
- The webhook trims trailing white space from every line of `spec.config` (the values YAML) and refuses config
  that is not YAML; the collection trims the same way, so a rerun compares equal.
- States: Preparing, Installing, Upgrading, Installed (also after an upgrade), InstallFailed, UpgradeFailed,
  Uninstalling, Uninstalled, UninstallFailed. `status.version` is the version attempted (the chart's once
  deployed), `status.configHash` the FNV-1a 64 hash of the config of the last Job. There is no observedGeneration:
  a plan is done for this run when it is Installed with the wanted version and the hash of its config.
- A failed install or upgrade is retried by KubeSphere only when the config or the version changes; a failure
  before its Job exists (the chart unreadable) leaves the hash empty and cycles Preparing/InstallFailed.
- Deleting the plan runs helm uninstall in a Job; the finalizer goes once the release is gone. UninstallFailed
  stays until the annotation kubesphere.io/force-delete is set."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

API_VERSION = "kubesphere.io/v1alpha1"
INSTALL_PLAN = "InstallPlan"
EXTENSION_VERSION = "ExtensionVersion"
EXTENSION_REF_LABEL = "kubesphere.io/extension-ref"
FORCE_DELETE_ANNOTATION = "kubesphere.io/force-delete"

INSTALLED = "Installed"
FAILED = ("InstallFailed", "UpgradeFailed")
UNINSTALL_FAILED = "UninstallFailed"
# what makes KubeSphere try a failed install or upgrade again (installplan_controller.go syncInstallPlanStatus)
RETRY_BY_CHANGE = ("KubeSphere tries again only when the version or the config changes: fix the cause, then change "
                   "either (a comment line in config is enough)")
# the conditions whose False status carries the failure (newest first in status.conditions)
FAILURE_CONDITIONS = ("Installed", "Upgraded", "Uninstalled")

# Known wedges: failures whose cause no change of version or config removes, with the fix (matched in the failure
# reason KubeSphere records). kubefed (../shared/docs/kubesphere-v4.1.md 4.2 step 10): the extension's tag chart
# renders the KubeFedConfig without feature gates (Helm drops the empty values) and only its post-install hook adds
# them, so after a first install whose hook did not run, kubefed's admission webhook refuses every upgrade.
KUBEFED_GATES = ('[{"op": "add", "path": "/spec/featureGates", "value": [{"name": "PushReconciler", "configuration": '
                 '"Enabled"}, {"name": "RawResourceStatusCollection", "configuration": "Disabled"}, '
                 '{"name": "SchedulerPreferences", "configuration": "Enabled"}]}]')
KNOWN_WEDGES = (
    {"extension": "kubefed", "match": "spec.featureGates: Required value",
     "cause": "kubefed's webhook refuses the chart's KubeFedConfig without feature gates (only the chart's post-install "
              "hook adds them, and it did not run)",
     "fix": "give the KubeFedConfig the hook's feature gates (kubectl -n kube-federation-system patch kubefedconfig "
            "kubefed --type=json -p '%s'), then run again with a changed config (a comment line is enough)"
            % KUBEFED_GATES},
)

_FNV_OFFSET = 0xcbf29ce484222325
_FNV_PRIME = 0x100000001b3


def version_name(name, version):
    """The ExtensionVersion an InstallPlan for `version` installs."""
    return "%s-%s" % (name, version)


def trim_config(text):
    """spec.config as the InstallPlan webhook stores it: each line without trailing white space."""
    return "\n".join(line.rstrip() for line in (text or "").split("\n"))


def config_hash(text):
    """status.configHash of a config: FNV-1a, 64 bits, in hex (pkg/utils/hashutil.FNVString)."""
    value = _FNV_OFFSET
    for byte in bytearray((text or "").encode("utf-8")):
        value = ((value ^ byte) * _FNV_PRIME) & 0xffffffffffffffff
    return "%016x" % value


def plan_body(name, version, config):
    """The InstallPlan the module writes: the extension, its version and its config (enabled, as the console
    writes it)."""
    return {"apiVersion": API_VERSION, "kind": INSTALL_PLAN, "metadata": {"name": name},
            "spec": {"extension": {"name": name, "version": version}, "enabled": True, "config": config}}


def wanted_spec(plan):
    """(version, config) the live plan asks for."""
    spec = (plan or {}).get("spec") or {}
    return (spec.get("extension") or {}).get("version"), spec.get("config") or ""


def failure(plan):
    """The reason of the plan's last failure, from its newest False condition (Helm's release description or
    the Job's condition), else None."""
    for cond in ((plan or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") in FAILURE_CONDITIONS and cond.get("status") == "False":
            return cond.get("message") or cond.get("reason")
    return None


def wedge(plan, reason=None):
    """The known wedge (KNOWN_WEDGES) the plan's failure shows, else None."""
    name = ((plan or {}).get("metadata") or {}).get("name")
    text = reason if reason is not None else failure(plan)
    return next((w for w in KNOWN_WEDGES if w["extension"] == name and w["match"] in (text or "")), None)


def history(plan):
    """The plan's state transitions, [[time, state], ...] (KubeSphere keeps the last 10)."""
    return [[h.get("lastTransitionTime"), h.get("state")] for h in ((plan or {}).get("status") or {}).get("stateHistory") or []]


def verdict(plan, since=None):
    """What the live plan shows for what it asks (its spec): {"state", "done", "failed", "retrying", "reason",
    "words"}. done: Installed with the spec's version and config hash. failed: InstallFailed or UpgradeFailed for
    that version and config, or before any Job (hash empty), or a failure KubeSphere recorded after `since` (the
    transitions the plan had when it was written: a failure of this attempt, also while the release keeps its
    older version). retrying: KubeSphere tries again by itself (the version it asks is not the one recorded, or no
    Job ran), else only a change of version or config makes it try again. A state left from before is neither."""
    status = (plan or {}).get("status") or {}
    state = status.get("state") or ""
    version, config = wanted_spec(plan)
    current = status.get("version") == version and status.get("configHash") == config_hash(config)
    before = set(tuple(h) for h in since or [])
    fresh = since is not None and any(h[1] in FAILED and tuple(h) not in before for h in history(plan))
    done = state == INSTALLED and current
    failed = state in FAILED and (current or not status.get("configHash") or fresh)
    reason = failure(plan) if failed else None
    words = "state %s" % (state or "not set yet (KubeSphere's controller has not acted on it)")
    if status.get("version"):
        words += ", version %s" % status["version"]
    if status.get("jobName") and not done:
        words += ", helm-executor Job %s/%s" % (status.get("targetNamespace"), status["jobName"])
    if reason:
        words += ": %s" % reason
        known = wedge(plan, reason)
        if known:
            words += " (a known wedge: %s; fix: %s)" % (known["cause"], known["fix"])
    return {"state": state, "done": done, "failed": failed, "retrying": failed and not current, "reason": reason,
            "words": words}


def summary(plan):
    """The extension as results show it (no config: it may hold secrets; its fingerprint is in `installplan`)."""
    status = (plan or {}).get("status") or {}
    version, _config = wanted_spec(plan)
    state = status.get("state") or ""
    failed = state in FAILED + (UNINSTALL_FAILED,)
    return {"version": version, "state": state, "installed": state == INSTALLED, "failed": failed,
            "installed_version": status.get("version") if state == INSTALLED else None,
            "target_namespace": status.get("targetNamespace"), "release_name": status.get("releaseName"),
            "job_name": status.get("jobName"), "failure": failure(plan) if failed else None,
            "fix": (wedge(plan) or {}).get("fix") if failed else None,
            "state_history": [{"state": h.get("state"), "time": h.get("lastTransitionTime")}
                              for h in status.get("stateHistory") or []]}
