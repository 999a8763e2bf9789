//! Built-in adapters: platform exports read as the platforms write them, recognised by header.
//!
//! ## Method
//! An adapter is a mapping (the same TOML format as user mapping files, so every rule and
//! transform is shared) plus a header signature: the trimmed header names that must all be
//! present. [`detect`] returns the first adapter whose signature the file's header contains;
//! `--format NAME` or `format = "NAME"` in `[[sources]]` picks one explicitly. Mapping columns by
//! name, never by position, keeps adapters working when platforms add or move columns.
//!
//! Field notes behind each adapter: `shared/formats.md`; assumptions where the notes are
//! abridged: `tests/fixtures/README.md`.

use crate::config::mapping::{Mapping, MappingError, MappingFile};

/// A built-in adapter.
#[derive(Debug, Clone, Copy)]
pub struct Adapter {
    /// Name for `--format`.
    pub name: &'static str,
    /// What it reads.
    pub description: &'static str,
    /// Trimmed headers that must all be present for auto-detection.
    pub signature: &'static [&'static str],
    mapping: &'static str,
}

/// Every adapter, in detection order.
pub const ADAPTERS: &[Adapter] = &[
    Adapter {
        name: "shopify",
        description: "Shopify orders export (CSV, one row per line item)",
        signature: &["Name", "Financial Status", "Created at", "Lineitem quantity", "Lineitem price"],
        mapping: SHOPIFY,
    },
    Adapter {
        name: "shopify-customers",
        description: "Shopify customers export, 2024+ layout (contacts and email/SMS consent → profiles)",
        signature: &[
            "Customer ID",
            "First Name",
            "Last Name",
            "Email",
            "Accepts Email Marketing",
            "Accepts SMS Marketing",
        ],
        mapping: SHOPIFY_CUSTOMERS,
    },
    Adapter {
        name: "shopify-customers-2022",
        description: "Shopify customers export, 2022 layout (no Customer ID column)",
        signature: &[
            "First Name",
            "Last Name",
            "Email",
            "Accepts Email Marketing",
            "Country Code",
            "Accepts SMS Marketing",
        ],
        mapping: SHOPIFY_CUSTOMERS_2022,
    },
    Adapter {
        name: "mailchimp-unsubscribed",
        description: "Mailchimp audience export, unsubscribed members → unsubscribe events (time, campaign)",
        signature: &["Email Address", "UNSUB_TIME", "UNSUB_CAMPAIGN_ID", "LEID"],
        mapping: MAILCHIMP_UNSUBSCRIBED,
    },
    Adapter {
        name: "mailchimp-cleaned",
        description: "Mailchimp audience export, cleaned (bouncing) members → bounce events",
        signature: &["Email Address", "CLEAN_TIME", "LEID"],
        mapping: MAILCHIMP_CLEANED,
    },
    Adapter {
        name: "mailchimp-subscribed",
        description: "Mailchimp audience export, subscribed members → profiles with email consent",
        signature: &["Email Address", "MEMBER_RATING", "LAST_CHANGED", "LEID"],
        mapping: MAILCHIMP_SUBSCRIBED,
    },
    Adapter {
        name: "mailchimp-activity",
        description: "Mailchimp email activity (reports API, one JSON line per open/click/bounce)",
        signature: &["email_address", "campaign_id", "action", "timestamp"],
        mapping: MAILCHIMP_ACTIVITY,
    },
    Adapter {
        name: "klaviyo",
        description: "Klaviyo metric events (JSON lines: datetime, metric name, profile; old and new metric names)",
        signature: &["datetime", "metric.name", "profile.email"],
        mapping: KLAVIYO,
    },
    Adapter {
        name: "ga4",
        description: "GA4 BigQuery export as JSON lines (event_name, event_timestamp µs, user_id, items[])",
        signature: &["event_name", "event_timestamp", "user_pseudo_id"],
        mapping: GA4,
    },
    Adapter {
        name: "zendesk",
        description: "Zendesk tickets CSV export (type, tags, subject → return/exchange/complaint/inquiry)",
        signature: &["Id", "Requester email", "Subject", "Ticket type", "Created at"],
        mapping: ZENDESK,
    },
    Adapter {
        name: "freshdesk",
        description: "Freshdesk tickets CSV export",
        signature: &["Ticket ID", "Subject", "Status", "Type", "Created time"],
        mapping: FRESHDESK,
    },
    Adapter {
        name: "taobao-orders",
        description: "Taobao/Tmall 订单报表 ExportOrderList (GBK or UTF-8)",
        signature: &["订单编号", "买家会员名", "订单状态", "订单创建时间"],
        mapping: TAOBAO_ORDERS,
    },
    Adapter {
        name: "taobao-items",
        description: "Taobao/Tmall 宝贝报表 ExportOrderDetailList (GBK or UTF-8)",
        signature: &["订单编号", "标题", "价格", "购买数量"],
        mapping: TAOBAO_ITEMS,
    },
    // ---- Order adapters of issue 5: WooCommerce, JD, Pinduoduo, Douyin ----
    Adapter {
        name: "woocommerce",
        description: "WooCommerce order export, Advanced Order Export (AlgolPlus) layout: one row per product",
        signature: &["Order Number", "Order Status", "Order Date", "Quantity", "Item Cost"],
        mapping: WOOCOMMERCE,
    },
    Adapter {
        name: "woocommerce-webtoffee",
        description:
            "WooCommerce order export, WebToffee layout: one row per order, its lines packed in line_item_N cells",
        signature: &["order_number", "order_date", "status", "order_subtotal", "billing_email"],
        mapping: WOOCOMMERCE_WEBTOFFEE,
    },
    Adapter {
        name: "jd",
        description: "JD 京东 POP order export (one row per SKU; GBK or UTF-8)",
        signature: &["订单号", "商品ID", "订购数量", "京东价", "下单时间", "订单状态"],
        mapping: JD,
    },
    Adapter {
        name: "pinduoduo",
        description: "Pinduoduo 拼多多 order export (one row per order)",
        signature: &["订单号", "订单成交时间", "商品总价(元)", "商品数量(件)", "售后状态"],
        mapping: PINDUODUO,
    },
    Adapter {
        name: "douyin",
        description: "Douyin 抖店 order export (主订单 with one row per 子订单; UTF-8 with BOM)",
        signature: &["主订单编号", "选购商品", "商品数量", "订单应付金额", "订单提交时间"],
        mapping: DOUYIN,
    },
    // ---- end of issue 5 order adapters ----
    Adapter {
        name: "amazon",
        description: "Amazon All Orders report (tab-separated, one row per item)",
        signature: &["amazon-order-id", "purchase-date", "order-status", "sku", "item-price"],
        mapping: AMAZON,
    },
    Adapter {
        name: "pos",
        description: "offline POS receipts (receipt_no, member_card, member_phone, sold_at, …)",
        signature: &["receipt_no", "member_card", "sold_at", "sku"],
        mapping: POS,
    },
];

