//! The order exports of issue 5 (WooCommerce, JD, Pinduoduo, Douyin) and the helpdesk exports
//! (Zendesk, Freshdesk), written as the built-in adapters read them (`src/ingest/adapters.rs`,
//! field notes in `shared/formats.md`, assumptions in `tests/fixtures/README.md`).
//!
//! ## Method
//! Each writer renders one simulated order in its platform's layout: headers, statuses (display
//! names, Chinese statuses and 售后状态), encodings (WooCommerce UTF-8 with BOM and CRLF in PHP
//! `fputcsv` quoting, JD GBK with CRLF, Douyin UTF-8 with BOM and `"\t…"` ids) and the platform's
//! masking of personal data. Only what a platform really exposes identifies the buyer, and only
//! that goes into `truth/identities.csv`: the billing email and phone on WooCommerce; the
//! 下单帐号 on JD unless masked, its phone only when unmasked; on Pinduoduo and Douyin only an
//! unmasked phone (most are masked or encrypted, so most of those orders are their own customer).

use super::formats::{
    china, emit, money, noisy_case, order_number, record, refund, value, ymd_hms, ChunkOut, FileId, Ids, OrderCtx,
    BAD_DATE_CN,
};
use super::model::{Channel, Fate, SimOrder, SimPerson};
use super::Layout;
use chrono::{DateTime, Duration, Utc};
use rand::prelude::*;
use rand_chacha::ChaCha8Rng;

/// AlgolPlus Advanced Order Export: its 48 default product-row columns plus `Currency`.
pub const WOOCOMMERCE: &str = "\"Order Number\",\"Order Status\",\"Order Date\",\"Customer Note\",\
\"First Name (Billing)\",\"Last Name (Billing)\",\"Company (Billing)\",\"Address 1&2 (Billing)\",\"City (Billing)\",\
\"State Code (Billing)\",\"Postcode (Billing)\",\"Country Code (Billing)\",\"Email (Billing)\",\"Phone (Billing)\",\
\"First Name (Shipping)\",\"Last Name (Shipping)\",\"Address 1&2 (Shipping)\",\"City (Shipping)\",\
\"State Code (Shipping)\",\"Postcode (Shipping)\",\"Country Code (Shipping)\",\"Item #\",SKU,Name,\
\"Product Variation\",Quantity,\"Quantity (- Refund)\",\"Item Cost\",\"Order Line (w/o tax)\",\"Order Line Tax\",\
\"Order Line Total\",\"Order Line Total Refunded\",\"Order Line Total (- Refund)\",\"Image URL\",\"Coupon Code\",\
\"Discount Amount\",\"Discount Amount Tax\",\"Payment Method Title\",\"Coupons Used\",\"Cart Discount Amount\",\
\"Order Subtotal Amount\",\"Order Tax Amount\",\"Order Shipping Amount\",\"Order Refund Amount\",\
\"Order Total Amount\",\"Order Total Tax Amount\",\"Total items\",\"Total products\",Currency";
/// JD POP order export: the 30 columns of `formats.md`, in order.
pub const JD: &str = "订单号,商品ID,商品名称,订购数量,支付方式,下单时间,京东价,订单金额,结算金额,余额支付,应付金额,\
订单状态,订单类型,下单帐号,客户姓名,客户地址,联系电话,订单备注,发票类型,发票抬头,发票内容,商家备注,\
商家备注等级（等级1-5为由高到低）,运费金额,付款确认时间,增值税发票,货号,订单完成时间,订单来源,订单渠道";
/// Pinduoduo: the 23 columns of `formats.md` plus 支付时间, 省, 市, 区 and the assumed 收货人, 手机.
pub const PINDUODUO: &str =
    "订单成交时间,商品,订单号,订单状态,商品总价(元),邮费(元),店铺优惠折扣(元),平台优惠折扣(元),\
多多支付立减金额(元),用户实付金额(元),商家实收金额(元),商品数量(件),发货时间,确认收货时间,商品id,商品规格,样式ID,\
商家编码-规格维度,商家编码-商品维度,商家备注,售后状态,快递单号,快递公司,支付时间,省,市,区,收货人,手机";
/// Douyin 抖店: the 21 columns of `formats.md` plus 商品ID, 商品金额, 支付完成时间, 达人ID, 达人昵称.
pub const DOUYIN: &str = "主订单编号,子订单编号,选购商品,商品规格,商品数量,商家编码,订单应付金额,运费,收件人,收件人手机号,\
详细地址,订单提交时间,商家备注,订单完成时间,订单状态,售后状态,取消原因,发货时间,平台实际承担优惠金额,商家实际承担优惠金额,\
达人实际承担优惠金额,商品ID,商品金额,支付完成时间,达人ID,达人昵称";
/// Zendesk tickets export with the custom field `Order number [txt]`.
pub const ZENDESK: &str = "Summation column,Id,Requester,Requester id,Requester external id,Requester email,\
Requester domain,Submitter,Assignee,Group,Subject,Tags,Status,Priority,Via,Ticket type,Created at,Updated at,\
Assigned at,Organization,Due date,Initially assigned at,Solved at,Resolution time,Satisfaction Score,Reopens,Replies,\
First reply time in minutes,Order number [txt]";
/// Freshdesk tickets export (the assumed contact columns `Full name`, `Email`, `Contact ID`, `Phone` last).
pub const FRESHDESK: &str = "Ticket ID,Subject,Status,Priority,Source,Type,Agent,Group,Created time,Due by Time,\
Resolved time,Closed time,Last update time,Initial response time,Time tracked,First response time (in hrs),\
Resolution time (in hrs),Agent interactions,Customer interactions,Resolution status,First response status,Tags,\
Survey results,Skill,Product,Full name,Email,Contact ID,Phone";

