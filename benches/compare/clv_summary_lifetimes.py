"""lifetimes on the same in-memory summary tables as `cargo bench --bench clv` (not part of CI).

    CUSTLENS_CLV_DUMP=DIR cargo bench --bench clv            # writes DIR/clv-summary-N.csv
    ~/.cache/custlens-compare/venv/bin/python benches/compare/clv_summary_lifetimes.py DIR [--repeat K]

For each DIR/clv-summary-N.csv (customer_id, first_day, x, t_x_days, T_days, spend; days): reads it
(not timed), converts to weeks, then times what custlens' `clv_fit_score` benchmark times:
BetaGeoFitter.fit on all customers, GammaGammaFitter.fit on repeat buyers with positive spend
(penalizer 0, tol 1e-7 with one retry at 1e-6, as tools/clv_lifetimes.py), and scoring every
customer: conditional_probability_alive, conditional_expected_number_of_purchases_up_to_time at
90 and 365 days, conditional_expected_average_profit, and customer_lifetime_value at 3 and 12
months with 10 % a year discounting (monthly steps on both sides; custlens discounts 30-day
steps). Prints one JSON line per size (median seconds of K runs, fitted params) and a Markdown row.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

# benches/compare is this script's directory, so `tools` imports when run as documented above.
from tools.clv_lifetimes import fit


def one_run(s):
    import numpy as np
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    t0 = time.perf_counter()
    x, t_x, T, spend = s["x"].to_numpy(), s["t_x"].to_numpy(), s["T"].to_numpy(), s["spend"].to_numpy()
    bgf, _ = fit(BetaGeoFitter, x, t_x, T)
    rep = (x > 0) & (spend > 0)
    ggf, _ = fit(GammaGammaFitter, x[rep], spend[rep])
    t1 = time.perf_counter()
    p_alive = bgf.conditional_probability_alive(x, t_x, T)
    e90 = bgf.conditional_expected_number_of_purchases_up_to_time(90 / 7, x, t_x, T)
    e365 = bgf.conditional_expected_number_of_purchases_up_to_time(365 / 7, x, t_x, T)
    aov = ggf.conditional_expected_average_profit(x, np.where(x > 0, spend, 0.0))
    clv = {}
    for months in (3, 12):
        clv[months] = ggf.customer_lifetime_value(
            bgf, s["x"], s["t_x"], s["T"], s["spend"].where(s["x"] > 0, 0.0),
            time=months, discount_rate=0.10 / 12, freq="W",
        )
    t2 = time.perf_counter()
    assert np.isfinite(p_alive).all() and np.isfinite(e90).all() and np.isfinite(e365).all() and np.isfinite(aov).all()
    return t1 - t0, t2 - t1, bgf, ggf


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import pandas as pd

    warnings.simplefilter("ignore")
    files = sorted(args.dir.glob("clv-summary-*.csv"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    if not files:
        sys.exit(f"no clv-summary-*.csv in {args.dir}; run CUSTLENS_CLV_DUMP={args.dir} cargo bench --bench clv")
    for f in files:
        raw = pd.read_csv(f)
        s = pd.DataFrame({
            "x": raw["x"].astype(int),
            "t_x": raw["t_x_days"] / 7.0,
            "T": raw["T_days"] / 7.0,
            "spend": raw["spend"].fillna(0.0),
        })
        runs = [one_run(s) for _ in range(args.repeat)]
        fit_s = statistics.median(r[0] for r in runs)
        score_s = statistics.median(r[1] for r in runs)
        total = statistics.median(r[0] + r[1] for r in runs)
        bgf, ggf = runs[-1][2], runs[-1][3]
        out = {
            "customers": len(s),
            "repeat": args.repeat,
            "fit_seconds": fit_s,
            "score_seconds": score_s,
            "fit_score_seconds": total,
            "bgnbd": {k: float(v) for k, v in bgf.params_.items()},
            "gamma_gamma": {k: float(v) for k, v in ggf.params_.items()},
        }
        print(json.dumps(out))
        print(f"| lifetimes | {len(s):,} | {fit_s:.2f} | {score_s:.2f} | {total:.2f} |", file=sys.stderr)


if __name__ == "__main__":
    main()
