"""The committed lab inventory's project (inventories/lab/group_vars/kubesphere_host/federation.yml), as a test
expects to find it on a member once federate.yml ran: the tests of both KubeSphere lines use it."""

import base64

# the member whose copy carries the per-cluster overrides (and 3 of the 4 weights)
OVERRIDDEN = "member2"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def shop_on(lab, member, log_level="info"):
    """True when `member` holds the project `shop` as declared (its ConfigMap, Secret and Deployment with the
    per-cluster overrides, and the replicas by weight 1:3 of 10), else None."""
    c = lab.client(member)
    ns = c.try_get("/api/v1/namespaces/shop")
    cm = c.try_get("/api/v1/namespaces/shop/configmaps/shop-config")
    secret = c.try_get("/api/v1/namespaces/shop/secrets/shop-db")
    dep = c.try_get("/apis/apps/v1/namespaces/shop/deployments/web")
    if not (ns and cm and secret and dep):
        return None
    ap = member == OVERRIDDEN
    ok = (cm["data"] == {"LOG_LEVEL": log_level, "REGION": "ap-east" if ap else "eu-west"}
          and secret["data"] == {"user": b64("shop"), "password": b64("lab-shop-password-ap" if ap else "lab-shop-password")}
          and dep["spec"]["replicas"] == (8 if ap else 2)
          and dep["spec"]["template"]["spec"]["containers"][0]["image"]
          == ("registry.ap.example.com/shop/web:1.4.2" if ap else "registry.example.com/shop/web:1.4.2"))
    return ok or None
