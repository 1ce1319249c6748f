"""The `examflow` command (outputs.md, Commands). Settings: flags, then EXAMFLOW_WAREHOUSE /
EXAMFLOW_OUTPUT / EXAMFLOW_EXAMS, then the defaults of examflow.settings."""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import logging
import os
import sys
import time
from pathlib import Path
from typing import Callable

import duckdb

from examflow import settings
from examflow.errors import ContractError, WarehouseBusy
from examflow.printing.fonts import FontMissing
from examflow.warehouse import one

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
EXIT_CONTRACT = 2  # the exam folder breaks the input contract (and usage errors)
EXIT_NO_FONT = 4  # the exam ran and its workbooks were written, but no Chinese font for the PDFs
# another process kept the warehouse past EXAMFLOW_LOCK_TIMEOUT (sysexits EX_TEMPFAIL: try again later)
EXIT_BUSY = 75


def _print_table(rows: list[tuple], headers: list[str]) -> None:
    w = csv.writer(sys.stdout)
    w.writerow(headers)
    w.writerows(rows)


def _connect_read(args):
    from examflow import warehouse

    path = settings.warehouse_path(args.warehouse)
    if not path.exists():
        sys.exit(f"examflow: no warehouse at {path} (run `examflow run EXAM_FOLDER` first)")
    return warehouse.connect(path, read_only=True)


