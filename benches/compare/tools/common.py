"""Shared helpers for the comparison tools.

Every tool runs as its own process (`python -m tools.NAME --run RUN_DIR --result FILE ...`) so
that the orchestrator can measure its wall time and peak RSS alone. A tool reads the canonical
Parquet that `custlens run` wrote (`RUN_DIR/lake/...`) and `RUN_DIR/out/manifest.json`, times
its own work with `Timer`, and writes one JSON result with `write_result`.

The definitions here are custlens' own (src/analytics/mod.rs, features.rs, rfm.rs):

* valid order: status in (paid, shipped, completed), not fully refunded
  (refund_amount > 0 and net_amount <= 0), created_at < as_of;
* net_base = net_amount x rate (units of the base currency per unit; the base itself is 1.0);
* day = floor(created_at in epoch microseconds / 86_400_000_000), a UTC day number.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

DAY_US = 86_400_000_000
PURCHASE_STATUSES = ("paid", "shipped", "completed")

# custlens' default grid (src/analytics/rfm.rs `default_segments`), in matching order.
DEFAULT_SEGMENTS = [
    ("Champions", [4, 5], [4, 5]),
    ("Cannot Lose Them", [1], [4, 5]),
    ("At Risk", [1, 2], [3, 4, 5]),
    ("Loyal Customers", [3], [3, 4, 5]),
    ("Potential Loyalists", [4, 5], [2, 3]),
    ("New Customers", [5], [1]),
    ("Promising", [4], [1]),
    ("Need Attention", [3], [2]),
    ("About to Sleep", [3], [1]),
    ("Hibernating", [2], [1, 2]),
    ("Lost", [1], [1, 2]),
]

# Exit code of a tool whose Python packages are missing from the venv.
EXIT_UNAVAILABLE = 3


class Unavailable(Exception):
    """A package the tool needs cannot be imported."""


def require(module: str):
    """Imports `module`, or raises `Unavailable` naming it."""
    import importlib

    try:
        return importlib.import_module(module)
    except Exception as e:  # ImportError, or a broken binary wheel
        raise Unavailable(f"cannot import {module}: {type(e).__name__}: {e}") from e


class Timer:
    """Named sections, timed in wall-clock and in CPU seconds (all threads of this process);
    `total` and `cpu_total` are their sums."""

    def __init__(self) -> None:
        self.sections: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def section(self, name: str):
        timer = self

        class _Section:
            def __enter__(self):
                self.t0, self.c0 = time.perf_counter(), time.process_time()

            def __exit__(self, *exc):
                timer.sections[name] = timer.sections.get(name, 0.0) + time.perf_counter() - self.t0
                timer.cpu[name] = timer.cpu.get(name, 0.0) + time.process_time() - self.c0

        return _Section()

    @property
    def total(self) -> float:
        return sum(self.sections.values())

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu.values())


class Inputs:
    """Paths and analysis parameters of one custlens run (its lake and its manifest)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.orders_path = run_dir / "lake" / "orders" / "part-0.parquet"
        self.items_path = run_dir / "lake" / "order_items" / "part-0.parquet"
        self.out_dir = run_dir / "out"
        manifest_path = self.out_dir / "manifest.json"
        for p in (self.orders_path, self.items_path, manifest_path):
            if not p.is_file():
                raise SystemExit(f"error: {p} is missing; run `custlens run` into {run_dir} first")
        manifest = json.loads(manifest_path.read_text())
        try:
            self.as_of_text = manifest["as_of"]
            self.base_currency = manifest["base_currency"]
            params = manifest["parameters"]
        except KeyError as e:
            raise SystemExit(f"error: {manifest_path} has no key {e}; is it a custlens manifest?")
        self.as_of_us = parse_instant_us(self.as_of_text)
        self.as_of_day = self.as_of_us // DAY_US  # Python's // floors, like div_euclid here
        rates = dict((params.get("currency") or {}).get("rates") or {})
        rates[self.base_currency] = 1.0  # custlens always uses 1.0 for the base
        self.rates: dict[str, float] = {k: float(v) for k, v in rates.items()}
        rfm = params.get("rfm") or {}
        self.monetary = rfm.get("monetary", "total")
        if self.monetary not in ("total", "average"):
            raise SystemExit(f"error: unknown rfm.monetary {self.monetary!r} in {manifest_path}")
        rules = rfm.get("segments")
        rules = [(r["name"], r["r"], r["fm"]) for r in rules] if rules else DEFAULT_SEGMENTS
        self.grid = segment_grid(rules)


