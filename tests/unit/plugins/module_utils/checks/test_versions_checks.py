"""One fleet, one KubeSphere line."""

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import versions as version_checks


def test_a_fleet_on_one_line_or_without_kubesphere_yet_has_no_problem():
    assert version_checks.mixed_lines("m1", {"host": "3.4", "m1": "3.4", "m2": None}) == []
    assert version_checks.mixed_lines("m1", {}) == []


def test_mixed_lines_name_every_cluster_by_line():
    problems = version_checks.mixed_lines("m2", {"host": "3.4", "m1": "3.4", "m2": "4.1", "m3": None})
    assert [p["code"] for p in problems] == ["mixed_versions"] and problems[0]["cluster"] == "m2"
    assert "KubeSphere 3.4 on host, m1; KubeSphere 4.1 on m2" in problems[0]["message"]
    assert "m3" not in problems[0]["message"] and "nothing was changed" in problems[0]["message"]


def test_peer_lines_take_the_cluster_s_own_reading_over_its_peer_entry():
    peers = [{"name": "host", "kubesphere_line": "3.4"}, {"name": "m1", "kubesphere_line": None}, {"role": "x"}]
    assert version_checks.peer_lines(peers, ("m1", "4.1")) == {"host": "3.4", "m1": "4.1"}
