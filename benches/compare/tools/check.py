"""Agreement checks, run after the timed tools (not timed themselves).

`rfm`: a tool's RFM table against custlens' out/rfm.parquet, customer by customer: the share of
custlens customers whose r, f, m scores and segment are exactly equal, with the first
disagreements printed (and kept in the result) so that a real difference can be traced.

`lifetimes`: the lifetimes summary (frequency, recency, T in days) against custlens'
out/customer_features.parquet (frequency, last-first purchase day, tenure_days).

`itemsets`: two tools' frequent itemsets (mlxtend vs pyFIM, custlens' out/itemsets.parquet vs
pyFIM) as sets with their support counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SCORES = ["r_score", "f_score", "m_score", "segment"]
SHOW = ["recency_days", "purchase_days", "monetary", "r_score", "f_score", "m_score", "fm_score", "segment"]


def check_rfm(custlens_path: Path, tool_path: Path, max_show: int) -> dict:
    import pandas as pd

    c = pd.read_parquet(custlens_path)
    t = pd.read_parquet(tool_path)
    m = c.merge(t, on="customer_id", how="outer", suffixes=("_custlens", "_tool"), indicator=True)
    both = m["_merge"] == "both"
    agree = both.copy()
    for col in SCORES:
        agree &= m[f"{col}_custlens"] == m[f"{col}_tool"]
    per_column = {
        col: int((both & (m[f"{col}_custlens"] == m[f"{col}_tool"])).sum())
        for col in ["recency_days", "purchase_days", "r_score", "f_score", "m_score", "fm_score", "segment"]
    }
    mc, mt = m["monetary_custlens"], m["monetary_tool"]
    per_column["monetary_exact"] = int((both & (mc == mt)).sum())
    rel = ((mc - mt).abs() / mc.abs().clip(lower=1.0))[both]
    bad = m.loc[~agree]
    rows = []
    for _, r in bad.head(max_show).iterrows():
        rows.append(
            {"customer_id": r["customer_id"], "in": str(r["_merge"])}
            | {f"{k}_custlens": _py(r.get(f"{k}_custlens")) for k in SHOW}
            | {f"{k}_tool": _py(r.get(f"{k}_tool")) for k in SHOW}
        )
    return {
        "customers_custlens": len(c),
        "customers_tool": len(t),
        "only_custlens": int((m["_merge"] == "left_only").sum()),
        "only_tool": int((m["_merge"] == "right_only").sum()),
        "agree": int(agree.sum()),
        "agree_share": float(agree.sum()) / max(len(m), 1),
        "per_column_equal": per_column,
        "monetary_max_rel_diff": float(rel.max()) if len(rel) else 0.0,
        "disagreements": int((~agree).sum()),
        "first_disagreements": rows,
    }


def check_lifetimes(features_path: Path, summary_path: Path) -> dict:
    import pandas as pd

    f = pd.read_parquet(features_path)
    s = pd.read_parquet(summary_path)
    j = f.merge(s, on="customer_id", how="outer", suffixes=("_custlens", "_lifetimes"))
    eq = {
        "frequency": (j["frequency_custlens"] == j["frequency_lifetimes"]),
        "T=tenure_days": (j["tenure_days"] == j["T"]),
        "recency=tenure-recency_days": (j["tenure_days"] - j["recency_days"] == j["recency"]),
    }
    return {
        "customers_custlens": len(f),
        "customers_lifetimes": len(s),
        "equal": {k: int(v.sum()) for k, v in eq.items()},
        "agree_share": float(pd.concat(eq, axis=1).all(axis=1).mean()) if len(j) else 1.0,
    }


def _itemsets(path: Path) -> dict:
    """{sorted items: count} from a tool's JSON or custlens' out/itemsets.parquet."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq  # list<string_view> columns: pandas cannot convert them

        rows = pq.read_table(path, columns=["items", "count"]).to_pylist()
    else:
        rows = json.loads(path.read_text())
    return {tuple(sorted(x["items"])): x["count"] for x in rows}


def check_itemsets(a_path: Path, b_path: Path) -> dict:
    a, b = _itemsets(a_path), _itemsets(b_path)
    common = a.keys() & b.keys()
    return {
        "itemsets_a": len(a),
        "itemsets_b": len(b),
        "common": len(common),
        "only_a": sorted(a.keys() - b.keys())[:10],
        "only_b": sorted(b.keys() - a.keys())[:10],
        "count_mismatch": sum(1 for k in common if a[k] != b[k]),
        "agree_share": len(common) / max(len(a | b), 1) if all(a[k] == b[k] for k in common) else 0.0,
    }


def _py(v):
    if v is None:
        return None
    try:
        import pandas as pd

        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v.item() if hasattr(v, "item") else v


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("kind", choices=["rfm", "lifetimes", "itemsets"])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--result", type=Path, required=True)
    ap.add_argument("--max-show", type=int, default=10)
    args = ap.parse_args()
    if args.kind == "rfm":
        out = check_rfm(args.a, args.b, args.max_show)
    elif args.kind == "lifetimes":
        out = check_lifetimes(args.a, args.b)
    else:
        out = check_itemsets(args.a, args.b)
    args.result.write_text(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    sys.exit(main())
