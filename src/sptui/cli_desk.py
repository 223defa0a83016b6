"""The desk's data commands: `sptui db`, `registry`, `incident`, `intake`, `demo`, `purge`.

Each takes `--db URL` (a SQLite path or postgresql://…; default `$SPTUI_DB`, else the user's SQLite
file) and, where it changes something, `--operator` (default `$USER`), which the audit log records.

A human-readable line that carries data goes out through `_say` (and errors through `_fail`): control characters
in it are shown escaped (`sptui.terminal`), so an ESC sequence in a customer's name cannot retitle or clear the
operator's terminal. `--format json` output stays JSON (json.dumps escapes what JSON must).
"""
from __future__ import annotations

import datetime as dt
import json
import sys

import click

from sptui.cli import EXIT_BAD_INPUT, _instant, _load, default_policy, main

db_option = click.option("--db", "db_url", default=None, envvar="SPTUI_DB",
                         help="SQLite path or postgresql://… (default: $SPTUI_DB, else the user's desk.db)")
operator_option = click.option("--operator", default=None, help="who is acting (default: $USER); kept in the audit log")
policy_option = click.option("--policy", "policy_path", default=None, help="the policy folder (default: policies/)")


def _store(db_url, *, check_schema: bool = True, must_exist: bool = False):
    from sqlalchemy.exc import DBAPIError

    from sptui.store import Store, StoreError

    if must_exist:  # alarms into a new, empty file would all be quarantined as unknown machines
        from pathlib import Path

        from sptui.store.db import normalise_url

        u = normalise_url(db_url)
        if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:" and not Path(u.database).exists():
            _fail(f"no desk database at {u.database}: name the desk's database with --db (or $SPTUI_DB), "
                  "or create it first (sptui registry import FILE.csv --db …)")
    try:
        return Store.open(db_url, check_schema=check_schema)
    except StoreError as e:
        _fail(e)
    except DBAPIError as e:
        _fail(f"cannot use the database: {e.orig or e}".strip())


class DeskGroup(click.Group):
    """A command group whose commands report a database failure (unreachable, refused) as one line, exit 1."""

    def invoke(self, ctx):
        from sqlalchemy.exc import DBAPIError

        try:
            return super().invoke(ctx)
        except DBAPIError as e:
            _fail(f"the database failed: {str(e.orig or e).strip().splitlines()[0]}")


def db_errors(fn):
    """The same for a command outside a DeskGroup."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from sqlalchemy.exc import DBAPIError

        try:
            return fn(*args, **kwargs)
        except DBAPIError as e:
            _fail(f"the database failed: {str(e.orig or e).strip().splitlines()[0]}")
    return wrapper


def _say(line: str, *, err: bool = False) -> None:
    """One line of human-readable output, with every control character in it shown escaped."""
    from sptui.terminal import shown

    click.echo(shown(line), err=err)


def _fail(e: Exception | str, code: int = 1):
    _say(f"error: {e}", err=True)
    sys.exit(code)


def _act(fn):
    """Run a desk or store action: bad input (BadRequest, CaseError) exits 2, a refusal (another owner, a conflict,
    a closed incident) 1; one line either way."""
    from sptui.errors import CaseError
    from sptui.store import BadRequest, StoreError

    try:
        return fn()
    except (BadRequest, CaseError) as e:
        _fail(e, EXIT_BAD_INPUT)
    except StoreError as e:
        _fail(e)


# ---- db ------------------------------------------------------------------------------------------------------
@main.group(cls=DeskGroup)
def db():
    """The database's schema: `sptui db upgrade`, `sptui db status`."""


@db.command("upgrade")
@db_option
def db_upgrade(db_url):
    """Bring the database's schema to this sptui's revision (alembic migrations)."""
    from sptui.store.db import upgrade

    from sptui.store import StoreError

    store = _store(db_url, check_schema=False)
    try:
        before, after = upgrade(store.engine)
    except StoreError as e:
        _fail(e)
    click.echo(f"{store.url}: schema {before or '(empty)'} → {after}" if before != after
               else f"{store.url}: schema already at {after}")


