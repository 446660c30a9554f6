"""playbooks/status.yml against the lab: one fleet table whose every cell matches what the API servers
hold; broken clusters (wrong context, unreachable, untrusted certificate) each get their own line while
the others are still reported."""

import os


from test_cluster_info import broken_kubeconfigs, config_of, inventory, probe_cluster

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATUS = os.path.join(REPO, "playbooks", "status.yml")
CC = "/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer"
HEADER = ["CLUSTER", "ROLE", "KUBERNETES", "KUBESPHERE", "READY", "JWT=HOST", "SKEW"]


def table_of(run):
    """(rows by cluster name, note lines) of the one 'Print the fleet' result."""
    printed = run.results("Print the fleet")
    assert len(printed) == 1, printed  # run once
    (result,) = printed.values()
    lines = result["msg"].splitlines()
    assert lines[0].split() == HEADER
    starts = [lines[0].index(c) for c in HEADER]
    rows, notes, body = {}, [], True
    for line in lines[1:]:
        if not line:
            body = False
        elif body:
            cells = [line[s:e].strip() for s, e in zip(starts, starts[1:] + [None])]
            rows[cells[0]] = dict(zip(HEADER, cells))
        else:
            notes.append(line)
    return rows, notes


def expected_row(kube, name, host):
    api = kube(name)
    cc = api.try_get(CC)
    config, host_config = config_of(kube, name), config_of(kube, host)
    role = (config.get("multicluster") or {}).get("clusterRole") or cc["spec"]["multicluster"]["clusterRole"]
    jwt, host_jwt = ((c.get("authentication") or {}).get("jwtSecret") for c in (config, host_config))
    joined = {c["metadata"]["name"]: c for c in kube(host).get("/apis/cluster.kubesphere.io/v1alpha1/clusters")["items"]}
    ready = "-" if name == host and name not in joined else "not joined" if name not in joined else (
        "yes" if any(c["type"] == "Ready" and c["status"] == "True"
                     for c in joined[name].get("status", {}).get("conditions", [])) else "no")
    return {"CLUSTER": name, "ROLE": role, "KUBERNETES": api.get("/version")["gitVersion"],
            "KUBESPHERE": cc["status"]["core"]["version"] if cc.get("status", {}).get("core", {}).get("version")
            else cc["metadata"]["labels"]["version"],
            "READY": ready, "JWT=HOST": "-" if not (jwt and host_jwt) else "yes" if jwt == host_jwt else "NO"}


def test_status_prints_the_fleet(lab, kube, ansible_run, lab_inventory_dir):
    run = ansible_run(STATUS, lab_inventory_dir)
    assert run.rc == 0, run
    rows, notes = table_of(run)
    assert list(rows) == lab.names
    for name in lab.names:
        row = rows[name]
        skew = row.pop("SKEW")
        assert row == expected_row(kube, name, lab.host)
        assert skew.startswith("~"), skew  # one machine, one clock: within the Date header's resolution
    # other tests may have joined clusters the lab inventory does not list: those are the only notes allowed
    assert [n for n in notes if "joined to the host but not in the inventory" not in n] == []
    assert all(r["changed"] is False for r in run.results("Read the cluster").values())


def test_status_shows_members_the_host_manages_beyond_the_inventory(lab, kube, tmp_path, ansible_run, unique):
    inv = inventory(tmp_path, {n: (lab.kubeconfig(n), n) for n in lab.names})
    with probe_cluster(kube, lab.host, unique, ready="True") as (name, secrets):
        run = ansible_run(STATUS, inv)
    assert run.rc == 0, run
    rows, notes = table_of(run)
    # Ready True on the Cluster, but no KubeFedCluster for it: the table says what kubefed's view adds
    assert rows[name] == {"CLUSTER": name, "ROLE": "member", "KUBERNETES": "v1.34.3", "KUBESPHERE": "v3.4.1",
                          "READY": "yes (not_federated)", "JWT=HOST": "-", "SKEW": "-"}
    assert "%s: joined to the host but not in the inventory (no kubeconfig): shown as the host sees it" % name in notes
    assert all(s not in run.stdout for s in secrets)


def test_status_reports_each_broken_cluster_and_still_the_others(lab, tmp_path, ansible_run):
    bad = broken_kubeconfigs(lab, tmp_path)
    member = lab.members[0]
    inv = inventory(tmp_path, {lab.host: (lab.kubeconfig(lab.host), lab.host),
                               member: (lab.kubeconfig(member), member),
                               "wrongctx": (lab.kubeconfig(lab.members[1]), "no-such-context"),
                               "badcert": (bad["badcert"], member),
                               "closed": (bad["closed"], member)})
    run = ansible_run(STATUS, inv)
    assert run.rc == 0, run
    rows, notes = table_of(run)
    assert sorted(rows) == sorted([lab.host, member, "wrongctx", "badcert", "closed"])
    for name in (lab.host, member):
        assert rows[name]["KUBERNETES"].startswith("v1.") and rows[name]["ROLE"] != "?"
    for name in ("wrongctx", "badcert", "closed"):
        assert (rows[name]["ROLE"], rows[name]["KUBERNETES"]) == ("?", "-")
    assert sorted(notes) == sorted([
        "wrongctx: UNREACHABLE [no_such_context] the kubeconfig has no context 'no-such-context'",
        "badcert: UNREACHABLE [tls_untrusted] the API server's TLS certificate is not trusted by the kubeconfig's "
        "CA (certificate verify failed: unable to get local issuer certificate)",
        "closed: UNREACHABLE [unreachable] the API server is unreachable (connection refused)",
    ])


def test_strict_status_fails_but_still_prints_the_table(lab, tmp_path, ansible_run):
    bad = broken_kubeconfigs(lab, tmp_path)
    inv = inventory(tmp_path, {lab.host: (lab.kubeconfig(lab.host), lab.host), "closed": (bad["closed"], lab.members[0])})
    run = ansible_run(STATUS, inv, extra_vars={"kubesphere_status_strict": True})
    assert run.rc != 0
    assert run.results("Read the cluster")["closed"]["failed"] is True
    rows, notes = table_of(run)
    assert rows[lab.host]["KUBERNETES"].startswith("v1.")
    assert notes == ["closed: UNREACHABLE [unreachable] the API server is unreachable (connection refused)"]


def test_the_table_reads_well_on_the_default_callback(lab, tmp_path, ansible_run):
    inv = inventory(tmp_path, {n: (lab.kubeconfig(n), n) for n in lab.names})
    run = ansible_run(STATUS, inv, callback="default")
    assert run.rc == 0, run.stderr
    text = run.stdout
    block = text[text.index("Print the fleet]"):]
    assert "msg: |-" in block
    assert "CLUSTER  ROLE" in block
    assert block.count("TASK [") == 0 and text.count("CLUSTER  ROLE") == 1
