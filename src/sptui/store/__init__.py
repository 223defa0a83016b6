"""The desk's records on SQLite or PostgreSQL: registry, incidents, alarms, contacts, dispatches, audit.

    store = Store.open(url)          # None: SPTUI_DB, else the user's SQLite file
    store.import_registry(rows)      # registry.py: CSV rows checked per 第2章 1.1
    store.open_incident(...)         # every stored incident carries its decision and the policy digest
    store.claim(incident_id, ...)    # optimistic: one of two operators wins, the other gets ConflictError

Every change to an incident or alarm writes an audit row: who, when, what, and the policy digest.
"""
from __future__ import annotations

from sptui.store.alarms import AlarmOps
from sptui.store.base import StoreBase, now, operator_name
from sptui.store.db import BadRequest, ConflictError, OutdatedSchema, StoreError
from sptui.store.desk import DeskOps
from sptui.store.purge import PurgeOps
from sptui.store.registry import RegistryOps

__all__ = ["Store", "StoreError", "BadRequest", "ConflictError", "OutdatedSchema", "operator_name", "now"]


class Store(RegistryOps, PurgeOps, DeskOps, AlarmOps, StoreBase):
    """One desk's records. `Store.open(url)`; see the module docstring."""
