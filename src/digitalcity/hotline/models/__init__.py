"""The hotline's models (a package: orders, the dispatch catalogue, the knowledge base)."""

from .dispatch import CatalogueRule, CatalogueVersion
from .knowledge import (  # noqa: F401 - open311 helper
    DispatchModel,
    KnowledgeCategory,
    KnowledgeEntry,
    KnowledgeState,
    KnowledgeVersion,
    Open311Client,
    Open311Submission,
)
from .orders import (
    Call,
    Callback,
    Category,
    DeadlineRule,
    ExtensionRequest,
    Reminder,
    SmsMessage,
    WorkOrder,
)

__all__ = [
    "Call",
    "Callback",
    "CatalogueRule",
    "CatalogueVersion",
    "Category",
    "DeadlineRule",
    "ExtensionRequest",
    "Reminder",
    "SmsMessage",
    "WorkOrder",
]
