"""Basket mining reference: mlxtend FP-growth + association rules (custlens has no such stage yet).

Baskets are the valid orders (custlens' definition) with their distinct SKUs. The one-hot
basket x SKU frame is a pandas SparseDtype(bool) frame built from a SciPy CSR matrix, mlxtend's
fastest path for wide baskets. fpgrowth at min_support 0.01, then association_rules
(confidence >= 0.1).
"""

from __future__ import annotations

import json

from tools.common import Inputs, Timer, baskets_pandas, main, require, rss_mb_now

MIN_SUPPORT = 0.01
MIN_CONFIDENCE = 0.1


def run(args, timer: Timer) -> dict:
    pd = require("pandas")
    np = require("numpy")
    sparse = require("scipy.sparse")
    require("mlxtend")
    from mlxtend.frequent_patterns import association_rules, fpgrowth

    rss0 = rss_mb_now()
    inp = Inputs(args.run)
    basket_code, sku_code, skus, n_baskets = baskets_pandas(inp, timer)
    with timer.section("one_hot"):
        matrix = sparse.csr_matrix(
            (np.ones(len(basket_code), dtype=bool), (basket_code, sku_code)), shape=(n_baskets, len(skus))
        )
        onehot = pd.DataFrame.sparse.from_spmatrix(matrix, columns=skus)
    with timer.section("fpgrowth"):
        itemsets = fpgrowth(onehot, min_support=MIN_SUPPORT, use_colnames=True)
    with timer.section("rules"):
        rules = association_rules(
            itemsets, num_itemsets=n_baskets, metric="confidence", min_threshold=MIN_CONFIDENCE
        )
    if args.out:
        n = n_baskets
        rows = [
            {"items": sorted(s), "count": int(round(sup * n))}
            for s, sup in zip(itemsets["itemsets"], itemsets["support"])
        ]
        args.out.write_text(json.dumps(sorted(rows, key=lambda r: r["items"])))
    sizes = itemsets["itemsets"].map(len).value_counts().sort_index()
    return {
        "_rss_after_imports_mb": rss0,
        "baskets": n_baskets,
        "skus": len(skus),
        "basket_sku_pairs": len(basket_code),
        "onehot_dtype": str(onehot.dtypes.iloc[0]) if len(skus) else None,
        "min_support": MIN_SUPPORT,
        "itemsets": len(itemsets),
        "itemsets_by_size": {int(k): int(v) for k, v in sizes.items()},
        "rules": len(rules),
        "min_confidence": MIN_CONFIDENCE,
        "max_lift": float(rules["lift"].max()) if len(rules) else None,
    }


if __name__ == "__main__":
    main(run, __doc__)
