"""`sptui registry`: the registry of customers, machines and packs as CSV — import, export, columns — and find."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from sptui.cli import main
from sptui.cli.common import db_option, load, open_store, operator_option, policy_option
from sptui.cli.errors import BadInput, Commands, Failure, say, say_data, say_json
from sptui.files import FileProblem, write_file


@main.group(cls=Commands)
def registry():
    """The registry of customers, machines and packs: import, export, find."""


def _csv_text(file: str, rejects: Path, partial: bool) -> str:
    """The CSV file's text, or BadInput: not a regular file (a FIFO would hang the import; a symbolic link is not
    followed: sptui.files.read_data), over 256 MiB, not UTF-8, or (--partial) a reject file already there."""
    from sptui.files import CASE_INPUT_LIMIT, FileProblem, decode, read_data

    try:
        data, _ = read_data(file, limit=CASE_INPUT_LIMIT)
        text = decode(data, file)
    except FileProblem as e:
        if e.reason.startswith("a "):  # what it is instead (sptui.files.data_kind)
            raise BadInput(f"{file} is not a regular file (it is {e.reason}"
                           + ("; links are not followed: name the file itself)" if "link" in e.reason else ")")) from None
        raise BadInput(f"{e}" + ("; save it as UTF-8 CSV" if "UTF-8" in e.reason else "")) from None
    if partial and os.path.lexists(rejects):  # (a dangling link too: the reject file is never written through one)
        raise BadInput(f"the reject file {rejects} exists already: move it, or name another with --rejects")
    return text


@registry.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--partial", is_flag=True, help="write the good rows and put the bad ones in a reject file")
@click.option("--rejects", "rejects_path", default=None, help="the reject file (default: FILE.rejects.csv)")
@db_option
@operator_option
@policy_option
def registry_import(file, partial, rejects_path, db_url, operator, policy_path):
    """Import machines from a CSV (columns: `sptui registry columns`). All or nothing, unless --partial."""
    from sptui.desk.registry import sold_terms
    from sptui.store import operator_name
    from sptui.store.registry import ImportFailed, reject_file

    rejects = Path(rejects_path or f"{file}.rejects.csv")
    text = _csv_text(file, rejects, partial)
    variants = sold_terms(load(policy_path))
    store = open_store(db_url, create=True)  # (importing the registry is how a new desk is filled)
    try:
        result = store.registry.import_csv(text, variants=variants, partial=partial, operator=operator_name(operator))
    except ImportFailed as e:
        raise BadInput(f"{len(e.errors)} error(s); nothing was imported:", [str(err) for err in e.errors]) from None
    say(f"imported {result.imported} machine(s)")
    if result.rejected:
        try:
            write_file(rejects, reject_file(result.rejected), replace=False, private=True)
        except FileProblem as e:  # (the good rows are imported: the bad ones are said below all the same)
            say(f"error: the reject file {e}", err=True)
            rejects = None
        for _, _, errs in result.rejected:
            for err in errs:
                say(str(err), err=True)
        say(f"rejected {len(result.rejected)} row(s)" + (f": written to {rejects}" if rejects else ""), err=True)
        sys.exit(1)


@registry.command("export", reads_only=True)
@click.option("-o", "--output", default="-", help="file to write (default: standard output)")
@db_option
def registry_export(output, db_url):
    """The registry as CSV, in the import's columns."""
    text = open_store(db_url).registry.export_csv()
    if output == "-" and sys.stdout.isatty():  # a person reads it: what a terminal would act on is shown escaped
        for line in text.split("\n")[:-1]:
            say(line)
    elif output == "-":  # the data itself
        say_data(text)
    else:
        try:
            write_file(output, text, private=True)  # (personal data: readable by its owner only, as a new file)
        except FileProblem as e:
            raise Failure(str(e)) from None


@registry.command("columns", reads_only=True)
def registry_columns():
    """The CSV columns, which are required, and what each holds."""
    from sptui.store.registry import COLUMNS

    for c in COLUMNS:
        say(f"{c.name:<24} {'required' if c.required else 'optional':<9} {c.doc}")


@registry.command("find", reads_only=True)
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

    store = open_store(db_url)
    try:
        rows = store.registry.find(label=label, serial=serial, customer=customer, phone=phone, support_id=support_id)
    except StoreError as e:  # nothing to look up by, a phone without digits
        raise BadInput(str(e)) from None
    if fmt == "json":
        say_json(rows, default=str, indent=1)
        return
    if not rows:
        say("no machine found")
        sys.exit(1)
    for r in rows:
        say(f"{r['label_number']}  {r['serial_number']:<12} {r['model_code']:<14} {r['variant']:<11} "
            f"{r['years']}y  {r['customer_organisation']} / {r['site_organisation']}  {r['customer_phone']}")
