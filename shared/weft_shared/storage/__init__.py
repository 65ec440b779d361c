"""Storage plumbing: the client lifecycle and the unit of work."""

from weft_shared.storage.client import DURABLE, MongoLifecycle, TransactionsUnavailable
from weft_shared.storage.unit_of_work import Transaction, UnitOfWork

__all__ = ["DURABLE", "MongoLifecycle", "Transaction", "TransactionsUnavailable", "UnitOfWork"]
