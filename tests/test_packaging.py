"""A wheel of sptui carries the policy it ships: installed from the wheel, away from this source tree,
`sptui check` checks that policy and `sptui eval` decides by it."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = "import sys; from sptui.cli import main; sys.argv[0] = 'sptui'; main()"


def test_the_wheel_ships_the_policy_and_decides_by_it(tmp_path):
    # from a copy of the tracked files: a build/ left by an earlier build would hide a file the wheel lacks
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    source = tmp_path / "source"
    for name in filter(None, listed.stdout.split("\0")):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_symlink():
            (source / name).symlink_to((ROOT / name).readlink())
        elif (ROOT / name).is_file():
            shutil.copy2(ROOT / name, source / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(tmp_path)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("sptui-*.whl")
    with zipfile.ZipFile(wheel) as z:
        shipped = sorted(n for n in z.namelist() if n.startswith("sptui/policies/"))
        assert shipped == sorted(f"sptui/policies/{p.name}" for p in (ROOT / "policies").glob("*.sptp"))
        z.extractall(tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"  # no policies/ here, and not the source tree
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "SPTUI_LOAD_PLUGINS": ""}

    def sptui(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", RUN, *args], cwd=elsewhere, env=env, input=stdin,
                              capture_output=True, text=True, timeout=120)

    where = subprocess.run([sys.executable, "-c", "import sptui; print(sptui.shipped_policy_dir())"], cwd=elsewhere,
                           env=env, capture_output=True, text=True)
    assert where.stdout.strip().startswith(str(tmp_path / "site")), where  # the wheel's copy, not this tree's

    checked = sptui("check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    from sptui import load_policy

    digest = load_policy(ROOT / "policies").digest  # the wheel's policy is the policy of this tree
    assert checked.stdout.startswith(f"0 error(s), 0 warning(s) — {len(shipped)} file(s)"), checked.stdout
    assert digest[:19] in checked.stdout

    line = (ROOT.parent / "shared" / "contract" / "examples" / "cases.jsonl").read_text(encoding="utf-8").splitlines()[0]
    example = json.loads(line)
    decided = sptui("eval", "-", stdin=json.dumps(example["case"]))
    assert decided.returncode == 0, decided.stderr
    assert json.loads(decided.stdout)["verdict"] == example["expect"]["verdict"]
