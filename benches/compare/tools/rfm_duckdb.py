"""Per-customer features + RFM scores and segments in DuckDB SQL, with custlens' exact definitions.

One SQL statement over the canonical orders Parquet; rates and the segment grid come from the
manifest as VALUES tables. rank() is SQL's min-rank on ties; `//` on integers truncates toward
zero in DuckDB, so the day number floors explicitly.
"""

from __future__ import annotations

from tools.common import DAY_US, PURCHASE_STATUSES, Inputs, Timer, main, require, rss_mb_now


def sql_text(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def rfm_sql(inp: Inputs) -> str:
    rates = ", ".join(f"({sql_text(c)}, {r!r}::DOUBLE)" for c, r in sorted(inp.rates.items()))
    grid = ", ".join(
        f"({r + 1}, {fm + 1}, {sql_text(inp.grid[r][fm])})" for r in range(5) for fm in range(5)
    )
    statuses = ", ".join(sql_text(s) for s in PURCHASE_STATUSES)
    monetary = "monetary_total" if inp.monetary == "total" else "monetary_avg"
    return f"""
WITH rates(currency, rate) AS (VALUES {rates}),
grid(r, fm, segment) AS (VALUES {grid}),
valid AS (
    SELECT o.customer_id, epoch_us(o.created_at) AS us, o.net_amount * r.rate AS net_base, r.rate
    FROM read_parquet({sql_text(str(inp.orders_path))}) AS o
    LEFT JOIN rates AS r ON r.currency = o.currency
    WHERE o.status IN ({statuses})
      AND NOT (o.refund_amount > 0 AND o.net_amount <= 0)
      AND epoch_us(o.created_at) < {inp.as_of_us}
),
days AS (
    SELECT customer_id, net_base, rate,
           us // {DAY_US} - CASE WHEN us % {DAY_US} < 0 THEN 1 ELSE 0 END AS day
    FROM valid
),
features AS (
    SELECT customer_id,
           count(*) AS orders,
           count(DISTINCT day) AS purchase_days,
           {inp.as_of_day} - max(day) AS recency_days,
           sum(net_base) AS monetary_total,
           sum(net_base) / count(*) AS monetary_avg,
           count(*) FILTER (WHERE rate IS NULL) AS missing_rates
    FROM days
    GROUP BY customer_id
),
scored AS (
    SELECT customer_id, recency_days, purchase_days, {monetary} AS monetary, missing_rates,
           (rank() OVER (ORDER BY recency_days DESC) - 1) * 5 // count(*) OVER () + 1 AS r_score,
           (rank() OVER (ORDER BY purchase_days ASC) - 1) * 5 // count(*) OVER () + 1 AS f_score,
           (rank() OVER (ORDER BY {monetary} ASC) - 1) * 5 // count(*) OVER () + 1 AS m_score
    FROM features
)
SELECT s.customer_id, s.recency_days, s.purchase_days, s.monetary,
       s.r_score, s.f_score, s.m_score, (s.f_score + s.m_score + 1) // 2 AS fm_score,
       g.segment, s.missing_rates
FROM scored AS s
JOIN grid AS g ON g.r = s.r_score AND g.fm = (s.f_score + s.m_score + 1) // 2
ORDER BY s.customer_id
"""


def run(args, timer: Timer) -> dict:
    duckdb = require("duckdb")
    rss0 = rss_mb_now()
    inp = Inputs(args.run)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    with timer.section("read+compute"):
        # DuckDB streams the Parquet inside the query, so reading and computing are one section.
        con.execute(f"CREATE TEMP TABLE rfm AS {rfm_sql(inp)}")
    missing = con.execute("SELECT sum(missing_rates) FROM rfm").fetchone()[0]
    if missing:
        raise SystemExit(f"error: {missing} valid orders have a currency without a rate")
    if args.out:
        out = str(args.out).replace("'", "''")
        con.execute(f"COPY (SELECT * EXCLUDE (missing_rates) FROM rfm) TO '{out}' (FORMAT parquet)")
    n = con.execute("SELECT count(*) FROM rfm").fetchone()[0]
    segs = dict(con.execute("SELECT segment, count(*) FROM rfm GROUP BY 1 ORDER BY 1").fetchall())
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    return {"_rss_after_imports_mb": rss0, "customers": n, "segments": segs, "duckdb_threads": threads}


if __name__ == "__main__":
    main(run, __doc__)
