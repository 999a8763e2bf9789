"""Benchmark custlens against Python reference tools on the same canonical Parquet.

Started by run.sh inside its venv; uses only the standard library itself (the tools import their
packages in their own processes, so a package that failed to install makes its tool
"unavailable", not the script fail). Steps:

1. `cargo build --release` (CARGO_TARGET_DIR, default ~/.cache/custlens-target);
2. `custlens gen --customers N --seed S --out WORKDIR/data-N-S` unless that folder exists;
3. `custlens run` (ingest + analyze, timed, peak RSS) into WORKDIR/run-N-S/{lake,out}, then
   `custlens analyze` alone on that lake (the like-for-like row for features + RFM);
4. each tool in its own process on run-N-S/lake + run-N-S/out/manifest.json (tools/*.py);
5. agreement checks (tools/check.py), then the table: stdout, WORKDIR/compare-N-S.{json,md}.

Every measured command is repeated --repeat times, each in a fresh process: seconds are the
median, peak RSS the maximum.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIME_BIN = "/usr/bin/time"
EXIT_UNAVAILABLE = 3  # tools/common.py


@dataclass
class Tool:
    key: str
    tool: str
    stage: str
    module: str
    out: str | None = None  # file the tool writes for the checks
    like_for_like: bool = False  # compared with `custlens analyze`


TOOLS = [
    Tool("pandas", "pandas", "features + RFM", "tools.rfm_pandas", "rfm_pandas.parquet", True),
    Tool("duckdb", "DuckDB SQL", "features + RFM", "tools.rfm_duckdb", "rfm_duckdb.parquet", True),
    Tool("lifetimes", "lifetimes", "CLV: BG/NBD + Gamma-Gamma fit, score", "tools.clv_lifetimes", "lifetimes_summary.parquet"),
    Tool("mlxtend", "mlxtend", "baskets: FP-growth + rules", "tools.fp_mlxtend", "mlxtend_itemsets.json"),
    Tool("pyfim", "pyFIM", "baskets: FP-growth", "tools.fp_pyfim", "pyfim_itemsets.json"),
    Tool("sklearn", "scikit-learn", "clusters: KMeans k=5", "tools.kmeans_sklearn"),
]
PACKAGES = ["pandas", "pyarrow", "duckdb", "numpy", "scipy", "Lifetimes", "autograd", "mlxtend", "pyfim", "scikit-learn", "psutil"]


class Failure(Exception):
    """A step that cannot go on; the message says what to do."""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def tail(path: Path, n: int = 25) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join("    " + line for line in lines[-n:])


# ---- measuring one process: wall seconds and peak RSS ----


@dataclass
class Measure:
    rc: int
    wall: float
    peak_mb: float | None
    cpu: float | None = None  # user + system seconds of the process
    load1: float | None = None  # 1-minute load average when it started
    foreign: float | None = None  # share of the machine's CPU used by other processes meanwhile


def rss_method(requested: str) -> str:
    if requested != "auto":
        return requested
    if os.access(TIME_BIN, os.X_OK):
        probe = subprocess.run([TIME_BIN, "-v", "true"], capture_output=True, text=True)
        if probe.returncode == 0 and "Maximum resident set size" in probe.stderr:
            return "time"
    return "wait4" if hasattr(os, "wait4") else "psutil"


def measure(cmd: list[str], logfile: Path, method: str, cwd: Path | None = None, env=None) -> Measure:
    """Runs `cmd` (stdout+stderr to `logfile`); peak RSS of that process alone, in MB (10^6 B).

    time:   GNU `/usr/bin/time -v` (its "Maximum resident set size", the kernel's ru_maxrss).
    wait4:  os.wait4 on the child: the same kernel number, without GNU time.
    psutil: polls the process tree's RSS every 10 ms (portable; can miss short peaks).
    """
    logfile.parent.mkdir(parents=True, exist_ok=True)
    load1, busy0 = load_average(), cpu_busy_seconds()
    with open(logfile, "w") as out:
        m = _measure(cmd, out, logfile, method, cwd, env)
    busy1 = cpu_busy_seconds()
    m.load1 = load1
    if busy0 is not None and busy1 is not None and m.cpu is not None and m.wall > 0:
        m.foreign = max(0.0, (busy1 - busy0) - m.cpu) / (m.wall * (os.cpu_count() or 1))
    return m


def _measure(cmd, out, logfile: Path, method: str, cwd, env) -> Measure:
    if method == "time":
        tfile = logfile.with_suffix(".time")
        t0 = time.perf_counter()
        rc = subprocess.run([TIME_BIN, "-v", "-o", str(tfile)] + cmd, stdout=out, stderr=out, cwd=cwd, env=env).returncode
        wall = time.perf_counter() - t0
        fields = {}
        for line in tfile.read_text().splitlines() if tfile.is_file() else []:
            key, _, value = line.strip().rpartition(": ")
            fields[key] = value
        try:
            peak = int(fields["Maximum resident set size (kbytes)"]) * 1024 / 1e6
            cpu = float(fields["User time (seconds)"]) + float(fields["System time (seconds)"])
        except (KeyError, ValueError):
            peak = cpu = None
        return Measure(rc, wall, peak, cpu)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=out, cwd=cwd, env=env)
    if method == "wait4":
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        return Measure(p.returncode, wall, usage.ru_maxrss * 1024 / 1e6, usage.ru_utime + usage.ru_stime)
    import psutil

    peak = 0
    proc = psutil.Process(p.pid)
    while p.poll() is None:
        try:
            rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.01)
    return Measure(p.returncode, time.perf_counter() - t0, peak / 1e6)


def measure_clean(cmd, logfile: Path, method: str, wait: float, cwd=None, before=None) -> Measure:
    """`measure`, and with --wait-idle (wait > 0): when other processes used more than IDLE_SHARE
    of the CPUs meanwhile, wait for idle and measure again, up to CLEAN_RETRIES times."""
    for attempt in range(CLEAN_RETRIES + 1):
        if before:
            before()
        m = measure(cmd, logfile, method, cwd=cwd)
        disturbed = m.foreign is not None and m.foreign > IDLE_SHARE
        if wait <= 0 or not disturbed or m.rc != 0 or attempt == CLEAN_RETRIES:
            return m
        log(f"    others used {100 * m.foreign:.0f}% of the CPUs; measuring again when idle ({attempt + 1}/{CLEAN_RETRIES})")
        wait_idle(wait)
    return m


def cpu_busy_seconds() -> float | None:
    """CPU seconds the whole machine has been busy (all cores, all processes), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


IDLE_SHARE = 0.10  # other processes using more than this share of the CPUs make timings suspect
CLEAN_RETRIES = 3  # with --wait-idle: re-measurements of a disturbed run


def busy_share(seconds: float) -> float | None:
    b0 = cpu_busy_seconds()
    time.sleep(seconds)
    b1 = cpu_busy_seconds()
    return None if b0 is None or b1 is None else (b1 - b0) / (seconds * (os.cpu_count() or 1))


def wait_idle(limit: float) -> None:
    """Waits up to `limit` seconds until two 5-second samples in a row show the CPUs < 10 % busy."""
    deadline, quiet, said = time.monotonic() + limit, 0, False
    while quiet < 2 and time.monotonic() < deadline:
        share = busy_share(5.0)
        if share is None:
            log("  --wait-idle: /proc/stat unreadable; not waiting")
            return
        if share < IDLE_SHARE:
            quiet += 1
        else:
            quiet = 0
            if not said:
                log(f"  CPUs {100 * share:.0f}% busy; waiting up to {limit:.0f} s for < {100 * IDLE_SHARE:.0f}% (--wait-idle)")
                said = True
    if said:
        log(f"  CPUs {100 * share:.0f}% busy; {'going on' if quiet >= 2 else 'gave up waiting, measuring anyway'}")


def busy_note(m: Measure) -> str:
    return f" (others used {100 * m.foreign:.0f}% of the CPUs)" if m.foreign is not None and m.foreign > IDLE_SHARE else ""


def repeated(n: int, run_once) -> tuple[list[Measure], list]:
    ms, extras = [], []
    for i in range(n):
        m, extra = run_once(i)
        ms.append(m)
        extras.append(extra)
    return ms, extras


def summary(ms: list[Measure]) -> dict:
    walls = [m.wall for m in ms]
    peaks = [m.peak_mb for m in ms if m.peak_mb is not None]
    cpus = [m.cpu for m in ms if m.cpu is not None]
    return {
        "wall_seconds": statistics.median(walls),
        "wall_seconds_all": walls,
        "cpu_seconds": statistics.median(cpus) if cpus else None,
        "peak_mb": max(peaks) if peaks else None,
        "load1_at_start": [m.load1 for m in ms],
        "foreign_cpu_share": [m.foreign for m in ms],
    }


# ---- steps ----


def machine_info(repo: Path, method: str) -> dict:
    mem_kb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def out(cmd, cwd=None):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    from importlib import metadata

    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": round(mem_kb / 2**20, 1) if mem_kb else None,
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "rustc": out(["rustc", "--version"]),
        "custlens_commit": out(["git", "rev-parse", "--short", "HEAD"], cwd=repo),
        "custlens_worktree_dirty": bool(out(["git", "status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock"], cwd=repo)),
        "rss_method": method,
        "packages": versions,
    }


