"""The unbind's plan is what its run writes (the one shape: read -> checks -> plan -> execute).

playbooks/unbind.yml first runs the member module in check mode (the report, nothing written), then for
real. On a private lab whose member1 was joined as the console joins direct members, with a
WorkspaceTemplate placing it: the check-mode plan's writes (remove_from_placements, cleanup_member) are
exactly the writes of the real run in the audit logs of the host and of member1, object by object; then,
converged, the check-mode plan has no step, the real run changes nothing and writes nothing."""

import os

from auditlog import AuditLog
from plan_audit import audit_writes, plan_writes
from unbind_lab import cluster, import_direct, set_roles, start_lab, wait_joined

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNBIND = os.path.join(REPO, "playbooks", "unbind.yml")
WS = "/apis/tenant.kubesphere.io/v1alpha2/workspacetemplates"
PREVIEW = "Report what the unbind removes and what stays on the member (nothing written)"
REAL = "Unbind the member"


def unbind(ansible_run, lab, backups):
    return ansible_run(UNBIND, lab.inventory, extra_vars={
        "kubesphere_unbind_cluster": "member1", "kubesphere_unbind_confirm": "member1",
        "kubesphere_unbind_webhook_backup_dir": backups, "kubesphere_unbind_wait_timeout": 300,
        "kubesphere_unbind_remove_from_placements": True, "kubesphere_unbind_cleanup_member": True})


def test_the_check_mode_plan_is_what_the_unbind_writes_and_a_converged_member_plans_nothing(
        make_module_lab, ansible_run, tmp_path):
    lab = start_lab(make_module_lab, 40, members=1)
    set_roles(lab)
    import_direct(lab, "member1")
    wait_joined(lab, "member1")
    host = lab.client(lab.host)
    host.request("POST", WS, {"apiVersion": "tenant.kubesphere.io/v1alpha2", "kind": "WorkspaceTemplate",
                              "metadata": {"name": "plan-ws"},
                              "spec": {"template": {"spec": {"manager": "admin"}},
                                       "placement": {"clusters": [{"name": "member1"}]}}})
    audit = AuditLog.for_lab(lab)
    sides = {"host": lab.host, "member": "member1"}
    backups = str(tmp_path / "backups")

    mark = audit.mark()
    run = unbind(ansible_run, lab, backups)
    assert run.rc == 0, run
    preview, real = run.results(PREVIEW)["member1"], run.results(REAL)["member1"]
    predicted = plan_writes(preview["plan"], sides)
    assert {(c, verb, res) for c, verb, res, _ns, _n in predicted} >= {
        (lab.host, "patch", "workspacetemplates"), (lab.host, "delete", "clusters"),
        ("member1", "delete", "serviceaccounts")}, predicted
    audit.sync(lab)
    assert audit_writes(audit, mark) == predicted
    assert real["plan"] == preview["plan"] and real["changed"] is True and cluster(host, "member1") is None

    mark = audit.mark()
    again = unbind(ansible_run, lab, backups)
    assert again.rc == 0, again
    assert again.results(PREVIEW)["member1"]["plan"] == []
    assert again.results(REAL)["member1"]["changed"] is False
    audit.sync(lab)
    assert audit.writes_by_collection(since=mark) == []