def parse_instant_us(text: str) -> int:
    """RFC 3339 text -> epoch microseconds, exactly (no float)."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    delta = dt - epoch
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def segment_grid(rules) -> list[list[str]]:
    """grid[r-1][fm-1] = the name of the first rule covering (r, fm), as custlens resolves it."""
    grid: list[list[str | None]] = [[None] * 5 for _ in range(5)]
    for name, rs, fms in rules:
        for r in rs:
            for fm in fms:
                if grid[r - 1][fm - 1] is None:
                    grid[r - 1][fm - 1] = name
    missing = [(r + 1, fm + 1) for r in range(5) for fm in range(5) if grid[r][fm] is None]
    if missing:
        raise SystemExit(f"error: segment rules leave cells uncovered (R, FM): {missing}")
    return grid  # type: ignore[return-value]


# ---- pandas implementation of custlens' valid orders and features (shared by several tools) ----


def read_orders_pandas(inp: Inputs):
    pd = require("pandas")
    require("pyarrow")
    cols = ["order_id", "customer_id", "status", "created_at", "currency", "refund_amount", "net_amount"]
    return pd.read_parquet(inp.orders_path, columns=cols)


def valid_orders_pandas(orders, inp: Inputs):
    """custlens' `valid_orders` in pandas: the filter, plus `us`, `day` and `net_base` columns."""
    import numpy as np

    created_us = orders["created_at"].dt.as_unit("us").astype("int64")
    keep = (
        orders["status"].isin(PURCHASE_STATUSES)
        & ~((orders["refund_amount"] > 0) & (orders["net_amount"] <= 0))
        & (created_us < inp.as_of_us)
    )
    v = orders.loc[keep].copy()
    v["us"] = created_us[keep]
    v["day"] = np.floor_divide(v["us"].to_numpy(), DAY_US)
    rate = v["currency"].map(inp.rates)
    if rate.isna().any():
        missing = sorted(set(v.loc[rate.isna(), "currency"]))
        raise SystemExit(
            f"error: no rate for currencies {missing} (base {inp.base_currency}); custlens would refuse too"
        )
    v["net_base"] = v["net_amount"] * rate.astype("float64")
    return v


def features_pandas(valid, inp: Inputs):
    """Per-customer features (custlens' `customer_features`, the columns RFM needs), sorted by id."""
    g = valid.groupby("customer_id", sort=True, dropna=False)
    f = g.agg(
        orders=("day", "size"),
        purchase_days=("day", "nunique"),
        first_day=("day", "min"),
        last_day=("day", "max"),
        monetary_total=("net_base", "sum"),
    )
    f["recency_days"] = inp.as_of_day - f["last_day"]
    f["tenure_days"] = inp.as_of_day - f["first_day"]
    f["frequency"] = f["purchase_days"] - 1
    f["monetary_avg"] = f["monetary_total"] / f["orders"]
    return f.reset_index()


def baskets_pandas(inp: Inputs, timer: Timer):
    """Baskets of the valid orders: (basket_code, sku_code, skus, n_baskets).

    One (basket, SKU) pair per distinct SKU in a valid order (null SKUs dropped); basket codes
    number the orders in first-seen order, SKU codes index the sorted `skus`. The filter is a
    merge: pandas 3's `Series.isin` on strings is about 6x slower here.
    """
    pd = require("pandas")
    with timer.section("read"):
        orders = read_orders_pandas(inp)
        items = pd.read_parquet(inp.items_path, columns=["order_id", "sku"])
    with timer.section("prepare"):
        valid_ids = valid_orders_pandas(orders, inp)[["order_id"]]
        pairs = items.dropna(subset=["sku"]).merge(valid_ids, on="order_id", how="inner")
        pairs = pairs.drop_duplicates(["order_id", "sku"])
        basket_code, baskets = pd.factorize(pairs["order_id"])
        sku_code, skus = pd.factorize(pairs["sku"], sort=True)
    return basket_code, sku_code, list(skus), len(baskets)


# ---- process plumbing ----


def tool_args(description: str, extra=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--run", type=Path, required=True, help="custlens run folder (lake/ and out/)")
    ap.add_argument("--result", type=Path, required=True, help="JSON result file to write")
    ap.add_argument("--out", type=Path, help="where to write the tool's table, for the checks")
    ap.add_argument("--random-state", type=int, default=0, help="seed of seeded models (KMeans)")
    if extra:
        extra(ap)
    return ap.parse_args()


def rss_mb_now() -> float | None:
    """This process's current RSS in MB (Linux /proc), for the after-imports baseline."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError):
        return None


def write_result(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=_json_default))
    tmp.replace(path)


def _json_default(o):
    try:
        import numpy as np

        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return float(o)
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:
        pass
    return str(o)


def main(run, description: str, extra=None) -> None:
    """Runs `run(args, timer) -> dict` and writes {status, seconds, sections, result}."""
    args = tool_args(description, extra)
    timer = Timer()
    try:
        result = run(args, timer)
    except Unavailable as e:
        write_result(args.result, {"status": "unavailable", "reason": str(e)})
        print(f"unavailable: {e}", file=sys.stderr)
        sys.exit(EXIT_UNAVAILABLE)
    write_result(
        args.result,
        {
            "status": "ok",
            "seconds": timer.total,
            "cpu_seconds": timer.cpu_total,
            "sections": timer.sections,
            "rss_after_imports_mb": result.pop("_rss_after_imports_mb", None),
            "result": result,
        },
    )