def build(repo: Path, target: Path, logs: Path, skip: bool) -> Path:
    binary = target / "release" / "custlens"
    if skip:
        if not binary.is_file():
            raise Failure(f"--skip-build: {binary} does not exist; run without --skip-build once")
        log(f"  reusing {binary} (--skip-build)")
        return binary
    env = dict(os.environ, CARGO_TARGET_DIR=str(target))
    logfile = logs / "cargo-build.log"
    log(f"  cargo build --release (CARGO_TARGET_DIR={target}; log {logfile})")
    t0 = time.perf_counter()
    with open(logfile, "w") as out:
        rc = subprocess.run(["cargo", "build", "--release"], cwd=repo, env=env, stdout=out, stderr=out).returncode
    if rc != 0 or not binary.is_file():
        raise Failure(
            f"cargo build --release failed (exit {rc}). If src/ is being edited, wait a few minutes and "
            f"re-run, or pass --skip-build to reuse the last binary ({binary}).\n  last lines of {logfile}:\n"
            + tail(logfile)
        )
    log(f"  built in {time.perf_counter() - t0:.1f} s")
    return binary


def generate(binary: Path, data: Path, customers: int, seed: int, logs: Path) -> None:
    if (data / "custlens.toml").is_file():
        log(f"  reusing {data} (delete it to regenerate)")
        return
    tmp = data.with_name(data.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    logfile = logs / "custlens-gen.log"
    cmd = [str(binary), "gen", "--customers", str(customers), "--seed", str(seed), "--out", str(tmp)]
    log(f"  {' '.join(cmd)}")
    t0 = time.perf_counter()
    with open(logfile, "w") as out:
        rc = subprocess.run(cmd, stdout=out, stderr=out).returncode
    if rc != 0 or not (tmp / "custlens.toml").is_file():
        shutil.rmtree(tmp, ignore_errors=True)
        raise Failure(
            f"custlens gen failed (exit {rc}); if the generator is being changed, wait and re-run.\n"
            f"  last lines of {logfile}:\n" + tail(logfile)
        )
    tmp.rename(data)
    log(f"  generated in {time.perf_counter() - t0:.1f} s")


def custlens_step(name: str, cmd: list[str], out_dirs: list[Path], repeat: int, method: str, logs: Path, wait: float):
    """Runs a custlens command `repeat` times, each from empty `out_dirs` (a fresh ingest, not a
    re-ingest into an existing lake); returns the measures and each run's manifest stages."""

    def clean():
        for p in out_dirs:
            shutil.rmtree(p, ignore_errors=True)

    def once(i):
        logfile = logs / f"custlens-{name}-{i}.log"
        m = measure_clean(cmd, logfile, method, wait, before=clean)
        if m.rc != 0:
            raise Failure(f"`{' '.join(cmd)}` failed (exit {m.rc}).\n  last lines of {logfile}:\n" + tail(logfile))
        log(f"  custlens {name} #{i + 1}: {m.wall:.2f} s, peak {fmt_mb(m.peak_mb)} MB{busy_note(m)}")
        return m, manifest_stages(out_dirs[-1] / "manifest.json")

    return repeated(repeat, once)


def manifest_stages(manifest: Path) -> dict[str, float]:
    m = json.loads(manifest.read_text())
    return {s["stage"]: float(s["seconds"]) for s in m.get("stages", [])}


def run_tool(t: Tool, run_dir: Path, results: Path, logs: Path, repeat: int, method: str, wait: float) -> dict:
    def once(i):
        res = results / f"{t.key}-{i}.json"
        cmd = [sys.executable, "-m", t.module, "--run", str(run_dir), "--result", str(res)]
        if t.out:
            cmd += ["--out", str(results / t.out)]
        logfile = logs / f"{t.key}-{i}.log"
        m = measure_clean(cmd, logfile, method, wait, cwd=HERE, before=lambda: res.unlink(missing_ok=True))
        payload = json.loads(res.read_text()) if res.is_file() else None
        return m, (payload, logfile)

    first, (payload, logfile) = once(0)
    if first.rc == EXIT_UNAVAILABLE:
        reason = (payload or {}).get("reason", "package missing")
        log(f"  {t.tool}: unavailable ({reason})")
        return {"status": "unavailable", "reason": reason}
    if first.rc != 0 or not payload or payload.get("status") != "ok":
        log(f"  {t.tool}: FAILED (exit {first.rc}); last lines of {logfile}:\n" + tail(logfile, 15))
        return {"status": "failed", "reason": f"exit {first.rc}; see {logfile}"}
    ms, payloads = [first], [payload]
    log(f"  {t.tool} #1: {payload['seconds']:.2f} s work, {first.wall:.2f} s process, peak {fmt_mb(first.peak_mb)} MB{busy_note(first)}")
    for i in range(1, repeat):
        m, (p, lf) = once(i)
        if m.rc != 0 or not p:
            log(f"  {t.tool}: FAILED on repeat {i + 1} (exit {m.rc}); see {lf}")
            return {"status": "failed", "reason": f"exit {m.rc} on repeat {i + 1}; see {lf}"}
        ms.append(m)
        payloads.append(p)
        log(f"  {t.tool} #{i + 1}: {p['seconds']:.2f} s work, {m.wall:.2f} s process, peak {fmt_mb(m.peak_mb)} MB{busy_note(m)}")
    sections = {k: statistics.median(p["sections"][k] for p in payloads) for k in payloads[0]["sections"]}
    return {
        "status": "ok",
        "seconds": statistics.median(p["seconds"] for p in payloads),
        "seconds_all": [p["seconds"] for p in payloads],
        "cpu_seconds": statistics.median(p.get("cpu_seconds", 0.0) for p in payloads),
        "sections": sections,
        "rss_after_imports_mb": payloads[0].get("rss_after_imports_mb"),
        "process": summary(ms),
        "result": payloads[-1]["result"],
    }


def run_check(kind: str, a: Path, b: Path, result: Path, logs: Path) -> dict | None:
    logfile = logs / f"{result.stem}.log"
    with open(logfile, "w") as out:
        rc = subprocess.run(
            [sys.executable, "-m", "tools.check", kind, str(a), str(b), "--result", str(result)],
            cwd=HERE, stdout=out, stderr=out,
        ).returncode
    if rc != 0:
        log(f"  check {kind} failed (exit {rc}); see {logfile}:\n" + tail(logfile, 10))
        return None
    return json.loads(result.read_text())


# ---- the table ----


def fmt_s(x):
    return "—" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.1f}")


