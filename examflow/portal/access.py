"""audit.access rows from the portal (rules.md §12; outputs.md). Requests queue their rows; one
writer thread appends them in batches through examflow.audit.write without waiting (wait=0): into
the warehouse when no run holds it, else into `<stem>.access.jsonl` beside it, copied in by the next
write that reaches it. So a page never waits for a run or for the warehouse (opening it costs ~0.1 s
at 50,000 students, paid once per batch, not per page), and the portal holds the warehouse only for
one short insert at a time (a run that starts meanwhile waits for it: examflow.warehouse). close()
(the server stopping, or the process exiting) writes whatever is still queued."""
from __future__ import annotations

import atexit
import datetime as dt
import sys
import threading
from pathlib import Path

from examflow import audit

INTERVAL = 5.0  # seconds between batches (each is one short write to the warehouse)


class AccessLog:
    def __init__(self, warehouse: Path, interval: float = INTERVAL, background: bool = True):
        """background=False writes each row as it is recorded (the tests' synchronous test client)."""
        self.warehouse = Path(warehouse)
        self.interval = interval
        self.background = background
        self._rows: list[dict] = []
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._closing = threading.Event()
        self._writer = None
        if background:
            self._writer = threading.Thread(target=self._run, name="examflow-access-log", daemon=True)
            self._writer.start()
        atexit.register(self.close)

    def record(self, who: str, what: str, outcome: str, params: dict | None = None, exam_id: str | None = None,
               rows: int | None = None, client: str | None = None, reason: str | None = None) -> None:
        entry = {"at": dt.datetime.now(), "who": who, "what": what, "params": params or {}, "outcome": outcome,
                 "exam_id": exam_id, "rows": rows, "client": client, "reason": reason}
        with self._cond:
            self._rows.append(entry)
            self._cond.notify()
        if not self.background:
            self.flush()

    def flush(self) -> audit.AuditNote | None:
        """Write every queued row now."""
        with self._write_lock:
            with self._cond:
                batch, self._rows = self._rows, []
            if not batch:
                return None
            try:
                return audit.write(self.warehouse, audit.ACCESS, batch, wait=0)
            except OSError as e:  # neither the warehouse nor the fallback file: say so loudly, keep the rows
                print(f"examflow portal: audit.access rows could not be written ({e}); retrying", file=sys.stderr)
                with self._cond:
                    self._rows[:0] = batch
                return None

    def close(self) -> None:
        """Stop the writer thread and write what is queued (safe to call more than once)."""
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
        if self._writer is not None and self._writer is not threading.current_thread():
            self._writer.join(timeout=60)
        self.flush()

    def _run(self) -> None:
        while not self._closing.is_set():
            with self._cond:
                while not self._rows and not self._closing.is_set():
                    self._cond.wait()
            self.flush()
            self._closing.wait(self.interval)