/// Share of JD orders whose 下单帐号 is shown unmasked; whose 联系电话 is.
const JD_ACCOUNT_SHOWN: f64 = 0.75;
const JD_PHONE_SHOWN: f64 = 0.2;
/// Share of Pinduoduo orders with the buyer's phone shown (the rest: `"\t"`).
const PDD_PHONE_SHOWN: f64 = 0.25;
/// Share of Douyin orders with the phone shown; encrypted (`#…#`); the rest masked `138****0000`.
const DOUYIN_PHONE_SHOWN: f64 = 0.2;
const DOUYIN_PHONE_ENCRYPTED: f64 = 0.2;

/// Appends a record as PHP's `fputcsv` writes it: quoted when a field holds a space, a delimiter, a
/// quote, a backslash, a tab or a line end; CRLF (the export plugin's default line end).
fn php_record(buf: &mut String, cells: &[&str]) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            buf.push(',');
        }
        if c.contains([',', '"', '\n', '\r', '\t', ' ', '\\']) {
            buf.push('"');
            buf.push_str(&c.replace('"', "\"\""));
            buf.push('"');
        } else {
            buf.push_str(c);
        }
    }
    buf.push_str("\r\n");
}

/// `王芳` → `王*` (JD), `王**` (Pinduoduo, Douyin).
fn mask_name(name: &str, stars: usize) -> String {
    let mut s: String = name.chars().take(1).collect();
    s.push_str(&"*".repeat(stars));
    s
}

