"""The Flask application: settings, server-side sessions, CSRF on every POST, security headers, the
one "not found" answer, login and logout (rules.md §12)."""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from examflow import settings
from examflow.portal.access import AccessLog
from examflow.portal.accounts import Account, AccountStore, store_path
from examflow.portal.data import Copy, Viewer
from examflow.portal.sessions import ServerSessionInterface

ROLE_ZH = {"teacher": "任课", "head": "班主任", "subject_lead": "备课组长", "director": "年级主任", "district": "联考负责人"}
TRACK_ZH = {"physics": "物理类", "history": "历史类", "all": "全体"}
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")


@dataclass
class Portal:
    """What the views share: the warehouse, the output folder, the copy, the accounts, the log."""

    warehouse: Path
    output: Path
    copy: Copy
    store: AccountStore
    access: AccessLog


def portal() -> Portal:
    return current_app.extensions["examflow"]


def create_app(warehouse: str | Path | None = None, output: str | Path | None = None, clock=dt.datetime.now,
               secure_cookies: bool = False, background_log: bool = True) -> Flask:
    wh = settings.warehouse_path(warehouse)
    store = AccountStore(store_path(wh), clock=clock)
    app = Flask(__name__)
    app.config.update(SECRET_KEY=store.secret_key(), SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=secure_cookies, WTF_CSRF_TIME_LIMIT=None, MAX_CONTENT_LENGTH=64 * 1024,
                      TEMPLATES_AUTO_RELOAD=False)
    app.session_interface = ServerSessionInterface(store)
    app.extensions["examflow"] = Portal(wh, settings.output_dir(output), Copy(wh), store,
                                       AccessLog(wh, background=background_log))
    CSRFProtect(app)

    from examflow.portal import views

    app.register_blueprint(views.bp)
    app.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    app.add_url_rule("/logout", "logout", logout, methods=["POST"])
    app.register_error_handler(404, not_found_page)
    app.register_error_handler(CSRFError, csrf_refused)
    app.after_request(headers)
    app.jinja_env.globals.update(ROLE_ZH=ROLE_ZH, current_account=current_account)
    app.jinja_env.filters.update(num=num, pct=pct, signed=signed, track=lambda t: TRACK_ZH.get(t, t))
    return app


def num(v, digits: int = 1) -> str:
    if v is None:
        return "—"
    return f"{v:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{v:.0f}"


def pct(v) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def signed(v) -> str:
    return "" if v is None else f"{v:+.0f}"


# ------------------------------------------------------------------------------------ who is asking
def current_account() -> Account | None:
    if "account" not in g:
        name = session.get("account")
        g.account = portal().store.get(name) if name else None
        if g.account is not None and g.account.disabled:
            g.account = None
    return g.account


def viewer() -> Viewer:
    a = current_account()
    return Viewer(None if a.office else a.name, a.office)


def audit(outcome: str, what: str, params: dict | None = None, exam_id: str | None = None, rows: int | None = None,
          reason: str | None = None, who: str | None = None) -> None:
    a = current_account()
    portal().access.record(who or (a.who if a else "anonymous"), what, outcome, params, exam_id, rows,
                           request.remote_addr, reason)


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_account() is None:
            refused = getattr(session, "refused", None)
            if refused:
                audit("refused", request.path, {"method": request.method}, reason=refused, who="anonymous")
                flash("会话已失效或已过期，请重新登录。")
            return redirect(url_for("login", next=request.path))
        return view(*args, **kwargs)
    return wrapped


def refuse(what: str, reason: str, exam_id: str | None = None, **params):
    """The one answer for "outside your scope" and "does not exist": 404, logged as refused."""
    audit("refused", what, {"exam_id": exam_id, **params} if exam_id else params, exam_id, reason=reason)
    g.audited = True
    abort(404)


def not_found_page(_e):
    if current_account() is not None and not g.get("audited"):
        audit("refused", request.path, dict(request.args), reason="no such page")
    return render_template("not_found.html"), 404


def csrf_refused(e: CSRFError):
    audit("refused", request.path, {"method": request.method}, reason=f"CSRF: {e.description}")
    return render_template("message.html", title="请求被拒绝", message="表单已失效（缺少或错误的安全令牌），请返回重新提交。"), 400


def headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.vary.add("Cookie")
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


# ------------------------------------------------------------------------------------ login, logout
def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.exams")


def login():
    if request.method == "GET":
        if current_account() is not None:
            return redirect(url_for("pages.exams"))
        return render_template("login.html", next=request.args.get("next", ""))
    name = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")
    result = portal().store.login(name, password)
    if result.outcome != "ok":
        who = result.account.who if result.account else (name or "anonymous")
        audit(result.outcome, "login", {"username": name}, reason=result.reason, who=who)
        message = ("该账户因连续登录失败已被锁定 15 分钟，请稍后再试或联系教务处。" if result.outcome == "locked"
                   else "账号或密码错误。")
        return render_template("login.html", error=message, next=request.form.get("next", ""), username=name), 401
    portal().store.prune()
    session.start(result.account.name)
    return redirect(_safe_next(request.form.get("next")))


def logout():
    session.end()
    return redirect(url_for("login", bye=1))
