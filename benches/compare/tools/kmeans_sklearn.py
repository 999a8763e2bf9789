"""Clustering reference: scikit-learn KMeans on RFM features (custlens has no such stage yet).

Features per customer (custlens' definitions, computed here in pandas from the canonical
orders): log1p(recency_days), log1p(purchase_days), log1p(max(monetary_total, 0)), each
robust-scaled (RobustScaler: median and IQR). KMeans(k=5, n_init=10, random_state=seed).
"""

from __future__ import annotations

from tools.common import Inputs, Timer, features_pandas, main, read_orders_pandas, require, rss_mb_now, valid_orders_pandas

K = 5
N_INIT = 10


def run(args, timer: Timer) -> dict:
    np = require("numpy")
    require("pandas")
    require("sklearn")
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import RobustScaler

    rss0 = rss_mb_now()
    inp = Inputs(args.run)
    with timer.section("read"):
        orders = read_orders_pandas(inp)
    with timer.section("features"):
        f = features_pandas(valid_orders_pandas(orders, inp), inp)
        x = np.column_stack(
            [
                np.log1p(f["recency_days"].to_numpy(dtype=float)),
                np.log1p(f["purchase_days"].to_numpy(dtype=float)),
                np.log1p(np.clip(f["monetary_total"].to_numpy(dtype=float), 0, None)),
            ]
        )
        x = RobustScaler().fit_transform(x)
    with timer.section("kmeans"):
        km = KMeans(n_clusters=K, n_init=N_INIT, random_state=args.random_state).fit(x)
    sizes = np.bincount(km.labels_, minlength=K)
    return {
        "_rss_after_imports_mb": rss0,
        "customers": len(f),
        "k": K,
        "n_init": N_INIT,
        "random_state": args.random_state,
        "inertia": float(km.inertia_),
        "n_iter": int(km.n_iter_),
        "cluster_sizes": sorted(sizes.tolist(), reverse=True),
    }


if __name__ == "__main__":
    main(run, __doc__)