/// A WooCommerce order: one row per product, order fields repeated on every row.
/// Returns the billing email as written (tickets and cart events use it).
pub(super) fn woocommerce(c: OrderCtx, rng: &mut ChaCha8Rng, out: &mut ChunkOut, ids: &mut Ids) -> String {
    let OrderCtx { lay, p, who, o, units, malformed } = c;
    let at = lay.at(o.day);
    let number = order_number(lay, Channel::WooCommerce, p.index, o);
    let email = if rng.gen_bool(0.1) { noisy_case(&who.email) } else { who.email.clone() };
    ids.insert(("woocommerce", "email", email.to_lowercase()));
    let phone = match rng.gen_range(0..10) {
        0..=3 => String::new(),
        4 | 5 => format!("+86 {} {} {}", &who.phone[..3], &who.phone[3..7], &who.phone[7..]),
        _ => who.phone.clone(),
    };
    if !phone.is_empty() {
        ids.insert(("woocommerce", "phone", who.phone.clone()));
    }
    let status = match o.fate {
        Fate::Pending => ["Pending payment", "On hold"][rng.gen_range(0..2)],
        Fate::Unpaid => ["Cancelled", "Failed"][rng.gen_range(0..2)],
        Fate::Cancelled => "Cancelled",
        Fate::Refunded => "Refunded",
        Fate::Paid => "Processing",
        Fate::Shipped | Fate::Completed | Fate::PartialRefund => "Completed",
    };
    let (sub, _) = value(units, &o.lines, Channel::WooCommerce);
    let ship = if sub >= 7500 { 0 } else { 695 };
    let refunded = refund(o.fate, units, sub);
    // AlgolPlus writes the site's local time without zone; the sample's WordPress runs on UTC.
    let date = if malformed { "2024-13-45 10:00".to_string() } else { ymd_hms(at.naive_utc(), '-', false) };
    let note = if rng.gen_bool(0.03) { "Please ring the bell,\nthe intercom is broken." } else { "" };
    let (first, last) = who.en_name.split_once(' ').unwrap_or((&who.en_name, ""));
    let street = format!("{} Nanjing West Road", rng.gen_range(1..900));
    let qty_total: i64 = o.lines.iter().map(|l| l.qty).sum();
    let payment = ["Credit Card (Stripe)", "PayPal", "Alipay"][rng.gen_range(0..3)];
    let order_cells = [
        money(sub),
        money(ship),
        money(refunded),
        money(sub + ship - refunded),
        qty_total.to_string(),
        o.lines.len().to_string(),
    ];
    let mut text = String::new();
    for (j, (l, unit)) in o.lines.iter().zip(units).enumerate() {
        let product = &lay.catalog[l.product];
        let line = unit * l.qty;
        let (line_refund, kept_qty) = match o.fate {
            Fate::Refunded => (line, 0),
            Fate::PartialRefund if j + 1 == o.lines.len() => (*unit, l.qty - 1),
            _ => (0, l.qty),
        };
        let (qty, item, cost) = (l.qty.to_string(), (j + 1).to_string(), money(*unit));
        let (line_s, refund_s) = (money(line), if line_refund > 0 { money(line_refund) } else { String::new() });
        let kept = money(line - line_refund);
        let kept_qty = kept_qty.to_string();
        let cells = [
            number.as_str(),
            status,
            &date,
            note,
            first,
            last,
            "",
            &street,
            "Shanghai",
            "",
            "200040",
            "CN",
            &email,
            &phone,
            first,
            last,
            &street,
            "Shanghai",
            "",
            "200040",
            "CN",
            &item,
            &product.sku,
            product.en,
            "",
            &qty,
            &kept_qty,
            &cost,
            &line_s,
            "0.00",
            &line_s,
            &refund_s,
            &kept,
            "",
            "",
            "",
            "",
            payment,
            "0",
            "0.00",
            &order_cells[0],
            "0.00",
            &order_cells[1],
            &order_cells[2],
            &order_cells[3],
            "0.00",
            &order_cells[4],
            &order_cells[5],
            "USD",
        ];
        php_record(&mut text, &cells);
    }
    emit(out, FileId::WooCommerce, FileId::WooCommerce, text.as_bytes(), o.lines.len() as u64, malformed, 0.0, rng);
    email
}