def fmt_pct(x):
    return "?" if x is None else f"{100 * x:.0f}%"


def fmt_load(x):
    return "?" if x is None else f"{x:.2f}"


def fmt_mb(x):
    return "—" if x is None else f"{x:.0f}"


def build_rows(c: dict, tools: dict, checks: dict) -> list[dict]:
    analyze = c["analyze"]["wall_seconds"]
    rows = [
        {
            "tool": "custlens", "stage": "run: ingest raw exports + features + RFM + segments",
            "seconds": c["run"]["wall_seconds"], "cpu_seconds": c["run"]["cpu_seconds"], "process_seconds": c["run"]["wall_seconds"],
            "peak_mb": c["run"]["peak_mb"], "vs_custlens": "—", "agreement": "reference (out/rfm.parquet)",
        },
        {
            "tool": "custlens", "stage": "analyze: features + RFM + segments (like-for-like)",
            "seconds": analyze, "cpu_seconds": c["analyze"]["cpu_seconds"], "process_seconds": analyze, "peak_mb": c["analyze"]["peak_mb"],
            "vs_custlens": "1.00× analyze", "agreement": "reference",
        },
        {
            "tool": "custlens", "stage": "analyze, in-process stages prepare + features + rfm",
            "seconds": c["analyze"]["stages_features_rfm"], "cpu_seconds": None, "process_seconds": None, "peak_mb": None,
            "vs_custlens": "1.00× stages", "agreement": "from its out/manifest.json `stages`",
        },
    ]
    for t in TOOLS:
        r = tools.get(t.key)
        if r is None:
            continue
        row = {"tool": t.tool, "stage": t.stage, "seconds": None, "cpu_seconds": None, "process_seconds": None, "peak_mb": None}
        if r["status"] != "ok":
            row |= {"vs_custlens": "—", "agreement": f"{r['status']}: {r['reason']}"}
            rows.append(row)
            continue
        row |= {
            "seconds": r["seconds"], "cpu_seconds": r["cpu_seconds"],
            "process_seconds": r["process"]["wall_seconds"], "peak_mb": r["process"]["peak_mb"],
        }
        if t.like_for_like:
            stages = c["analyze"]["stages_features_rfm"]
            row["vs_custlens"] = f"{r['seconds'] / analyze:.2f}× analyze, {r['seconds'] / stages:.2f}× stages"
        elif t.key in ("mlxtend", "pyfim") and c["analyze"]["stages"].get("basket"):
            # custlens' in-process basket stage: collect basket rows, FP-growth, rules, recommendations.
            row["vs_custlens"] = f"{r['seconds'] / c['analyze']['stages']['basket']:.2f}× basket stage"
        else:
            row["vs_custlens"] = "no custlens stage yet"
        row["agreement"] = agreement_text(t.key, r["result"], checks)
        rows.append(row)
    return rows


