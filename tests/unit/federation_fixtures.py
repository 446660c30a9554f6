"""Objects the unit tests of the federation builders share."""


def deployment(**extra):
    obj = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "demo", "labels": {"app": "web"}, "uid": "u1",
                        "resourceVersion": "5"},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [
                                     {"name": "app", "image": "nginx:1.24", "env": [{"name": "A", "value": "1"}]},
                                     {"name": "sidecar", "image": "busybox"}],
                                     "initContainers": [{"name": "init", "image": "busybox"}]}}},
           "status": {"replicas": 1}}
    obj.update(extra)
    return obj