/// The adapter called `name`, in any letter case (`Shopify`, `JD`), spaces around ignored.
pub fn by_name(name: &str) -> Option<&'static Adapter> {
    ADAPTERS.iter().find(|a| a.name.eq_ignore_ascii_case(name.trim()))
}

/// The first adapter whose signature the (trimmed) headers contain.
pub fn detect(headers: &[String]) -> Option<&'static Adapter> {
    ADAPTERS.iter().find(|a| a.signature.iter().all(|s| headers.iter().any(|h| h == s)))
}

/// Names of every adapter, for messages.
pub fn names() -> String {
    ADAPTERS.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
}

impl Adapter {
    /// The adapter's mapping as TOML (the generator writes it as the sample's mapping file).
    pub fn mapping_toml(&self) -> &'static str {
        self.mapping.trim_start()
    }

    /// The adapter's checked mapping.
    pub fn mapping(&self) -> Result<Mapping, MappingError> {
        let file: MappingFile = toml::from_str(self.mapping)
            .map_err(|e| MappingError::Parse { file: format!("adapter {}", self.name), message: e.to_string() })?;
        let mut m = file.check(&format!("adapter {}", self.name))?;
        m.name = self.name.to_string();
        Ok(m)
    }
}

const SHOPIFY: &str = r#"
table = "orders"
source = "shopify"
channel = "online_store"
grain = "line_item"
date_format = "%Y-%m-%d %H:%M:%S %z"
transforms = ["strip_leading_quote"]