def agreement_text(key: str, res: dict, checks: dict) -> str:
    if key in ("pandas", "duckdb"):
        ch = checks.get(key)
        if not ch:
            return "check failed"
        return f"{100 * ch['agree_share']:.2f}% ({ch['agree']}/{ch['customers_custlens']}) r/f/m+segment equal"
    if key == "lifetimes":
        b, g = res["bgnbd_params"], res["gammagamma_params"]
        ch = checks.get("lifetimes")
        same = f"summary = custlens features {100 * ch['agree_share']:.2f}%; " if ch else ""
        return (
            f"{same}BG/NBD r={b['r']:.3f} α={b['alpha']:.2f} a={b['a']:.3f} b={b['b']:.3f}; "
            f"GG p={g['p']:.3f} q={g['q']:.2f} v={g['v']:.1f}"
        )
    if key in ("mlxtend", "pyfim"):
        text = f"{res['itemsets']} itemsets"
        if key == "mlxtend":
            text += f", {res['rules']} rules (conf ≥ {res['min_confidence']})"
        ch = checks.get("itemsets")
        if ch:
            other = "pyFIM" if key == "mlxtend" else "mlxtend"
            text += f"; same sets as {other}" if ch["agree_share"] == 1.0 else f"; DIFFERS from {other}"
        ch = checks.get("itemsets_custlens")
        if ch and key == "pyfim":
            text += "; same sets as custlens" if ch["agree_share"] == 1.0 else "; DIFFERS from custlens"
        return text
    if key == "sklearn":
        return f"inertia {res['inertia']:.2f}; sizes {res['cluster_sizes']}"
    return ""


