"""The teacher portal (教师端, rules.md §12): `examflow serve` over the analysts' copy, scoped by the
extracts' scope, audited in audit.access; accounts from `examflow accounts`."""
from __future__ import annotations

from examflow.portal.app import create_app

__all__ = ["create_app", "serve"]


def serve(host: str = "127.0.0.1", port: int = 8765, warehouse=None, output=None, threads: int = 8,
          secure_cookies: bool = False) -> None:
    """Run the portal under waitress (a pure-Python threaded WSGI server) until interrupted."""
    from waitress import serve as waitress_serve

    app = create_app(warehouse, output, secure_cookies=secure_cookies)
    print(f"examflow portal on http://{host}:{port}/ (Ctrl+C stops it)", flush=True)
    waitress_serve(app, host=host, port=port, threads=threads, ident="examflow")
