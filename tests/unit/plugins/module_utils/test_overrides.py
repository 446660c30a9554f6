"""Per-cluster settings turned into kubefed overrides (pure)."""

import base64

import pytest

from federation_fixtures import deployment

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import overrides as ov


# ---------------------------------------------------------------- overrides from settings

def test_settings_become_overrides_sorted_by_path():
    template = federated.template_of(deployment(), "apps/v1")
    entries = ov.cluster_overrides("Deployment", template, {
        "replicas": 2, "image": {"app": "nginx:1.25", "init": "busybox:2"},
        "env": {"app": {"B": "x", "A": 2}},
        "resources": {"sidecar": {"limits": {"cpu": "100m"}}},
        "ports": {"app": [{"name": "http", "containerPort": 8080}]},
        "overrides": [{"path": "/spec/template/spec/nodeSelector", "op": "add", "value": {"disk": "ssd"}},
                      {"path": "/spec/paused", "op": "remove", "value": "ignored"}],
    })
    assert entries == [
        {"op": "remove", "path": "/spec/paused"},
        {"op": "replace", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/template/spec/containers/0/env",
         "value": [{"name": "A", "value": "2"}, {"name": "B", "value": "x"}]},
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.25"},
        {"op": "replace", "path": "/spec/template/spec/containers/0/ports",
         "value": [{"name": "http", "containerPort": 8080}]},
        {"op": "replace", "path": "/spec/template/spec/containers/1/resources", "value": {"limits": {"cpu": "100m"}}},
        {"op": "replace", "path": "/spec/template/spec/initContainers/0/image", "value": "busybox:2"},
        {"op": "add", "path": "/spec/template/spec/nodeSelector", "value": {"disk": "ssd"}},
    ]


def test_env_value_from_and_booleans():
    template = federated.template_of(deployment(), "apps/v1")
    [entry] = ov.cluster_overrides("Deployment", template, {"env": {"app": {
        "DEBUG": True, "TOKEN": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "t"}}}}}})
    assert entry["value"] == [{"name": "A", "value": "1"}, {"name": "DEBUG", "value": "true"},
                              {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "t"}}}]


def test_cronjob_containers_are_found_under_the_job_template():
    cron = {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "containers": [{"name": "c", "image": "a"}]}}}}}}
    [entry] = ov.cluster_overrides("CronJob", cron, {"image": {"c": "b"}})
    assert entry["path"] == "/spec/jobTemplate/spec/template/spec/containers/0/image"


def test_unknown_container_is_an_error():
    with pytest.raises(ov.FederationError):
        ov.cluster_overrides("Deployment", federated.template_of(deployment()), {"image": {"nope": "x"}})
    with pytest.raises(ov.FederationError):
        ov.cluster_overrides("Service", {"spec": {}}, {"data": {"k": "v"}})


def test_configmap_data_keys_per_key_or_whole_when_the_template_has_none():
    assert ov.cluster_overrides("ConfigMap", {"data": {"a": "1"}}, {"data": {"b": 2, "a": "x"}}) == [
        {"op": "replace", "path": "/data/a", "value": "x"}, {"op": "replace", "path": "/data/b", "value": "2"}]
    assert ov.cluster_overrides("ConfigMap", {}, {"data": {"a": "x"}}) == [
        {"op": "replace", "path": "/data", "value": {"a": "x"}}]


def test_secret_data_is_base64_encoded():
    [entry] = ov.cluster_overrides("Secret", {"data": {"password": "eA=="}}, {"data": {"password": "s3cret"}})
    assert entry == {"op": "replace", "path": "/data/password", "value": base64.b64encode(b"s3cret").decode()}


def test_service_ports_are_the_whole_list():
    ports = [{"name": "http", "port": 80, "targetPort": 8080}]
    assert ov.cluster_overrides("Service", {"spec": {"ports": []}}, {"ports": ports}) == [
        {"op": "replace", "path": "/spec/ports", "value": ports}]
