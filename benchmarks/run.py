"""examflow benchmark: generate exam folders at three scales and measure, in the same run, the
floor (the fastest plain read of the export files), the reference peer (benchmarks/reference.py: one
plain DuckDB script computing scores, totals, ranks, class statistics and item analysis from the same
exports), the pipeline (`examflow run --no-printouts` through Dagster), the printouts, peak memory of
the whole process tree, warehouse size and a per-asset breakdown from Dagster's own event log. The
machine is shared: the 1-minute load average is recorded with every figure, and the ratios
(pipeline / floor, pipeline / reference) are taken within one run.

    .venv/bin/python benchmarks/run.py                 # S, M, J and L
    .venv/bin/python benchmarks/run.py --scales M,J --runs 3   # M, J, M, J, M, J: interleaved

J is a joint exam (联考) of M's size, 50,000 students in 20 schools (`examflow generate --schools 20`),
with its school tables and school bundles: it must stay within M's (the single-school) budget, and the
report gives its times as a multiple of M's when both ran.

Writes benchmarks/results.json and prints a table. Speed is measured here, never in the tests.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SCALES = {"S": 3_000, "M": 50_000, "J": 50_000, "L": 500_000}
SCHOOLS = {"J": 20}   # scale -> schools of its joint exam
PRINTOUTS = {"S", "M", "J"}


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (from /proc)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def timed(cmd: list[str], env: dict) -> tuple[float, int, str]:
    """Wall seconds and peak tree RSS of a command, polled every 50 ms."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.05)
    out = proc.stdout.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out[-3000:]}")
    return time.perf_counter() - started, peak, out


def load_average() -> float:
    """The 1-minute load average: on a shared 2-core machine a figure means little without it."""
    return round(os.getloadavg()[0], 2)


def floor_seconds(folder: Path) -> dict:
    """The fastest plain read of the exam's export files into memory: DuckDB's read_csv and polars'
    read_csv (GBK files decoded first, as any reader must), XLSX through calamine."""
    import duckdb
    import fastexcel
    import polars as pl

    files = [p for sub in ("scans", "marks") for p in (folder / sub).rglob("*") if p.is_file()]
    results = {}
    for engine in ("duckdb", "polars"):
        started = time.perf_counter()
        con = duckdb.connect()
        for path in files:
            if path.suffix == ".xlsx":
                fastexcel.read_excel(path).load_sheet(0, header_row=None).to_arrow()
                continue
            data = path.read_bytes()
            try:
                data.decode("utf-8")
                text_bytes = data
            except UnicodeDecodeError:
                text_bytes = data.decode("gb18030").encode("utf-8")
            if engine == "duckdb" and text_bytes is data:
                con.sql(f"SELECT * FROM read_csv('{path}', all_varchar=true, null_padding=true, ignore_errors=true)").fetchall()
            else:
                pl.read_csv(io.BytesIO(text_bytes), infer_schema=False, truncate_ragged_lines=True, has_header=False)
        con.close()
        results[engine] = time.perf_counter() - started
    return {"seconds": min(results.values()), "by_engine": results, "files": len(files),
            "bytes": sum(p.stat().st_size for p in files), "load_average": load_average()}


