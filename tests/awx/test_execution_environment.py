"""execution-environment.yml: `ansible-builder create` (no container engine needed) makes a build context
that installs this collection (the tarball `ansible-galaxy collection build` makes) and kubernetes.core
on a pinned base image, with the Python and system requirements. The tarball in the context installs into
a clean collections path, and ansible-builder's own introspection finds the collection's needs there."""

import glob
import os
import shutil
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
EE = os.path.join(REPO, "execution-environment.yml")
TARBALL = os.path.join(REPO, "build", "ee", "kubesphere-multicluster.tar.gz")

pytestmark = pytest.mark.timeout(300)


def run(*cmd, cwd=None):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env.pop("ANSIBLE_CONFIG", None)
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, "%s\n%s\n%s" % (" ".join(cmd), proc.stdout, proc.stderr)
    return proc.stdout


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The build context, as `ansible-builder create` writes it (after building the collection tarball)."""
    out = tmp_path_factory.mktemp("ee")
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(out), REPO,
        cwd=str(out))
    (built,) = glob.glob(str(out / "kubesphere-multicluster-*.tar.gz"))
    os.makedirs(os.path.dirname(TARBALL), exist_ok=True)
    shutil.copy(built, TARBALL)
    ctx = out / "context"
    run(os.path.join(BIN, "ansible-builder"), "create", "--file", EE, "--context", str(ctx),
        "--output-filename", "Containerfile", cwd=REPO)
    return ctx


def test_definition_pins_what_it_installs():
    with open(EE) as f:
        ee = yaml.safe_load(f)
    assert ee["version"] == 3
    base = ee["images"]["base_image"]["name"]
    assert "@sha256:" in base or (":" in base.rsplit("/", 1)[-1] and not base.endswith(":latest")), base
    deps = ee["dependencies"]
    assert "==" in deps["ansible_core"]["package_pip"] and "==" in deps["ansible_runner"]["package_pip"]
    names = {c["name"]: c for c in deps["galaxy"]["collections"]}
    assert names["kubernetes.core"]["version"].count(".") == 2  # an exact version
    for key in ("python", "system"):
        assert os.path.isfile(os.path.join(REPO, deps[key])), deps[key]


def test_containerfile_installs_the_collection_and_kubernetes_core(context):
    containerfile = (context / "Containerfile").read_text()
    with open(EE) as f:
        base = yaml.safe_load(f)["images"]["base_image"]["name"]
    assert 'EE_BASE_IMAGE="%s"' % base in containerfile
    assert "ansible-galaxy collection install" in containerfile and "requirements.yml" in containerfile
    assert "ansible-core==2.19.14" in containerfile
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    names = [c["name"] for c in requirements["collections"]]
    assert "kubernetes.core" in names
    (local,) = [n for n in names if n.endswith("kubesphere-multicluster.tar.gz")]
    # the Containerfile copies _build to /build, where the galaxy stage installs from
    assert "COPY _build /build" in containerfile
    assert (context / "_build" / os.path.relpath(local, "/build")).is_file()
    assert "openssh-clients" in (context / "_build" / "bindep.txt").read_text()
    assert "kubernetes==" in (context / "_build" / "requirements.txt").read_text()


def test_the_tarball_installs_and_declares_its_needs(context, tmp_path):
    tarball = context / "_build" / "collections" / "kubesphere-multicluster.tar.gz"
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "--no-deps", "-p", str(tmp_path),
        str(tarball), cwd=str(tmp_path))
    root = tmp_path / "ansible_collections" / "kubesphere" / "multicluster"
    assert (root / "plugins" / "modules" / "cluster_info.py").is_file()
    assert (root / "roles" / "status" / "tasks" / "main.yml").is_file()
    # ansible-builder's own introspection (what the builder stage runs) over the installed collection
    found = yaml.safe_load(run(sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect",
                               str(tmp_path), cwd=str(tmp_path)))
    assert any(p.startswith("kubernetes") for p in found["python"]), found
    assert any(s.startswith("openssh-clients") for s in found["system"]), found
