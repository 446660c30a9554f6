"""A proxy member's agent after the host's address changed (plan/join.py `reconnect_before`, `reconnect_wait`;
versions/v3_4/agent.py `connection`, `reconnected`): the agent is re-pointed and the run waits for a connection
tower recorded after the re-point (AgentAvailable True with other times than before), never the Ready or
AgentAvailable left from before; an agent that never connects fails naming the member and the address."""

import copy

from fakes import FakeConnection, FakeModule

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context, Executor
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import join as join_plan
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import v3_4
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import agent

OLD, NEW = "http://10.255.0.1:8080", "http://203.0.113.9:30721"
T0, T1, T2 = "2026-12-06T10:00:00Z", "2026-12-06T11:00:01Z", "2026-12-06T11:00:02Z"
PARAMS = dict(name="member2", connection_type="proxy", group="lab", provider=None, description=None, alias=None,
              labels=None, creator="admin", agent_image=None, verify_strict=False, wait=True, wait_timeout=30,
              wait_sleep=1, dedicated_credential=False)


def condition(kind, status, when, message=""):
    return {"type": kind, "status": status, "lastUpdateTime": when, "lastTransitionTime": when, "message": message}


def cluster(agent_status="True", when=T0):
    c = co.build("member2", "proxy", group="lab", creator="admin")
    c["spec"]["connection"]["token"] = "tower-token"
    c["status"] = {"conditions": [condition("Initialized", "True", T0), condition("Ready", "True", T0)]}
    if agent_status:
        c["status"]["conditions"].append(condition("AgentAvailable", agent_status, when))
    return c


def facts(live, dials, **over):
    dep = agent.build(live, dials, agent.INSTALLER_AGENT_IMAGE) if dials else None
    out = {"host": {"name": "host", "config": {"multicluster": {"agentImage": agent.INSTALLER_AGENT_IMAGE}},
                    "proxy": {"address": NEW, "source": "proxyPublishAddress"}},
           "live": live, "kubefed": {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
           "kubeconfig": None, "host_label": "host", "agent": dep}
    out.update(over)
    return out


def ids(plan):
    return [s.id for s in plan]


def test_tower_records_a_connection_by_the_times_of_agent_available_not_by_ready():
    before = agent.connection(cluster())
    assert before == {"status": "True", "time": T0, "message": ""}
    assert agent.reconnected(cluster(), before) is False  # the state left from before is no proof
    assert agent.reconnected(cluster("False", T1), before) is False
    assert agent.reconnected(cluster("True", T2), before) is True
    assert agent.reconnected(cluster(None), None) is False
    assert agent.reconnected(cluster("True", T0), None) is True  # no record before: any connection
    assert agent.proxy_server(agent.build(cluster(), NEW, "img")) == NEW and agent.proxy_server(None) is None


def test_an_agent_on_the_old_address_is_re_pointed_and_a_fresh_connection_awaited():
    plan = join_plan.plan(facts(cluster(), OLD), PARAMS, v3_4)
    assert ids(plan) == ["agent-before", "agent", "agent-reconnected", "healthy", "verify-usable"]
    assert plan[1].kind == "apply" and "--proxy-server=%s" % NEW in \
        plan[1]["body"]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert plan[0]["run"](None) == {"from": OLD, "to": NEW, "connection": {"status": "True", "time": T0, "message": ""}}
    assert plan[0]["carry"] is True and plan[2].kind == "wait" and NEW in plan[2]["condition"]


def test_an_agent_on_the_address_tower_says_is_not_connected_is_awaited_again_and_a_converged_one_not():
    plan = join_plan.plan(facts(cluster("False", T1), NEW), PARAMS, v3_4)
    assert ids(plan) == ["agent-before", "agent-reconnected", "healthy", "verify-usable"]
    assert ids(join_plan.plan(facts(cluster(), NEW), PARAMS, v3_4)) == ["verify-usable"]
    assert ids(join_plan.plan(facts(cluster(), OLD), dict(PARAMS, wait=False), v3_4)) == ["agent"]


def test_a_later_slice_waits_for_the_fresh_connection_with_what_the_first_read():
    carried = {"from": OLD, "to": NEW, "connection": {"status": "True", "time": T0, "message": ""}}
    plan = join_plan.plan(facts(cluster(), NEW, agent_before=carried), PARAMS, v3_4)
    assert ids(plan) == ["agent-before", "agent-reconnected", "healthy", "verify-usable"]
    assert plan[0]["run"](None) == carried


class Tower(FakeConnection):
    """A host whose tower writes AgentAvailable after `after` polls (status, time), as tower v0.2.1 does."""

    def __init__(self, live, script):
        super(Tower, self).__init__(label="host", objects=[live], served={(co.API_VERSION, co.KIND)})
        self.script = list(script)

    def get(self, api_version, kind, name, namespace=None, if_served=False):
        if kind == co.KIND and self.script:
            status, when = self.script.pop(0)
            obj = self.store[(api_version, kind, namespace, name)]
            obj["status"]["conditions"] = [c for c in obj["status"]["conditions"] if c["type"] != "AgentAvailable"]
            obj["status"]["conditions"].append(condition("AgentAvailable", status, when))
        return super(Tower, self).get(api_version, kind, name, namespace, if_served=if_served)


def run_reconnect(script, timeout=30):
    live = cluster()
    plan = [s for s in join_plan.plan(facts(live, OLD), dict(PARAMS, wait_timeout=timeout), v3_4)
            if s.id in ("agent-before", "agent-reconnected")]
    host = Tower(copy.deepcopy(live), script)
    ctx = Context(FakeModule(), {"host": host, "member": FakeConnection(label="member2")})
    clock = {"t": 0.0}
    ctx.slicer.clock = lambda: clock["t"]
    executor = Executor(ctx, sleep=lambda s: clock.__setitem__("t", clock["t"] + s))
    return executor.run(plan), ctx


def test_the_wait_ends_on_a_connection_recorded_after_the_re_point():
    outcome, ctx = run_reconnect([("True", T0), ("False", T1), ("True", T2)])
    assert outcome.ok and ctx.values["agent-reconnected"] == {"status": "True", "time": T2, "message": ""}


def test_an_agent_that_never_connects_fails_naming_the_member_and_the_address():
    outcome, _ctx = run_reconnect([("True", T0)] + [("False", T1)] * 100, timeout=5)
    step, error = outcome.failures[0]
    assert step.id == "agent-reconnected" and isinstance(error, KubeSphereError)
    assert error.code == "agent_not_connected" and error.cluster == "member2"
    assert "cluster 'member2'" in error.msg and NEW in error.msg and "AgentAvailable False since %s" % T1 in error.msg
    assert error.result["proxy_address"] == NEW
