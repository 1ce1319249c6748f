"""The teacher portal (教师端, rules.md §12): `examflow serve` over the analysts' copy, scoped by the
extracts' scope, audited in audit.access; accounts from `examflow accounts`."""
from __future__ import annotations

import logging
import signal

from examflow.portal.app import create_app

__all__ = ["create_app", "serve"]

THREADS = 16  # requests worked on at once: enough that a few cold pages (DuckDB) don't hold up the rest
CONNECTIONS = 500  # open connections: browsers keep up to 6 each, and 50 sessions are the target


def serve(host: str = "127.0.0.1", port: int = 8765, warehouse=None, output=None, threads: int | None = None,
          secure_cookies: bool = False) -> None:
    """Run the portal under waitress (a pure-Python threaded WSGI server) until interrupted (Ctrl+C or
    SIGTERM); queued audit.access rows are written before it returns."""
    from waitress import create_server

    app = create_app(warehouse, output, secure_cookies=secure_cookies)
    # waitress warns on every request that has to queue for a thread: under load that is a line per
    # request, and a log nobody reads (a full pipe) then blocks the server's accepting loop for good.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(app, host=host, port=port, threads=threads or THREADS, connection_limit=CONNECTIONS,
                           ident="examflow")
    signal.signal(signal.SIGTERM, _stop)
    print(f"examflow portal on http://{host}:{port}/ (Ctrl+C stops it)", flush=True)
    try:
        server.run()
    finally:
        app.extensions["examflow"].access.close()


def _stop(_signum, _frame):
    """SIGTERM (a service manager's stop) ends the server like Ctrl+C, so the audit queue is written."""
    raise KeyboardInterrupt
