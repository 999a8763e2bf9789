"""pyFIM (Borgelt's FP-growth, `fim.fpgrowth`) on a basket file: itemsets with exact counts.

read: the file into lists of SKU strings; transactions: SKUs to int codes (pyFIM hashes ints
fastest); fpgrowth: `fim.fpgrowth(tracts, target='s', supp=-min_count, zmax=max_len, report='a')`
(a negative supp is an absolute count); rules: `target='r'` with `mode='o'` (rule support = the
whole rule's, as custlens) and conf = 100 x min_confidence, zmin=2 (non-empty antecedents).
"""

from __future__ import annotations

from tools.common import require
from tools.fpfile_common import main, min_count, read_lines, write_itemsets


def run(a, timer) -> dict:
    fim = require("fim")
    lines = read_lines(a.baskets, timer)
    with timer.section("transactions"):
        code: dict[str, int] = {}
        tracts = [[code.setdefault(s, len(code)) for s in line] for line in lines]
        names = sorted(code, key=code.get)
        del lines
    mc = min_count(a.min_support, len(tracts))
    with timer.section("fpgrowth"):
        found = fim.fpgrowth(tracts, target="s", supp=-mc, zmin=1, zmax=a.max_len, report="a")
    with timer.section("rules"):
        rules = fim.fpgrowth(tracts, target="r", supp=-mc, conf=100 * a.min_confidence, zmin=2, zmax=a.max_len,
                             mode="o", report="a")
    write_itemsets(a.out, (([names[i] for i in s], c) for s, c in found))
    return {"baskets": len(tracts), "items": len(names), "min_count": mc, "itemsets": len(found), "rules": len(rules)}


if __name__ == "__main__":
    main(run, __doc__)
