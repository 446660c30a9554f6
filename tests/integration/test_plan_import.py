"""The import's plan is what it does (plan/join.py, operations/join.py), against a PRIVATE lab with KubeSphere's
real control plane: for member1 (direct) and member2 (proxy), the plan --check reports names exactly the writes
the real run then makes (the kube-apiservers' audit logs: every predicted write happened, no write was not
predicted), and on the converged lab the plan has no write, the real run writes nothing and changes nothing.
The imports run through playbooks/join.yml (the join role), one member at a time (kubesphere_join_members)."""

import os

import pytest

from auditlog import KUBESPHERE_AGENTS, AuditLog
from conftest import REPO, run_playbook, with_lab_inventory
from plan_audit import audit_writes, plan_writes

JOIN = os.path.join(REPO, "playbooks", "join.yml")
FAST = {"kubesphere_join_wait_sleep": 2, "kubesphere_join_wait_timeout": 420,
        "member_config_wait_sleep": 1, "host_config_wait_sleep": 1}
IMPORT_TASK = "Import the member (checks first, then the Cluster, the agent for proxy members, health and verification)"
# member1 is imported with the lab's admin kubeconfig: KubeSphere's controllers then act on member1 as the
# collection's user; the audit log tells them apart by their user agent (as test_join does)

pytestmark = pytest.mark.timeout(1800)


class CollectionOnly:
    """The audit log's writes by the collection's user, without KubeSphere's own components."""

    def __init__(self, audit):
        self.audit = audit

    def writes_by_collection(self, since=None):
        return [r for r in self.audit.writes_by_collection(since=since)
                if not r.user_agent.startswith(KUBESPHERE_AGENTS)]


@pytest.fixture(scope="module")
def fleet(make_module_lab, tmp_path_factory):
    lab = with_lab_inventory(make_module_lab(members=2), tmp_path_factory)
    lab.audit = AuditLog.for_lab(lab)
    for playbook in ("host_config.yml", "member_config.yml"):
        run = run_playbook(os.path.join(REPO, "playbooks", playbook), lab.lab_inventory, extra_vars=FAST, timeout=900)
        assert run.rc == 0, run
    return lab


def import_member(lab, ansible_run, name, check=False):
    run = ansible_run(JOIN, lab.lab_inventory, check=check, diff=check,
                      extra_vars=dict(FAST, kubesphere_join_members=[name]), timeout=900)
    assert run.rc == 0, run
    results = run.results(IMPORT_TASK)
    assert set(results) == {name}, run
    return results[name]


def writes_since(lab, mark):
    lab.audit.sync(lab)
    return audit_writes(CollectionOnly(lab.audit), mark)


@pytest.mark.parametrize("name,connection_type", [("member1", "direct"), ("member2", "proxy")])
def test_the_plan_check_mode_reports_is_what_the_import_writes_then_a_converged_import_writes_nothing(
        fleet, ansible_run, name, connection_type):
    lab = fleet
    sides = {"host": lab.host, "member": name}

    mark = lab.audit.mark()
    checked = import_member(lab, ansible_run, name, check=True)
    assert writes_since(lab, mark) == set(), "check mode wrote"
    predicted = plan_writes(checked["plan"], sides)
    assert (lab.host, "create", "clusters", "", name) in predicted, checked["plan"]
    if connection_type == "proxy":
        assert (name, "patch", "deployments", "kubesphere-system", "cluster-agent") in predicted, checked["plan"]

    mark = lab.audit.mark()
    done = import_member(lab, ansible_run, name)
    assert done["changed"] is True and done["health"]["verdict"] == "ready", done
    assert [s["id"] for s in done["plan"]] == [s["id"] for s in checked["plan"]]
    assert writes_since(lab, mark) == predicted

    # converged: the plan has no write (nor wait), the real run writes nothing and changes nothing
    mark = lab.audit.mark()
    again = import_member(lab, ansible_run, name, check=True)
    assert plan_writes(again["plan"], sides) == set() and [s for s in again["plan"] if s["kind"] == "wait"] == []
    rerun = import_member(lab, ansible_run, name)
    assert rerun["changed"] is False and rerun["changes"] == [] and rerun["health"]["verdict"] == "ready", rerun
    assert [s for s in rerun["plan"] if s.get("verb") or s["kind"] == "wait"] == [], rerun["plan"]
    assert writes_since(lab, mark) == set()
