"""The one error type a broken exam folder raises: it names the file, row and column."""
from __future__ import annotations


class ContractError(Exception):
    """An exam folder breaks the input contract (inputs.md); the run stops, the warehouse is untouched."""

    def __init__(self, message: str, file: str | None = None, row: int | None = None, column: str | None = None):
        self.file, self.row, self.column, self.reason = file, row, column, message
        where = []
        if file:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
