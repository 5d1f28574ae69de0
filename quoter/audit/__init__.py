"""The audit trail: hash-chained JSON lines in daily files, a verifier that names the first
bad record, and the story of one RFQ told from the trail."""

from quoter.audit.chain import GENESIS
from quoter.audit.trail import Audit, AuditError, JsonlAudit
from quoter.audit.verify import Verification, verify

__all__ = ["GENESIS", "Audit", "AuditError", "JsonlAudit", "Verification", "verify"]
