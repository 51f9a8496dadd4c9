"""The keeper's revenue journal: the store (`store`), its schema
(`schema`), its files (`files`: archive, backup, restore, verify) and the
reconciliation with the chain after a restore (`recovery`)."""

from keeper.journal.schema import SOURCES
from keeper.journal.store import (
    MAX_BATCH_EVENTS,
    Adoption,
    Batch,
    BatchChanged,
    ConflictingDuplicate,
    HeldEvent,
    Journal,
    JournalUnavailable,
    NotRepairable,
    PushInProgress,
    RevenueEvent,
)

__all__ = [
    "MAX_BATCH_EVENTS",
    "Adoption",
    "SOURCES",
    "Batch",
    "BatchChanged",
    "ConflictingDuplicate",
    "HeldEvent",
    "Journal",
    "JournalUnavailable",
    "NotRepairable",
    "PushInProgress",
    "RevenueEvent",
]
