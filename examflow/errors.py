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


class WarehouseBusy(Exception):
    """Another process kept the warehouse's DuckDB lock (one writer per file) past the wait; nothing was
    written by the caller. Carries its own message so DuckDB's raw lock error never reaches an operator."""

    def __init__(self, path, waited: float, holder: str | None = None):
        self.path, self.waited, self.holder = path, waited, holder
        by = f" by {holder}" if holder else ""
        super().__init__(f"the warehouse {path} is still in use{by} after waiting {waited:g}s "
                         "(EXAMFLOW_LOCK_TIMEOUT); nothing was written. Try again once that run has finished.")
