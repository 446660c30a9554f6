

def test_projects_table_lists_projects_per_member_and_what_is_not_in_sync():
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet.report import projects_table

    text = projects_table([
        ("member1", {"projects": [{"name": "shop", "state": "in_sync", "fields": []},
                                  {"name": "blog", "state": "drifted", "fields": ["/metadata/labels/x"]}]}),
        ("member2", {"projects": []}),
        ("member3", {"failed": True, "msg": "cluster 'member3': unreachable"}),
        ("member4", None),
    ])
    lines = text.splitlines()
    assert lines[0].split() == ["CLUSTER", "PROJECTS", "IN", "SYNC", "NOT", "IN", "SYNC"]
    assert lines[1].split() == ["member1", "2", "shop", "blog", "(drifted:", "/metadata/labels/x)"]
    assert lines[2].split() == ["member2", "0", "-", "-"]
    assert lines[3].split() == ["member3", "?", "-", "-"]
    assert "member3: projects not read (cluster 'member3': unreachable)" in lines
    assert "member4: projects not read (no result)" in lines


def test_the_facts_of_a_cluster_info_result_read_or_failed_on_purpose():
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet.report import facts_of

    read = {"changed": False, "cluster": {"name": "m1", "reachable": True}}
    failed = {"failed": True, "code": "unreachable", "cluster": "closed", "facts": {"name": "closed", "reachable": False}}
    assert facts_of(read) == {"name": "m1", "reachable": True}
    assert facts_of(failed) == {"name": "closed", "reachable": False}
    assert facts_of({"failed": True, "msg": "skipped"}) is None and facts_of(None) is None