/// A JD order: GBK, one row per SKU with the order amount repeated; account, name and phone masked
/// as JD masks them.
pub(super) fn jd(c: OrderCtx, rng: &mut ChaCha8Rng, out: &mut ChunkOut, ids: &mut Ids) -> bool {
    let OrderCtx { lay, p, who, o, units, malformed } = c;
    let at = lay.at(o.day);
    let number = order_number(lay, Channel::Jd, p.index, o);
    let account_shown = rng.gen_bool(JD_ACCOUNT_SHOWN);
    let phone_shown = rng.gen_bool(JD_PHONE_SHOWN);
    let account = if account_shown {
        ids.insert(("jd", "member_id", who.jd_account.clone()));
        who.jd_account.clone()
    } else {
        let chars: Vec<char> = who.jd_account.chars().collect();
        let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
        format!("jd_****{tail}")
    };
    let (phone, name) = if phone_shown {
        ids.insert(("jd", "phone", who.phone.clone()));
        (who.phone.clone(), who.cn_name.clone())
    } else {
        (format!("1******{}", &who.phone[7..]), mask_name(&who.cn_name, 1))
    };
    let status = match o.fate {
        Fate::Pending => "等待付款",
        // JD shows an order refunded before it ships as cancelled; refunds after delivery live in
        // its separate after-sales export (not read), so the model sends none there.
        Fate::Unpaid | Fate::Cancelled | Fate::Refunded => "已取消",
        Fate::Paid => "等待出库",
        Fate::Shipped => "等待确认收货",
        Fate::Completed | Fate::PartialRefund => "完成",
    };
    let (goods, _) = value(units, &o.lines, Channel::Jd);
    let ship = if goods < 9900 { 600 } else { 0 };
    let total = money(goods + ship);
    let created = if malformed { BAD_DATE_CN.to_string() } else { china(at, false) };
    let paid = !matches!(o.fate, Fate::Pending | Fate::Unpaid);
    let paid_at = if paid { china(at + Duration::seconds(rng.gen_range(5..300)), false) } else { String::new() };
    let done =
        if o.fate == Fate::Completed { china(lay.at(o.day + o.ship_after_days + 3.0), false) } else { String::new() };
    let address = if phone_shown {
        who.address.clone()
    } else {
        format!("{} ****", who.address.split(' ').take(2).collect::<Vec<_>>().join(" "))
    };
    let pay = ["在线支付", "货到付款"][usize::from(rng.gen_bool(0.05))];
    let source = ["京东APP", "京东PC", "微信小程序"][rng.gen_range(0..3)];
    let start = out.buf(FileId::Jd).len();
    for (l, unit) in o.lines.iter().zip(units) {
        let product = &lay.catalog[l.product];
        let sku_id = format!("1000{:08}", 12_345 + l.product * 7);
        let qty = l.qty.to_string();
        let price = money(*unit);
        let cells = [
            number.as_str(),
            &sku_id,
            product.cn,
            &qty,
            pay,
            &created,
            &price,
            &total,
            &total,
            "0.00",
            &total,
            status,
            "普通订单",
            &account,
            &name,
            &address,
            &phone,
            "",
            "电子普通发票",
            "个人",
            "商品明细",
            "",
            "",
            &money(ship),
            &paid_at,
            "否",
            &product.sku,
            &done,
            source,
            "京东",
        ];
        if out.gbk_record(FileId::Jd, &cells, false).is_err() {
            out.stats.gbk_error = Some(FileId::Jd);
        }
    }
    let rows = out.buf(FileId::Jd).split_off(start);
    emit(out, FileId::Jd, FileId::Jd, &rows, o.lines.len() as u64, malformed, 0.0, rng);
    account_shown || phone_shown
}

