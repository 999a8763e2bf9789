"""Basket mining at scale: custlens against pyFIM and mlxtend on the same basket files.

Started by `run.sh --baskets` inside its venv (standard library only here; each tool imports its
packages in its own process). Steps:

1. `cargo bench --bench basket --no-run` (release; CARGO_TARGET_DIR) and find the bench binary;
2. for each size N: `basket --write N WORKDIR/baskets/baskets-N-S.txt` unless it exists (seeded
   baskets from the generator's basket model, FIMI text: one basket per line, SKUs by spaces);
3. per size, each in its own process (peak RSS its own), --repeat times (median seconds, max
   peak RSS): custlens `basket --mine FILE` with RAYON_NUM_THREADS=1 and =2, `tools.fpfile_pyfim`,
   `tools.fpfile_mlxtend` (skipped above --mlxtend-max baskets);
4. checks: pyFIM's and mlxtend's itemsets and counts against custlens' (must be equal);
5. report: stdout, WORKDIR/baskets-S.json and WORKDIR/baskets-S.md.

Every tool reads the same file and mines at the same absolute count threshold.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from compare import Failure, log, measure_clean, rss_method, summary, tail, wait_idle

HERE = Path(__file__).resolve().parent


def bench_binary(repo: Path, target: Path, logs: Path, skip: bool) -> Path:
    env = dict(os.environ, CARGO_TARGET_DIR=str(target))
    cmd = ["cargo", "bench", "--bench", "basket", "--no-run", "--message-format=json"]
    log(f"  {' '.join(cmd)} (CARGO_TARGET_DIR={target})")
    if skip:
        cmd.insert(2, "--offline")
    p = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    (logs / "cargo-bench-build.log").write_text(p.stderr)
    exe = None
    for line in p.stdout.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "basket" and msg.get("executable"):
            exe = Path(msg["executable"])
    if p.returncode != 0 or exe is None or not exe.is_file():
        raise Failure(f"building the basket bench failed (exit {p.returncode}); see {logs / 'cargo-bench-build.log'}")
    return exe


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--unavailable", type=Path)
    ap.add_argument("--sizes", default="100000,1000000,5000000", help="baskets per file, comma-separated")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-support", type=float, default=0.01)
    ap.add_argument("--min-confidence", type=float, default=0.1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tools", default="custlens1,custlens2,pyfim,mlxtend")
    ap.add_argument("--mlxtend-max", type=int, default=5_000_000, help="skip mlxtend above this many baskets")
    ap.add_argument("--rss", default="auto")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--wait-idle", type=float, default=0.0)
    a = ap.parse_args()
    work = a.workdir
    logs, results, data = work / f"logs-baskets-{a.seed}", work / f"results-baskets-{a.seed}", work / "baskets"
    for d in (logs, results, data):
        d.mkdir(parents=True, exist_ok=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "custlens-target"))
    method = rss_method(a.rss)
    tools = a.tools.split(",")
    exe = bench_binary(a.repo, target, logs, a.skip_build)
    report = {"seed": a.seed, "min_support": a.min_support, "min_confidence": a.min_confidence, "repeat": a.repeat,
              "rss_method": method, "invocation": os.environ.get("CUSTLENS_COMPARE_INVOCATION"), "sizes": {}}
    if a.wait_idle > 0:
        wait_idle(a.wait_idle)
    for n in [int(s) for s in a.sizes.split(",")]:
        f = data / f"baskets-{n}-{a.seed}.txt"
        if not f.is_file():
            log(f"  writing {n} baskets to {f}")
            rc = subprocess.run([str(exe), "--write", str(n), str(f) + ".tmp", "--seed", str(a.seed)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            if rc != 0:
                raise Failure(f"writing {f} failed")
            os.replace(str(f) + ".tmp", f)
        size = {"file": str(f), "file_mb": f.stat().st_size / 1e6, "tools": {}}
        common = ["--min-support", str(a.min_support), "--min-confidence", str(a.min_confidence)]
        for tool in tools:
            if tool == "mlxtend" and n > a.mlxtend_max:
                continue
            res = results / f"{tool}-{n}.json"
            out = results / f"{tool}-{n}-itemsets.json"
            env = None
            if tool.startswith("custlens"):
                threads = tool.removeprefix("custlens")
                cmd = [str(exe), "--mine", str(f), "--itemsets-out", str(out)] + common
                env = dict(os.environ, RAYON_NUM_THREADS=threads)
            else:
                cmd = [sys.executable, "-m", f"tools.fpfile_{tool}", "--baskets", str(f), "--result", str(res),
                       "--out", str(out)] + common
            runs, inner = [], []
            for i in range(a.repeat):
                log(f"  {n} baskets: {tool} run {i + 1}/{a.repeat}")
                logf = logs / f"{tool}-{n}-{i}.log"
                if env is not None:
                    old = dict(os.environ)
                    os.environ.update(env)
                try:
                    m = measure_clean(cmd, logf, method, a.wait_idle, cwd=HERE)
                finally:
                    if env is not None:
                        os.environ.clear()
                        os.environ.update(old)
                if m.rc != 0:
                    raise Failure(f"{tool} failed on {f} (exit {m.rc}):\n{tail(logf)}")
                runs.append(m)
                if tool.startswith("custlens"):
                    text = logf.read_text()
                    inner.append(json.loads(text[text.index("{"):]))
                else:
                    inner.append(read_json(res))
            entry = summary(runs)
            if tool.startswith("custlens"):
                entry["sections"] = {k: statistics.median(r["seconds"][k] for r in inner) for k in inner[0]["seconds"]}
                entry["result"] = {k: v for k, v in inner[0].items() if k not in ("seconds", "peak_rss_mb")}
            else:
                entry["sections"] = {k: statistics.median(r["sections"][k] for r in inner) for k in inner[0]["sections"]}
                entry["result"] = inner[0]["result"]
            size["tools"][tool] = entry
        # Checks: the same itemsets and counts as custlens.
        ref_file = next((results / f"{t}-{n}-itemsets.json" for t in tools if t.startswith("custlens")), None)
        checks = {}
        if ref_file and ref_file.is_file():
            ref = {tuple(sorted(r["items"])): r["count"] for r in json.loads(ref_file.read_text())}
            for t in ("pyfim", "mlxtend"):
                o = results / f"{t}-{n}-itemsets.json"
                if t in size["tools"] and o.is_file():
                    other = {tuple(r["items"]): r["count"] for r in json.loads(o.read_text())}
                    checks[t] = {"equal": other == ref, "itemsets": len(other), "custlens_itemsets": len(ref)}
        size["checks"] = checks
        report["sizes"][str(n)] = size
    md = markdown(report)
    print(md)
    (work / f"baskets-{a.seed}.json").write_text(json.dumps(report, indent=2))
    (work / f"baskets-{a.seed}.md").write_text(md)
    return 0


NAMES = {"custlens1": "custlens (1 thread)", "custlens2": "custlens (2 threads)", "pyfim": "pyFIM", "mlxtend": "mlxtend (sparse)"}


def markdown(report: dict) -> str:
    lines = [
        f"min_support {report['min_support']}, min_confidence {report['min_confidence']}, median of {report['repeat']} runs; "
        "*mine* = itemsets only (custlens `frequent_itemsets`, pyFIM `fim.fpgrowth`, mlxtend `fpgrowth`); "
        "*process* = whole process (start, read the file, build the tools' input, mine, rules).",
        "",
        "| baskets | tool | mine s | rules s | read + prepare s | process s | peak MB | itemsets | rules | same itemsets as custlens |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for n, size in report["sizes"].items():
        for t, e in size["tools"].items():
            s = e["sections"]
            if t.startswith("custlens"):
                mine, rules, prep = s.get("itemsets"), s.get("rules"), s.get("read")
            else:
                mine, rules = s.get("fpgrowth"), s.get("rules")
                prep = sum(v for k, v in s.items() if k not in ("fpgrowth", "rules"))
            r = e["result"]
            chk = size["checks"].get(t)
            same = "reference" if t.startswith("custlens") else ("yes" if chk and chk["equal"] else ("NO" if chk else "—"))
            cells = [f"{int(n):,}".replace(",", " "), NAMES.get(t, t), f"{mine:.3f}", f"{rules:.3f}" if rules is not None else "—",
                     f"{prep:.3f}", f"{e['wall_seconds']:.2f}", f"{e['peak_mb']:.0f}" if e["peak_mb"] else "—",
                     str(r.get("itemsets")), str(r.get("rules")), same]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        log(f"error: {e}")
        sys.exit(1)
