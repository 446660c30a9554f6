"""The v4.1 mode's Job runner (kslabkit/jobrunner.py), without a cluster: a Job pod's volumes become folders,
mount paths in its command are rewritten, the command runs here with the pod's namespace in its kubeconfig, and
the exit code is the pod's."""

import os

import yaml

from kslabkit import jobrunner


class FakeRest:
    def __init__(self, objects):
        self.objects = objects

    def try_get(self, path):
        return self.objects.get(path)


def _kubeconfig(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                                    "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                                    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                                    "users": [{"name": "u", "user": {}}]}))
    return str(path)


def _pod(command, volumes=(), mounts=(), env=()):
    return {"metadata": {"name": "job-pod", "namespace": "kubesphere-system"},
            "spec": {"volumes": list(volumes),
                     "containers": [{"name": "main", "command": command, "volumeMounts": list(mounts),
                                     "env": list(env)}]}}


def test_volumes_mount_paths_namespace_and_exit_code(tmp_path):
    out = tmp_path / "out.txt"
    rest = FakeRest({"/api/v1/namespaces/kubesphere-system/configmaps/scripts":
                     {"data": {"run.sh": "echo from-configmap"}},
                     "/api/v1/namespaces/kubesphere-system/secrets/s": {"data": {"token": "c2VjcmV0"}}})
    pod = _pod(["/bin/sh", "-c", "sh /scripts/run.sh > %s; cat /creds/token >> %s; echo >> %s; "
                "grep -h namespace $KUBECONFIG >> %s; echo $MODE >> %s; exit 3" % ((out,) * 5)],
               volumes=[{"name": "scripts", "configMap": {"name": "scripts"}},
                        {"name": "creds", "secret": {"secretName": "s"}}],
               mounts=[{"name": "scripts", "mountPath": "/scripts"}, {"name": "creds", "mountPath": "/creds"}],
               env=[{"name": "MODE", "value": "played"}])
    rc = jobrunner.run_pod(rest, pod, _kubeconfig(tmp_path), [], 9, str(tmp_path / "job.log"))
    assert rc == 3
    lines = out.read_text().splitlines()
    assert lines[0] == "from-configmap"
    assert lines[1] == "secret"
    assert lines[2].strip() == "namespace: kubesphere-system"
    assert lines[3] == "played"
    assert "exit 3" in (tmp_path / "job.log").read_text()


def test_a_program_that_is_not_here_exits_127(tmp_path):
    pod = _pod(["/no/such/entrypoint-kslab"])
    rc = jobrunner.run_pod(FakeRest({}), pod, _kubeconfig(tmp_path), [], 9, str(tmp_path / "job.log"))
    assert rc == 127
    assert "not on this machine" in (tmp_path / "job.log").read_text()


def test_no_command_is_an_image_entrypoint_the_lab_cannot_play(tmp_path):
    pod = _pod([])
    rc = jobrunner.run_pod(FakeRest({}), pod, _kubeconfig(tmp_path), [], 9, str(tmp_path / "job.log"))
    assert rc == 127
    assert "no command" in (tmp_path / "job.log").read_text()


def test_a_volume_s_default_mode_makes_a_script_executable_as_the_kubelet_does(tmp_path):
    """helm-executor's Job runs `helm ... --post-renderer <dir>/helm-post-render.sh` from a ConfigMap volume with
    defaultMode 0755; an item's own mode wins."""
    out = tmp_path / "out.txt"
    rest = FakeRest({"/api/v1/namespaces/kubesphere-system/configmaps/exec":
                     {"binaryData": {"post.sh": "IyEvYmluL3NoCmVjaG8gcmFu", "other.txt": "eA=="}}})
    pod = _pod(["/bin/sh", "-c", "/src/post.sh > %s; stat -c %%a /src/post.sh /src/other.txt >> %s" % (out, out)],
               volumes=[{"name": "src", "configMap": {"name": "exec", "defaultMode": 0o755,
                                                      "items": [{"key": "post.sh", "path": "post.sh"},
                                                                {"key": "other.txt", "path": "other.txt", "mode": 0o600}]}}],
               mounts=[{"name": "src", "mountPath": "/src"}])
    rc = jobrunner.run_pod(rest, pod, _kubeconfig(tmp_path), [], 9, str(tmp_path / "job.log"))
    assert rc == 0, (tmp_path / "job.log").read_text()
    assert out.read_text().split() == ["ran", "755", "600"]
