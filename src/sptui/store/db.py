"""Opening the store: the URL, the engine, and the schema's revision (alembic).

    SQLite (default)  a file under the user's data directory, WAL mode, synchronous=FULL
    PostgreSQL        --db postgresql://… or SPTUI_DB (psycopg 3)

A new, empty database is created at the newest revision. A database at an older revision is not
changed behind the operator's back (on a shared desk other hosts use it): opening it raises
`OutdatedSchema`, whose message says to run `sptui db upgrade`.
"""
from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from sptui.errors import BadRequest, ConflictError, OutdatedSchema, StoreError  # noqa: F401  (sptui.store's)

MIGRATIONS = Path(__file__).with_name("migrations")
# how long a SQLite writer waits for another's lock before the operation fails (an SMTP 451, a message)
BUSY_TIMEOUT_MS = int(os.environ.get("SPTUI_SQLITE_BUSY_MS", "30000"))


def default_url() -> str:
    """SPTUI_DB, else a SQLite file in the user's data directory."""
    env = os.environ.get("SPTUI_DB")
    if env:
        return env
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir('sptui')) / 'desk.db'}"


def normalise_url(url: str | None) -> URL:
    """A plain path is a SQLite file; postgresql:// uses psycopg 3."""
    if not url:
        url = default_url()
    if "://" not in url:
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")  # a stored alarm survives a power cut, not only a killed process
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.close()


def make_engine(url: str | URL | None) -> Engine:
    u = url if isinstance(url, URL) else normalise_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(u, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000,
                                                        "isolation_level": None, "check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)

        # pysqlite's own transaction handling is off (isolation_level None): SQLAlchemy's begin is BEGIN
        @sa.event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine
    if u.get_backend_name() == "postgresql":
        # a server that does not answer (a network cut) fails a connection in 10 s instead of the TCP stack's minutes
        connect = {} if "connect_timeout" in u.query else {"connect_timeout": 10}
        return sa.create_engine(u, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=connect)
    raise StoreError(f"unsupported database URL {u.render_as_string(hide_password=True)}: "
                     "use a SQLite path or postgresql://user@host/db")


def _alembic_config(connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def known_revision(rev: str) -> bool:
    from alembic.script import ScriptDirectory

    try:
        return ScriptDirectory(str(MIGRATIONS)).get_revision(rev) is not None
    except Exception:  # alembic's resolution errors: a revision this sptui has never heard of
        return False


def _newer(rev: str, engine: Engine) -> StoreError:
    return StoreError(f"the database is at schema revision {rev}, newer than this sptui knows (its newest is "
                      f"{head_revision()}): another host upgraded it; upgrade sptui here too")


def upgrade(engine: Engine, revision: str = "head", *, only_new: bool = False) -> tuple[str | None, str]:
    """Bring the schema to `revision`; returns (before, after)."""
    from alembic import command

    from alembic.runtime.migration import MigrationContext

    # one migrator at a time: two desks opening a new database together must not both create it
    with engine.connect() as conn:
        conn.info["write"] = True  # SQLite: BEGIN IMMEDIATE
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74770401)")
                before = MigrationContext.configure(conn).get_current_revision()
                if before is not None and not known_revision(before):
                    raise _newer(before, engine)
                if before is None and set(sa.inspect(conn).get_table_names()) - {"alembic_version"}:
                    raise StoreError("the database has tables but no sptui schema revision: is it another program's?")
                if only_new and before is not None:
                    return before, before  # another desk created it meanwhile
                command.upgrade(_alembic_config(conn), revision)
        finally:
            conn.info.pop("write", None)
    return before, current_revision(engine)


HEAD = "0009"  # the newest migration (a test checks it against alembic's head)


def _revision_quick(engine: Engine) -> str | None:
    """The database's revision read without alembic (whose import costs a desk's cold start 0.15 s)."""
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except sa.exc.DBAPIError:  # no such table: a new database, for the slow path
        return None


def ensure_schema(engine: Engine) -> None:
    """Create an empty database at the newest revision; refuse an old one with how to upgrade it."""
    if _revision_quick(engine) == HEAD:
        return
    rev = current_revision(engine)
    head = head_revision()
    if rev == head:
        return
    if rev is None:
        before, _ = upgrade(engine, only_new=True)
        if before is None or before == head:
            return
        rev = before
    if not known_revision(rev):
        raise _newer(rev, engine)
    url = engine.url.render_as_string(hide_password=True)
    raise OutdatedSchema(f"the database is at schema revision {rev}; this sptui needs {head}. "
                         f"Back it up, then run: sptui db upgrade --db '{url}'")