[columns]
order_id = "Name"
email = "Email"
status = "Financial Status"
status_detail = "Fulfillment Status"
created_at = "Created at"
paid_at = "Paid at"
shipped_at = "Fulfilled at"
currency = "Currency"
discount = "Discount Amount"
shipping = "Shipping"
tax = "Taxes"
refund_amount = "Refunded Amount"
email_opt_in = "Accepts Marketing"
name = "Billing Name"
phone = "Billing Phone"
quantity = "Lineitem quantity"
product_name = "Lineitem name"
unit_price = "Lineitem price"
sku = "Lineitem sku"

[status]
"paid|fulfilled" = "shipped"
"paid|partial" = "shipped"
paid = "paid"
pending = "pending_payment"
authorized = "pending_payment"
refunded = "refunded"
"partially_refunded|fulfilled" = "shipped"
partially_refunded = "paid"
partially_paid = "pending_payment"
voided = "cancelled"
"#;

const SHOPIFY_CUSTOMERS: &str = r#"
table = "profiles"
source = "shopify"
transforms = ["strip_leading_quote"]

[columns]
customer_key = "Customer ID"
email = "Email"
email_opt_in = "Accepts Email Marketing"
sms_opt_in = "Accepts SMS Marketing"
phone = "Phone"
country = "Default Address Country Code"
tags = "Tags"
total_spent = "Total Spent"
total_orders = "Total Orders"

[concat]
name = ["First Name", "Last Name"]
"#;

const SHOPIFY_CUSTOMERS_2022: &str = r#"
table = "profiles"
source = "shopify"
transforms = ["strip_leading_quote"]

[columns]
email = "Email"
email_opt_in = "Accepts Email Marketing"
sms_opt_in = "Accepts SMS Marketing"
phone = "Phone"
country = "Country Code"
tags = "Tags"
total_spent = "Total Spent"
total_orders = "Total Orders"

[concat]
name = ["First Name", "Last Name"]
"#;

const MAILCHIMP_UNSUBSCRIBED: &str = r#"
table = "events"
source = "mailchimp"
channel = "email"

[columns]
email = "Email Address"
customer_key = "LEID"
ts = "UNSUB_TIME"
campaign_id = "UNSUB_CAMPAIGN_ID"

[constants]
event_type = "unsubscribe"
"#;

const MAILCHIMP_CLEANED: &str = r#"
table = "events"
source = "mailchimp"
channel = "email"

[columns]
email = "Email Address"
customer_key = "LEID"
ts = "CLEAN_TIME"
campaign_id = "CLEAN_CAMPAIGN_ID"

[constants]
event_type = "bounce"
"#;

const MAILCHIMP_SUBSCRIBED: &str = r#"
table = "profiles"
source = "mailchimp"

[columns]
email = "Email Address"
customer_key = "LEID"
updated_at = "LAST_CHANGED"
country = "CC"
tags = "TAGS"

[concat]
name = ["First Name", "Last Name"]

[constants]
email_opt_in = "yes"
"#;

const MAILCHIMP_ACTIVITY: &str = r#"
table = "events"
source = "mailchimp"
format = "jsonl"
channel = "email"

[columns]
email = "email_address"
ts = "timestamp"
event_type = "action"
campaign_id = "campaign_id"

