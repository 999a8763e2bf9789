"""Per-customer features + RFM scores and segments in pandas, with custlens' exact definitions.

score = floor(5 * (min_rank - 1) / n) + 1 with min-rank ties; R ranks recency descending (the
longest-ago buyer has rank 1), F ranks purchase_days ascending, M ranks monetary ascending;
fm = (F + M + 1) div 2; segment = the first rule of the manifest's grid covering (R, FM).
"""

from __future__ import annotations

from tools.common import Timer, features_pandas, main, read_orders_pandas, require, rss_mb_now, valid_orders_pandas


def quintile(values, descending: bool):
    """floor(5 * (min_rank - 1) / n) + 1, in integer arithmetic."""
    rank = values.rank(method="min", ascending=not descending).astype("int64")
    return (rank - 1) * 5 // len(values) + 1


def rfm_pandas(features, inp):
    import numpy as np

    monetary = features["monetary_total"] if inp.monetary == "total" else features["monetary_avg"]
    out = features[["customer_id", "recency_days", "purchase_days"]].copy()
    out["monetary"] = monetary
    out["r_score"] = quintile(out["recency_days"], descending=True)
    out["f_score"] = quintile(out["purchase_days"], descending=False)
    out["m_score"] = quintile(out["monetary"], descending=False)
    out["fm_score"] = (out["f_score"] + out["m_score"] + 1) // 2
    grid = np.array(inp.grid, dtype=object)
    out["segment"] = grid[out["r_score"].to_numpy() - 1, out["fm_score"].to_numpy() - 1]
    return out


def run(args, timer: Timer) -> dict:
    from tools.common import Inputs

    require("pandas")
    rss0 = rss_mb_now()
    inp = Inputs(args.run)
    with timer.section("read"):
        orders = read_orders_pandas(inp)
    with timer.section("compute"):
        valid = valid_orders_pandas(orders, inp)
        features = features_pandas(valid, inp)
        rfm = rfm_pandas(features, inp)
    if args.out:
        rfm.to_parquet(args.out, index=False)
    return {
        "_rss_after_imports_mb": rss0,
        "orders_read": len(orders),
        "valid_orders": len(valid),
        "customers": len(rfm),
        "segments": rfm["segment"].value_counts().sort_index().to_dict(),
    }


if __name__ == "__main__":
    main(run, __doc__)