HEADER = ["tool", "stage", "seconds", "cpu s", "process s", "peak MB", "vs custlens", "agreement / result"]


def row_cells(r: dict) -> list[str]:
    return [
        r["tool"], r["stage"], fmt_s(r["seconds"]), fmt_s(r["cpu_seconds"]), fmt_s(r["process_seconds"]),
        fmt_mb(r["peak_mb"]), r["vs_custlens"], r["agreement"],
    ]


def text_table(rows: list[dict]) -> str:
    cells = [HEADER] + [row_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER) - 1)]
    lines = []
    for j, c in enumerate(cells):
        lines.append("  ".join(c[i].ljust(widths[i]) if i < 2 else c[i].rjust(widths[i]) for i in range(len(widths))) + "  " + c[-1])
        if j == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 18)
    return "\n".join(lines)


def md_table(rows: list[dict]) -> str:
    out = ["| " + " | ".join(HEADER) + " |", "|" + "|".join(["---", "---", "---:", "---:", "---:", "---:", "---", "---"]) + "|"]
    for r in rows:
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in row_cells(r)) + " |")
    return "\n".join(out)


def markdown(report: dict, rows: list[dict]) -> str:
    m, p = report["machine"], report["params"]
    lines = [
        f"# custlens vs Python tools — {p['customers']} customers, seed {p['seed']}",
        "",
        f"`{report['command']}` — {report['finished_at']}",
        "",
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, {m['cpu']}; {m['os']}; Python {m['python']}; {m['rustc']}; "
        f"custlens {m['custlens_commit']}{' (src/ modified)' if m['custlens_worktree_dirty'] else ''}.",
        f"Data: {report['data']['orders']} orders, {report['data']['customers_with_orders']} customers with a valid order "
        f"(as_of {report['data']['as_of']}, base {report['data']['base_currency']}). "
        f"Median of {p['repeat']} runs, each a fresh process; peak RSS = max, via {m['rss_method']}. "
        f"Other processes used at most {fmt_pct(report['interference']['max_foreign_cpu_share'])} of the CPUs "
        f"during a measurement (1-minute load {fmt_load(report['interference']['load1_at_start'])} at start).",
        "",
        md_table(rows),
        "",
        "*seconds*: custlens = whole process wall time; Python tools = in-process work (reading the canonical "
        "Parquet + computing, after imports). *cpu s*: the same span in CPU seconds (user + system, all threads). "
        "*process s*: the tool's whole process incl. interpreter start and "
        "imports. *vs custlens*: seconds ÷ custlens `analyze` process seconds, and ÷ custlens' in-process "
        "prepare + features + rfm stages (both read the lake and compute; > 1 = slower than custlens).",
        "",
        "## Details",
        "",
    ]
    for key, r in report["tools"].items():
        if r["status"] != "ok":
            lines.append(f"- **{key}**: {r['status']} — {r['reason']}")
            continue
        secs = ", ".join(f"{k} {v:.3f}" for k, v in r["sections"].items())
        lines.append(f"- **{key}**: {secs} s; RSS after imports {fmt_mb(r['rss_after_imports_mb'])} MB; result `{json.dumps(r['result'])}`")
    lines.append(f"- **custlens analyze stages** (median s): `{json.dumps(report['custlens']['analyze']['stages'])}`")
    for k, ch in report["checks"].items():
        if ch:
            lines.append(f"- **check {k}**: `{json.dumps({x: y for x, y in ch.items() if x != 'first_disagreements'})}`")
    lines.append(f"- **packages**: `{json.dumps(m['packages'])}`")
    return "\n".join(lines) + "\n"