[event_types]
sent = "email_sent"
open = "email_open"
click = "email_click"
bounce = "bounce"
unsub = "unsubscribe"
abuse = "spam_complaint"
"#;

const KLAVIYO: &str = r#"
table = "events"
source = "klaviyo"
format = "jsonl"
channel = "email"

[columns]
ts = "datetime"
event_type = "metric.name"
email = "profile.email"
phone = "profile.phone_number"
campaign_id = "event_properties.$message"
sku = "event_properties.SKU"

[event_types]
"Received Email" = "email_sent"
"Opened Email" = "email_open"
"Clicked Email" = "email_click"
"Bounced Email" = "bounce"
"Marked Email as Spam" = "spam_complaint"
"Unsubscribed" = "unsubscribe"
"Unsubscribed from Email Marketing" = "unsubscribe"
"Subscribed to List" = "subscribe"
"Subscribed to Email Marketing" = "subscribe"
"Placed Order" = "purchase"
"Ordered Product" = "other"
"Started Checkout" = "begin_checkout"
"Added to Cart" = "add_to_cart"
"Viewed Product" = "view_item"
"Active on Site" = "page_view"
"Received SMS" = "sms_sent"
"Clicked SMS" = "sms_click"
"Unsubscribed from SMS Marketing" = "unsubscribe"
"Subscribed to SMS Marketing" = "subscribe"
"*" = "other"

# The file's channel is email; on-site and SMS metrics are not.
[event_channels]
"Placed Order" = "web"
"Ordered Product" = "web"
"Started Checkout" = "web"
"Added to Cart" = "web"
"Viewed Product" = "web"
"Active on Site" = "web"
"Received SMS" = "sms"
"Clicked SMS" = "sms"
"Unsubscribed from SMS Marketing" = "sms"
"Subscribed to SMS Marketing" = "sms"
"#;

const GA4: &str = r#"
table = "events"
source = "ga4"
format = "jsonl"
channel = "web"
date_format = "epoch_us"

[columns]
ts = "event_timestamp"
event_type = "event_name"
customer_key = "user_id"
sku = "items.0.item_id"
campaign_id = "traffic_source.name"

[event_types]
page_view = "page_view"
view_item = "view_item"
add_to_cart = "add_to_cart"
remove_from_cart = "remove_from_cart"
begin_checkout = "begin_checkout"
purchase = "purchase"
"*" = "other"
"#;

const ZENDESK: &str = r#"
table = "tickets"
source = "zendesk"
order_source = "shopify"
date_format = "%Y-%m-%d %H:%M:%S"

[columns]
ticket_id = "Id"
email = "Requester email"
customer_key = "Requester external id"
kind = "Ticket type"
tags = "Tags"
subject = "Subject"
status = "Status"
opened_at = "Created at"
resolved_at = "Solved at"
satisfaction = "Satisfaction Score"
order_id = "Order number [txt]"

[values.satisfaction]
Good = "1"
Bad = "0"
Offered = ""
Unoffered = ""

[[kind_rules]]
column = "tags"
contains = "return"
kind = "return"

[[kind_rules]]
column = "tags"
contains = "exchange"
kind = "exchange"

[[kind_rules]]
column = "tags"
contains = "complaint"
kind = "complaint"

[[kind_rules]]
column = "subject"
contains = "return"
kind = "return"

[[kind_rules]]
column = "subject"
contains = "exchange"
kind = "exchange"

[kinds]
question = "inquiry"
task = "inquiry"
incident = "complaint"
problem = "complaint"
"*" = "inquiry"
"#;

const FRESHDESK: &str = r#"
table = "tickets"
source = "freshdesk"
date_format = "%Y-%m-%d %H:%M:%S"

[columns]
ticket_id = "Ticket ID"
email = "Email"
phone = "Phone"
kind = "Type"
tags = "Tags"
subject = "Subject"
status = "Status"
opened_at = "Created time"
resolved_at = "Resolved time"
satisfaction = "Survey results"

