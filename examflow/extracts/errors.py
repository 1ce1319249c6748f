"""Why an extract was not made: refused (outside the scope, a bad parameter) or failed."""
from __future__ import annotations

from examflow.audit import AuditNote


class ExtractError(Exception):
    """The extract could not be made (logged with outcome 'failed')."""

    outcome = "failed"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
        self.audit: AuditNote | None = None


class ExtractRefused(ExtractError):
    """The request is outside the teacher's scope or otherwise not acceptable (logged as 'refused')."""

    outcome = "refused"
