"""Compare what a run's plan said it would write with what the run wrote (the lab's audit logs).

Every operation returns `plan`: its steps' public view ({id, kind, side, cluster, object, verb, ...}); a
write step (or an act that writes one API object) has `verb` (create, patch, apply, delete) and `object`
("Kind name" or "Kind namespace/name"). A run's writes are the audit log's create/update/patch/delete by the
collection's user since a mark. Server-side apply and merge patch are both PATCH on the wire; `apply` of an
absent object is a PATCH that creates it.

    writes = plan_writes(result["plan"], {"host": "host", "member": "member1"})
    assert writes == audit_writes(audit, mark)"""

WIRE_VERB = {"create": "create", "patch": "patch", "apply": "patch", "delete": "delete", "update": "update"}


def resource_of(kind):
    """The lower-case plural resource of a kind, as the audit log names it (the kinds the collection writes)."""
    lower = kind.lower()
    return lower + ("es" if lower.endswith("s") else "s")


def _object(text):
    kind, ref = text.split(" ", 1)
    namespace, name = ref.rsplit("/", 1) if "/" in ref else ("", ref)
    return kind, namespace, name


def plan_writes(plan, clusters):
    """{(lab cluster, wire verb, resource, namespace, name)} of a plan's writes; `clusters` maps a step's side
    (host, member, ...) to the lab cluster whose audit log shows it."""
    out = set()
    for step in plan or []:
        verb = step.get("verb")
        if not verb or step.get("side") not in clusters:
            continue
        kind, namespace, name = _object(step["object"])
        out.add((clusters[step["side"]], WIRE_VERB[verb], resource_of(kind), namespace, name))
    return out


def audit_writes(audit, mark, clusters=None):
    """The same tuples for the collection's writes since `mark` (every cluster, or those named)."""
    out = set()
    for r in audit.writes_by_collection(since=mark):
        if clusters and r.cluster not in clusters:
            continue
        if r.subresource:
            continue
        out.add((r.cluster, "patch" if r.verb == "update" else r.verb, r.resource, r.namespace, r.name))
    return out