[values.satisfaction]
Happy = "1"
Neutral = "0.5"
Unhappy = "0"

[[kind_rules]]
column = "subject"
contains = "return"
kind = "return"

[[kind_rules]]
column = "subject"
contains = "exchange"
kind = "exchange"

[kinds]
Question = "inquiry"
Incident = "complaint"
Problem = "complaint"
"Feature Request" = "inquiry"
Refund = "return"
Return = "return"
Exchange = "exchange"
Complaint = "complaint"
"*" = "inquiry"
"#;

const TAOBAO_ORDERS: &str = r#"
table = "orders"
source = "taobao"
channel = "tmall"
timezone = "Asia/Shanghai"
phone_region = "CN"
currency = "CNY"
transforms = ["strip_excel_formula", "strip_leading_quote", "strip_yuan_suffix"]
null_values = ["null"]

[columns]
order_id = "订单编号"
customer_key = "买家会员名"
gross_amount = "买家应付货款"
shipping = "买家应付邮费"
refund_amount = "退款金额"
status = "订单状态"
status_detail = "订单关闭原因"
name = "收货人姓名"
phone = "联系手机"
created_at = "订单创建时间"
paid_at = "订单付款时间"
store = "店铺名称"

[status]
"等待买家付款" = "pending_payment"
"买家已付款，等待卖家发货" = "paid"
"卖家已发货，等待买家确认" = "shipped"
"交易成功" = "completed"
"交易关闭|退款" = "refunded"
"交易关闭|买家未付款" = "cancelled"
"交易关闭" = "cancelled"
"#;

const TAOBAO_ITEMS: &str = r#"
table = "order_items"
source = "taobao"
transforms = ["strip_excel_formula", "strip_yuan_suffix"]

[columns]
order_id = "订单编号"
product_name = "标题"
unit_price = "价格"
quantity = "购买数量"
sku = "商家编码"
"#;

// ---- Mappings of the issue 5 order adapters (field notes: shared/formats.md; assumptions:
// tests/fixtures/README.md) ----

const WOOCOMMERCE: &str = r#"
table = "orders"
source = "woocommerce"
channel = "online_store"
grain = "line_item"
currency = "USD"

[columns]
order_id = "Order Number"
status = "Order Status"
created_at = "Order Date"
currency = "Currency"
email = "Email (Billing)"
phone = "Phone (Billing)"
sku = "SKU"
product_name = "Name"
quantity = "Quantity"
unit_price = "Item Cost"
discount = "Cart Discount Amount"
shipping = "Order Shipping Amount"
tax = "Order Tax Amount"
refund_amount = "Order Refund Amount"

[concat]
name = ["First Name (Billing)", "Last Name (Billing)"]

[status]
Completed = "completed"
Processing = "paid"
"On hold" = "pending_payment"
"On-hold" = "pending_payment"
"Pending payment" = "pending_payment"
Pending = "pending_payment"
Draft = "pending_payment"
Cancelled = "cancelled"
Refunded = "refunded"
Failed = "cancelled"
completed = "completed"
processing = "paid"
on-hold = "pending_payment"
pending = "pending_payment"
cancelled = "cancelled"
refunded = "refunded"
failed = "cancelled"
wc-completed = "completed"
wc-processing = "paid"
wc-on-hold = "pending_payment"
wc-pending = "pending_payment"
wc-cancelled = "cancelled"
wc-refunded = "refunded"
wc-failed = "cancelled"
"#;

const WOOCOMMERCE_WEBTOFFEE: &str = r#"
table = "orders"
source = "woocommerce"
channel = "online_store"
currency = "USD"

[columns]
order_id = "order_number"
created_at = "order_date"
paid_at = "paid_date"
status = "status"
currency = "order_currency"
gross_amount = "order_subtotal"
discount = "discount_total"
shipping = "shipping_total"
tax = "tax_total"
customer_key = "customer_id"
email = "billing_email"
phone = "billing_phone"

[concat]
name = ["billing_first_name", "billing_last_name"]

