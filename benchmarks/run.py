"""examflow benchmark: generate exam folders at three scales and measure, in the same run, the
floor (the fastest plain read of the export files), the reference peer (benchmarks/reference.py: one
plain DuckDB script computing scores, totals, ranks, class statistics and item analysis from the same
exports), the pipeline (`examflow run --no-printouts` through Dagster), the printouts, peak memory of
the whole process tree, warehouse size and a per-asset breakdown from Dagster's own event log. The
machine is shared: the 1-minute load average is recorded with every figure, and the ratios
(pipeline / floor, pipeline / reference) are taken within one run.

    .venv/bin/python benchmarks/run.py                 # S, M, J and L
    .venv/bin/python benchmarks/run.py --scales M,J --runs 1

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


def run_scale(name: str, students: int, runs: int, work: Path) -> dict:
    data = work / name
    exams = data / "exams"
    from examflow.generate import CURRENT_ID, JOINT_IDS, PREVIOUS_ID

    schools = SCHOOLS.get(name, 0)
    previous, current = (exams / i for i in (JOINT_IDS if schools else (PREVIOUS_ID, CURRENT_ID)))
    if not (current / "exam.yaml").exists():
        shutil.rmtree(data, ignore_errors=True)
        started = time.perf_counter()
        subprocess.run([str(BIN / "examflow"), "generate", "--students", str(students), "--out", str(exams),
                        "--schools", str(schools)], check=True, capture_output=True)
        print(f"[{name}] generated {students} students{f' in {schools} schools' if schools else ''} "
              f"in {time.perf_counter() - started:.1f}s", flush=True)
    result = {"students": students, "schools": schools, "floor": floor_seconds(current)}
    print(f"[{name}] floor {result['floor']['seconds']:.2f}s", flush=True)
    pipeline, printout, print_steps, peaks, sizes, breakdown = [], [], [], [], [], {}
    reference, loads = [], []
    for i in range(runs):
        run_dir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-", dir=work))
        # no DAGSTER_HOME: `examflow run` as an exam office runs it (an ephemeral instance); the
        # per-step seconds come from that run's own event log through --timings
        env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
        env.update({"EXAMFLOW_WAREHOUSE": str(run_dir / "warehouse.duckdb"), "EXAMFLOW_OUTPUT": str(run_dir / "out")})
        steps = run_dir / "steps.json"
        run = [str(BIN / "examflow"), "run", "--timings", str(steps)]
        loads.append(load_average())
        seconds, _, _ = timed([sys.executable, str(ROOT / "benchmarks" / "reference.py"), str(current),
                               "--db", str(run_dir / "reference.duckdb")], env)
        reference.append(seconds)
        timed([*run, str(previous), "--no-printouts"], env)  # ranks to change against
        loads.append(load_average())
        seconds, peak, _ = timed([*run, str(current), "--no-printouts"], env)
        loads.append(load_average())
        pipeline.append(seconds)
        peaks.append(peak)
        breakdown = json.loads(steps.read_text())
        if name in PRINTOUTS:
            seconds, peak, _ = timed([*run, str(current)], env)
            printout.append(seconds)
            peaks.append(peak)
            prints = {k: v for k, v in json.loads(steps.read_text()).items() if k.startswith("print")}
            breakdown.update(prints)
            print_steps.append(sum(prints.values()))
        sizes.append((run_dir / "warehouse.duckdb").stat().st_size)
        print(f"[{name}] run {i + 1}: reference {reference[-1]:.1f}s, pipeline {pipeline[-1]:.1f}s"
              + (f", with printouts {printout[-1]:.1f}s (printout steps {print_steps[-1]:.1f}s)" if printout else "") + f", peak {peak / 2**30:.2f} GiB, load {loads[-1]}", flush=True)
        shutil.rmtree(run_dir, ignore_errors=True)
    med = statistics.median(pipeline)
    result.update({
        "pipeline_seconds": pipeline, "pipeline_median": med,
        "pipeline_over_floor": med / result["floor"]["seconds"],
        "reference_seconds": reference, "reference_median": statistics.median(reference),
        "pipeline_over_reference": med / statistics.median(reference),
        "load_average": {"min": min(loads), "max": max(loads), "samples": loads},
        "run_with_printouts_seconds": printout, "run_with_printouts_median": statistics.median(printout) if printout else None,
        "printout_steps_seconds": print_steps, "printout_steps_median": statistics.median(print_steps) if print_steps else None,
        "peak_rss_gib": max(peaks) / 2**30, "warehouse_mb": statistics.median(sizes) / 1e6,
        "seconds_per_10k_students": med / students * 10_000, "per_asset_seconds": breakdown,
    })
    return result


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
    for name in args.scales.split(","):
        runs = args.runs or (3 if name in ("S", "M", "J") else 1)
        results["scales"][name] = run_scale(name, SCALES[name], runs, work)
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
                  "run_with_printouts": j["run_with_printouts_median"] / m["run_with_printouts_median"]}
        results["joint_over_single"] = ratios
        Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False))
        print(f"\njoint (J, 20 schools) over single school (M), same grade size: pipeline × {ratios['pipeline']:.2f}, "
              f"with printouts × {ratios['run_with_printouts']:.2f}")
    print(f"\nwritten {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