# ---- main ----


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--repo", type=Path, default=HERE.parent.parent)
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (median seconds, max RSS); default 3")
    ap.add_argument("--tools", default=",".join(t.key for t in TOOLS), help="comma-separated subset of: " + ", ".join(t.key for t in TOOLS))
    ap.add_argument("--rss", choices=["auto", "time", "wait4", "psutil"], default="auto", help="peak-RSS method (auto: /usr/bin/time -v if it works, else os.wait4)")
    ap.add_argument("--skip-build", action="store_true", help="reuse the last release binary instead of cargo build --release")
    ap.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS", help="before measuring, wait up to SECONDS for the CPUs to be < 10%% busy; then re-measure (up to 3 times, "
        "after waiting again) any run during which other processes used > 10%% of the CPUs")
    ap.add_argument("--unavailable", type=Path, help="file listing packages run.sh could not install")
    args = ap.parse_args()
    if args.customers < 1 or args.repeat < 1:
        ap.error("--customers and --repeat must be at least 1")
    wanted = [k.strip() for k in args.tools.split(",") if k.strip()]
    unknown = set(wanted) - {t.key for t in TOOLS}
    if unknown:
        ap.error(f"unknown --tools {sorted(unknown)}; choose from {[t.key for t in TOOLS]}")

    n, s = args.customers, args.seed
    work = args.workdir.resolve()
    tag = f"{n}-{s}"
    data, run_dir = work / f"data-{tag}", work / f"run-{tag}"
    results, logs = work / f"results-{tag}", work / f"logs-{tag}"
    for d in (results, logs):
        d.mkdir(parents=True, exist_ok=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or Path.home() / ".cache" / "custlens-target")
    method = rss_method(args.rss)
    started = time.perf_counter()

    log("[1/5] build")
    binary = build(args.repo.resolve(), target, logs, args.skip_build)
    log("[2/5] data")
    generate(binary, data, n, s, logs)
    cfg = data / "custlens.toml"

    if args.wait_idle > 0:
        wait_idle(args.wait_idle)
    load_start = load_average()
    log(f"[3/5] custlens (x{args.repeat}, peak RSS via {method})")
    lake, out, out_an = run_dir / "lake", run_dir / "out", run_dir / "out-analyze"
    run_cmd = [str(binary), "run", "--config", str(cfg), "--lake", str(lake), "--out", str(out)]
    run_ms, _ = custlens_step("run", run_cmd, [lake, out], args.repeat, method, logs, args.wait_idle)
    analyze_cmd = [str(binary), "analyze", "--config", str(cfg), "--lake", str(lake), "--out", str(out_an)]
    an_ms, an_stages = custlens_step("analyze", analyze_cmd, [out_an], args.repeat, method, logs, args.wait_idle)
    stages = {k: statistics.median(st.get(k, 0.0) for st in an_stages) for k in an_stages[0]}
    manifest = json.loads((out / "manifest.json").read_text())
    custlens = {
        "run": summary(run_ms),
        "analyze": summary(an_ms) | {
            "stages": stages,
            "stages_features_rfm": sum(stages.get(k, 0.0) for k in ("prepare", "features", "rfm")),
        },
    }

    log(f"[4/5] Python tools (x{args.repeat}, each in its own process)")
    unavailable_note = args.unavailable.read_text().strip() if args.unavailable and args.unavailable.is_file() else ""
    tools: dict[str, dict] = {}
    for t in TOOLS:
        if t.key in wanted:
            tools[t.key] = run_tool(t, run_dir, results, logs, args.repeat, method, args.wait_idle)
            if tools[t.key]["status"] == "unavailable" and unavailable_note:
                tools[t.key]["reason"] += " (run.sh: " + "; ".join(unavailable_note.splitlines()) + ")"

    log("[5/5] checks")
    checks: dict[str, dict | None] = {}
    for key in ("pandas", "duckdb"):
        if tools.get(key, {}).get("status") == "ok":
            tool = next(t for t in TOOLS if t.key == key)
            checks[key] = run_check("rfm", out / "rfm.parquet", results / tool.out, results / f"check-rfm-{key}.json", logs)
    if tools.get("lifetimes", {}).get("status") == "ok":
        checks["lifetimes"] = run_check(
            "lifetimes", out / "customer_features.parquet", results / "lifetimes_summary.parquet",
            results / "check-lifetimes.json", logs,
        )
    if tools.get("pyfim", {}).get("status") == "ok" and (out / "itemsets.parquet").is_file():
        checks["itemsets_custlens"] = run_check(
            "itemsets", out / "itemsets.parquet", results / "pyfim_itemsets.json", results / "check-itemsets-custlens.json", logs,
        )
    if all(tools.get(k, {}).get("status") == "ok" for k in ("mlxtend", "pyfim")):
        checks["itemsets"] = run_check(
            "itemsets", results / "mlxtend_itemsets.json", results / "pyfim_itemsets.json", results / "check-itemsets.json", logs,
        )

    lake_rows = dict(manifest.get("lake_rows", []))
    outputs = dict(manifest.get("outputs", []))
    report = {
        "command": os.environ.get("CUSTLENS_COMPARE_INVOCATION") or " ".join(sys.argv),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "params": {"customers": n, "seed": s, "repeat": args.repeat, "workdir": str(work)},
        "machine": machine_info(args.repo.resolve(), method),
        "data": {
            "dir": str(data), "orders": lake_rows.get("orders"), "order_items": lake_rows.get("order_items"),
            "customers": lake_rows.get("customers"), "customers_with_orders": outputs.get("rfm"),
            "as_of": manifest.get("as_of"), "base_currency": manifest.get("base_currency"),
        },
        "custlens": custlens,
        "tools": tools,
        "checks": checks,
    }
    rows = build_rows(custlens, tools, checks)
    report["rows"] = rows
    report["total_seconds"] = time.perf_counter() - started
    parts = [custlens["run"], custlens["analyze"]] + [r["process"] for r in tools.values() if r.get("process")]
    foreign = [x for part in parts for x in part["foreign_cpu_share"] if x is not None]
    report["interference"] = {
        "load1_at_start": load_start,
        "max_foreign_cpu_share": max(foreign) if foreign else None,
        "note": "share of all CPUs used by other processes while a measured process ran (/proc/stat minus its own CPU time)",
    }
    json_path, md_path = work / f"compare-{tag}.json", work / f"compare-{tag}.md"
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    md_path.write_text(markdown(report, rows))

    print()
    print(f"custlens vs Python tools: {n} customers, seed {s}; {report['data']['orders']} orders; median of {args.repeat}")
    print(text_table(rows))
    print()
    print(f"written: {json_path}\n         {md_path}")

    status = 0
    busy = report["interference"]["max_foreign_cpu_share"]
    if busy is not None and busy > IDLE_SHARE:
        print(
            f"\nWARNING: other processes used up to {100 * busy:.0f}% of the {os.cpu_count()} CPUs during a "
            "measurement: wall seconds are skewed (cpu seconds less so). Re-run when idle, e.g. with --wait-idle 900."
        )
    for key in ("pandas", "duckdb"):
        ch = checks.get(key)
        if ch and ch["disagreements"]:
            print(f"\nWARNING: {key} disagrees with custlens' out/rfm.parquet for {ch['disagreements']} customers; first ones:")
            for d in ch["first_disagreements"]:
                print("  " + json.dumps(d, ensure_ascii=False, default=str))
    for key, ch in checks.items():
        if ch is None:
            print(f"\nERROR: the {key} check failed; see {logs}")
            status = 1
    for key, r in tools.items():
        if r["status"] == "failed":
            print(f"ERROR: {key} failed: {r['reason']}")
            status = 1
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        log(f"error: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
