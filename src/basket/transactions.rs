//! Baskets: from canonical orders and lines to (basket, customer, item) rows, then to compact
//! coded transactions.
//!
//! ## Method
//! [`basket_rows`] (pure, lazy): orders created before `as_of` — only the valid ones by default
//! ([`crate::analytics::valid_orders`]: paid, shipped or completed and not fully refunded) —
//! joined with their lines of positive quantity; the item is the line's SKU, its catalog product
//! title (else the line's own title) or its catalog category; lines without an item are
//! skipped; `include` / `exclude` filter items; one row per distinct (basket, customer, item).
//! A basket is an order (`basket_by = "order"`) or all of a customer's orders (`"customer"`).
//! Refunded lines of a partially refunded order stay in its basket (the order was bought).
//!
//! [`BasketData::from_rows`] codes the collected rows: items by ascending name (so codes and
//! therefore every tie-break are independent of row order), baskets and customers in CSR form
//! (offsets + sorted, distinct item codes). Baskets left empty by the filters do not exist, so
//! the support denominator is the number of baskets with at least one item.

use super::params::{BasketBy, BasketValidParams, ItemLevel};
use crate::analytics::valid_orders;
use polars::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// Baskets as sorted, distinct item codes in CSR form; item names shared.
#[derive(Debug, Clone, PartialEq)]
pub struct Transactions {
    names: Arc<Vec<String>>,
    offsets: Vec<usize>,
    items: Vec<u32>,
}

impl Transactions {
    /// From lists of item names (tests, examples). Duplicates within a basket count once.
    pub fn from_baskets<S: AsRef<str>>(baskets: &[Vec<S>]) -> Transactions {
        let mut names: Vec<String> = baskets.iter().flatten().map(|s| s.as_ref().to_string()).collect();
        names.sort_unstable();
        names.dedup();
        let code: HashMap<&str, u32> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i as u32)).collect();
        let mut offsets = vec![0];
        let mut items = Vec::new();
        for b in baskets {
            let start = items.len();
            items.extend(b.iter().map(|s| code[s.as_ref()]));
            items[start..].sort_unstable();
            let mut k = start;
            for j in start..items.len() {
                if j == start || items[j] != items[k - 1] {
                    items[k] = items[j];
                    k += 1;
                }
            }
            items.truncate(k);
            offsets.push(items.len());
        }
        Transactions { names: Arc::new(names), offsets, items }
    }

    /// From item names and CSR arrays: `offsets` of length baskets + 1 starting at 0 and
    /// non-decreasing, `items` codes `< names.len()`. Baskets are sorted and deduplicated here.
    pub fn from_csr(names: Vec<String>, offsets: Vec<usize>, items: Vec<u32>) -> Result<Transactions, String> {
        Transactions::from_csr_shared(Arc::new(names), offsets, items)
    }

    fn from_csr_shared(
        names: Arc<Vec<String>>,
        offsets: Vec<usize>,
        mut items: Vec<u32>,
    ) -> Result<Transactions, String> {
        if offsets.first() != Some(&0)
            || offsets.last() != Some(&items.len())
            || offsets.windows(2).any(|w| w[0] > w[1])
        {
            return Err("offsets must start at 0, never decrease and end at the number of items".into());
        }
        if items.iter().any(|&i| i as usize >= names.len()) {
            return Err(format!("an item code is not below the {} item names", names.len()));
        }
        // Sort and deduplicate each basket in place, compacting.
        let mut new_offsets = Vec::with_capacity(offsets.len());
        new_offsets.push(0);
        let mut w = 0;
        for b in offsets.windows(2) {
            items[b[0]..b[1]].sort_unstable();
            let start = w;
            for j in b[0]..b[1] {
                if w == start || items[w - 1] != items[j] {
                    items[w] = items[j];
                    w += 1;
                }
            }
            new_offsets.push(w);
        }
        items.truncate(w);
        Ok(Transactions { names, offsets: new_offsets, items })
    }

    /// Reads the FIMI text format: one basket per line, items separated by spaces or tabs;
    /// blank lines are empty baskets (a trailing newline adds none). Codes follow item names.
    ///
    /// ## Example
    /// ```
    /// use custlens::basket::transactions::Transactions;
    /// let t = Transactions::from_text("b a\na c c\n");
    /// assert_eq!((t.len(), t.names(), t.basket(1)), (2, &["a".to_string(), "b".into(), "c".into()][..], &[0u32, 2][..]));
    /// ```
    pub fn from_text(text: &str) -> Transactions {
        let mut code: PlHashMap<&str, u32> = PlHashMap::default();
        let mut offsets = vec![0];
        let mut items = Vec::new();
        for line in text.lines() {
            for it in line.split([' ', '\t']).filter(|s| !s.is_empty()) {
                let next = code.len() as u32;
                items.push(*code.entry(it).or_insert(next));
            }
            offsets.push(items.len());
        }
        let mut names: Vec<(&str, u32)> = code.into_iter().collect();
        names.sort_unstable();
        let mut remap = vec![0u32; names.len()];
        for (new, (_, old)) in names.iter().enumerate() {
            remap[*old as usize] = new as u32;
        }
        items.iter_mut().for_each(|i| *i = remap[*i as usize]);
        let names = names.into_iter().map(|(n, _)| n.to_string()).collect();
        // Offsets and codes are consistent by construction.
        Transactions::from_csr(names, offsets, items).unwrap_or_else(|_| Transactions::from_baskets::<&str>(&[]))
    }

    /// Number of baskets.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of distinct items (codes are `0..n_items`).
    pub fn n_items(&self) -> usize {
        self.names.len()
    }

    /// The sorted, distinct item codes of basket `b`.
    #[inline]
    pub fn basket(&self, b: usize) -> &[u32] {
        &self.items[self.offsets[b]..self.offsets[b + 1]]
    }

    /// The name of item `code`.
    pub fn name(&self, code: u32) -> &str {
        &self.names[code as usize]
    }

    /// Item names by code (ascending).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Total (basket, item) pairs.
    pub fn pairs(&self) -> usize {
        self.items.len()
    }
}