# line_item_1, line_item_2, …: `name:Hoodie|product_id:31|sku:HOOD-M|quantity:2|total:36.00|sub_total:40.00|tax:3.20`;
# sub_total is the line before coupons (the order's gross is order_subtotal, their sum).
[packed_lines]
prefix = "line_item_"

[packed_lines.fields]
sku = "sku"
product_name = "name"
quantity = "quantity"
line_amount = "sub_total"

[column_transforms]
customer_key = ["zero_as_empty"]

[status]
Completed = "completed"
Processing = "paid"
"On hold" = "pending_payment"
"Pending payment" = "pending_payment"
Cancelled = "cancelled"
Refunded = "refunded"
Failed = "cancelled"
completed = "completed"
processing = "paid"
on-hold = "pending_payment"
pending = "pending_payment"
checkout-draft = "pending_payment"
cancelled = "cancelled"
refunded = "refunded"
failed = "cancelled"
wc-completed = "completed"
wc-processing = "paid"
wc-on-hold = "pending_payment"
wc-pending = "pending_payment"
wc-cancelled = "cancelled"
wc-refunded = "refunded"
wc-failed = "cancelled"
"#;

const JD: &str = r#"
table = "orders"
source = "jd"
channel = "jd"
grain = "line_item"
timezone = "Asia/Shanghai"
phone_region = "CN"
currency = "CNY"
anonymous_orders = true
transforms = ["strip_excel_formula", "strip_leading_tab", "strip_leading_quote", "strip_yuan_suffix"]

[columns]
order_id = "订单号"
sku = "货号"
product_name = "商品名称"
quantity = "订购数量"
unit_price = "京东价"
created_at = "下单时间"
paid_at = "付款确认时间"
completed_at = "订单完成时间"
status = "订单状态"
customer_key = "下单帐号"
name = "客户姓名"
phone = "联系电话"
shipping = "运费金额"

# 货号 is the shop's own item code (the one its catalog and other channels use); where a shop
# left it empty, JD's 商品ID.
[fallbacks]
sku = ["商品ID"]

[status]
"等待付款" = "pending_payment"
"等待付款确认" = "pending_payment"
"等待出库" = "paid"
"等待发货" = "paid"
"暂停" = "paid"
"锁定" = "paid"
"等待确认收货" = "shipped"
"完成" = "completed"
"已完成" = "completed"
"已取消" = "cancelled"
"取消" = "cancelled"
"订单取消" = "cancelled"
"#;

const PINDUODUO: &str = r#"
table = "orders"
source = "pinduoduo"
channel = "pinduoduo"
grain = "line_item"
timezone = "Asia/Shanghai"
phone_region = "CN"
currency = "CNY"
anonymous_orders = true
transforms = ["strip_excel_formula", "strip_leading_tab", "strip_leading_quote", "strip_yuan_suffix"]

[columns]
order_id = "订单号"
created_at = "订单成交时间"
paid_at = "支付时间"
shipped_at = "发货时间"
completed_at = "确认收货时间"
status = "订单状态"
status_detail = "售后状态"
product_name = "商品"
sku = "商家编码-规格维度"
quantity = "商品数量(件)"
line_amount = "商品总价(元)"
shipping = "邮费(元)"
discount = "店铺优惠折扣(元)"
name = "收货人"
phone = "手机"

# The shop's own codes (per variant, then per product), where it filled them; else Pinduoduo's
# 样式ID.
[fallbacks]
sku = ["商家编码-商品维度", "样式ID"]

[status]
"待支付" = "pending_payment"
"待付款" = "pending_payment"
"待发货" = "paid"
"已发货，待签收" = "shipped"
"已发货，待收货" = "shipped"
"已签收" = "completed"
"已收货" = "completed"
"交易成功" = "completed"
"已取消" = "cancelled"
"交易关闭" = "cancelled"
"*|退款成功" = "refunded"
"#;

