"""mlxtend FP-growth + association rules on a basket file, on its sparse path.

read: the file into lists of SKU strings; one_hot: a SciPy CSR basket x SKU matrix wrapped as a
pandas SparseDtype(bool) frame (mlxtend's fastest input for wide baskets); fpgrowth at
min_support = (min_count - 0.5) / baskets (exactly custlens' count threshold), max_len; rules:
`association_rules(metric='confidence', min_threshold=min_confidence)` filtered to single-item
consequents (custlens' default).
"""

from __future__ import annotations

from tools.common import require
from tools.fpfile_common import main, min_count, read_lines, write_itemsets


def run(a, timer) -> dict:
    np = require("numpy")
    pd = require("pandas")
    sparse = require("scipy.sparse")
    require("mlxtend")
    from mlxtend.frequent_patterns import association_rules, fpgrowth

    lines = read_lines(a.baskets, timer)
    n = len(lines)
    with timer.section("one_hot"):
        code: dict[str, int] = {}
        cols = np.fromiter((code.setdefault(s, len(code)) for line in lines for s in line), dtype=np.int64)
        rows = np.repeat(np.arange(n), [len(line) for line in lines])
        del lines
        names = sorted(code, key=code.get)
        matrix = sparse.csr_matrix((np.ones(len(cols), dtype=bool), (rows, cols)), shape=(n, len(names)))
        onehot = pd.DataFrame.sparse.from_spmatrix(matrix, columns=names)
    mc = min_count(a.min_support, n)
    with timer.section("fpgrowth"):
        itemsets = fpgrowth(onehot, min_support=(mc - 0.5) / n, use_colnames=True, max_len=a.max_len)
    with timer.section("rules"):
        rules = association_rules(itemsets, num_itemsets=n, metric="confidence", min_threshold=a.min_confidence)
        single = int((rules["consequents"].map(len) == 1).sum())
    write_itemsets(a.out, ((list(s), round(sup * n)) for s, sup in zip(itemsets["itemsets"], itemsets["support"])))
    return {"baskets": n, "items": len(names), "min_count": mc, "itemsets": len(itemsets), "rules": single,
            "rules_all_consequents": len(rules)}


if __name__ == "__main__":
    main(run, __doc__)
