"""What the tests look for in output and files: the secrets a kubeconfig holds (tokens, client keys, and each
long line of a decoded client key, so that a key printed in pieces is found too)."""

import base64


def kubeconfig_secrets(kubeconfigs):
    """The secrets in parsed kubeconfigs (dicts; anything else is skipped), as a set of strings of 8+ chars."""
    out = set()
    for kc in (k for k in kubeconfigs if isinstance(k, dict)):
        for user in kc.get("users") or []:
            u = user.get("user") or {}
            for key in ("token", "client-key-data"):
                if u.get(key):
                    out.add(u[key])
                    if key == "client-key-data":
                        out.update(line for line in base64.b64decode(u[key]).decode().splitlines() if len(line) > 40)
    return {s for s in out if s and len(s) >= 8}
