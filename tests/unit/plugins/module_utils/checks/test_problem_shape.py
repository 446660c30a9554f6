from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import (
    PROBLEM_KEYS, codes, format_problems, problem)


def test_a_problem_has_exactly_code_cluster_message():
    p = problem("jwt_mismatch", "member1", "cluster 'member1': the jwtSecret differs from the host's")
    assert tuple(sorted(p)) == tuple(sorted(PROBLEM_KEYS))
    assert codes([p]) == ["jwt_mismatch"]


def test_format_problems_counts_and_lists_each():
    text = format_problems([problem("a", "x", "first"), problem("b", None, "second")], subject="import")
    assert text.splitlines() == ["import found 2 problems:", "- [a] first", "- [b] second"]
