# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The plans of the extension module (pure): from what read/extension.py read and
the module's parameters to plan/steps.py steps, in the version's words (`ext`, versions/v4_1/extension.py).

state=present: create the extension's InstallPlan, or merge-patch its version and config where they differ (the
webhook's trimming applied first, so a rerun compares equal); then (wait: true) wait until KubeSphere installed
exactly that version and config (a failure of that install fails the wait at once, with Helm's or the Job's
reason). state=absent: delete the InstallPlan (KubeSphere runs helm uninstall in a Job) and wait until it is gone.
A converged extension plans nothing. The config is shown only as its fingerprint: it may hold secrets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, describe
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint

PLAN_ID = "installplan"
DELETE_ID = "delete-installplan"
WAIT_ID = "wait-extension-installed"
HISTORY_ID = "installplan-history"
GONE_ID = "wait-extension-uninstalled"
SLEEP = 3


def shown(obj):
    """What decides `changed` and what results and diffs show of an InstallPlan: its name, the extension and
    version it installs, enabled, and the config's fingerprint (never the config)."""
    if not obj:
        return {}
    spec = obj.get("spec") or {}
    return {"metadata": {"name": (obj.get("metadata") or {}).get("name")},
            "spec": {"extension": dict(spec.get("extension") or {}), "enabled": spec.get("enabled"),
                     "config": fingerprint(spec.get("config"))}}


def plan(ext, facts, p, cluster, config):
    """The steps of state=present; `config` is the wanted config, trimmed as KubeSphere stores it."""
    name, version = p["name"], p["version"]
    live = facts["plan"]
    out = []
    if live is None:
        out.append(steps.create(PLAN_ID, "host", cluster, ext.plan_body(name, version, config), show=shown,
                                why="the extension has no InstallPlan: KubeSphere installs ExtensionVersion %s with "
                                    "helm in a Job" % ext.version_name(name, version)))
    else:
        have_version, have_config = ext.wanted_spec(live)
        patch = {}
        if have_version != version:
            patch["extension"] = {"version": version}
        if have_config != config:
            patch["config"] = config
        if patch:
            out.append(steps.patch(PLAN_ID, "host", cluster, ext.API_VERSION, ext.INSTALL_PLAN, name, {"spec": patch},
                                   before=live, show=shown,
                                   why="the InstallPlan asks for another %s: KubeSphere upgrades the release"
                                       % " and ".join(w for k, w in (("extension", "version"), ("config", "config"))
                                                      if k in patch)))
    if p.get("wait") and (out or not ext.verdict(live)["done"]):
        out.append(baseline(ext, cluster, name, live))
        out.append(installed_wait(ext, cluster, name, version, p["wait_timeout"]))
    return out


def baseline(ext, cluster, name, live):
    """The plan's state transitions as the run wrote it (or found it): a failure recorded later is this attempt's.
    Handed to the later slices of the run (carry), which re-plan without the write."""
    def run(ctx):
        if HISTORY_ID in ctx.values:  # carried from the slice that wrote
            return ctx.values[HISTORY_ID]
        written = ctx.values.get(PLAN_ID)
        return ext.history(written if written is not None else live)

    return steps.verify(HISTORY_ID, "host", cluster, describe(ext.INSTALL_PLAN, name), run, carry=True,
                        why="what KubeSphere recorded before this attempt (a failure after it is this attempt's)")


def installed_wait(ext, cluster, name, version, timeout):
    obj_text = describe(ext.INSTALL_PLAN, name)

    def poll(ctx):
        live = ctx.conn("host").get(ext.API_VERSION, ext.INSTALL_PLAN, name)
        if live is None:
            return False, "the InstallPlan is gone (deleted by someone else?)", None
        judged = ext.verdict(live, since=ctx.values.get(HISTORY_ID))
        if judged["failed"]:
            then = ("KubeSphere keeps trying while the InstallPlan asks for it: fix the cause, or ask for a version "
                    "that installs" if judged["retrying"] else ext.RETRY_BY_CHANGE)
            error = KubeSphereError("KubeSphere could not install version %s: %s (the Job's pod log says why). %s"
                                    % (version, judged["words"], then),
                                    cluster=cluster, obj=obj_text, code="extension_install_failed")
            error.final = True
            raise error
        return judged["done"], judged["words"], live

    def fail(ctx, state):
        return KubeSphereError("version %s was not installed within %d s: %s (KubeSphere's InstallPlan controller runs "
                               "helm in the Job it names; its pod's log says what helm waits for)" % (version, timeout, state),
                               cluster=cluster, obj=obj_text, code="timeout")

    return steps.wait(WAIT_ID, "host", cluster, obj_text, "installed with version %s and this config" % version, poll,
                      timeout, sleep=SLEEP, fail=fail, why="wait: true")


def deletion(ext, facts, p, cluster):
    """The steps of state=absent: the delete, and (wait: true) the wait until the uninstall removed the plan."""
    live = facts["plan"]
    if live is None:
        return []
    name = p["name"]
    out = []
    if not (live.get("metadata") or {}).get("deletionTimestamp"):
        out.append(steps.delete(DELETE_ID, "host", cluster, ext.API_VERSION, ext.INSTALL_PLAN, name, before=live,
                                show=shown, why="state: absent (KubeSphere runs helm uninstall in a Job, then removes "
                                                "the InstallPlan)"))
    if p.get("wait"):
        out.append(gone_wait(ext, cluster, name, p["wait_timeout"]))
    return out


def gone_wait(ext, cluster, name, timeout):
    obj_text = describe(ext.INSTALL_PLAN, name)

    def poll(ctx):
        live = ctx.conn("host").get(ext.API_VERSION, ext.INSTALL_PLAN, name)
        if live is None:
            return True, "gone", None
        state = (live.get("status") or {}).get("state") or ""
        if state == ext.UNINSTALL_FAILED:
            error = KubeSphereError("KubeSphere could not uninstall it: %s. The InstallPlan stays until the cause is "
                                    "fixed, or until it is annotated %s=true (helm uninstall without hooks, in "
                                    "ks-controller-manager)" % (ext.failure(live) or "no reason recorded",
                                                                ext.FORCE_DELETE_ANNOTATION),
                                    cluster=cluster, obj=obj_text, code="extension_uninstall_failed")
            error.final = True
            raise error
        return False, "state %s" % (state or "not set"), None

    def fail(ctx, state):
        return KubeSphereError("not uninstalled within %d s: %s" % (timeout, state), cluster=cluster, obj=obj_text,
                               code="timeout")

    return steps.wait(GONE_ID, "host", cluster, obj_text, "uninstalled and gone", poll, timeout, sleep=SLEEP,
                      fail=fail, why="wait: true")