def configure_progress() -> None:
    """Progress lines on stderr for the CLI."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s  %(message)s", "%H:%M:%S"))
    log = logging.getLogger("examflow")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _runner(args) -> Callable[..., str]:
    """The pipeline run (`pipelines.runner.run_exam`), which the `examflow` command passes to `main`:
    the library does not import the Dagster code that sits on top of it."""
    if args.run_exam is None:
        sys.exit(f"examflow {args.command}: no pipeline to run the exam with; use the `examflow` command "
                 "(pipelines.cli)")
    configure_progress()
    return args.run_exam


def cmd_run(args) -> int:
    run_exam = _runner(args)
    exam_id = run_exam(Path(args.folder), args.warehouse, args.output, printouts=not args.no_printouts,
                       timings=args.timings)
    return _summary(args, exam_id)


def _summary(args, exam_id: str) -> int:
    with _connect_read(args) as con:
        head = one(con, "SELECT n_students, n_scripts, n_abnormal_open, n_blocking_open FROM mart.exams "
                           "WHERE exam_id = ?", [exam_id])
        codes = con.execute("SELECT code, count(*) FILTER (WHERE status = 'open'), count(*) FROM mart.abnormal_scripts "
                            "WHERE exam_id = ? GROUP BY code ORDER BY code", [exam_id]).fetchall()
        schools = con.execute("SELECT track, school, n_sat, mean, rank_by_mean FROM mart.school_quant WHERE exam_id = ? "
                              "AND subject = 'total' AND school <> '*' ORDER BY track, rank_by_mean, school",
                              [exam_id]).fetchall()
    print(f"exam {exam_id}: {head[0]} students, {head[1]} scripts scanned, {head[2]} abnormal scripts open "
          f"({head[3]} blocking)")
    for code, n_open, n in codes:
        print(f"  {code:<26} {n_open:>5} open / {n:>5}")
    if schools:
        print("joint exam, schools by mean total (track, rank, school, students with a total, mean):")
    for track, school, n_sat, mean, rank in schools:
        print(f"  {track:<8} {rank or '-':>3} {school:<8} {n_sat:>6} {'-' if mean is None else f'{mean:.1f}':>7}")
    print(f"warehouse: {settings.warehouse_path(args.warehouse).resolve()}")
    out = settings.output_dir(args.output) / exam_id
    if out.exists():
        print(f"printouts: {out.resolve()}")
    return 0


def cmd_generate(args) -> int:
    from examflow.generate import generate

    started = time.perf_counter()
    try:
        folders = generate(Path(args.out), args.students, seed=args.seed, schools=args.schools,
                           progress=lambda m: print(m, file=sys.stderr))
    except ValueError as e:
        print(f"examflow generate: {e}", file=sys.stderr)
        return 2
    size = sum(f.stat().st_size for folder in folders for f in folder.rglob("*") if f.is_file())
    print(f"generated {', '.join(str(f) for f in folders)} ({size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f}s")
    return 0


def cmd_demo(args) -> int:
    """A ~1,200-student grade and its previous exam (with --joint: a joint exam of 3 schools and its
    previous joint exam), generated and run end to end."""
    from examflow.generate import generate

    run_exam = _runner(args)
    root = Path(args.dir)
    folders = generate(root / "exams", args.students, seed=args.seed, schools=3 if args.joint else 0,
                       progress=lambda m: print(m, file=sys.stderr))
    args.warehouse = args.warehouse or root / "warehouse.duckdb"
    args.output = args.output or root / "output"
    exam_id = None
    for folder in folders:
        exam_id = run_exam(folder, args.warehouse, args.output, printouts=not args.no_printouts)
    print(f"demo exams in {(root / 'exams').resolve()}")
    return _summary(args, exam_id)


def cmd_status(args) -> int:
    from examflow.status import exam_status, pdf_failure

    with _connect_read(args) as con:
        st = exam_status(con, args.exam_id)
        failed = pdf_failure(con, args.exam_id) if st is not None else None
    if st is None:
        print(f"examflow: no exam {args.exam_id!r} in the warehouse", file=sys.stderr)
        return 2
    print(f"{st.exam_id} {st.name}: {st.n_students} students, {st.n_abnormal_open} abnormal open "
          f"({st.n_blocking_open} blocking), materialised {st.materialised_at:%Y-%m-%d %H:%M}")
    print(f"{'subject':<12}{'ok':>7}{'pending':>9}{'absent':>8}{'void':>6}   blocked by")
    for s in st.subjects:
        print(f"{s.subject:<12}{s.ok:>7}{s.pending:>9}{s.absent:>8}{s.void:>6}   "
              + ", ".join(f"{c} {n}" for c, n in s.blockers))
    if failed:
        print(f"printouts: the PDFs were not written ({failed[0]:%Y-%m-%d %H:%M}): {failed[1]}")
    return 0


def cmd_abnormal(args) -> int:
    query = ("SELECT abnormal_id, code, severity, status, subject, exam_no, student_id, item, detail, source_file, "
             "source_row, action, settled_by, settled_at FROM mart.abnormal_scripts WHERE exam_id = ?")
    params: list = [args.exam_id]
    if args.open:
        query += " AND status = 'open'"
    if args.code:
        query += " AND code = ?"
        params.append(args.code.upper())
    if args.subject:
        query += " AND subject = ?"
        params.append(args.subject)
    query += " ORDER BY status = 'settled', severity <> 'blocking', abnormal_id"
    with _connect_read(args) as con:
        cur = con.execute(query, params)
        _print_table(cur.fetchall(), [d[0] for d in cur.description])
    return 0


def cmd_resolve(args) -> int:
    """Append one settlement to the exam's resolutions/ (never edits a file the office wrote) and re-run."""
    run_exam = _runner(args)
    with _connect_read(args) as con:
        row = one(con, "SELECT folder FROM raw.exams WHERE exam_id = ?", [args.exam_id])
    if row is None:
        print(f"examflow: no exam {args.exam_id!r} in the warehouse", file=sys.stderr)
        return 2
    folder = Path(row[0])
    target = folder / "resolutions" / "examflow_resolve.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    new = not target.exists()
    with open(target, "a", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["abnormal_id", "action", "value", "operator", "at", "note"])
        w.writerow([args.abnormal_id, args.action, args.value or "", args.operator,
                    dt.datetime.now().isoformat(timespec="seconds"), args.note or ""])
    print(f"appended to {target}")
    try:
        run_exam(folder, args.warehouse, args.output, printouts=not args.no_printouts)
    except WarehouseBusy:
        print(f"examflow: the settlement stays in {target}; the sensor's next run of {args.exam_id} (or "
              f"`examflow run {folder}`) applies it", file=sys.stderr)
        raise
    with _connect_read(args) as con:
        status = one(con, "SELECT status, action FROM mart.abnormal_scripts WHERE exam_id = ? AND abnormal_id = ?",
                             [args.exam_id, args.abnormal_id])
        error = one(con, "SELECT reason FROM mart.resolution_errors WHERE exam_id = ? AND abnormal_id = ?",
                            [args.exam_id, args.abnormal_id])
    if error:
        print(f"rejected: {error[0]}", file=sys.stderr)
        return 1
    print(f"{args.abnormal_id}: {status[0] if status else 'no longer arises'}")
    return 0


