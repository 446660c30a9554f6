# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs a module of this collection inside the action plugin's worker process instead of shipping it.

Why: Ansible's strategy imports each task's action plugin class in the ansible-playbook process (the
linear and free strategies call action_loader.get(..., class_only=True) to read BYPASS_HOST_LOOP before
they queue the task), and every worker is a fork of that process. An action plugin that imports the
module's code at its top (the kubernetes client, kubernetes.core and the collection's module_utils, about
0.6 CPU-s) pays that import once per run; the module path pays it, plus Python's start and AnsiballZ's
unpacking, once per task and host.

What runs is the module itself: its main() and its AnsibleModule, unchanged. Only the transport differs.
The arguments are those `_execute_module` would send (the task's args, module_defaults already merged in,
plus the `_ansible_*` internals: check mode, diff, no_log, verbosity), serialized with the same profile
encoder; AnsibleModule decodes and validates them with its own argument spec (types, choices,
mutually_exclusive, required_if, no_log), masks no_log values and warns exactly as it does in its own
process; what it prints is parsed by the same `_parse_returned_data` and cleaned like `_execute_module`'s
result. Nothing is displayed but one line at -vvv naming the way the module ran (never its arguments).

Only where that is the same thing as the module path: connection `local` (the controller is the target),
no become, no async, no task `environment`, an ansible-core whose module transport this code knows (2.19
and later), the module's code importable on the controller, and the variable `kubesphere_in_process` not
false. Anything else runs the module the ordinary way (`_execute_module`), and -vvv says why.

What a module process has that a worker has not: atexit handlers (a worker ends with os._exit), so a module
that used AnsibleModule.tmpdir would leave its folder (no module of this collection does); module-level
caches live on between the runs of one worker (loop items, time slices), as kubernetes.core's client pool
does within one module process already, keyed by the whole connection configuration."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import importlib
import io
import json

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

SWITCH_VAR = "kubesphere_in_process"
# the serialization profile of a module that declares none (ansible.executor.module_common's default)
PROFILE = "legacy"

SUPPORTED = True
try:  # the module transport of ansible-core 2.19 and later
    from ansible.module_utils import _internal as module_internal
    from ansible.module_utils import basic
    from ansible.module_utils._internal._ansiballz import _loader
    from ansible.module_utils.common import warnings as module_warnings
    from ansible.module_utils.common.json import Direction, get_module_encoder
    from ansible.vars.clean import remove_internal_keys
    if not (hasattr(basic, "_ANSIBLE_PROFILE") and hasattr(module_warnings, "_global_warnings")
            and hasattr(module_warnings, "_global_deprecations") and hasattr(_loader, "_handle_exception")
            and hasattr(module_internal, "is_controller")):
        SUPPORTED = False
except ImportError:
    SUPPORTED = False


def main_of(module):
    """The main() of the collection's module `module` as an action plugin's MAIN, imported when the plugin is
    (ansible-playbook imports an action plugin once, before it forks, so every worker inherits the module's
    code); None when it cannot be imported: the module process then reports what is missing."""
    try:
        return staticmethod(importlib.import_module(
            "ansible_collections.kubesphere.multicluster.plugins.modules." + module).main)
    except ImportError:
        return None


def refusal(action, main, task_vars):
    """Why the module cannot run in this process (a sentence), or None when it can."""
    if not SUPPORTED:
        return "this ansible-core's module transport is not the one this collection knows (2.19 and later)"
    if main is None:
        return "the module's code cannot be imported on the controller"
    value = task_vars.get(SWITCH_VAR, True)
    if isinstance(value, str) and getattr(action, "_templar", None) is not None:
        value = action._templar.template(value)
    if not boolean(value, strict=False):
        return "%s is false" % SWITCH_VAR
    transport = getattr(action._connection, "transport", None) or getattr(action._connection, "_load_name", None)
    if str(transport).rsplit(".", 1)[-1] != "local":
        return "the connection is %s, not local" % transport
    if action._task.async_val:
        return "the task is async"
    if action._task.become or getattr(action._play_context, "become", False):
        return "the task uses become"
    environment = {}
    action._compute_environment_string(raw_environment_out=environment)
    if environment:
        return "the task sets environment (%s)" % ", ".join(sorted(environment))
    return None


@contextlib.contextmanager
def _module_globals(json_params):
    """ansible.module_utils.basic reads its arguments from module globals (the AnsiballZ loader sets them);
    warnings and deprecations are module globals too, and module_utils acts as on a target only while
    `is_controller` is false (else a module's warn() goes to the controller's display instead of its result).
    Set for one run, restored afterwards."""
    saved = (basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE,
             dict(module_warnings._global_warnings), dict(module_warnings._global_deprecations),
             module_internal.is_controller)
    basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = json_params, PROFILE
    module_internal.is_controller = False
    module_warnings._global_warnings.clear()
    module_warnings._global_deprecations.clear()
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = saved[0], saved[1]
        module_internal.is_controller = saved[4]
        module_warnings._global_warnings.clear()
        module_warnings._global_warnings.update(saved[2])
        module_warnings._global_deprecations.clear()
        module_warnings._global_deprecations.update(saved[3])


def run(action, module_name, main, module_args, task_vars):
    """The module's result as `_execute_module` returns it, from main() run in this process."""
    args = copy.deepcopy(dict(module_args))
    action._update_module_args(module_name, args, task_vars)
    encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
    json_params = json.dumps({"ANSIBLE_MODULE_ARGS": args}, cls=encoder).encode("utf-8")
    out, err, rc = io.StringIO(), io.StringIO(), 0
    with _module_globals(json_params), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            try:
                main()
                raise RuntimeError("New-style module did not handle its own exit.")
            except Exception as e:  # noqa: BLE001  reported as the AnsiballZ loader reports it (exits)
                _loader._handle_exception(e, PROFILE)
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    data = action._parse_returned_data({"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}, PROFILE)
    data.pop("_ansible_suppress_tmpdir_delete", None)
    remove_internal_keys(data)
    for key in ("stdout", "stderr"):
        if key in data and key + "_lines" not in data:
            data[key + "_lines"] = (data.get(key) or u"").splitlines()
    return data


def execute(action, module_name, main, module_args, task_vars, wrap_async=False):
    """The module's result: run in this process when `refusal` finds nothing against it, else shipped the
    ordinary way. -vvv says which, and why."""
    host = task_vars.get("inventory_hostname")
    why = refusal(action, main, task_vars)
    if why is None:
        display.vvv("%s runs in the worker process (connection local)" % module_name, host=host)
        return run(action, module_name, main, module_args, task_vars)
    display.vvv("%s runs as a module process: %s" % (module_name, why), host=host)
    return action._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars,
                                  wrap_async=wrap_async)


class ModuleAction(ActionBase):
    """The action plugin of a module that runs once per task and host (no slices): `execute` it. A plugin
    sets MODULE (the fully qualified name) and MAIN (staticmethod of the module's main, imported at the
    plugin's top; None takes the module path)."""

    MODULE = None
    MAIN = None
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ModuleAction, self).run(tmp, task_vars)
        result.update(execute(self, self.MODULE, self.MAIN, dict(self._task.args), task_vars,
                              wrap_async=bool(self._task.async_val)))
        if not self._task.async_val:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
