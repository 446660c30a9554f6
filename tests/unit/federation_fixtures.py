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


def ftc(kind, plural, scope="Namespaced", group="", version="v1"):
    """kubefed's FederatedTypeConfig for the target `kind` (the FederatedTypeConfigs kubefedctl enables: name
    `<plural>[.<group>]`, federated type Federated<kind> in types.kubefed.io, namespaced)."""
    target = {"version": version, "kind": kind, "pluralName": plural, "scope": scope}
    if group:
        target["group"] = group
    return {"apiVersion": "core.kubefed.io/v1beta1", "kind": "FederatedTypeConfig",
            "metadata": {"name": plural + ("." + group if group else ""), "namespace": "kube-federation-system"},
            "spec": {"propagation": "Enabled", "targetType": target,
                     "federatedType": {"group": "types.kubefed.io", "version": "v1beta1", "kind": "Federated" + kind,
                                       "pluralName": "federated" + plural, "scope": "Namespaced"}}}
