# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Every check of the collection, and the one shape of what they find.

A check is a pure function from facts (plain dicts read from the clusters or the inventory) to a list of
problems. It never reads a cluster and never writes one: modules read first, run every check, and write
only when the list is empty. Each theme has its own file in this package (fleet description, roles and
membership, clocks, import, usability after an import, unbind, federation); they all return `problem(...)`
dicts.

A problem is exactly {"code", "cluster", "message"}:
- code: a stable identifier, snake_case, that tests, roles and AWX surveys match on;
- cluster: the KubeSphere name of the cluster the problem is about (None for the fleet as a whole);
- message: one sentence for a person, naming the cluster and the object, saying what is wrong and what to do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

PROBLEM_KEYS = ("code", "cluster", "message")


def problem(code, cluster, message):
    """The one shape every check returns."""
    return {"code": code, "cluster": cluster, "message": message}


def codes(problems):
    """The codes of `problems`, in order (what tests and roles match on)."""
    return [p["code"] for p in problems]


def format_problems(problems, subject="the checks"):
    """One block of text for fail_json: a count, then one line per problem."""
    lines = ["%s found %d problem%s:" % (subject, len(problems), "" if len(problems) == 1 else "s")]
    lines += ["- [%s] %s" % (p["code"], p["message"]) for p in problems]
    return "\n".join(lines)