/// The collected basket rows, coded.
#[derive(Debug, Clone)]
pub struct BasketData {
    /// The baskets mined.
    pub baskets: Transactions,
    /// Customer ids, ascending; `history` basket `k` is customer `customers[k]`.
    pub customers: Vec<String>,
    /// Every item each customer bought (same item codes as `baskets`).
    pub history: Transactions,
}

impl BasketData {
    /// Codes the rows of [`basket_rows`] (columns `basket`, `customer_id`, `item`; rows with a
    /// null are skipped).
    pub fn from_rows(df: &DataFrame) -> PolarsResult<BasketData> {
        let basket = df.column("basket")?.str()?;
        let cust = df.column("customer_id")?.str()?;
        let item = df.column("item")?.str()?;
        let mut item_code: PlHashMap<&str, u32> = PlHashMap::default();
        let mut basket_code: PlHashMap<&str, u32> = PlHashMap::default();
        let mut cust_code: PlHashMap<&str, u32> = PlHashMap::default();
        let (mut rb, mut rc, mut ri) = (Vec::new(), Vec::new(), Vec::new());
        for ((b, c), i) in basket.iter().zip(cust.iter()).zip(item.iter()) {
            let (Some(b), Some(c), Some(i)) = (b, c, i) else { continue };
            let next = item_code.len() as u32;
            ri.push(*item_code.entry(i).or_insert(next));
            let next = basket_code.len() as u32;
            rb.push(*basket_code.entry(b).or_insert(next));
            let next = cust_code.len() as u32;
            rc.push(*cust_code.entry(c).or_insert(next));
        }
        // Items by ascending name.
        let mut names: Vec<(&str, u32)> = item_code.into_iter().collect();
        names.sort_unstable();
        let mut remap = vec![0u32; names.len()];
        for (new, (_, old)) in names.iter().enumerate() {
            remap[*old as usize] = new as u32;
        }
        for i in ri.iter_mut() {
            *i = remap[*i as usize];
        }
        let names = Arc::new(names.into_iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>());
        // Customers by ascending id.
        let mut custs: Vec<(&str, u32)> = cust_code.into_iter().collect();
        custs.sort_unstable();
        let mut cremap = vec![0u32; custs.len()];
        for (new, (_, old)) in custs.iter().enumerate() {
            cremap[*old as usize] = new as u32;
        }
        for c in rc.iter_mut() {
            *c = cremap[*c as usize];
        }
        let (bo, bi) = group(basket_code.len(), &rb, &ri);
        let (co, ci) = group(custs.len(), &rc, &ri);
        let err = |m: String| PolarsError::ComputeError(m.into());
        Ok(BasketData {
            baskets: Transactions::from_csr_shared(names.clone(), bo, bi).map_err(err)?,
            customers: custs.into_iter().map(|(c, _)| c.to_string()).collect(),
            history: Transactions::from_csr_shared(names, co, ci).map_err(err)?,
        })
    }
}

