from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
POLICIES = ROOT / "policies"


def check(paths, **kw):
    """sptui.policy.compile.check with the process's plugins (the built-ins and the installed ones) unless given."""
    from sptui.plugins.manager import default_manager
    from sptui.policy.compile import check as _check

    kw.setdefault("plugins", default_manager())
    return _check(paths, **kw)


@pytest.fixture(scope="session")
def policy():
    import sptui

    return sptui.load_policy(POLICIES)


@pytest.fixture(scope="session")
def sptui_bin() -> str:
    exe = Path(sys.executable).parent / "sptui"
    if exe.exists():
        return str(exe)
    found = shutil.which("sptui")
    assert found, "the sptui command is not installed (run scripts/setup)"
    return found


@pytest.fixture
def run(sptui_bin):
    """Run the real sptui command; returns the CompletedProcess."""
    import subprocess

    def _run(*args, input=None, cwd=ROOT, env=None):
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run([sptui_bin, *map(str, args)], input=input, capture_output=True, text=True, cwd=cwd,
                              env=e, timeout=120)
    return _run


@pytest.fixture
def base_case() -> dict:
    """A covered case: a HW failure at 17:00 on Friday 2026-11-27 on a 5-year weekday-9h pack (sptui.testing's)."""
    from sptui.testing import make_case

    return make_case()


# ---- the store, on SQLite and on a real PostgreSQL server -------------------------------------------------
def pg_admin_url() -> str | None:
    """The test server's URL: $SPTUI_TEST_PG, else the one scripts/pg-test-server left in .pgtest/url."""
    url = os.environ.get("SPTUI_TEST_PG")
    if url:
        return url
    f = ROOT / ".pgtest" / "url"
    return f.read_text().strip() if f.exists() and f.read_text().strip() else None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database: a SQLite file, or a new database on the PostgreSQL test server (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'desk.db'}"
        return
    admin = pg_admin_url()
    if admin is None:
        if os.environ.get("SPTUI_REQUIRE_PG"):
            pytest.fail("SPTUI_REQUIRE_PG is set but no PostgreSQL test server is known (scripts/pg-test-server)")
        pytest.skip("no PostgreSQL test server (run scripts/pg-test-server, or set SPTUI_TEST_PG)")
    import uuid

    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


@pytest.fixture
def store(db_url):
    from sptui.store import Store

    s = Store.open(db_url)
    yield s
    s.close()


from sptui.testing import REGISTRY_FIELDS, registry_csv, registry_row  # noqa: E402,F401  (shared with plugin authors)

REGISTRY_HEADER = ",".join(REGISTRY_FIELDS)


@pytest.fixture(autouse=True)
def _unfreeze_gc():
    """The desk freezes its loaded rows out of the cyclic GC's way (gc.freeze); a test process runs many desks,
    so what one froze is handed back to the collector after it."""
    yield
    import gc

    if gc.get_freeze_count():
        gc.unfreeze()
