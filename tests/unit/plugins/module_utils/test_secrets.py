from ansible_collections.kubesphere.multicluster.plugins.module_utils import secrets


def test_fingerprint_is_stable_short_and_never_the_secret():
    fp = secrets.fingerprint("my-jwt-secret")
    assert fp == secrets.fingerprint(b"my-jwt-secret")
    assert fp.startswith("sha256:") and len(fp) == len("sha256:") + 12
    assert "my-jwt-secret" not in fp
    assert secrets.fingerprint("") is None and secrets.fingerprint(None) is None


def test_same_secret():
    assert secrets.same_secret("a", "a")
    assert not secrets.same_secret("a", "b")
    assert not secrets.same_secret("", "")
    assert not secrets.same_secret(None, None)
