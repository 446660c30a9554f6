"""Files at rest on the controller (execute/files.py, checks/files.py): a new folder is created 0700, a file is
0600, an existing folder is never chmod'ed and one open to its group or others is refused (folder_not_private)."""

import os
import stat

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import files as file_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute import files


class Module:
    def atomic_move(self, src, dest):
        os.rename(src, dest)

    def set_mode_if_different(self, path, mode, changed):
        if stat.S_IMODE(os.stat(path).st_mode) == int(mode, 8):
            return changed
        os.chmod(path, int(mode, 8))
        return True


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_file_in_a_new_folder_is_0600_in_0700_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "new" / "deeper" / "cc.yaml"
        assert files.write_private(Module(), str(path), "secret: x\n") is True
    finally:
        os.umask(old)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert path.read_text() == "secret: x\n"
    assert files.write_private(Module(), str(path), "secret: x\n") is False


def test_an_existing_folder_keeps_its_mode(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    os.chmod(folder, 0o750)
    assert files.make_private_folder(str(folder)) == str(folder)
    assert mode(folder) == 0o750


@pytest.mark.parametrize("bits", [0o700, 0o500])
def test_a_private_folder_passes(tmp_path, bits):
    os.chmod(tmp_path, bits)
    try:
        assert file_checks.private_folder("member1", files.folder_facts(str(tmp_path)), "a file") == []
    finally:
        os.chmod(tmp_path, 0o700)


def test_a_missing_folder_passes_it_is_created_0700(tmp_path):
    facts = files.folder_facts(str(tmp_path / "absent"))
    assert facts["exists"] is False
    assert file_checks.private_folder("member1", facts, "a file") == []


@pytest.mark.parametrize("bits", [0o755, 0o770, 0o701, 0o1777])
def test_a_folder_open_to_others_is_refused_and_not_changed(tmp_path, bits):
    folder = tmp_path / "open"
    folder.mkdir()
    os.chmod(folder, bits)
    found = file_checks.private_folder("member1", files.folder_facts(str(folder)), "the backup of X")
    assert [p["code"] for p in found] == ["folder_not_private"]
    msg = found[0]["message"]
    assert "cluster 'member1'" in msg and str(folder) in msg and "chmod 700 %s" % folder in msg
    assert "%04o" % bits in msg and "the backup of X" in msg
    assert mode(folder) == bits


def test_a_file_where_the_folder_should_be_is_refused(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    found = file_checks.private_folder("host", files.folder_facts(str(path)), "a file")
    assert [p["code"] for p in found] == ["folder_not_private"] and "is not a folder" in found[0]["message"]