/// CSR of `values` grouped by `groups` (counting sort).
fn group(n: usize, groups: &[u32], values: &[u32]) -> (Vec<usize>, Vec<u32>) {
    let mut offsets = vec![0usize; n + 1];
    for &g in groups {
        offsets[g as usize + 1] += 1;
    }
    for k in 0..n {
        offsets[k + 1] += offsets[k];
    }
    let mut fill = offsets.clone();
    let mut out = vec![0u32; values.len()];
    for (&g, &v) in groups.iter().zip(values) {
        out[fill[g as usize]] = v;
        fill[g as usize] += 1;
    }
    (offsets, out)
}

/// Whether `item` matches a pattern list (exact values, or prefixes ending in `*`).
fn matches(patterns: &[String]) -> Expr {
    patterns
        .iter()
        .map(|p| match p.strip_suffix('*') {
            Some(prefix) => col("item").str().starts_with(lit(prefix.to_string())),
            None => col("item").eq(lit(p.clone())),
        })
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false))
}

/// One row per distinct (basket, customer_id, item) of the orders created before `as_of_us`.
///
/// Inputs: canonical `orders`, `order_items` and `products` (see [`crate::schema`]). Output
/// columns `basket`, `customer_id`, `item` (all text), in no particular order.
///
/// ## Example
/// ```
/// use custlens::basket::{params::BasketParams, transactions::basket_rows};
/// use polars::prelude::*;
/// let ts = Series::new("created_at".into(), [0i64, 1]).cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))).unwrap();
/// let orders = DataFrame::new_infer_height(vec![
///     Column::new("order_id".into(), ["o1", "o2"]), Column::new("customer_id".into(), ["c1", "c1"]),
///     Column::new("status".into(), ["completed", "cancelled"]), ts.into(),
///     Column::new("refund_amount".into(), [0.0, 0.0]), Column::new("net_amount".into(), [10.0, 5.0]),
///     Column::new("currency".into(), ["USD", "USD"]),
/// ]).unwrap();
/// let items = df!("order_id" => ["o1", "o1", "o2"], "sku" => ["A", "B", "C"],
///     "product_name" => [Some("a"), None, None], "quantity" => [1i64, 2, 1]).unwrap();
/// let products = df!("sku" => ["A"], "product_name" => ["Apple"], "category" => ["Fruit"]).unwrap();
/// let p = BasketParams::new().check().unwrap();
/// let rows = basket_rows(orders.lazy(), items.lazy(), products.lazy(), 10, &p).collect().unwrap();
/// assert_eq!(rows.height(), 2); // o1: A and B; o2 is cancelled
/// ```
pub fn basket_rows(
    orders: LazyFrame,
    items: LazyFrame,
    products: LazyFrame,
    as_of_us: i64,
    p: &BasketValidParams,
) -> LazyFrame {
    let orders = if p.valid_only() {
        valid_orders(orders, as_of_us, &[])
    } else {
        orders.filter(col("created_at").cast(DataType::Int64).lt(lit(as_of_us)))
    };
    let orders = orders.select([col("order_id"), col("customer_id")]);
    let lines = items.filter(col("quantity").gt(lit(0i64)));
    let lines = match p.item() {
        ItemLevel::Sku => lines.select([col("order_id"), col("sku").alias("item")]),
        ItemLevel::Product => lines
            .select([col("order_id"), col("sku"), col("product_name").alias("_line_name")])
            .left_join(products.select([col("sku"), col("product_name")]), col("sku"), col("sku"))
            .select([col("order_id"), coalesce(&[col("product_name"), col("_line_name")]).alias("item")]),
        ItemLevel::Category => lines
            .select([col("order_id"), col("sku")])
            .left_join(products.select([col("sku"), col("category")]), col("sku"), col("sku"))
            .select([col("order_id"), col("category").alias("item")]),
    };
    let mut lines = lines.filter(col("item").is_not_null());
    if !p.include().is_empty() {
        lines = lines.filter(matches(p.include()));
    }
    if !p.exclude().is_empty() {
        lines = lines.filter(matches(p.exclude()).not());
    }
    let basket = match p.basket_by() {
        BasketBy::Order => col("order_id"),
        BasketBy::Customer => col("customer_id"),
    };
    lines
        .inner_join(orders, col("order_id"), col("order_id"))
        .select([basket.alias("basket"), col("customer_id"), col("item")])
        .unique(None, UniqueKeepStrategy::Any)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::basket::params::BasketParams;

    fn orders() -> DataFrame {
        let ts = Series::new("created_at".into(), [0i64, 1, 2, 3, 50])
            .cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))
            .unwrap();
        DataFrame::new_infer_height(vec![
            Column::new("order_id".into(), ["o1", "o2", "o3", "o4", "o5"]),
            Column::new("customer_id".into(), ["c1", "c1", "c2", "c2", "c2"]),
            Column::new("status".into(), ["completed", "paid", "cancelled", "refunded", "completed"]),
            ts.into(),
            Column::new("refund_amount".into(), [0.0, 0.0, 0.0, 9.0, 0.0]),
            Column::new("net_amount".into(), [10.0, 5.0, 5.0, 0.0, 4.0]),
            Column::new("currency".into(), ["USD"; 5]),
        ])
        .unwrap()
    }

    fn items() -> DataFrame {
        df!(
            "order_id" => ["o1", "o1", "o1", "o2", "o2", "o3", "o4", "o5"],
            "sku" => [Some("A"), Some("B"), Some("B"), Some("C"), None, Some("A"), Some("A"), Some("A")],
            "product_name" => [None, None, None, Some("Cup"), Some("Loose tea"), None, None, None],
            "quantity" => [1i64, 1, 2, 1, 1, 1, 1, 1]
        )
        .unwrap()
    }

    fn products() -> DataFrame {
        df!("sku" => ["A", "B"], "product_name" => ["Apple", "Banana"], "category" => ["Fruit", "Fruit"]).unwrap()
    }

    fn rows(p: BasketParams) -> Vec<(String, String, String)> {
        let p = p.check().unwrap();
        let df = basket_rows(orders().lazy(), items().lazy(), products().lazy(), 10, &p).collect().unwrap();
        let s =
            |c: &str| df.column(c).unwrap().str().unwrap().iter().map(|v| v.unwrap().to_string()).collect::<Vec<_>>();
        let mut out: Vec<_> =
            s("basket").into_iter().zip(s("customer_id")).zip(s("item")).map(|((a, b), c)| (a, b, c)).collect();
        out.sort();
        out
    }

    fn t(a: &str, b: &str, c: &str) -> (String, String, String) {
        (a.into(), b.into(), c.into())
    }

    #[test]
    fn valid_orders_distinct_skus() {
        // o3 cancelled, o4 fully refunded, o5 after as_of; the null SKU line is skipped.
        assert_eq!(rows(BasketParams::new()), [t("o1", "c1", "A"), t("o1", "c1", "B"), t("o2", "c1", "C")]);
    }

    #[test]
    fn all_orders_when_not_valid_only() {
        let r = rows(BasketParams::new().valid_only(false));
        assert_eq!(r.len(), 5, "{r:?}");
        assert!(r.contains(&t("o3", "c2", "A")) && r.contains(&t("o4", "c2", "A")));
    }

    #[test]
    fn product_and_category_levels_and_customer_baskets() {
        let r = rows(BasketParams::new().item(ItemLevel::Product));
        assert_eq!(
            r,
            [t("o1", "c1", "Apple"), t("o1", "c1", "Banana"), t("o2", "c1", "Cup"), t("o2", "c1", "Loose tea")]
        );
        let r = rows(BasketParams::new().item(ItemLevel::Category).basket_by(BasketBy::Customer));
        assert_eq!(r, [t("c1", "c1", "Fruit")]);
    }

    #[test]
    fn include_and_exclude() {
        let r = rows(BasketParams::new().item(ItemLevel::Product).include(vec!["B*".into(), "Cup".into()]));
        assert_eq!(r, [t("o1", "c1", "Banana"), t("o2", "c1", "Cup")]);
        let r = rows(BasketParams::new().exclude(vec!["A".into()]));
        assert_eq!(r, [t("o1", "c1", "B"), t("o2", "c1", "C")]);
    }

    #[test]
    fn coding_is_by_name_and_independent_of_row_order() {
        let df = df!("basket" => ["x", "y", "x", "y"], "customer_id" => ["k", "k", "k", "k"],
            "item" => ["b", "a", "a", "b"])
        .unwrap();
        let d = BasketData::from_rows(&df).unwrap();
        assert_eq!(d.baskets.names(), ["a", "b"]);
        assert_eq!((d.baskets.basket(0), d.baskets.basket(1)), (&[0u32, 1][..], &[0u32, 1][..]));
        assert_eq!(d.customers, ["k"]);
        assert_eq!(d.history.basket(0), &[0, 1]);
        assert!(Transactions::from_csr(vec!["a".into()], vec![0, 2], vec![0, 1]).is_err());
        let t = Transactions::from_csr(vec!["a".into(), "b".into()], vec![0, 3, 3], vec![1, 0, 1]).unwrap();
        assert_eq!((t.basket(0), t.basket(1), t.pairs()), (&[0u32, 1][..], &[][..], 2));
    }
}