class Scale:
    """One scale's exam folder (generated on first use), its floor and its runs. The runs of several
    scales are interleaved (M, J, M, J, ...) so that a machine whose speed drifts (it is shared)
    weighs on every scale alike, and J / M can be read pair by pair."""

    def __init__(self, name: str, work: Path):
        from examflow.generate import CURRENT_ID, JOINT_IDS, PREVIOUS_ID

        self.name, self.students, self.schools, self.work = name, SCALES[name], SCHOOLS.get(name, 0), work
        exams = work / name / "exams"
        self.previous, self.current = (exams / i for i in (JOINT_IDS if self.schools else (PREVIOUS_ID, CURRENT_ID)))
        if not (self.current / "exam.yaml").exists():
            shutil.rmtree(work / name, ignore_errors=True)
            started = time.perf_counter()
            subprocess.run([str(BIN / "examflow"), "generate", "--students", str(self.students), "--out", str(exams),
                            "--schools", str(self.schools)], check=True, capture_output=True)
            print(f"[{name}] generated {self.students} students"
                  f"{f' in {self.schools} schools' if self.schools else ''} in {time.perf_counter() - started:.1f}s",
                  flush=True)
        self.floor = floor_seconds(self.current)
        print(f"[{name}] floor {self.floor['seconds']:.2f}s", flush=True)
        self.runs: list[dict] = []

    def run(self) -> dict:
        """One run: the reference, the previous exam (ranks to change against), the pipeline, then
        (S, M, J) the pipeline with its printouts, in a fresh warehouse and output folder."""
        run_dir = Path(tempfile.mkdtemp(prefix=f"bench-{self.name}-", dir=self.work))
        # no DAGSTER_HOME: `examflow run` as an exam office runs it (an ephemeral instance); the
        # per-step seconds come from that run's own event log through --timings
        env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
        env.update({"EXAMFLOW_WAREHOUSE": str(run_dir / "warehouse.duckdb"), "EXAMFLOW_OUTPUT": str(run_dir / "out")})
        steps = run_dir / "steps.json"
        cmd = [str(BIN / "examflow"), "run", "--timings", str(steps)]
        r: dict = {"loads": [load_average()]}
        r["reference"], _, _ = timed([sys.executable, str(ROOT / "benchmarks" / "reference.py"), str(self.current),
                                      "--db", str(run_dir / "reference.duckdb")], env)
        timed([*cmd, str(self.previous), "--no-printouts"], env)
        r["loads"].append(load_average())
        r["pipeline"], peak, _ = timed([*cmd, str(self.current), "--no-printouts"], env)
        r["loads"].append(load_average())
        r["peaks"], r["breakdown"] = [peak], json.loads(steps.read_text())
        if self.name in PRINTOUTS:
            r["printout"], peak, _ = timed([*cmd, str(self.current)], env)
            r["peaks"].append(peak)
            prints = {k: v for k, v in json.loads(steps.read_text()).items() if k.startswith("print")}
            r["breakdown"].update(prints)
            r["print_steps"] = sum(prints.values())
        r["size"] = (run_dir / "warehouse.duckdb").stat().st_size
        shutil.rmtree(run_dir, ignore_errors=True)
        self.runs.append(r)
        print(f"[{self.name}] run {len(self.runs)}: reference {r['reference']:.1f}s, pipeline {r['pipeline']:.1f}s"
              + (f", with printouts {r['printout']:.1f}s (printout steps {r['print_steps']:.1f}s)"
                 if "printout" in r else "")
              + f", peak {max(r['peaks']) / 2**30:.2f} GiB, load {r['loads'][-1]}", flush=True)
        return r

    def result(self) -> dict:
        def series(key: str) -> list[float]:
            return [r[key] for r in self.runs if key in r]

        pipeline, reference, printout, print_steps = (series(k) for k in ("pipeline", "reference", "printout",
                                                                           "print_steps"))
        loads = [x for r in self.runs for x in r["loads"]]
        med = statistics.median(pipeline)
        return {
            "students": self.students, "schools": self.schools, "floor": self.floor,
            "pipeline_seconds": pipeline, "pipeline_median": med,
            "pipeline_over_floor": med / self.floor["seconds"],
            "reference_seconds": reference, "reference_median": statistics.median(reference),
            "pipeline_over_reference": med / statistics.median(reference),
            "load_average": {"min": min(loads), "max": max(loads), "samples": loads},
            "run_with_printouts_seconds": printout,
            "run_with_printouts_median": statistics.median(printout) if printout else None,
            "printout_steps_seconds": print_steps,
            "printout_steps_median": statistics.median(print_steps) if print_steps else None,
            "peak_rss_gib": max(p for r in self.runs for p in r["peaks"]) / 2**30,
            "warehouse_mb": statistics.median(series("size")) / 1e6,
            "seconds_per_10k_students": med / self.students * 10_000,
            "per_asset_seconds": self.runs[-1]["breakdown"],
        }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="S,M,J,L")
    ap.add_argument("--runs", type=int, default=None, help="runs per scale (default 3 for S, M and J, 1 for L)")
    ap.add_argument("--work", default=str(ROOT / "benchmarks" / "out"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results.json"))
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                           "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
               "at": time.strftime("%Y-%m-%d %H:%M"), "scales": {}}
    scales = [Scale(name, work) for name in args.scales.split(",")]
    wanted = {sc.name: args.runs or (3 if sc.name in ("S", "M", "J") else 1) for sc in scales}
    for round_no in range(max(wanted.values())):
        for sc in scales:
            if round_no < wanted[sc.name]:
                sc.run()
                results["scales"][sc.name] = sc.result()
                Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print()
    print(f"{'scale':<6}{'students':>9}{'floor s':>9}{'ref s':>8}{'pipeline s':>12}{'× floor':>9}{'× ref':>7}"
          f"{'+printouts s':>14}{'printouts s':>13}{'peak GiB':>10}{'wh MB':>8}{'s/10k':>8}{'load':>12}")
    for name, r in results["scales"].items():
        po, ps = r["run_with_printouts_median"], r["printout_steps_median"]
        load = f"{r['load_average']['min']}–{r['load_average']['max']}"
        print(f"{name:<6}{r['students']:>9}{r['floor']['seconds']:>9.2f}{r['reference_median']:>8.1f}"
              f"{r['pipeline_median']:>12.1f}{r['pipeline_over_floor']:>9.1f}{r['pipeline_over_reference']:>7.1f}"
              f"{(f'{po:.1f}' if po else '—'):>14}{(f'{ps:.1f}' if ps else '—'):>13}"
              f"{r['peak_rss_gib']:>10.2f}"
              f"{r['warehouse_mb']:>8.0f}{r['seconds_per_10k_students']:>8.2f}{load:>12}")
    m, j, big = (results["scales"].get(k) for k in ("M", "J", "L"))
    if m and big:
        results["l_over_m"] = big["pipeline_median"] / m["pipeline_median"]
        Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False))
        print(f"\nL over M (pipeline, 10× the students): × {results['l_over_m']:.1f}")
    if m and j:
        ratios = {"pipeline": j["pipeline_median"] / m["pipeline_median"],
                  "run_with_printouts": j["run_with_printouts_median"] / m["run_with_printouts_median"],
                  "by_pair": {key: [jr / mr for jr, mr in zip(j[f"{key}_seconds"], m[f"{key}_seconds"])]
                              for key in ("pipeline", "run_with_printouts", "printout_steps")}}
        results["joint_over_single"] = ratios
        Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False))
        print(f"\njoint (J, 20 schools) over single school (M), same grade size: pipeline × {ratios['pipeline']:.2f}, "
              f"with printouts × {ratios['run_with_printouts']:.2f}; pair by pair: "
              + "; ".join(f"{k} " + ", ".join(f"{x:.2f}" for x in v) for k, v in ratios["by_pair"].items()))
    print(f"\nwritten {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
