"""sptui.files: the one reader of data files (never through a symbolic link) and the one writer of a file sptui is
told to write (atomic, never through a symbolic link), and every command that writes one."""
from __future__ import annotations

import os
import stat

import pytest
from conftest import registry_csv, registry_row

from sptui.errors import FileProblem
from sptui.files import read_data, write_file


def _links(tmp_path):
    """A target elsewhere that must never be touched, and names in a folder that are links: to it, dangling (to a
    file that does not exist yet: writing through would create it), to themselves."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    victim = elsewhere / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    here = tmp_path / "here"
    here.mkdir()
    (here / "to_victim").symlink_to(victim)
    (here / "dangling").symlink_to(elsewhere / "created.txt")
    (here / "self").symlink_to(here / "self")
    return here, victim, elsewhere / "created.txt"


@pytest.mark.parametrize("replace", [True, False])
@pytest.mark.parametrize("link", ["to_victim", "dangling", "self"])
def test_the_writer_never_writes_through_a_symbolic_link(tmp_path, link, replace):
    here, victim, created = _links(tmp_path)
    with pytest.raises(FileProblem, match="symbolic link"):
        write_file(here / link, "new text", replace=replace)
    assert victim.read_text(encoding="utf-8") == "precious\n" and not created.exists()
    assert (here / link).is_symlink()  # the link itself is left as it was
    assert sorted(p.name for p in here.iterdir()) == ["dangling", "self", "to_victim"]  # no temporary file left


def test_the_writer_replaces_a_file_whole_keeping_its_permissions_and_a_new_one_is_private_if_asked(tmp_path):
    f = tmp_path / "policy.sptp"
    f.write_text("old", encoding="utf-8")
    os.chmod(f, 0o640)
    write_file(f, "new ✓")
    assert f.read_text(encoding="utf-8") == "new ✓" and stat.S_IMODE(f.stat().st_mode) == 0o640
    write_file(tmp_path / "export.csv", b"a,b\n", private=True)
    assert stat.S_IMODE((tmp_path / "export.csv").stat().st_mode) == 0o600
    with pytest.raises(FileProblem, match="exists already"):
        write_file(f, "again", replace=False)
    with pytest.raises(FileProblem, match="cannot be written"):
        write_file(tmp_path / "no-such-folder" / "x", "x")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(FileProblem, match="not a regular file"):
        write_file(tmp_path / "fifo", "x")


def test_the_reader_of_data_files_reads_no_symbolic_link(tmp_path):
    here, victim, _ = _links(tmp_path)
    for link in ("to_victim", "dangling", "self"):
        with pytest.raises(FileProblem, match="a symbolic link"):
            read_data(here / link, limit=100)
    assert read_data(victim, limit=100)[0] == b"precious\n"
    with pytest.raises(FileProblem, match="larger than"):
        read_data(victim, limit=3)


def test_registry_export_and_its_reject_file_are_never_written_through_a_link(tmp_path, db_url, run):
    """`registry export -o LINK` and `registry import --partial --rejects LINK` (a dangling link is the sneaky
    one: the old check `exists()` said no, and the write created the file it pointed to): one line each, the
    linked file untouched; the good rows are imported all the same."""
    here, victim, created = _links(tmp_path)
    assert run("db", "upgrade", "--db", db_url).returncode == 0  # (an import refused for its reject file creates none)
    f = tmp_path / "reg.csv"
    f.write_text(registry_csv([registry_row(1), registry_row(2, years="three")]), encoding="utf-8")
    for link in ("dangling", "to_victim", "self"):
        r = run("registry", "import", f, "--partial", "--rejects", here / link, "--db", db_url)
        assert r.returncode in (1, 2) and "Traceback" not in r.stderr, r.stderr
        assert "exists already" in r.stderr or "symbolic link" in r.stderr, r.stderr
        r = run("registry", "export", "-o", here / link, "--db", db_url)
        assert r.returncode == 1 and "symbolic link" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert victim.read_text(encoding="utf-8") == "precious\n" and not created.exists()
    r = run("registry", "export", "-o", tmp_path / "out.csv", "--db", db_url)
    assert r.returncode == 0 and stat.S_IMODE((tmp_path / "out.csv").stat().st_mode) == 0o600


def test_fmt_does_not_write_through_a_linked_policy_file(tmp_path, run):
    here, victim, _ = _links(tmp_path)
    from conftest import POLICIES

    target = tmp_path / "elsewhere" / "p.sptp"  # a policy file fmt would change (one line indented too far)
    target.write_text((POLICIES / "hours.sptp").read_text(encoding="utf-8").replace("\n  cite", "\n      cite", 1),
                      encoding="utf-8")
    assert "would be reformatted" in run("fmt", "--check", target).stdout
    (here / "p.sptp").symlink_to(target)
    before = target.read_text(encoding="utf-8")
    r = run("fmt", here / "p.sptp")
    # (refused as a link, or first as a policy file whose path leads out of its folder: either way not written)
    assert r.returncode == 2 and ("symbolic link" in r.stderr or "outside the policy's folder" in r.stderr) \
        and "Traceback" not in r.stderr, r.stderr
    assert target.read_text(encoding="utf-8") == before