def cmd_sql(args) -> int:
    from examflow import publish

    path = publish.analyst_path(settings.warehouse_path(args.warehouse))
    if args.path:
        print(path.resolve())
        return 0
    if not args.query:
        print("examflow sql: give a QUERY or --path", file=sys.stderr)
        return 2
    with publish.read_only(path) as con:
        cur = con.execute(args.query)
        _print_table(cur.fetchall(), [d[0] for d in cur.description])
    return 0


def cmd_arrange(args) -> int:
    from examflow.arrange import InfeasibleArrangement
    from examflow.arrange.folder import arrange_folder

    try:
        done = arrange_folder(Path(args.folder), args.warehouse, args.output, progress=lambda m: print(m, file=sys.stderr))
    except InfeasibleArrangement as e:
        print(f"examflow: the arrangement is infeasible, nothing was written:\n{e}", file=sys.stderr)
        return 2
    print(f"exam {done.exam_id}: {done.timetable['session'].n_unique()} sessions, "
          f"{done.seating['student_id'].n_unique()} students, {done.seating.height} seats, "
          f"{done.invigilation['teacher_id'].n_unique()} invigilators")
    for row in done.timetable.sort("session", "subject").iter_rows(named=True):
        print(f"  session {row['session']}  {row['starts_at']:%m-%d %H:%M}  {row['subject']}  {row['n_students']}")
    for note in done.notes:
        print(f"  note: {note}")
    if len(done.folders) > 1:
        print("joint exam: one timetable for every school; each school seated in its own rooms by its own teachers")
    for folder in done.folders:
        print(f"printouts: {folder.resolve()}")
    return 0


def cmd_extract(args) -> int:
    """A teacher's extract (rules.md §9): scoped, masked, audited. The work is examflow.extracts."""
    from examflow import extracts

    if args.list:
        print(extracts.list_text())
        return 0
    missing = [o for o, v in (("--teacher", args.teacher), ("--exam", args.exam), ("TEMPLATE", args.template))
               if v is None]
    if missing:
        print(f"examflow extract: give {', '.join(missing)} (templates: `examflow extract --list`)", file=sys.stderr)
        return 2
    options = {"class_id": args.class_id, "subject": args.subject, "line": args.line, "min_change": args.min_change,
               "gap": args.gap, "student_id": args.student}
    for item in args.param or []:
        name, sep, value = item.partition("=")
        if not sep:
            print(f"examflow extract: --param takes NAME=VALUE, not {item!r}", file=sys.stderr)
            return 2
        options[name.strip().replace("-", "_")] = value
    try:
        done = extracts.extract(args.template, teacher_id=args.teacher, exam_id=args.exam, options=options,
                                fmt=args.format, out=args.out, warehouse=args.warehouse, output=args.output)
    except extracts.ExtractError as e:
        word = "refused" if e.outcome == "refused" else "failed"
        print(f"examflow extract: {word}: {e.reason}", file=sys.stderr)
        if e.audit is not None:
            print(f"  logged in audit.extracts ({e.outcome})" if e.audit.where == "warehouse"
                  else f"  audit: {e.audit.note}", file=sys.stderr)
        return 3 if e.outcome == "refused" else 1
    print(f"{done.path} ({done.rows} rows, {done.format}, sha256 {done.sha256[:16]}…)")
    if done.audit.where != "warehouse":
        print(f"audit: {done.audit.note}", file=sys.stderr)
    return 0


def cmd_serve(args) -> int:
    """The teacher portal (rules.md §12) on the analysts' copy."""
    from examflow.portal import serve

    serve(args.host, args.port, args.warehouse, args.output, threads=args.threads, secure_cookies=args.secure_cookies)
    return 0


