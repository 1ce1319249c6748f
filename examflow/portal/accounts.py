"""The portal's accounts and sessions (rules.md §12), in their own SQLite file beside the warehouse
(`<stem>.accounts.sqlite`, 0o600): never the DuckDB warehouse (a running pipeline locks it) and never
the analysts' copy (which is the warehouse copied). Passwords are stored only as argon2id hashes;
sessions only as the sha256 of their random id, so the file never holds a usable cookie.

An account is a teacher id of teachers.csv (kind `teacher`) or an office account (kind `office`,
every exam). 5 failed logins in a row lock an account for 15 minutes; a session ends after 30 idle
minutes or on logout; `reset` and `disable` end the account's sessions.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MAX_FAILURES = 5
LOCK_MINUTES = 15
IDLE_MINUTES = 30
MIN_PASSWORD = 8
TOUCH_SECONDS = 30  # last_seen is rewritten at most this often (idle expiry is to within it)
NAME = re.compile(r"^[^\s\x00-\x1f:/\\]{1,64}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('teacher', 'office')), display TEXT,
    hash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, last_login TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY, account TEXT, created_at TEXT NOT NULL, last_seen TEXT NOT NULL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class AccountError(Exception):
    """A request the store refuses (unknown account, weak password, duplicate name)."""


@dataclass(frozen=True)
class Account:
    name: str
    kind: str  # teacher | office
    display: str | None
    disabled: bool
    failures: int
    locked_until: dt.datetime | None
    last_login: dt.datetime | None

    @property
    def office(self) -> bool:
        return self.kind == "office"

    @property
    def who(self) -> str:
        """The account as the audit log names it: the teacher id, or office:NAME."""
        return f"office:{self.name}" if self.office else self.name

    def locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


@dataclass(frozen=True)
class LoginResult:
    account: Account | None
    outcome: str  # ok | login_failed | locked
    reason: str = ""


def store_path(warehouse: Path) -> Path:
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.stem + ".accounts.sqlite")


def _ts(v: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(v) if v else None


def _hash_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


class AccountStore:
    """Accounts and server-side sessions in one SQLite file (WAL, one short transaction per call)."""

    def __init__(self, path: Path, clock=dt.datetime.now):
        self.path = Path(path)
        self.clock = clock
        self.hasher = PasswordHasher()  # argon2id, the library's (RFC 9106 low-memory) defaults
        self._dummy = self.hasher.hash(secrets.token_hex(16))
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(self.path, 0o600)
        self._con().executescript(SCHEMA)

    # ------------------------------------------------------------------ plumbing
    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=True)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; a crash may lose the last touch
            con.execute("PRAGMA busy_timeout=10000")
            self._local.con = con
        return con

    @contextlib.contextmanager
    def _tx(self):
        con = self._con()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _now(self) -> dt.datetime:
        return self.clock()

    def secret_key(self) -> str:
        """The key Flask signs CSRF tokens with: made once, kept in the store."""
        with self._tx() as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'secret_key'").fetchone()
            if row:
                return row[0]
            key = secrets.token_hex(32)
            con.execute("INSERT INTO meta VALUES ('secret_key', ?)", (key,))
            return key

    # ------------------------------------------------------------------ accounts
    @staticmethod
    def _account(row) -> Account:
        name, kind, display, disabled, failures, locked_until, last_login = row
        return Account(name, kind, display, bool(disabled), failures, _ts(locked_until), _ts(last_login))

    _COLS = "name, kind, display, disabled, failures, locked_until, last_login"

    def get(self, name: str) -> Account | None:
        row = self._con().execute(f"SELECT {self._COLS} FROM accounts WHERE name = ?", (name,)).fetchone()
        return self._account(row) if row else None

    def list(self) -> list[Account]:
        return [self._account(r) for r in self._con().execute(f"SELECT {self._COLS} FROM accounts ORDER BY kind, name")]

    def _check_password(self, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")

    def add(self, name: str, kind: str, password: str, display: str | None = None) -> Account:
        if not NAME.match(name or ""):
            raise AccountError(f"not an acceptable account name: {name!r} (1-64 characters, no spaces, ':' or '/')")
        self._check_password(password)
        now = self._now().isoformat()
        with self._tx() as con:
            if con.execute("SELECT 1 FROM accounts WHERE name = ?", (name,)).fetchone():
                raise AccountError(f"there is already an account {name!r} (use `examflow accounts reset`)")
            con.execute("INSERT INTO accounts (name, kind, display, hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (name, kind, display, self.hasher.hash(password), now, now))
        return self.get(name)

    def reset(self, name: str, password: str) -> Account:
        """A new password; the account is enabled and unlocked again and its sessions end."""
        self._check_password(password)
        with self._tx() as con:
            n = con.execute("UPDATE accounts SET hash = ?, disabled = 0, failures = 0, locked_until = NULL, "
                            "updated_at = ? WHERE name = ?",
                            (self.hasher.hash(password), self._now().isoformat(), name)).rowcount
            if not n:
                raise AccountError(f"no account {name!r}")
            con.execute("DELETE FROM sessions WHERE account = ?", (name,))
        return self.get(name)

    def disable(self, name: str) -> Account:
        with self._tx() as con:
            n = con.execute("UPDATE accounts SET disabled = 1, updated_at = ? WHERE name = ?",
                            (self._now().isoformat(), name)).rowcount
            if not n:
                raise AccountError(f"no account {name!r}")
            con.execute("DELETE FROM sessions WHERE account = ?", (name,))
        return self.get(name)

    def login(self, name: str, password: str) -> LoginResult:
        """Check a password. An unknown or disabled account costs a hash like a known one (its answer
        is the same login_failed); a locked account is refused even with the right password."""
        now = self._now()
        row = self._con().execute("SELECT hash FROM accounts WHERE name = ?", (name,)).fetchone()
        account = self.get(name) if row else None
        if account is None or account.disabled:
            with contextlib.suppress(VerificationError, InvalidHashError):
                self.hasher.verify(self._dummy, password)
            return LoginResult(None, "login_failed", "unknown account" if account is None else "account disabled")
        if account.locked(now):
            return LoginResult(account, "locked", f"locked until {account.locked_until:%H:%M:%S}")
        try:
            self.hasher.verify(row[0], password)
        except (VerificationError, InvalidHashError):
            with self._tx() as con:
                failures = (account.failures if account.locked_until is None else 0) + 1
                locked = now + dt.timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILURES else None
                con.execute("UPDATE accounts SET failures = ?, locked_until = ? WHERE name = ?",
                            (0 if locked else failures, locked.isoformat() if locked else None, name))
            if locked:
                return LoginResult(self.get(name), "locked", f"{MAX_FAILURES} failed logins in a row: locked for "
                                                             f"{LOCK_MINUTES} minutes")
            return LoginResult(account, "login_failed", f"wrong password ({failures} in a row)")
        with self._tx() as con:
            con.execute("UPDATE accounts SET failures = 0, locked_until = NULL, last_login = ? WHERE name = ?",
                        (now.isoformat(), name))
            if self.hasher.check_needs_rehash(row[0]):
                con.execute("UPDATE accounts SET hash = ? WHERE name = ?", (self.hasher.hash(password), name))
        return LoginResult(self.get(name), "ok")

    # ------------------------------------------------------------------ sessions
    def session_load(self, session_id: str) -> tuple[str | None, dict] | None:
        """(account, data) of a live session, or None (unknown, or idle for IDLE_MINUTES: then deleted).
        A session whose account is gone or disabled is dropped too."""
        now = self._now()
        key = _hash_id(session_id)
        row = self._con().execute("SELECT account, last_seen, data FROM sessions WHERE id_hash = ?", (key,)).fetchone()
        if row is None:
            return None
        account, last_seen, data = row
        if now - _ts(last_seen) > dt.timedelta(minutes=IDLE_MINUTES) or (
                account is not None and ((a := self.get(account)) is None or a.disabled)):
            with self._tx() as con:
                con.execute("DELETE FROM sessions WHERE id_hash = ?", (key,))
            return None
        if (now - _ts(last_seen)).total_seconds() > TOUCH_SECONDS:
            with self._tx() as con:
                con.execute("UPDATE sessions SET last_seen = ? WHERE id_hash = ?", (now.isoformat(), key))
        return account, json.loads(data)

    def session_save(self, session_id: str | None, account: str | None, data: dict) -> str:
        """Store a session's data; a None id starts a new session. Returns the id (for the cookie)."""
        now = self._now().isoformat()
        with self._tx() as con:
            if session_id is None:
                session_id = secrets.token_urlsafe(32)
                con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                            (_hash_id(session_id), account, now, now, json.dumps(data)))
            else:
                con.execute("UPDATE sessions SET account = ?, last_seen = ?, data = ? WHERE id_hash = ?",
                            (account, now, json.dumps(data), _hash_id(session_id)))
        return session_id

    def session_end(self, session_id: str) -> None:
        with self._tx() as con:
            con.execute("DELETE FROM sessions WHERE id_hash = ?", (_hash_id(session_id),))
        self.prune()

    def prune(self) -> None:
        """Forget sessions idle past the limit."""
        cutoff = (self._now() - dt.timedelta(minutes=IDLE_MINUTES)).isoformat()
        with self._tx() as con:
            con.execute("DELETE FROM sessions WHERE last_seen < ?", (cutoff,))
