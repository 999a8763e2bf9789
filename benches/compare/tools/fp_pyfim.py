"""Basket mining reference: Christian Borgelt's FP-growth (PyPI `pyfim`, module `fim`).

Same baskets as the mlxtend tool (valid orders, distinct SKUs), passed as a list of SKU-code lists;
fpgrowth(target='s', supp=1) finds all frequent itemsets with support >= 1 percent of baskets
(report='a': absolute support counts). No rules: the comparison is the itemset count.
"""

from __future__ import annotations

import json

from tools.common import Inputs, Timer, baskets_pandas, main, require, rss_mb_now

SUPPORT_PERCENT = 1


def run(args, timer: Timer) -> dict:
    np = require("numpy")
    require("pandas")
    fim = require("fim")

    rss0 = rss_mb_now()
    inp = Inputs(args.run)
    basket_code, sku_code, skus, n_baskets = baskets_pandas(inp, timer)
    with timer.section("transactions"):
        # One list of SKU codes per basket (pyFIM takes any hashable items; ints hash fastest).
        order = np.argsort(basket_code, kind="stable")
        starts = np.flatnonzero(np.diff(basket_code[order])) + 1
        tracts = [t.tolist() for t in np.split(sku_code[order], starts)]
    with timer.section("fpgrowth"):
        found = fim.fpgrowth(tracts, target="s", supp=SUPPORT_PERCENT, zmin=1, report="a")
    if args.out:
        rows = [{"items": sorted(skus[i] for i in items), "count": int(count)} for items, count in found]
        args.out.write_text(json.dumps(sorted(rows, key=lambda r: r["items"])))
    sizes: dict[int, int] = {}
    for items, _ in found:
        sizes[len(items)] = sizes.get(len(items), 0) + 1
    return {
        "_rss_after_imports_mb": rss0,
        "baskets": len(tracts),
        "support_percent": SUPPORT_PERCENT,
        "itemsets": len(found),
        "itemsets_by_size": dict(sorted(sizes.items())),
    }


if __name__ == "__main__":
    main(run, __doc__)