def _password(args) -> str:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _teacher_name(args, teacher_id: str) -> str | None:
    """The teacher's name in the newest exam of the analysts' copy whose teachers.csv has the id."""
    from examflow import publish

    path = publish.analyst_path(settings.warehouse_path(args.warehouse))
    with publish.read_only(path) as con:
        row = one(con, "SELECT any_value(r.teacher_name ORDER BY e.date DESC NULLS LAST), count(*) "
                       "FROM staging.teacher_roles r JOIN mart.exams e USING (exam_id) WHERE r.teacher_id = ?",
                  [teacher_id])
    if not row or not row[1]:
        raise ValueError(f"no teacher {teacher_id!r} in the teachers.csv of any exam of {path} "
                         "(or give --office NAME for an exam-office account)")
    return row[0]


def cmd_accounts(args) -> int:
    """The portal's accounts: add, reset, disable, list (the store beside the warehouse)."""
    from examflow.portal.accounts import AccountError, AccountStore, store_path

    store = AccountStore(store_path(settings.warehouse_path(args.warehouse)))
    try:
        if args.action == "list":
            now = dt.datetime.now()
            _print_table([(a.name, a.kind, a.display or "", "disabled" if a.disabled else
                           ("locked" if a.locked(now) else "active"),
                           f"{a.last_login:%Y-%m-%d %H:%M}" if a.last_login else "") for a in store.list()],
                         ["name", "kind", "display", "state", "last_login"])
            return 0
        name = args.office or args.teacher_id
        if not name or (args.office and args.teacher_id):
            print("examflow accounts: give a teacher id or --office NAME (not both)", file=sys.stderr)
            return 2
        if args.action == "add":
            display = args.office if args.office else _teacher_name(args, name)
            account = store.add(name, "office" if args.office else "teacher", _password(args), display)
        elif args.action == "reset":
            account = store.reset(name, _password(args))
        else:
            account = store.disable(name)
    except (AccountError, ValueError) as e:
        print(f"examflow accounts: {e}", file=sys.stderr)
        return 2
    print(f"{args.action}: {account.name} ({account.kind}{', ' + account.display if account.display else ''})"
          f"{' disabled' if account.disabled else ''}; store {store.path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="examflow", description="Exam data for a senior high school: ingest, abnormal "
                                "scripts, scores, quantification tables, printouts.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--warehouse", type=Path, help="DuckDB file (EXAMFLOW_WAREHOUSE; default "
                        "examflow_data/warehouse.duckdb)")
    common.add_argument("--output", type=Path, help="printouts folder (EXAMFLOW_OUTPUT; default examflow_data/output)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("run", parents=[common], help="ingest, validate and materialise one exam folder")
    s.add_argument("folder")
    s.add_argument("--no-printouts", action="store_true")
    s.add_argument("--timings", metavar="FILE", help="write each step's seconds (from Dagster's event log) to FILE as JSON")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("demo", parents=[common], help="generate a realistic grade and run everything, offline")
    s.add_argument("--dir", default="demo", help="where the demo exams, warehouse and printouts go (default ./demo)")
    s.add_argument("--students", type=int, default=1200)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--no-printouts", action="store_true")
    s.add_argument("--joint", action="store_true", help="a joint exam (联考) of 3 schools: school tables and bundles")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("generate", help="write synthetic exam folders (a previous and a current exam)")
    s.add_argument("--students", type=int, required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--schools", type=int, default=0, help="N ≥ 2: a joint exam (联考) of N schools")
    s.set_defaults(func=cmd_generate)

    s = sub.add_parser("status", parents=[common], help="what is open and what blocks which subject")
    s.add_argument("exam_id")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("abnormal", parents=[common], help="list the abnormal scripts (CSV)")
    s.add_argument("exam_id")
    s.add_argument("--open", action="store_true", help="only open problems")
    s.add_argument("--code")
    s.add_argument("--subject")
    s.set_defaults(func=cmd_abnormal)

    s = sub.add_parser("resolve", parents=[common], help="settle an abnormal script and re-run the exam")
    s.add_argument("exam_id")
    s.add_argument("abnormal_id")
    s.add_argument("action", choices=["assign_student", "mark_absent", "void", "set_score", "set_version",
                                      "choose_optional", "accept"])
    s.add_argument("value", nargs="?")
    s.add_argument("--operator", required=True)
    s.add_argument("--note")
    s.add_argument("--no-printouts", action="store_true")
    s.set_defaults(func=cmd_resolve)

    s = sub.add_parser("arrange", parents=[common], help="timetable, seating, invigilation and their printouts")
    s.add_argument("folder")
    s.set_defaults(func=cmd_arrange)

    s = sub.add_parser("sql", parents=[common], help="a read-only query on the analysts' copy (prints CSV)")
    s.add_argument("query", nargs="?")
    s.add_argument("--path", action="store_true", help="print the analysts' copy's path")
    s.set_defaults(func=cmd_sql)
    s = sub.add_parser("extract", parents=[common], help="a teacher's extract: scoped to what they teach, masked, "
                       "audited (templates: --list)")
    s.add_argument("template", nargs="?", help="class_scores, borderline, rank_movers, weak_items, knowledge, "
                   "low_scorers, student_history (see --list)")
    s.add_argument("--list", action="store_true", help="the templates and their parameters")
    s.add_argument("--teacher", help="the teacher id (teachers.csv 工号)")
    s.add_argument("--exam", help="the exam id")
    s.add_argument("--class", dest="class_id", help="one class only")
    s.add_argument("--subject", help="one subject code (or total) only")
    s.add_argument("--line", help="borderline: the cut line's name (default the first)")
    s.add_argument("--min-change", dest="min_change", help="rank_movers: least rank change (default 50)")
    s.add_argument("--gap", help="weak_items: how far below the cohort's score rate (default 0.1)")
    s.add_argument("--student", help="student_history: the student's 学号")
    s.add_argument("--param", action="append", metavar="NAME=VALUE", help="any other template parameter")
    s.add_argument("--format", help="xlsx (default) or csv")
    s.add_argument("--out", help="file (or folder) inside the output folder; default "
                   "<output>/<exam_id>/extracts/<exam_id>_<template>_<teacher_id>.xlsx")
    s.set_defaults(func=cmd_extract)

    s = sub.add_parser("serve", parents=[common], help="the teacher portal on the analysts' copy (loopback by default)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; the school LAN: its address)")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--threads", type=int, help="requests worked on at once (default 16)")
    s.add_argument("--secure-cookies", action="store_true", help="mark the session cookie Secure (behind a TLS proxy)")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("accounts", parents=[common], help="the portal's accounts: add, reset, disable, list")
    s.add_argument("action", choices=["add", "reset", "disable", "list"])
    s.add_argument("teacher_id", nargs="?", help="a teacher id of teachers.csv (工号)")
    s.add_argument("--office", metavar="NAME", help="an exam-office account (sees every exam) instead of a teacher")
    s.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    s.set_defaults(func=cmd_accounts)
    return p


def main(argv: list[str] | None = None, run_exam: Callable[..., str] | None = None) -> int:
    """The examflow command line. `run_exam` runs an exam folder through the pipeline (run, demo,
    resolve); the `examflow` command (pipelines/cli.py) passes it."""
    args = build_parser().parse_args(argv)
    args.run_exam = run_exam
    try:
        return args.func(args)
    except ContractError as e:
        print(f"examflow: input contract broken: {e}", file=sys.stderr)
        return EXIT_CONTRACT
    except FontMissing as e:
        print(f"examflow: PDF printouts not written: {e}", file=sys.stderr)
        return EXIT_NO_FONT
    except FileNotFoundError as e:
        print(f"examflow: {e}", file=sys.stderr)
        return 2
    except WarehouseBusy as e:
        print(f"examflow: {e}", file=sys.stderr)
        return EXIT_BUSY
    except duckdb.Error as e:
        print(f"examflow: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # the library's commands alone; `python -m pipelines.cli` (the `examflow` command) runs exams too
    sys.exit(main())
