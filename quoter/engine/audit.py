"""The audit trail the engine writes through: the `Audit` port and its hash-chained JSON-lines
implementation, which live in `quoter.audit`."""

from quoter.audit.trail import Audit, AuditError, JsonlAudit

__all__ = ["Audit", "AuditError", "JsonlAudit"]