@db.command("status")
@db_option
def db_status(db_url):
    """The database's URL, schema revision and record counts."""
    from sptui.store.db import current_revision, head_revision

    store = _store(db_url, check_schema=False)
    rev, head = current_revision(store.engine), head_revision()
    click.echo(f"{store.url}\nschema: {rev or '(empty)'} (this sptui: {head})")
    if rev == head:
        for name, n in store.counts().items():
            click.echo(f"  {name:<12} {n:>8,}")


# ---- registry ------------------------------------------------------------------------------------------------
@main.group(cls=DeskGroup)
def registry():
    """The registry of customers, machines and packs: import, export, find."""


def _variants(policy_path):
    from sptui.store.registry import policy_variants

    return policy_variants(_load(policy_path or default_policy()))


@registry.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--partial", is_flag=True, help="write the good rows and put the bad ones in a reject file")
@click.option("--rejects", "rejects_path", default=None, help="the reject file (default: FILE.rejects.csv)")
@db_option
@operator_option
@policy_option
def registry_import(file, partial, rejects_path, db_url, operator, policy_path):
    """Import machines from a CSV (columns: `sptui registry columns`). All or nothing, unless --partial."""
    from pathlib import Path

    from sptui.store import operator_name
    from sptui.store.registry import ImportFailed, reject_file

    if not Path(file).is_file():  # a FIFO would hang the import, a device never end
        _fail(f"{file} is not a regular file", EXIT_BAD_INPUT)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        _fail(f"{file} is not UTF-8 text (byte {e.start}); save it as UTF-8 CSV", EXIT_BAD_INPUT)
    rejects = Path(rejects_path or f"{file}.rejects.csv")
    if partial and rejects.exists():
        _fail(f"the reject file {rejects} exists already: move it, or name another with --rejects", EXIT_BAD_INPUT)
    variants = _variants(policy_path)
    store = _store(db_url)
    try:
        result = store.import_registry(text, variants=variants, partial=partial, operator=operator_name(operator))
    except ImportFailed as e:
        _say(f"error: {len(e.errors)} error(s); nothing was imported:", err=True)
        for err in e.errors:
            _say(str(err), err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(f"imported {result.imported} machine(s)")
    if result.rejected:
        path = rejects
        path.write_text(reject_file(result.rejected), encoding="utf-8")
        for _, _, errs in result.rejected:
            for err in errs:
                _say(str(err), err=True)
        _say(f"rejected {len(result.rejected)} row(s): written to {path}", err=True)
        sys.exit(1)


@registry.command("export")
@click.option("-o", "--output", default="-", help="file to write (default: standard output)")
@db_option
def registry_export(output, db_url):
    """The registry as CSV, in the import's columns."""
    text = _store(db_url).export_registry()
    if output == "-" and sys.stdout.isatty():  # a person reads it: what a terminal would act on is shown escaped
        for line in text.split("\n")[:-1]:
            _say(line)
    elif output == "-":  # the data itself (color=True: click would strip what looks like a colour code from it)
        click.echo(text, nl=False, color=True)
    else:
        with open(output, "w", encoding="utf-8", newline="") as f:
            f.write(text)


@registry.command("columns")
def registry_columns():
    """The CSV columns, which are required, and what each holds."""
    from sptui.store.registry import COLUMNS

    for c in COLUMNS:
        click.echo(f"{c.name:<24} {'required' if c.required else 'optional':<9} {c.doc}")


@registry.command("find")
@click.option("--label", help="機器管理番号, e.g. 1234-567-890")
@click.option("--serial", help="製造番号")
@click.option("--customer", help="part of the customer's or site's organisation, or the person's name")
@click.option("--phone", help="a phone number (only its digits are compared)")
@click.option("--support-id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@db_option
def registry_find(label, serial, customer, phone, support_id, fmt, db_url):
    """Look machines up by label number, serial, customer or phone."""
    from sptui.store import StoreError

    try:
        rows = _store(db_url).find_machines(label=label, serial=serial, customer=customer, phone=phone,
                                            support_id=support_id)
    except StoreError as e:
        _fail(e, EXIT_BAD_INPUT)
    if fmt == "json":
        click.echo(json.dumps(rows, default=str, ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo("no machine found")
        sys.exit(1)
    for r in rows:
        _say(f"{r['label_number']}  {r['serial_number']:<12} {r['model_code']:<14} {r['variant']:<11} "
             f"{r['years']}y  {r['customer_organisation']} / {r['site_organisation']}  {r['customer_phone']}")


# ---- incidents -----------------------------------------------------------------------------------------------
@main.group(cls=DeskGroup)
def incident():
    """Incidents: open, show, claim, take-over, assign, dispatch, note, close."""


@incident.command("open")
@click.option("--label", required=True, help="the machine's label number")
@click.option("--at", "at", required=True, help="when the notice was received, e.g. 2026-11-27T16:45+09:00")
@click.option("--summary", required=True)
@click.option("--support", type=click.Choice(["hw", "pp"]), default="hw")
@click.option("--cause", default=None, help="an exclusion cause (ex-01 …), if known")
@db_option
@operator_option
@policy_option
def incident_open(label, at, summary, support, cause, db_url, operator, policy_path):
    """Open an incident for a registered machine; the policy decides it now and the decision is kept."""
    from sptui.errors import CaseError
    from sptui.store import StoreError, operator_name

    when = _instant(at, "at")
    policy = _load(policy_path or default_policy())
    store = _store(db_url)
    try:
        iid = store.open_incident(policy, label=label, at=when, summary=summary, support=support, cause=cause,
                                  operator=operator_name(operator))
    except (StoreError, CaseError) as e:
        _fail(e, EXIT_BAD_INPUT)
    inc = store.incident(iid)
    click.echo(f"incident {iid}: {inc['verdict']}"
               + (f", on site by {inc['deadline']:%Y-%m-%d %H:%M}" if inc["deadline"] else ""))


@incident.command("show")
@click.argument("iid", type=int)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en")
@db_option
def incident_show(iid, lang, db_url):
    """One incident: the decision with its reasons and clauses, and the timeline."""
    from sptui.store import StoreError

    store = _store(db_url)
    try:
        inc = store.incident(iid)
    except StoreError as e:
        _fail(e)
    d = inc["decision"]
    pays = " · customer pays" if inc["billing"] in ("fee", "quote-needed") else ""
    _say(f"incident {iid}  {inc['status']}{pays}  owner {inc['owner'] or '-'}  version {inc['version']}")
    _say(f"received {inc['received_at']:%Y-%m-%d %H:%M}  verdict {inc['verdict']}"
         + (f"  on site by {inc['deadline']:%Y-%m-%d %H:%M}" if inc["deadline"] else ""))
    _say(f"policy {d['policy']['name']} {d['policy']['version']} {inc['policy_digest'][:19]}")
    for i, r in enumerate(d["reasons"]):
        msg = d["messages_ja"][i] if lang == "ja" else r["message"]
        _say(f"  {r['outcome']:<8} {r['rule']:<24} [{r['cite']}] {msg}")
    for e in store.timeline(iid):
        _say(f"  {e['at']:%Y-%m-%d %H:%M:%S}  {e['operator']:<10} {e['kind']:<10} {e['text']}")


@incident.command("claim")
@click.argument("iids", type=int, nargs=-1, required=True)
@db_option
@operator_option
def incident_claim(iids, db_url, operator):
    """Take ownership of incidents; one that another operator owns is refused with who owns it."""
    from sptui.store import ConflictError, StoreError, operator_name

    store = _store(db_url)
    who = operator_name(operator)
    failed = 0
    for iid in iids:
        try:
            store.claim(iid, operator=who)
            _say(f"incident {iid}: claimed by {who}")
        except (ConflictError, StoreError) as e:
            failed += 1
            _say(f"error: {e}", err=True)
    sys.exit(1 if failed else 0)


@incident.command("note")
@click.argument("iid", type=int)
@click.argument("text")
@click.option("--version", "version", type=int, default=None, help="the version you read: refused if it moved on")
@db_option
@operator_option
def incident_note(iid, text, version, db_url, operator):
    """Add a note to an incident's timeline (its owner, or anyone while nobody owns it)."""
    from sptui.store import operator_name

    store = _store(db_url)
    _act(lambda: store.add_note(iid, text, operator=operator_name(operator), version=version))


@incident.command("take-over")
@click.argument("iid", type=int)
@click.option("--version", "version", type=int, default=None, help="the version you read: refused if it moved on")
@db_option
@operator_option
def incident_take_over(iid, version, db_url, operator):
    """Take over an incident another operator owns (audited, in its timeline)."""
    from sptui.store import operator_name

    who, store = operator_name(operator), _store(db_url)
    _act(lambda: store.take_over(iid, operator=who, version=version))
    click.echo(f"incident {iid}: taken over by {who}")


@incident.command("assign")
@click.argument("iid", type=int)
@click.option("--to", "to", required=True, help="the operator it goes to")
@click.option("--version", "version", type=int, default=None, help="the version you read: refused if it moved on")
@db_option
@operator_option
def incident_assign(iid, to, version, db_url, operator):
    """Hand an incident to another operator (its owner, or anyone while nobody owns it); audited."""
    from sptui.store import operator_name

    store = _store(db_url)
    _act(lambda: store.assign(iid, to, operator=operator_name(operator), version=version))
    click.echo(f"incident {iid}: assigned to {to.strip()}")


def _consent(by, via, at):
    """--consent-by/--consent-via/--consent-at as a Consent, or None when none was given."""
    from sptui.desk import BadRequest, Consent
    from sptui.store import now

    if by is None and via is None and at is None:
        return None
    if by is None or via is None:
        _fail("the customer's consent needs both --consent-by NAME and --consent-via phone|mail", EXIT_BAD_INPUT)
    try:
        return Consent(by, via, _instant(at, "consent-at") if at else now())
    except BadRequest as e:
        _fail(e, EXIT_BAD_INPUT)


@incident.command("dispatch")
@click.argument("iid", type=int)
@click.option("--technician", required=True)
@click.option("--depart", required=True, help="departure, e.g. 2026-11-27T17:10+09:00")
@click.option("--complete", default=None, help="end of the work, when known: the 別表-1 fee is then decided")
@click.option("--technicians", default=1, type=click.IntRange(1), show_default=True)
@click.option("--late-reason", type=click.Choice(["traffic", "weather", "site", "parts"]), default=None,
              help="why the onsite deadline was missed")
@click.option("--confirm-uncovered", is_flag=True,
              help="dispatch although the machine's verdict is not-covered, not-started or consult (the customer pays)")
@click.option("--consent-by", default=None, help="who at the customer consented to work they pay for")
@click.option("--consent-via", type=click.Choice(["phone", "mail"]), default=None, help="how they consented")
@click.option("--consent-at", default=None, help="when they consented (default: now)")
@click.option("--version", "version", type=int, default=None,
              help="the version you read (`incident show`): refused if someone changed it since")
@db_option
@operator_option
@policy_option
def incident_dispatch(iid, technician, depart, complete, technicians, late_reason, confirm_uncovered, consent_by,
                      consent_via, consent_at, version, db_url, operator, policy_path):
    """Dispatch a technician. The incident is decided with the work (the 別表-1 fee once --complete is known);
    work the customer pays for needs their consent, work on an uncovered machine --confirm-uncovered."""
    from sptui.desk import Work, dispatch
    from sptui.store import operator_name

    consent = _consent(consent_by, consent_via, consent_at)
    departed, completed = _instant(depart, "depart"), _instant(complete, "complete") if complete else None
    policy = _load(policy_path or default_policy())
    store = _store(db_url)
    _act(lambda: dispatch(store, policy, iid, operator=operator_name(operator), technician=technician,
                          work=Work(departed, completed, technicians), late_reason=late_reason, version=version,
                          confirm_uncovered=confirm_uncovered, consent=consent))
    line = [e["text"] for e in store.timeline(iid) if e["kind"] == "dispatched"][-1]
    click.echo(f"incident {iid}: dispatched {line}")


@incident.command("close")
@click.argument("iid", type=int)
@click.option("--text", default="")
@click.option("--version", "version", type=int, default=None, help="the version you read: refused if it moved on")
@db_option
@operator_option
def incident_close(iid, text, version, db_url, operator):
    """Close an incident (its owner, or anyone while nobody owns it)."""
    from sptui.store import operator_name

    store = _store(db_url)
    _act(lambda: store.close_incident(iid, operator=operator_name(operator), text=text, version=version))


# ---- alarm intake --------------------------------------------------------------------------------------------
@main.group(cls=DeskGroup)
def intake():
    """Alarm mail intake: `sptui intake smtp` (a server), `sptui intake file` (.eml files, maildirs) and
    `sptui intake source` (an alarm-source plugin)."""


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"expected HOST:PORT like 127.0.0.1:2525, got {value!r}")
    return host.strip("[]"), int(port)


@intake.command("smtp")
@click.option("--listen", default="127.0.0.1:2525", show_default=True,
              help="address to listen on; loopback unless you name another")
@click.option("--max-size", default=32 * 1024 * 1024, show_default=True, type=click.IntRange(1000, 1 << 30),
              help="largest mail accepted, in bytes (SIZE; larger ones get 552)")
@click.option("--allow", multiple=True, help="sender allowed (an address, or @domain); repeat; default: any")
@db_option
@policy_option
def intake_smtp(listen, max_size, allow, db_url, policy_path):
    """Receive ESMPRO alarm mails over SMTP; each is stored (or quarantined) before the 250."""
    import logging

    from sptui.intake.smtp import IntakeError, serve

    host, port = _listen(listen)
    policy_path = str(policy_path or default_policy())
    _load(policy_path)  # its diagnostics here, before the writer loads it for itself
    store = _store(db_url, must_exist=True)  # checked here; the writer opens the same database
    url = store.engine.url.render_as_string(hide_password=False)
    store.close()
    # our own lines at INFO; aiosmtpd's per-command INFO lines ("mail.log") would cost more than storing a mail
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    logging.getLogger("sptui").setLevel(logging.INFO)

    def ready(bound, store_url):
        click.echo(f"listening on {host}:{bound}, storing into {store_url}", err=True)

    try:
        handler = serve(url, policy_path, host=host, port=port, max_size=max_size, allow=tuple(allow), ready=ready)
    except OSError as e:
        _fail(f"cannot listen on {host}:{port}: {e.strerror or e}")
    except IntakeError as e:
        _fail(e)
    click.echo(" ".join(f"{k} {v}" for k, v in handler.counts.items()), err=True)


@intake.command("file")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@db_option
@policy_option
def intake_file(paths, db_url, policy_path):
    """Take alarm mails from .eml files, folders of them, and maildirs; one line per mail. Only regular files are
    read; anything else (a FIFO, a device, a folder named *.eml, a file over 32 MB) is one line and skipped."""
    from sptui.mailfiles import mail_files, received_at
    from sptui.intake.ingest import ingest
    from sptui.store import now

    policy = _load(policy_path or default_policy())
    store = _store(db_url, must_exist=True)
    counts = {"stored": 0, "duplicate": 0, "quarantined": 0}
    failed = skipped = 0
    for f in mail_files(paths):
        if f.raw is None:
            skipped += 1
            click.echo(f"{f.path}: skipped: {f.skipped}", err=True)
            continue
        when, note = received_at(f, now())
        try:
            r = ingest(store, policy, f.raw, via=f"file:{f.path}", received_at=when)
        except Exception as e:  # this file is left where it is, for another run; the others go on
            failed += 1
            click.echo(f"{f.path}: not stored: {type(e).__name__}: {e}", err=True)
            continue
        kind = "quarantined" if r.reason else r.outcome
        counts[kind] += 1
        click.echo(f"{f.path}: {kind} {'Q' if r.reason else 'alarm '}{r.id}" + (f" ({r.reason})" if r.reason else "")
                   + (f"; {note}" if note else ""))
    click.echo(" ".join(f"{k} {v}" for k, v in counts.items()) + (f" not-stored {failed}" if failed else "")
               + (f" skipped {skipped}" if skipped else ""), err=True)
    sys.exit(1 if failed or skipped else 0)


@intake.command("source")
@click.argument("name", required=False)
@click.argument("location", required=False)
@click.option("--follow", "-f", is_flag=True, help="keep watching for new alarms until interrupted (Ctrl+C)")
@db_option
@policy_option
def intake_source(name, location, follow, db_url, policy_path):
    """Take alarms from a plugin's alarm source (NAME) at LOCATION; with no NAME, list the sources."""
    import logging

    from sptui.intake.source import run_source
    from sptui.plugins.manager import default_manager

    pm = default_manager()
    sources = {k: obj for k, (_, obj) in pm.unique("sptui_alarm_sources", lambda o: o.name).items()}
    if name is None:
        for n, src in sorted(sources.items()):
            click.echo(f"{n}  {src.doc}")
        if not sources:
            click.echo("no alarm source is installed (an alarm-source plugin adds one; see docs/plugins.md)", err=True)
        return
    if name not in sources:
        have = ", ".join(sorted(sources)) or "none installed"
        _fail(f"no alarm source named {name!r} (sources: {have})", EXIT_BAD_INPUT)
    if location is None:
        _fail(f"give the location for {name!r}: sptui intake source {name} LOCATION", EXIT_BAD_INPUT)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    policy = _load(policy_path or default_policy())
    store = _store(db_url, must_exist=True)

    def report(o):
        if o.kind == "not-stored":
            click.echo(f"{o.via}: not stored, left for a retry: {o.error}", err=True)
        else:
            click.echo(f"{o.via}: {o.kind} {'Q' if o.reason else 'alarm '}{o.id}" + (f" ({o.reason})" if o.reason else ""))

    try:
        mails = sources[name].open(location, follow=follow)
    except Exception as e:  # the plugin's own error (a missing folder, a bad URL): one line
        _fail(f"alarm source {name!r} cannot open {location!r}: {type(e).__name__}: {e}")
    try:
        counts = run_source(mails, store, policy, report, backoff=follow)
    except KeyboardInterrupt:
        getattr(mails, "close", lambda: None)()
        click.echo("stopped", err=True)
        return
    except Exception as e:  # a source that breaks mid-way: what was stored stays stored
        _fail(f"alarm source {name!r} failed: {type(e).__name__}: {e}")
    click.echo(" ".join(f"{k} {v}" for k, v in counts.items()), err=True)
    sys.exit(1 if counts["not-stored"] else 0)


# ---- demo and purge ------------------------------------------------------------------------------------------
@main.command()
@click.option("--db", "db_path", default=None, help="where to build it (default: demo.db in the user's data folder)")
@click.option("--fresh", is_flag=True, help="delete an existing demo database first")
@click.option("--no-open", is_flag=True, help="build it, do not open the desk")
@click.option("--lang", type=click.Choice(["ja", "en"]), default=None, help="the desk's language (default: locale)")
@policy_option
@db_errors
def demo(db_path, fresh, no_open, lang, policy_path):
    """Build a realistic demo desk (about 200 customers, 1,000 machines, incidents, alarms, dispatches)."""
    from pathlib import Path

    from platformdirs import user_data_dir

    from sptui.demo import build_demo

    path = Path(db_path) if db_path else Path(user_data_dir("sptui")) / "demo.db"
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    policy = _load(policy_path or default_policy())
    store = _store(str(path))
    if store.counts()["machines"] == 0:
        click.echo(f"building the demo desk in {path} …", err=True)
        counts = build_demo(store, policy)
    else:
        counts = store.counts()
    click.echo(f"demo desk: {path}")
    for name, n in counts.items():
        click.echo(f"  {name:<12} {n:>6,}")
    if no_open:
        return
    if not sys.stdout.isatty():  # no terminal to draw the desk in: the first of its queue as text
        for inc in store.incidents(limit=10):
            _say(f"  #{inc['id']:<5} {inc['verdict']:<12} {inc['status']:<10} {inc['summary']}")
        return
    store.close()
    open_desk(str(path), policy_path, lang=lang)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on (loopback: put an "
              "authenticating proxy in front, see docs/desk-data.md)")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--public-url", default=None, help="the URL the browser sees, when behind a proxy")
@click.option("--db", "db_url", default=None, help="the desk's database (SQLite path or postgresql://…)")
@click.option("--lang", type=click.Choice(["ja", "en"]), default=None)
@click.option("--read-only", is_flag=True)
@click.option("--operator-header", default=None, metavar="HEADER",
              help="take each session's operator from this request header, set by the authenticating proxy "
                   "(e.g. X-Remote-User); a session without it is refused")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME[:PORT]",
              help="another name this server may be reached by (the Host header); repeat; by default only the "
                   "listening address, loopback names and --public-url's host are answered")
def serve(host, port, public_url, db_url, lang, read_only, operator_header, allow_hosts):
    """The desk in a browser (textual-serve): each browser session runs its own `sptui` desk process.

    It has no login of its own: keep it on loopback behind a proxy that authenticates (docs/desk-data.md)."""
    from sptui.serve import DeskServer

    import os

    args = [sys.executable, "-m", "sptui.cli"]
    if lang:
        args += ["--lang", lang]
    if read_only:
        args.append("--read-only")
    try:  # the options first (bad input: exit 2), then the database
        server = DeskServer(args, operator_header=operator_header, allow_hosts=allow_hosts, host=host, port=port,
                            public_url=public_url, title="sptui")
    except ValueError as e:
        _fail(e, EXIT_BAD_INPUT)
    _store(db_url).close()  # the database opens (or says why not) before anyone connects
    if db_url:  # to each session through the environment: a password in it stays out of `ps` and the log
        os.environ["SPTUI_DB"] = db_url
    server.serve()


def open_desk(db_url, policy_path, *, lang=None, operator=None, read_only=False, mouse=True, theme=None) -> None:
    """The desk's TUI on a database and a policy (loaded after the first paint; errors shown on screen)."""
    from sptui.store.base import operator_name
    from sptui.tui.app import DeskApp
    from sptui.tui.i18n import default_lang

    path = str(policy_path or default_policy())

    def load():
        from sptui import PolicyError, load_policy

        try:
            return load_policy(path)
        except PolicyError as e:
            d = next((d for d in e.diagnostics if d.severity == "error"), None)
            where = f"{d.span.file}:{d.span.line}:{d.span.col}: {d.message}; " if d else ""
            raise ValueError(f"the policy has errors ({where}run `sptui check {path}`)") from e

    store = _store(db_url)
    try:
        DeskApp(store, policy_loader=load, policy_path=path, lang=lang or default_lang(), operator=operator_name(operator),
                read_only=read_only, theme=theme).run(mouse=mouse)
    finally:
        store.close()


@main.command()
@click.option("--ended-before", required=True, help="erase contracts that ended before this date (YYYY-MM-DD)")
@click.option("--yes", is_flag=True, help="really erase (without it: a dry run that lists what would be erased)")
@db_option
@operator_option
@db_errors
def purge(ended_before, yes, db_url, operator):
    """第3章 1.8: erase the personal fields of customers whose contracts all ended; history stays, anonymised."""
    from sptui.store import StoreError, operator_name
    from sptui.store.purge import check_cutoff

    try:
        before = dt.date.fromisoformat(ended_before)
        check_cutoff(before)
    except ValueError:
        _fail(f"--ended-before: expected a date like 2026-04-01, got {ended_before!r}", EXIT_BAD_INPUT)
    except StoreError as e:
        _fail(e, EXIT_BAD_INPUT)
    try:
        due = _store(db_url).purge(before, operator=operator_name(operator), dry_run=not yes)
    except StoreError as e:  # erased, but the files keep old bytes: the message says what to do
        _fail(e)
    for d in due:
        _say(f"{'erased' if yes else 'would erase'} customer {d['customer_id']} "
             f"({len(d['labels'])} machine(s), last contract ended {d['ended_on']})")
    _say(f"{len(due)} customer(s) {'erased' if yes else 'to erase; run again with --yes to erase them'}")


# ---- alarms ----------------------------------------------------------------------------------------------------
@main.group(cls=DeskGroup)
def alarm():
    """Alarms: the inbox, the quarantine, calls due now, and contact attempts."""


@alarm.command("list")
@click.option("--due", is_flag=True, help="only alarms whose next contact time has come (first calls and retries)")
@click.option("--quarantine", is_flag=True, help="the quarantine instead: mails that could not be filed, with why")
@db_option
def alarm_list(due, quarantine, db_url):
    """The alarm inbox (or the quarantine), oldest first."""
    store = _store(db_url)
    if quarantine:
        for q in store.quarantined():
            _say(f"Q{q['id']:<5} {q['received_at']:%Y-%m-%d %H:%M}  {q['reason']:<16} {q['via']}  {q['message']}")
        return
    from sptui.store import now

    rows = store.retries_due(now()) if due else store.alarms()
    for a in rows:
        nxt = f"{a['next_contact_at']:%Y-%m-%d %H:%M}" if a["next_contact_at"] else "-"
        _say(f"{a['id']:<6} {a['occurred_at']:%Y-%m-%d %H:%M}  {a['computer']:<12} {a['event_id'] or '-':<12} "
             f"{a['status']:<8} next contact {nxt}{'  arrange technician' if a['arrange_technician'] else ''}"
             + (f"  incident {a['incident_id']}" if a["incident_id"] else "")
             + (f"  ({a['closed_reason']})" if a["closed_reason"] else ""))


@alarm.command("contact")
@click.argument("aid", type=int)
@click.option("--at", "at", default=None, help="when the call was made (default: now)")
@click.option("--reached/--not-reached", required=True, help="whether the customer's contact person was reached")
@click.option("--repair-needed/--no-repair", "repair_needed", default=None,
              help="reached: the machine needs an onsite repair (opens, or joins, its incident) or not (closes the "
                   "alarm, with --reason)")
@click.option("--reason", default=None, help="--no-repair: why no repair follows (what the customer said)")
@click.option("--note", default="")
@click.option("--version", "version", type=int, default=None, help="the alarm's version you read")
@db_option
@operator_option
@policy_option
def alarm_contact(aid, at, reached, repair_needed, reason, note, version, db_url, operator, policy_path):
    """Record a call after an alarm. Unreached: the customer is called again the next day, in hours. Reached: the
    alarm ends — linked to the machine's incident when a repair is needed, else closed with the reason."""
    from sptui.desk import contact
    from sptui.store import now, operator_name

    when = _instant(at, "at") if at else now()
    policy = _load(policy_path or default_policy())
    store = _store(db_url)
    out = _act(lambda: contact(store, policy, aid, at=when, reached=reached, repair_needed=repair_needed,
                               reason=reason, operator=operator_name(operator), note=note, version=version))
    if out["status"] == "linked":
        inc = store.incident(out["incident_id"])
        click.echo(f"alarm {aid}: incident {inc['id']} " + ("opened" if out["opened"] else "(open already) joined")
                   + f": {inc['verdict']}" + (f", on site by {inc['deadline']:%Y-%m-%d %H:%M}" if inc["deadline"] else ""))
    elif out["status"] == "closed":
        click.echo(f"alarm {aid}: closed, no repair ({reason.strip()})")
    else:
        nxt = out["contact"].get("next_contact_at")
        click.echo(f"alarm {aid}: " + (f"call again at {nxt:%Y-%m-%d %H:%M}" if nxt else "no further call is due"))