/// A Pinduoduo order (one product); the buyer's phone is usually blank (`"\t"`) and the place masked.
pub(super) fn pinduoduo(c: OrderCtx, rng: &mut ChaCha8Rng, out: &mut ChunkOut, ids: &mut Ids) -> bool {
    let OrderCtx { lay, p, who, o, units, malformed } = c;
    let at = lay.at(o.day);
    let number = order_number(lay, Channel::Pinduoduo, p.index, o);
    let shown = rng.gen_bool(PDD_PHONE_SHOWN);
    let (phone, name) = if shown {
        ids.insert(("pinduoduo", "phone", who.phone.clone()));
        (who.phone.clone(), who.cn_name.clone())
    } else {
        ("\t".to_string(), mask_name(&who.cn_name, 2))
    };
    let mut place: Vec<&str> = who.address.split(' ').take(3).collect();
    if !shown && rng.gen_bool(0.5) {
        place = vec!["****"; 3];
    }
    let (status, after_sale) = match o.fate {
        Fate::Pending => ("待支付", "无售后或售后取消"),
        Fate::Unpaid | Fate::Cancelled => ("已取消", "无售后或售后取消"),
        Fate::Refunded => (["已签收", "待发货"][rng.gen_range(0..2)], "退款成功"),
        Fate::Paid => ("待发货", "无售后或售后取消"),
        Fate::Shipped => ("已发货，待签收", "无售后或售后取消"),
        Fate::Completed | Fate::PartialRefund => ("已签收", "无售后或售后取消"),
    };
    let l = o.lines.first().copied().unwrap_or(super::baskets::Line { product: 0, qty: 1 });
    let product = &lay.catalog[l.product];
    let total = units.first().copied().unwrap_or(0) * l.qty;
    // Platform coupons and 多多支付 cuts are paid by Pinduoduo: the merchant still receives the total.
    let platform = if total > 3000 && rng.gen_bool(0.3) { 300 } else { 0 };
    let duoduo = if total > 1000 && rng.gen_bool(0.2) { 100 } else { 0 };
    let created = if malformed { BAD_DATE_CN.to_string() } else { china(at, false) };
    let paid = !matches!(o.fate, Fate::Pending | Fate::Unpaid);
    let paid_at = if paid { china(at + Duration::seconds(rng.gen_range(3..60)), false) } else { String::new() };
    let shipped = matches!(o.fate, Fate::Shipped | Fate::Completed | Fate::PartialRefund)
        || (o.fate == Fate::Refunded && status == "已签收");
    let ship_at = if shipped { china(lay.at(o.day + o.ship_after_days), false) } else { String::new() };
    let done_at =
        if status == "已签收" { china(lay.at(o.day + o.ship_after_days + 3.0), false) } else { String::new() };
    let tracking = if shipped { format!("YT{:013}", p.index as u64 * 1000 + o.seq as u64) } else { String::new() };
    let goods_id = (600_000_000 + l.product * 17).to_string();
    let style = (900_000_000_000u64 + l.product as u64 * 31).to_string();
    let cells = [
        created.as_str(),
        product.cn,
        &number,
        status,
        &money(total),
        "0.00",
        "0.00",
        &money(platform),
        &money(duoduo),
        &money(total - platform - duoduo),
        &money(total),
        &l.qty.to_string(),
        &ship_at,
        &done_at,
        &goods_id,
        "默认",
        &style,
        &product.sku,
        &product.sku,
        "",
        after_sale,
        &tracking,
        if shipped { "圆通快递" } else { "" },
        &paid_at,
        place[0],
        place.get(1).copied().unwrap_or(""),
        place.get(2).copied().unwrap_or(""),
        &name,
        &phone,
    ];
    let mut text = String::new();
    record(&mut text, &cells);
    emit(out, FileId::Pinduoduo, FileId::Pinduoduo, text.as_bytes(), 1, malformed, 0.0, rng);
    shown
}

