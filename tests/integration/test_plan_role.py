"""The role change's plan is what its real run writes (tests/plan_audit.py), on a PRIVATE lab whose clusters
all start with role none (the ks-installer stand-in applies what multicluster_role writes).

For the host role on the lab's host, then the member role on member1 (with the host's jwtSecret): the
check-mode run writes nothing and returns the plan; the real run's writes (the lab's audit logs, the
collection's user) are exactly the plan's writes; on the converged lab the check-mode plan is empty, and the
real run writes nothing and changes nothing."""

import pytest
from auditlog import AuditLog
from plan_audit import audit_writes, plan_writes
from test_roles import HOST_CONN, jwt, one_task, private_lab, result_of, role

pytestmark = pytest.mark.timeout(600)


def plan_ids(res):
    return [s["id"] for s in res["plan"]]


def checked_then_run(lab, ansible_run, audit, cluster, args):
    """Check mode (no write), then the real run: returns (check result, real result, writes since the mark)."""
    task = one_task(lab, cluster, args)
    mark = audit.mark()
    check = ansible_run(task, lab.inventory, check=True)
    assert check.rc == 0, check
    audit.sync(lab)
    assert audit.writes_by_collection(since=mark) == [], "check mode wrote"
    mark = audit.mark()
    run = ansible_run(task, lab.inventory)
    assert run.rc == 0, run
    audit.sync(lab)
    return result_of(check, cluster), result_of(run, cluster), audit_writes(audit, mark)


def test_role_plans_are_what_the_runs_write_and_a_converged_lab_plans_nothing(make_lab, ansible_run):
    lab = private_lab(make_lab, members=1)
    host, member = lab.host, lab.members[0]
    assert role(lab, host) in ("none", None) and role(lab, member) in ("none", None)
    audit = AuditLog.for_lab(lab)
    cases = ((host, {"role": "host"}, "host"), (member, dict(HOST_CONN, role="member"), "member"))

    for cluster, args, wanted in cases:
        check, real, writes = checked_then_run(lab, ansible_run, audit, cluster, args)
        assert plan_ids(check) == ["role-before", "role-patch", "role-applied"], check
        assert check["changed"] and real["changed"] and real["applied"], real
        predicted = plan_writes(check["plan"], {"cluster": cluster})
        assert predicted == {(cluster, "patch", "clusterconfigurations", "kubesphere-system", "ks-installer")}
        assert writes == predicted                                  # what was planned, and nothing else
        assert plan_writes(real["plan"], {"cluster": cluster}) == predicted  # the real run reports that plan
        assert role(lab, cluster) == wanted
    assert jwt(lab, member) == jwt(lab, host)

    # converged: nothing planned, nothing written, nothing changed
    for cluster, args, _wanted in cases:
        check, real, writes = checked_then_run(lab, ansible_run, audit, cluster, args)
        assert check["plan"] == [] and real["plan"] == [], (check, real)
        assert not check["changed"] and not real["changed"] and real["applied"], real
        assert writes == set()
