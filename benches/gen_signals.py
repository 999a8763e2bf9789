#!/usr/bin/env python3
"""Writes big signal files for the bounded-memory checks in benches/README.md (seeded).

    python3 benches/gen_signals.py ga4 10000000 /tmp/ev/ga4_10m.jsonl          # 2.8 GB
    python3 benches/gen_signals.py customers 5000000 /tmp/ev/customers_5m.csv   # 0.57 GB

ga4: GA4-style JSONL events of 1M users (user_id = a Shopify customer id), as the bundled
mapping `data/sample/mappings/ga4.toml` reads them. customers: a Shopify customers export
(`shopify-customers` format), one customer per row, half with a phone.
Standard library only; the custlens generator (`custlens gen`) writes these formats at
sample scale, this writes them at benchmark scale in a minute.
"""
import random
import sys


def ga4(n, out):
    rnd = random.Random(1)
    names = ["page_view"] * 5 + ["view_item"] * 3 + ["add_to_cart"] * 2 + [
        "begin_checkout", "purchase", "remove_from_cart", "scroll"]
    sources = ["(organic)", "(referral)", "(direct)", "newsletter-2024-03", "google"]
    t0 = 1_690_000_000_000_000
    with open(out, "w", buffering=1 << 20) as f:
        for _ in range(n):
            u = rnd.randrange(1_000_000)
            ts = t0 + rnd.randrange(40_000_000) * 1_000_000 + rnd.randrange(1000)
            sku = rnd.randrange(2000)
            f.write('{"event_date":"20231227","event_timestamp":"%d","event_name":"%s","user_id":"%d",'
                    '"user_pseudo_id":"%d.1600000003","traffic_source":{"name":"%s"},"items":[{"item_id":'
                    '"SKU-%d","item_name":"Item %d","quantity":1,"price":14.98}]}\n'
                    % (ts, names[rnd.randrange(len(names))], 7000000000000 + u, 1000000000 + u,
                       sources[rnd.randrange(5)], sku, sku))


def customers(n, out):
    rnd = random.Random(2)
    first = ["Lei", "Yutong", "Wei", "Anna", "John", "Mei", "Hao", "Sara", "Li", "Jun"]
    last = ["Zhang", "Huang", "Wang", "Smith", "Li", "Chen", "Liu", "Brown"]
    with open(out, "w", buffering=1 << 20) as f:
        f.write("Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
                "Default Address Address1,Default Address Address2,Default Address City,"
                "Default Address Province Code,Default Address Country Code,Default Address Zip,"
                "Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,"
                "Tax Exempt,Tags\n")
        for i in range(n):
            fn, ln = first[rnd.randrange(10)], last[rnd.randrange(8)]
            phone = "+8613%09d" % rnd.randrange(10**9) if rnd.random() < 0.5 else ""
            f.write("'%d,%s,%s,%s.%s%d@example.com,%s,,,,Shanghai,SH,CN,'200040,,%s,%s,%.2f,%d,,no,%s\n" % (
                7000000000000 + i, fn, ln, fn.lower(), ln.lower(), i, rnd.choice(["yes", "no"]), phone,
                rnd.choice(["yes", "no"]), rnd.random() * 900, rnd.randrange(30),
                rnd.choice(["", "vip", "wholesale"])))


if __name__ == "__main__":
    kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    {"ga4": ga4, "customers": customers}[kind](n, out)