/// A Douyin 主订单 with one row per 子订单: ids as `"\t…"`, personal data masked or encrypted.
pub(super) fn douyin(c: OrderCtx, rng: &mut ChaCha8Rng, out: &mut ChunkOut, ids: &mut Ids) -> bool {
    let OrderCtx { lay, p, who, o, units, malformed } = c;
    let at = lay.at(o.day);
    let number = order_number(lay, Channel::Douyin, p.index, o);
    let r: f64 = rng.gen();
    let shown = r < DOUYIN_PHONE_SHOWN;
    let phone = if shown {
        ids.insert(("douyin", "phone", who.phone.clone()));
        who.phone.clone()
    } else if r < DOUYIN_PHONE_SHOWN + DOUYIN_PHONE_ENCRYPTED {
        format!("#{:x}#", (p.index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 8)
    } else {
        format!("{}****{}", &who.phone[..3], &who.phone[7..])
    };
    let name = mask_name(&who.cn_name, 2);
    let address = format!("{}****", who.address.split(' ').take(3).collect::<String>());
    let (status, after_sale, cancel) = match o.fate {
        Fate::Pending => ("待支付", "-", ""),
        Fate::Unpaid => ("已关闭", "-", "超时未支付"),
        Fate::Cancelled => ("已关闭", "-", "不想要了"),
        Fate::Refunded => (["已完成", "已发货"][rng.gen_range(0..2)], "退款成功", ""),
        Fate::Paid => ("待发货", "-", ""),
        Fate::Shipped => ("已发货", "-", ""),
        Fate::Completed | Fate::PartialRefund => ("已完成", "-", ""),
    };
    let slash = |t: DateTime<Utc>| ymd_hms(t.naive_utc() + Duration::hours(8), '/', true);
    let created = if malformed { "2024/13/45 10:00:00".to_string() } else { slash(at) };
    let paid = !matches!(o.fate, Fate::Pending | Fate::Unpaid);
    let paid_at = if paid { slash(at + Duration::seconds(rng.gen_range(3..60))) } else { String::new() };
    let shipped = matches!(status, "已完成" | "已发货");
    let ship_at = if shipped { slash(lay.at(o.day + o.ship_after_days)) } else { String::new() };
    let done_at = if status == "已完成" { slash(lay.at(o.day + o.ship_after_days + 4.0)) } else { String::new() };
    let (goods, _) = value(units, &o.lines, Channel::Douyin);
    let freight = if goods < 5900 { "6.00" } else { "0.00" };
    let (creator_id, creator) = [("1234567", "好物推荐官"), ("7654321", "居家小能手"), ("", "")][rng.gen_range(0..3)];
    let tab = |s: &str| format!("\t{s}");
    let main = tab(&number);
    let mut text = String::new();
    for (j, (l, unit)) in o.lines.iter().zip(units).enumerate() {
        let product = &lay.catalog[l.product];
        let sub = tab(&format!("68{:011}{:04}{j:02}", p.index, o.seq % 10_000));
        let line = unit * l.qty;
        // A platform coupon on some lines: paid by Douyin, shown besides the amount the buyer owes.
        let platform = if line > 5000 && rng.gen_bool(0.2) { 500 } else { 0 };
        let product_id = tab(&format!("36{:017}", l.product));
        let cells = [
            main.as_str(),
            &sub,
            product.cn,
            "默认规格",
            &l.qty.to_string(),
            &product.sku,
            &money(line),
            freight,
            &name,
            &phone,
            &address,
            &created,
            "",
            &done_at,
            status,
            after_sale,
            cancel,
            &ship_at,
            &money(platform),
            "0.00",
            "0.00",
            &product_id,
            &money(line + platform),
            &paid_at,
            creator_id,
            creator,
        ];
        record(&mut text, &cells);
    }
    emit(out, FileId::Douyin, FileId::Douyin, text.as_bytes(), o.lines.len() as u64, malformed, 0.0, rng);
    shown
}

// ----------------------------------------------------------------------------------- tickets

/// Ticket kinds the generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TicketKind {
    Return,
    Exchange,
    Complaint,
    Question,
}

/// Whether an order gets a ticket, of which kind, and when (the opening day), by fate and type.
pub(super) fn ticket_draw(
    lay_days: f64,
    p: &SimPerson,
    o: &SimOrder,
    rng: &mut ChaCha8Rng,
) -> Option<(TicketKind, f64)> {
    use TicketKind::*;
    let r: f64 = rng.gen();
    let complaint = p.kind.complaint_rate();
    let kind = match o.fate {
        Fate::Refunded if r < 0.8 => Return,
        Fate::PartialRefund if r < 0.4 => Return,
        Fate::PartialRefund if r < 0.7 => Exchange,
        Fate::Pending | Fate::Unpaid | Fate::Cancelled if r < 0.15 => Question,
        f if f.is_purchase() && r < complaint => Complaint,
        f if f.is_purchase() && r < complaint + 0.04 => Question,
        Fate::Shipped | Fate::Completed if r < complaint + 0.06 => Exchange,
        _ => return None,
    };
    let opened_day = o.day + rng.gen_range(0.05..14.0);
    (opened_day < lay_days).then_some((kind, opened_day))
}

