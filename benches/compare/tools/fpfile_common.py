"""Shared by the basket-file tools (`fpfile_pyfim`, `fpfile_mlxtend`): arguments, reading the
FIMI text file that `cargo bench --bench basket -- --write` produced, and the result JSON.

The support threshold is custlens' (src/basket/params.rs `Threshold::min_count`): the smallest
count >= min_support x baskets, with a 1e-12 relative tolerance, so all three tools mine exactly
the same itemsets.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from tools.common import EXIT_UNAVAILABLE, Timer, Unavailable, rss_mb_now, write_result


def min_count(min_support: float, n: int) -> int:
    return max(1, math.ceil(min_support * n * (1 - 1e-12)))


def args(description: str) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--baskets", type=Path, required=True, help="FIMI text file: one basket per line")
    ap.add_argument("--result", type=Path, required=True, help="JSON result file to write")
    ap.add_argument("--out", type=Path, help="itemsets JSON for the checks")
    ap.add_argument("--min-support", type=float, default=0.01)
    ap.add_argument("--min-confidence", type=float, default=0.1)
    ap.add_argument("--max-len", type=int, default=10)
    return ap.parse_args()


def read_lines(path: Path, timer: Timer) -> list[list[str]]:
    with timer.section("read"):
        with open(path) as f:
            return [line.split() for line in f]


def write_itemsets(path: Path | None, rows) -> None:
    """rows: (items, count) pairs; written sorted, as custlens' bench writes them (checks only)."""
    if path:
        out = sorted(({"items": sorted(i), "count": int(c)} for i, c in rows), key=lambda r: (len(r["items"]), r["items"]))
        path.write_text(json.dumps(out))


def main(run, description: str) -> None:
    a = args(description)
    timer = Timer()
    rss0 = rss_mb_now()
    try:
        result = run(a, timer)
    except Unavailable as e:
        write_result(a.result, {"status": "unavailable", "reason": str(e)})
        print(f"unavailable: {e}", file=sys.stderr)
        sys.exit(EXIT_UNAVAILABLE)
    write_result(a.result, {"status": "ok", "seconds": timer.total, "cpu_seconds": timer.cpu_total,
                            "sections": timer.sections, "rss_after_imports_mb": rss0, "result": result})