const DOUYIN: &str = r#"
table = "orders"
source = "douyin"
channel = "douyin"
grain = "line_item"
timezone = "Asia/Shanghai"
phone_region = "CN"
currency = "CNY"
anonymous_orders = true
transforms = ["strip_excel_formula", "strip_leading_tab", "strip_leading_quote", "strip_yuan_suffix"]

[columns]
order_id = "主订单编号"
product_name = "选购商品"
sku = "商家编码"
quantity = "商品数量"
line_amount = "订单应付金额"
shipping = "运费"
name = "收件人"
phone = "收件人手机号"
created_at = "订单提交时间"
paid_at = "支付完成时间"
shipped_at = "发货时间"
completed_at = "订单完成时间"
status = "订单状态"
status_detail = "售后状态"

[status]
"待支付" = "pending_payment"
"已支付" = "paid"
"备货中" = "paid"
"待发货" = "paid"
"部分发货" = "shipped"
"已发货" = "shipped"
"已完成" = "completed"
"已关闭" = "cancelled"
"已取消" = "cancelled"
"*|退款成功" = "refunded"
"#;

// ---- end of issue 5 mappings ----

const AMAZON: &str = r#"
table = "orders"
source = "amazon"
channel = "amazon"
grain = "line_item"
encoding = "auto-latin"
format = "tsv"
anonymous_orders = true

[columns]
order_id = "amazon-order-id"
created_at = "purchase-date"
status = "order-status"
currency = "currency"
sku = "sku"
product_name = "product-name"
quantity = "quantity"
line_amount = "item-price"

[status]
Pending = "pending_payment"
"Pending - Waiting for Pick Up" = "paid"
Unshipped = "paid"
PartiallyShipped = "paid"
Shipping = "paid"
Shipped = "shipped"
"Shipped - Delivered to Buyer" = "completed"
Cancelled = "cancelled"
"#;

const POS: &str = r#"
table = "orders"
source = "pos"
channel = "offline"
grain = "line_item"
timezone = "Asia/Shanghai"
phone_region = "CN"
currency = "CNY"

[columns]
order_id = "receipt_no"
store = "store"
customer_key = "member_card"
phone = "member_phone"
created_at = "sold_at"
sku = "sku"
product_name = "item_name"
quantity = "qty"
unit_price = "unit_price"
line_amount = "line_total"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_names_are_matched_in_any_letter_case() {
        assert_eq!(by_name("Shopify").map(|a| a.name), Some("shopify"));
        assert_eq!(by_name("SHOPIFY-Customers").map(|a| a.name), Some("shopify-customers"));
        assert_eq!(by_name(" JD ").map(|a| a.name), Some("jd"));
        assert!(by_name("shopify_customers").is_none(), "only case is forgiven, not spelling");
        assert!(by_name("").is_none());
        for a in ADAPTERS {
            assert_eq!(by_name(&a.name.to_uppercase()).map(|b| b.name), Some(a.name));
        }
    }

    #[test]
    fn every_adapter_mapping_checks() {
        for a in ADAPTERS {
            let m = a.mapping().unwrap_or_else(|e| panic!("{}: {e}", a.name));
            // A signature may hold marker headers the mapping does not read (Mailchimp's LEID-only
            // files, GA4's user_pseudo_id), but most of it must be what the adapter reads.
            let mapped = a
                .signature
                .iter()
                .filter(|s| {
                    m.file.columns.values().any(|c| c == *s) || m.file.concat.values().flatten().any(|c| c == *s)
                })
                .count();
            assert!(mapped * 2 >= a.signature.len(), "{}: most signature headers should be mapped", a.name);
        }
    }

    #[test]
    fn signatures_pick_one_adapter() {
        for a in ADAPTERS {
            let headers: Vec<String> = a.signature.iter().map(|s| s.to_string()).collect();
            assert_eq!(detect(&headers).map(|d| d.name), Some(a.name));
        }
        assert!(detect(&["order_id".to_string()]).is_none());
    }
}