fn utc(t: DateTime<Utc>) -> String {
    ymd_hms(t.naive_utc(), '-', true)
}

/// A Zendesk ticket about a Shopify order (`Order number [txt]` holds its name, `#10001`).
#[allow(clippy::too_many_arguments)]
pub(super) fn zendesk(
    lay: &super::formats::Layout,
    p: &SimPerson,
    o: &SimOrder,
    name: &str,
    email: &str,
    order: &str,
    rng: &mut ChaCha8Rng,
    out: &mut ChunkOut,
) {
    let Some((kind, opened_day)) = ticket_draw(lay.days, p, o, rng) else { return };
    // (subject, tags) pairs that belong together, and the ticket types agents pick for the kind.
    let (topics, types): (&[(&str, &str)], &[&str]) = match kind {
        TicketKind::Return => (
            &[
                ("Return request", "return_request changed_mind"),
                ("Item arrived damaged, want a refund", "return_request damaged"),
                ("Wrong item received", "return_request wrong_item"),
            ],
            &["incident", "question", ""],
        ),
        TicketKind::Exchange => (
            &[("Exchange for another size", "exchange wrong_size"), ("Can I swap the color?", "exchange wrong_color")],
            &["question", "task"],
        ),
        TicketKind::Complaint => (
            &[
                ("Late delivery", "complaint late_delivery"),
                ("Poor quality", "complaint quality"),
                ("Missing item in my parcel", "complaint missing_item"),
            ],
            &["incident", "problem"],
        ),
        TicketKind::Question => (
            &[("Where is my order?", "order_status"), ("Payment question", "payment"), ("Invoice please", "invoice")],
            &["question"],
        ),
    };
    let (subject, tags) = topics[rng.gen_range(0..topics.len())];
    let ty = types[rng.gen_range(0..types.len())];
    let (opened, open, solved_at) = ticket_times(lay, opened_day, rng);
    let (status, solved, minutes, sat) = if open {
        ("open", String::new(), String::new(), "Unoffered")
    } else {
        let sat = satisfaction(rng, kind, [0.35, 0.8, 0.9], ["Offered", "Bad", "Good", "Bad"]);
        let mins = (solved_at - opened).num_minutes().to_string();
        (["solved", "solved", "closed"][rng.gen_range(0..3)], utc(solved_at), mins, sat)
    };
    let id = (5001 + p.index as u64 * 1000 + o.seq as u64).to_string();
    let requester = (90_000 + p.index).to_string();
    let domain = email.rsplit('@').next().unwrap_or("");
    let replies = rng.gen_range(0..5).to_string();
    let opened_s = utc(opened);
    let cells = [
        "",
        id.as_str(),
        name,
        &requester,
        "",
        email,
        domain,
        name,
        if open { "" } else { "Agent A" },
        "Support",
        subject,
        tags,
        status,
        "normal",
        ["Mail", "Web", "Chat"][rng.gen_range(0..3)],
        ty,
        &opened_s,
        if open { &opened_s } else { &solved },
        "",
        "",
        "",
        "",
        &solved,
        &minutes,
        sat,
        "0",
        &replies,
        "",
        order,
    ];
    let mut line = String::new();
    record(&mut line, &cells);
    out.buf(FileId::Zendesk).extend_from_slice(line.as_bytes());
    out.count(FileId::Zendesk).rows += 1;
    out.stats.tickets += 1;
}

