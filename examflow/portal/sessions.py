"""Server-side sessions for Flask (rules.md §12): the cookie carries only a random id; the data (the
account, the CSRF token) lives in the account store, where idle expiry and logout end it for good.
The cookie is HttpOnly and SameSite=Lax (Secure when the portal sits behind TLS)."""
from __future__ import annotations

from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from examflow.portal.accounts import AccountStore

COOKIE = "examflow_session"


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, sid: str | None = None, data: dict | None = None, refused: str | None = None):
        def on_update(_):
            self.modified = True

        super().__init__(data or {}, on_update)
        self.sid = sid
        self.modified = False
        self.refused = refused  # a cookie was sent but names no live session: why
        self.rotate = False
        self.ended = False

    @property
    def account(self) -> str | None:
        return self.get("account")

    def start(self, account: str) -> None:
        """Log in: a fresh session id (no fixation), the account in it."""
        self.clear()
        self["account"] = account
        self.rotate = True

    def end(self) -> None:
        """Log out: the server forgets the session; the cookie is cleared."""
        self.clear()
        self.ended = True


class ServerSessionInterface(SessionInterface):
    def __init__(self, store: AccountStore):
        self.store = store

    def open_session(self, app, request) -> ServerSession:
        sid = request.cookies.get(COOKIE)
        if not sid:
            return ServerSession()
        if len(sid) > 128:
            return ServerSession(refused="forged session cookie")
        found = self.store.session_load(sid)
        if found is None:
            return ServerSession(refused="unknown or expired session")
        account, data = found
        return ServerSession(sid, {**data, "account": account} if account else data)

    def save_session(self, app, session: ServerSession, response) -> None:
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        if session.ended:
            if session.sid:
                self.store.session_end(session.sid)
            response.delete_cookie(COOKIE, domain=domain, path=path)
            return
        if session.rotate and session.sid:
            self.store.session_end(session.sid)
            session.sid = None
        if not (session.modified or session.rotate):
            return
        if not session and session.sid is None:
            return
        data = {k: v for k, v in session.items() if k != "account"}
        sid = self.store.session_save(session.sid, session.account, data)
        if sid != session.sid or session.rotate:
            response.set_cookie(COOKIE, sid, httponly=True,
                                samesite=app.config.get("SESSION_COOKIE_SAMESITE") or "Lax",
                                secure=bool(app.config.get("SESSION_COOKIE_SECURE")), domain=domain, path=path)
        session.sid = sid
