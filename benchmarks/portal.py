"""Teacher-portal load benchmark (issue 18; not a test): N concurrent teacher sessions against
`examflow serve` on loopback over the warehouse of a large generated exam, while `examflow run`
re-runs that exam (so the portal reads the analysts' copy while a run writes the warehouse and then
swaps a new copy in). Measures the latency of the class report and of the student list (p50, p95,
max) and counts errors. Bounded: at most --seconds of load and --max-requests per session; every
request goes to 127.0.0.1 only.

    .venv/bin/python benchmarks/portal.py                      # 50,000 students, 50 sessions
    .venv/bin/python benchmarks/portal.py --students 3000 --sessions 10 --seconds 20   # quick look
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXAMFLOW = [sys.executable, "-m", "pipelines.cli"]
PASSWORD = "benchmark password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], env: dict) -> None:
    started = time.perf_counter()
    subprocess.run(EXAMFLOW + args, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    print(f"  {' '.join(args[:2])}: {time.perf_counter() - started:.0f}s", file=sys.stderr)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), to split the machine's work between
    the server, this client and everything else."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Session:
    """One teacher in a browser: a keep-alive connection and the session cookie."""

    def __init__(self, port: int, teacher: str, classes: list[str], exam: str):
        self.port = port
        self.con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""
        self.teacher, self.classes, self.exam = teacher, classes, exam

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.con.request(method, path, body=body, headers=headers)
        r = self.con.getresponse()
        text = r.read().decode("utf-8", "replace")
        cookie = r.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return r.status, text

    def login(self) -> None:
        from urllib.parse import urlencode

        _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, _ = self.request("POST", "/login", urlencode({"username": self.teacher, "password": PASSWORD,
                                                              "csrf_token": token}))
        if status != 302:
            raise RuntimeError(f"login of {self.teacher} answered {status}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=50000)
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--seconds", type=float, default=120, help="longest load phase (it also ends when the re-run ends)")
    p.add_argument("--max-requests", type=int, default=2000, help="per session")
    p.add_argument("--threads", type=int, help="the server's --threads (default: examflow serve's own)")
    p.add_argument("--no-rerun", action="store_true", help="baseline: the same load without a run going")
    p.add_argument("--dir", help="work folder (reused when it already holds the generated and run exam)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "portal_results.json"))
    args = p.parse_args(argv)

    work = Path(args.dir or tempfile.mkdtemp(prefix="examflow-portal-bench-"))
    wh = work / "wh" / "warehouse.duckdb"
    env = {**os.environ, "EXAMFLOW_WAREHOUSE": str(wh), "EXAMFLOW_OUTPUT": str(work / "output"),
           "GX_ANALYTICS_ENABLED": "false"}
    env.pop("DAGSTER_HOME", None)
    exams = sorted((work / "exams").glob("*/exam.yaml")) if (work / "exams").exists() else []
    if not exams or not wh.with_name("warehouse.analyst.duckdb").exists():
        print(f"generating and running {args.students} students in {work}", file=sys.stderr)
        _run(["generate", "--students", str(args.students), "--out", str(work / "exams")], env)
        exams = sorted((work / "exams").glob("*/exam.yaml"))
        for e in exams:
            _run(["run", str(e.parent), "--no-printouts"], env)
    current = exams[-1].parent

    import duckdb

    from examflow.portal.accounts import AccountStore, store_path

    with duckdb.connect(str(wh.with_name("warehouse.analyst.duckdb")), read_only=True) as con:
        exam_id = con.execute("SELECT exam_id FROM mart.exams ORDER BY date DESC LIMIT 1").fetchone()[0]
        roles = con.execute("SELECT teacher_id, list(DISTINCT class_id ORDER BY class_id) FROM staging.teacher_roles "
                            "WHERE exam_id = ? AND role IN ('teacher', 'head') AND class_id IS NOT NULL "
                            "GROUP BY teacher_id ORDER BY teacher_id", [exam_id]).fetchall()
    store = AccountStore(store_path(wh))
    teachers = roles[:args.sessions]
    for tid, _ in teachers:
        if store.get(tid) is None:
            store.add(tid, "teacher", PASSWORD)
        else:
            store.reset(tid, PASSWORD)

    port = _free_port()
    # Children's output goes to files: a pipe nobody reads fills (64 KiB) and then blocks the child
    # at its next write (the first version of this benchmark froze the server that way).
    server_log, rerun_log = work / "portal-server.log", work / "rerun.log"
    server_cmd = EXAMFLOW + ["serve", "--host", "127.0.0.1", "--port", str(port)]
    if args.threads:
        server_cmd += ["--threads", str(args.threads)]
    with open(server_log, "wb") as out:
        server = subprocess.Popen(server_cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    load_before = os.getloadavg()
    latencies: dict[str, list[float]] = {"class_report": [], "students": []}
    errors: list[str] = []
    lock = threading.Lock()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the portal did not start")
                time.sleep(0.2)
        sessions = [Session(port, tid, classes, exam_id) for tid, classes in
                    (teachers[i % len(teachers)] for i in range(args.sessions))]
        for s in sessions:
            s.login()
        print(f"{len(sessions)} sessions logged in; re-running {exam_id} while they read", file=sys.stderr)
        with open(rerun_log, "wb") as out:
            rerun = subprocess.Popen(EXAMFLOW + ["run", str(current), "--no-printouts"] if not args.no_rerun else
                                     [sys.executable, "-c", f"import time; time.sleep({args.seconds})"],
                                     env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        run_started = time.monotonic()
        stop = threading.Event()

        def load(s: Session) -> None:
            for i in range(args.max_requests):
                if stop.is_set():
                    return
                cls = s.classes[i % len(s.classes)]
                for kind, path in (("class_report", f"/exam/{exam_id}/class/{cls}/"),
                                   ("students", f"/exam/{exam_id}/class/{cls}/students")):
                    t = time.perf_counter()
                    try:
                        status, _ = s.request("GET", path)
                    except (OSError, http.client.HTTPException) as e:
                        status = repr(e)
                        s.con.close()  # a broken connection is not reused: a new one, same session cookie
                        s.con = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
                    ms = (time.perf_counter() - t) * 1000
                    with lock:
                        latencies[kind].append(ms)
                        if status != 200:
                            errors.append(f"{kind} {path}: {status}")

        threads = [threading.Thread(target=load, args=(s,), daemon=True) for s in sessions]
        server_cpu, client_cpu = _cpu_seconds(server.pid), _cpu_seconds(os.getpid())
        started = time.monotonic()
        for t in threads:
            t.start()
        while time.monotonic() - started < args.seconds and rerun.poll() is None:
            time.sleep(0.5)
        run_seconds = time.monotonic() - run_started if rerun.poll() is not None else None
        time.sleep(2)  # a few requests on the newly published copy
        stop.set()
        for t in threads:
            t.join(timeout=60)
        load_seconds = time.monotonic() - started
        load_during = os.getloadavg()
        if server_cpu is not None:
            server_cpu = _cpu_seconds(server.pid) - server_cpu
            client_cpu = _cpu_seconds(os.getpid()) - client_cpu
        rerun_code = rerun.wait(timeout=900)
    finally:
        server.terminate()
        server.wait(timeout=30)

    def summary(xs: list[float]) -> dict:
        xs = sorted(xs)
        return {"n": len(xs), "p50_ms": round(statistics.median(xs), 1) if xs else None,
                "p95_ms": round(xs[int(0.95 * (len(xs) - 1))], 1) if xs else None,
                "max_ms": round(xs[-1], 1) if xs else None}

    n = len(latencies["class_report"]) + len(latencies["students"])
    result = {
        "at": time.strftime("%Y-%m-%d %H:%M"), "students": args.students, "sessions": args.sessions,
        "cpus": os.cpu_count(), "load_seconds": round(load_seconds, 1),
        "loadavg_before": [round(x, 2) for x in load_before], "loadavg_end_of_load": [round(x, 2) for x in load_during],
        "rerun_seconds": round(run_seconds, 1) if run_seconds else None, "rerun_exit_code": rerun_code,
        "class_report": summary(latencies["class_report"]), "students_list": summary(latencies["students"]),
        "server_cpu_ms_per_request": round(1000 * server_cpu / n, 1) if server_cpu is not None and n else None,
        "client_cpu_ms_per_request": round(1000 * client_cpu / n, 1) if client_cpu is not None and n else None,
        "with_rerun": not args.no_rerun, "errors": len(errors), "first_errors": errors[:5],
    }
    print(json.dumps(result, indent=1, ensure_ascii=False))
    Path(args.out).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if not errors and rerun_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