/// A Freshdesk ticket about a WooCommerce order (the order number only in the subject).
#[allow(clippy::too_many_arguments)]
pub(super) fn freshdesk(
    lay: &super::formats::Layout,
    p: &SimPerson,
    o: &SimOrder,
    name: &str,
    email: &str,
    order: &str,
    rng: &mut ChaCha8Rng,
    out: &mut ChunkOut,
) {
    let Some((kind, opened_day)) = ticket_draw(lay.days, p, o, rng) else { return };
    let (subject, ty) = match kind {
        TicketKind::Return => (format!("Return request for order {order}"), ["Refund", "Return"][rng.gen_range(0..2)]),
        TicketKind::Exchange => (format!("Exchange request for order {order}"), "Question"),
        TicketKind::Complaint => (
            format!(
                "{} (order {order})",
                ["Rude courier", "Parcel arrived late", "Broken on arrival"][rng.gen_range(0..3)]
            ),
            ["Incident", "Problem"][rng.gen_range(0..2)],
        ),
        TicketKind::Question => (format!("Question about order {order}"), "Question"),
    };
    let (opened, open, resolved_at) = ticket_times(lay, opened_day, rng);
    let (status, resolved, hours, survey) = if open {
        ("Open", String::new(), String::new(), "")
    } else {
        let survey = satisfaction(rng, kind, [0.4, 0.8, 0.85], ["", "Unhappy", "Happy", "Neutral"]);
        let h = format!("{:.1}", (resolved_at - opened).num_minutes() as f64 / 60.0);
        (["Resolved", "Closed"][rng.gen_range(0..2)], utc(resolved_at), h, survey)
    };
    let id = (7001 + p.index as u64 * 1000 + o.seq as u64).to_string();
    let opened_s = utc(opened);
    let due = utc(opened + Duration::days(2));
    let contact = (300_000 + p.index).to_string();
    let cells = [
        id.as_str(),
        &subject,
        status,
        "Medium",
        ["Email", "Portal", "Phone"][rng.gen_range(0..3)],
        ty,
        if open { "" } else { "Agent C" },
        "Support",
        &opened_s,
        &due,
        &resolved,
        &resolved,
        if open { &opened_s } else { &resolved },
        "",
        "",
        "",
        &hours,
        "1",
        "1",
        if open { "" } else { "Within SLA" },
        "",
        "",
        survey,
        "",
        "",
        name,
        email,
        &contact,
        "",
    ];
    let mut line = String::new();
    record(&mut line, &cells);
    out.buf(FileId::Freshdesk).extend_from_slice(line.as_bytes());
    out.count(FileId::Freshdesk).rows += 1;
    out.stats.tickets += 1;
}

/// When a ticket opened, whether it is still open (recent tickets often are), and when it was
/// (or would be) solved: 30 minutes to 3 days later.
fn ticket_times(lay: &Layout, opened_day: f64, rng: &mut ChaCha8Rng) -> (DateTime<Utc>, bool, DateTime<Utc>) {
    let opened = lay.at(opened_day);
    let open = opened_day + 3.0 > lay.days && rng.gen_bool(0.7);
    let solved_at = opened + Duration::minutes(rng.gen_range(30..4320));
    (opened, open, solved_at)
}

/// A satisfaction answer: below `cut[0]` none given (`labels[0]`); complaints below `cut[1]`
/// unhappy (`labels[1]`); below `cut[2]` happy (`labels[2]`); else `labels[3]`.
fn satisfaction(rng: &mut ChaCha8Rng, kind: TicketKind, cut: [f64; 3], labels: [&'static str; 4]) -> &'static str {
    match (rng.gen::<f64>(), kind) {
        (r, _) if r < cut[0] => labels[0],
        (r, TicketKind::Complaint) if r < cut[1] => labels[1],
        (r, _) if r < cut[2] => labels[2],
        _ => labels[3],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_quoting_and_masks() {
        let mut s = String::new();
        php_record(&mut s, &["1001", "On hold", "a\"b", "x"]);
        assert_eq!(s, "1001,\"On hold\",\"a\"\"b\",x\r\n");
        assert_eq!(mask_name("王芳", 1), "王*");
        assert_eq!(mask_name("欧阳娜", 2), "欧**");
    }
}
