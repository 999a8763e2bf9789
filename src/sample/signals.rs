//! Marketing signals of a simulated person, written as the tools export them: the Shopify
//! customers export (consent, customer id), Mailchimp audience exports and email activity,
//! Klaviyo metric events, the GA4 BigQuery export, and SMS campaign events (canonical events as JSON lines).
//!
//! ## Method
//! A person joins the email list when the shop learns their address (first online order, Shopify
//! or WooCommerce) if they opted in. Campaigns go out every `campaign_every_days`; opens, clicks
//! and unsubscribes follow the person's type; 1.5 % of addresses hard-bounce once and are cleaned.
//! The shop sends through Mailchimp in the first half of the window and through Klaviyo after
//! (a migration): Mailchimp's audience exports are a snapshot at the migration (subscribed as of
//! then, unsubscribed and cleaned before it), its activity covers its half; Klaviyo's events the
//! other half, with the metric renamed from `Unsubscribed` to `Unsubscribed from Email Marketing`
//! three quarters into the window. The plan is drawn before the person's orders are written, so
//! Shopify's `Accepts Marketing` on an order after an unsubscribe says `no`, and the customers
//! export (written at the window end) states the final consent. Web behaviour: GA4 on the Shopify
//! store (`user_id` = the Shopify customer id, linked through the customers export; 5 % of
//! events logged out, which ingest must reject), Klaviyo's WooCommerce integration on the other
//! store (by email).

use super::formats::{iso, money, ChunkOut, FileId, Ids, Layout, Persona, BAD_TS};
use super::model::{Channel, Fate, SimOrder, SimPerson};
use chrono::{DateTime, Duration, Utc};
use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Shopify customers export, 2024+ layout.
pub const SHOPIFY_CUSTOMERS: &str = "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,\
Default Address Company,Default Address Address1,Default Address Address2,Default Address City,\
Default Address Province Code,Default Address Country Code,Default Address Zip,Default Address Phone,Phone,\
Accepts SMS Marketing,Total Spent,Total Orders,Note,Tax Exempt,Tags";
macro_rules! mailchimp_base {
    () => {
        "Email Address,First Name,Last Name,Address,Phone Number,Birthday,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,\
CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,NOTES"
    };
}
pub const MAILCHIMP_SUBSCRIBED: &str = concat!(mailchimp_base!(), ",TAGS");
pub const MAILCHIMP_UNSUBSCRIBED: &str =
    concat!(mailchimp_base!(), ",UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,UNSUB_CAMPAIGN_ID,UNSUB_REASON,UNSUB_REASON_OTHER");
pub const MAILCHIMP_CLEANED: &str = concat!(mailchimp_base!(), ",CLEAN_TIME,CLEAN_CAMPAIGN_TITLE,CLEAN_CAMPAIGN_ID");

/// Share of list members whose address hard-bounces once (then cleaned from the list).
const CLEANED_RATE: f64 = 0.015;
/// Share of GA4 events sent while logged out (no `user_id`: ingest must reject them).
const GA4_LOGGED_OUT: f64 = 0.05;
/// Share of online orders preceded by tracked cart adds and a checkout.
const TRACKED_ORDERS: f64 = 0.6;

/// The Shopify customer id of person `i` (13 digits).
pub fn shopify_customer_id(i: usize) -> String {
    (7_000_000_000_000u64 + i as u64 * 7).to_string()
}

/// The Mailchimp member id (LEID) of person `i`.
fn leid(i: usize) -> String {
    (100_000_000u64 + i as u64).to_string()
}

/// One campaign email to one person.
struct Send {
    campaign: usize,
    sent: DateTime<Utc>,
    open: Option<DateTime<Utc>>,
    click: Option<DateTime<Utc>>,
}

/// A person's email-list history, drawn before their orders are written.
pub(super) struct EmailPlan {
    /// When the shop learns the address (first online order), if ever.
    pub since: Option<f64>,
    /// Opted in at that order.
    pub opted_in: bool,
    /// Unsubscribe time and campaign.
    pub unsub: Option<(DateTime<Utc>, usize)>,
    /// Hard bounce (cleaned) time and campaign.
    pub cleaned: Option<(DateTime<Utc>, usize)>,
    sends: Vec<Send>,
}

impl EmailPlan {
    pub fn draw(lay: &Layout, p: &SimPerson, who: &Persona, rng: &mut ChaCha8Rng) -> EmailPlan {
        let since =
            p.orders.iter().find(|o| matches!(o.channel, Channel::Shopify | Channel::WooCommerce)).map(|o| o.day);
        let mut plan = EmailPlan { since, opted_in: who.email_opt_in, unsub: None, cleaned: None, sends: Vec::new() };
        let Some(since) = since.filter(|_| who.email_opt_in) else { return plan };
        let (open, click, unsub, _) = p.kind.engagement();
        let ahead: Vec<usize> = (0..lay.campaigns.len()).filter(|&k| lay.campaigns[k].0 >= since).collect();
        let bounce_at = if !ahead.is_empty() && rng.gen_bool(CLEANED_RATE) {
            Some(ahead[rng.gen_range(0..ahead.len())])
        } else {
            None
        };
        for k in ahead {
            let sent = lay.at(lay.campaigns[k].0) + Duration::seconds((p.index % 900) as i64);
            if bounce_at == Some(k) {
                plan.cleaned = Some((sent + Duration::seconds(rng.gen_range(5..120)), k));
                plan.sends.push(Send { campaign: k, sent, open: None, click: None });
                break;
            }
            let mut s = Send { campaign: k, sent, open: None, click: None };
            if rng.gen_bool(open) {
                let t = sent + Duration::minutes(rng.gen_range(2..2880));
                s.open = Some(t);
                if rng.gen_bool(click) {
                    s.click = Some(t + Duration::seconds(rng.gen_range(5..600)));
                }
            }
            plan.sends.push(s);
            if rng.gen_bool(unsub) {
                plan.unsub = Some((sent + Duration::minutes(rng.gen_range(10..4000)), k));
                break;
            }
        }
        plan
    }

    /// Whether the person accepts email marketing at time `t` (what an order placed then says).
    pub fn accepts_at(&self, t: DateTime<Utc>) -> bool {
        self.opted_in && self.unsub.is_none_or(|(u, _)| t < u)
    }

    /// Email consent at the window end, when the shop has the address.
    pub fn consent(&self) -> Option<bool> {
        self.since.map(|_| self.opted_in && self.unsub.is_none())
    }
}

/// The day the shop moves from Mailchimp to Klaviyo.
fn migration(lay: &Layout) -> DateTime<Utc> {
    lay.at((lay.days / 2.0).floor())
}

/// Mailchimp's time format, UTC: `2016-04-18 13:51:14`.
fn mc_time(t: DateTime<Utc>) -> String {
    let mut s = iso(t);
    s.replace_range(10..11, " ");
    s.pop();
    s
}

/// `2024-01-05T02:00:00+00:00`, as the APIs write times.
fn api_time(t: DateTime<Utc>) -> String {
    let mut s = iso(t);
    s.pop();
    s.push_str("+00:00");
    s
}

/// Appends a CSV record quoting fields with a space too (as Mailchimp's exports quote times).
fn spaced_record(buf: &mut Vec<u8>, cells: &[&str]) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        if c.contains([',', '"', '\n', '\r', ' ']) {
            buf.push(b'"');
            buf.extend_from_slice(c.replace('"', "\"\"").as_bytes());
            buf.push(b'"');
        } else {
            buf.extend_from_slice(c.as_bytes());
        }
    }
    buf.push(b'\n');
}

/// Appends one JSON line to `f`, with a malformed time at the planted rate (`bad` rewrites it).
fn json_line<T: Serialize>(out: &mut ChunkOut, f: FileId, rng: &mut ChaCha8Rng, rate: f64, mut e: T, bad: fn(&mut T)) {
    let malformed = rng.gen_bool(rate.clamp(0.0, 1.0));
    if malformed {
        bad(&mut e);
    }
    json_counted(out, f, &e, malformed, malformed);
}

/// Appends one JSON line to `f`, counting it as planted malformed and as a row ingest must reject.
fn json_counted<T: Serialize>(out: &mut ChunkOut, f: FileId, e: &T, malformed: bool, rejected: bool) {
    if let Ok(line) = serde_json::to_string(e) {
        let buf = out.buf(f);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        let c = out.count(f);
        c.rows += 1;
        c.malformed += u64::from(malformed);
        c.rejected_rows += u64::from(rejected);
        out.stats.events += 1;
    }
}

// ----------------------------------------------------------------------------------- Mailchimp

#[derive(Serialize)]
struct MailchimpActivity<'a> {
    campaign_id: &'a str,
    email_address: &'a str,
    action: &'static str,
    timestamp: String,
}

#[derive(Serialize)]
struct KlaviyoMetric {
    name: &'static str,
}

#[derive(Serialize)]
struct KlaviyoProfile<'a> {
    email: &'a str,
    phone_number: Option<String>,
}

#[derive(Serialize, Default)]
struct KlaviyoProps<'a> {
    #[serde(rename = "$message", skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(rename = "SKU", skip_serializing_if = "Option::is_none")]
    sku: Option<&'a str>,
    #[serde(rename = "$value", skip_serializing_if = "Option::is_none")]
    value: Option<f64>,
}

#[derive(Serialize)]
struct KlaviyoEvent<'a> {
    id: String,
    datetime: String,
    metric: KlaviyoMetric,
    profile: KlaviyoProfile<'a>,
    event_properties: KlaviyoProps<'a>,
}

fn klaviyo<'a>(p: &SimPerson, n: &mut u32, t: DateTime<Utc>, name: &'static str, email: &'a str) -> KlaviyoEvent<'a> {
    *n += 1;
    KlaviyoEvent {
        id: format!("{:x}{:03}", p.index + 1, n),
        datetime: api_time(t),
        metric: KlaviyoMetric { name },
        profile: KlaviyoProfile { email, phone_number: None },
        event_properties: KlaviyoProps::default(),
    }
}

/// Writes the person's email-list history: Mailchimp audience rows and activity before the
/// migration, Klaviyo events after; returns whether the person is in a Mailchimp export.
pub(super) fn email(
    lay: &Layout,
    p: &SimPerson,
    who: &Persona,
    plan: &EmailPlan,
    rng: &mut ChaCha8Rng,
    out: &mut ChunkOut,
    ids: &mut Ids,
) {
    let Some(since) = plan.since.filter(|_| plan.opted_in) else { return };
    let switch = migration(lay);
    let joined = lay.at(since);
    let rate = lay.malformed_rate;
    let mut n = 0u32;
    // Audience snapshot at the migration.
    if joined < switch {
        ids.insert(("mailchimp", "member_id", leid(p.index)));
        ids.insert(("mailchimp", "email", who.email.clone()));
        let (first, last) = who.en_name.split_once(' ').unwrap_or((&who.en_name, ""));
        let (optin, changed) = (mc_time(joined), mc_time(joined + Duration::seconds(40)));
        let rating =
            (2 + usize::from(p.kind.engagement().0 > 0.3) + usize::from(p.kind.engagement().0 > 0.5)).to_string();
        let id = leid(p.index);
        let euid = format!("{:x}", (p.index as u64 + 17).wrapping_mul(2_654_435_761) & 0xff_ffff_ffff);
        let base = [
            who.email.as_str(),
            first,
            last,
            "",
            "",
            "",
            rating.as_str(),
            &optin,
            "",
            &changed,
            "",
            "",
            "",
            "8",
            "0",
            "Asia/Shanghai",
            "CN",
            "",
            &changed,
            &id,
            &euid,
            "",
        ];
        let before = |e: Option<(DateTime<Utc>, usize)>| e.filter(|(t, _)| *t < switch);
        let file = if let Some((t, k)) = before(plan.unsub) {
            let title = &lay.campaigns[k].1;
            let reason =
                ["I no longer want to receive these emails", "The emails are spam", "Other"][rng.gen_range(0..3)];
            let mut cells = base.to_vec();
            let (t, last_changed) = (mc_time(t), mc_time(t));
            cells[18] = &last_changed;
            cells.extend([t.as_str(), title, title, reason, ""]);
            spaced_record(out.buf(FileId::MailchimpUnsubscribed), &cells);
            FileId::MailchimpUnsubscribed
        } else if let Some((t, k)) = before(plan.cleaned) {
            let title = &lay.campaigns[k].1;
            let mut cells = base.to_vec();
            let t = mc_time(t);
            cells[18] = &t;
            cells.extend([t.as_str(), title, title]);
            spaced_record(out.buf(FileId::MailchimpCleaned), &cells);
            FileId::MailchimpCleaned
        } else {
            let tags = if p.kind == super::model::Kind::LoyalHighValue { "\"VIP\"" } else { "" };
            let mut cells = base.to_vec();
            cells.push(tags);
            spaced_record(out.buf(FileId::MailchimpSubscribed), &cells);
            FileId::MailchimpSubscribed
        };
        out.count(file).rows += 1;
    } else {
        ids.insert(("klaviyo", "email", who.email.clone()));
        let e = klaviyo(p, &mut n, joined, "Subscribed to Email Marketing", &who.email);
        json_line(out, FileId::Klaviyo, rng, rate, e, |e| e.datetime = BAD_TS.into());
    }
    let renamed = lay.at((lay.days * 0.75).floor());
    for s in &plan.sends {
        let name = &lay.campaigns[s.campaign].1;
        let bounced = plan.cleaned.is_some_and(|(_, k)| k == s.campaign);
        let unsub = plan.unsub.filter(|(_, k)| *k == s.campaign).map(|(t, _)| t);
        if s.sent < switch {
            let act = |action: &'static str, t: DateTime<Utc>, out: &mut ChunkOut, rng: &mut ChaCha8Rng| {
                let e =
                    MailchimpActivity { campaign_id: name, email_address: &who.email, action, timestamp: api_time(t) };
                json_line(out, FileId::MailchimpActivity, rng, rate, e, |e| e.timestamp = BAD_TS.into());
            };
            act("sent", s.sent, out, rng);
            s.open.into_iter().for_each(|t| act("open", t, out, rng));
            s.click.into_iter().for_each(|t| act("click", t, out, rng));
            // Unsubscribes and bounces before the migration are in the audience exports.
        } else {
            ids.insert(("klaviyo", "email", who.email.clone()));
            let ev = |metric: &'static str, t: DateTime<Utc>, n: &mut u32, out: &mut ChunkOut, rng: &mut ChaCha8Rng| {
                let mut e = klaviyo(p, n, t, metric, &who.email);
                e.event_properties.message = Some(name);
                json_line(out, FileId::Klaviyo, rng, rate, e, |e| e.datetime = BAD_TS.into());
            };
            ev("Received Email", s.sent, &mut n, out, rng);
            if let (true, Some((t, _))) = (bounced, plan.cleaned) {
                ev("Bounced Email", t, &mut n, out, rng);
            }
            s.open.into_iter().for_each(|t| ev("Opened Email", t, &mut n, out, rng));
            s.click.into_iter().for_each(|t| ev("Clicked Email", t, &mut n, out, rng));
            if let Some(t) = unsub {
                let metric = if t < renamed { "Unsubscribed" } else { "Unsubscribed from Email Marketing" };
                ev(metric, t, &mut n, out, rng);
            }
        }
    }
}

// ------------------------------------------------------------------------------------ web

#[derive(Serialize)]
struct Ga4Item<'a> {
    item_id: &'a str,
    item_name: &'a str,
    quantity: i64,
    price: f64,
}

#[derive(Serialize)]
struct Ga4Source {
    name: &'static str,
}

#[derive(Serialize)]
struct Ga4Event<'a> {
    event_date: String,
    event_timestamp: String,
    event_name: &'static str,
    user_id: Option<String>,
    user_pseudo_id: String,
    traffic_source: Ga4Source,
    items: Vec<Ga4Item<'a>>,
}

/// One GA4 event of person `p` on the Shopify store; logged out at the set rate (then ingest rejects it).
#[allow(clippy::too_many_arguments)]
fn ga4<'a>(
    lay: &Layout,
    p: &SimPerson,
    rng: &mut ChaCha8Rng,
    out: &mut ChunkOut,
    ids: &mut Ids,
    name: &'static str,
    t: DateTime<Utc>,
    items: Vec<Ga4Item<'a>>,
) {
    let logged_in = !rng.gen_bool(GA4_LOGGED_OUT);
    let malformed = rng.gen_bool(lay.malformed_rate.clamp(0.0, 1.0));
    let user_id = logged_in.then(|| shopify_customer_id(p.index));
    if let (Some(id), false) = (&user_id, malformed) {
        ids.insert(("shopify", "member_id", id.clone()));
    }
    let local = t + Duration::hours(8);
    let e = Ga4Event {
        event_date: local.format("%Y%m%d").to_string(),
        event_timestamp: if malformed { BAD_TS.to_string() } else { t.timestamp_micros().to_string() },
        event_name: name,
        user_id,
        user_pseudo_id: format!("{}.{}", 1_000_000_000 + p.index as u64 * 7, 1_600_000_000 + p.index as u64),
        traffic_source: Ga4Source { name: ["(direct)", "(organic)", "spring-sale", "(referral)"][rng.gen_range(0..4)] },
        items,
    };
    json_counted(out, FileId::Ga4, &e, malformed, malformed || !logged_in);
}

/// Cart adds and a checkout before some online orders: GA4 on the Shopify store, Klaviyo on WooCommerce.
#[allow(clippy::too_many_arguments)]
pub(super) fn order_side_events(
    lay: &Layout,
    p: &SimPerson,
    email: &str,
    o: &SimOrder,
    units: &[i64],
    rng: &mut ChaCha8Rng,
    out: &mut ChunkOut,
    ids: &mut Ids,
) {
    if !rng.gen_bool(TRACKED_ORDERS) {
        return;
    }
    let at = lay.at(o.day);
    let mut n = 1000 + o.seq as u32 * 20;
    let item = |j: usize| {
        let l = &o.lines[j];
        let product = &lay.catalog[l.product];
        Ga4Item { item_id: &product.sku, item_name: product.en, quantity: l.qty, price: units[j] as f64 / 100.0 }
    };
    #[allow(clippy::needless_range_loop)] // `item(j)` reads the line and its unit price
    for j in 0..o.lines.len() {
        let t = at - Duration::seconds(rng.gen_range(120..3600));
        if o.channel == Channel::Shopify {
            ga4(lay, p, rng, out, ids, "add_to_cart", t, vec![item(j)]);
        } else {
            ids.insert(("klaviyo", "email", email.to_lowercase()));
            let mut e = klaviyo(p, &mut n, t, "Added to Cart", email);
            e.event_properties.sku = Some(&lay.catalog[o.lines[j].product].sku);
            e.event_properties.value = Some(units[j] as f64 / 100.0 * o.lines[j].qty as f64);
            json_line(out, FileId::Klaviyo, rng, lay.malformed_rate, e, |e| e.datetime = BAD_TS.into());
        }
    }
    let t = at - Duration::seconds(rng.gen_range(30..110));
    if o.channel == Channel::Shopify {
        ga4(lay, p, rng, out, ids, "begin_checkout", t, (0..o.lines.len()).map(item).collect());
    } else {
        let e = klaviyo(p, &mut n, t, "Started Checkout", email);
        json_line(out, FileId::Klaviyo, rng, lay.malformed_rate, e, |e| e.datetime = BAD_TS.into());
    }
}

/// Abandoned carts: cart adds with no order on that store within 3 days.
pub(super) fn abandoned_carts(
    lay: &Layout,
    p: &SimPerson,
    who: &Persona,
    since: f64,
    rng: &mut ChaCha8Rng,
    out: &mut ChunkOut,
    ids: &mut Ids,
) {
    let store =
        if p.orders.iter().any(|o| o.channel == Channel::Shopify) { Channel::Shopify } else { Channel::WooCommerce };
    let mut n = 900;
    for _ in 0..rng.gen_range(0..=2) {
        let day = rng.gen_range(since..lay.days.max(since + 1e-3));
        if p.orders.iter().any(|o| o.channel == store && o.day >= day && o.day - day < 3.0) || day >= lay.days {
            continue;
        }
        let product = &lay.catalog[rng.gen_range(0..lay.catalog.len())];
        let t = lay.at(day);
        if store == Channel::Shopify {
            let price = product.price as f64 / 100.0 / super::formats::USD_RATE;
            let item = Ga4Item {
                item_id: &product.sku,
                item_name: product.en,
                quantity: 1,
                price: (price * 100.0).round() / 100.0,
            };
            ga4(lay, p, rng, out, ids, "add_to_cart", t, vec![item]);
        } else {
            ids.insert(("klaviyo", "email", who.email.clone()));
            let mut e = klaviyo(p, &mut n, t, "Added to Cart", &who.email);
            e.event_properties.sku = Some(&product.sku);
            json_line(out, FileId::Klaviyo, rng, lay.malformed_rate, e, |e| e.datetime = BAD_TS.into());
        }
    }
}

// ---------------------------------------------------------------------------- Shopify customers

/// The person's row of the Shopify customers export (written at the window end: final consent).
pub(super) fn shopify_customer(
    p: &SimPerson,
    who: &Persona,
    plan: &EmailPlan,
    units_of: &dyn Fn(&SimOrder) -> (i64, i64),
    rng: &mut ChaCha8Rng,
    out: &mut ChunkOut,
    ids: &mut Ids,
) {
    let orders: Vec<&SimOrder> = p.orders.iter().filter(|o| o.channel == Channel::Shopify).collect();
    if orders.is_empty() {
        return;
    }
    let id = shopify_customer_id(p.index);
    ids.insert(("shopify", "member_id", id.clone()));
    ids.insert(("shopify", "email", who.email.clone()));
    let (mut spent, mut count) = (0i64, 0u64);
    for o in orders.iter().filter(|o| o.fate.is_purchase() || o.fate == Fate::Refunded) {
        let (total, refunded) = units_of(o);
        spent += total - refunded;
        count += u64::from(o.fate.is_purchase());
    }
    let phone = if rng.gen_bool(0.7) {
        ids.insert(("shopify", "phone", who.phone.clone()));
        format!("'+86{}", who.phone)
    } else {
        String::new()
    };
    let (first, last) = who.en_name.split_once(' ').unwrap_or((&who.en_name, ""));
    let yes = |b: bool| if b { "yes" } else { "no" };
    let tags = match p.kind {
        super::model::Kind::LoyalHighValue => "VIP, newsletter",
        _ if plan.consent() == Some(true) => "newsletter",
        _ => "",
    };
    let id_cell = format!("'{id}");
    let cells = [
        id_cell.as_str(),
        first,
        last,
        &who.email,
        yes(plan.consent() == Some(true)),
        "",
        "",
        "",
        "Shanghai",
        "SH",
        "CN",
        "'200040",
        &phone,
        &phone,
        yes(who.sms_opt_in),
        &money(spent),
        &count.to_string(),
        "",
        "no",
        tags,
    ];
    let mut line = String::new();
    super::formats::record(&mut line, &cells);
    out.buf(FileId::ShopifyCustomers).extend_from_slice(line.as_bytes());
    out.count(FileId::ShopifyCustomers).rows += 1;
}

// ------------------------------------------------------------------------------------ SMS

/// An SMS event in the canonical events layout (detected from `event_type`, no mapping needed):
/// the phone with its country code, so it is usable without `[identity] default_phone_region`.
#[derive(Serialize)]
struct SmsLine<'a> {
    source: &'static str,
    phone: String,
    channel: &'static str,
    event_type: &'static str,
    ts: String,
    campaign_id: &'a str,
}

/// SMS campaigns to opted-in persons known by phone (Taobao or POS customers), as canonical events
/// of source `crm`.
pub(super) fn sms(lay: &Layout, p: &SimPerson, who: &Persona, since: f64, rng: &mut ChaCha8Rng, out: &mut ChunkOut) {
    let (_, _, _, sms_click) = p.kind.engagement();
    for (day, name) in lay.sms_campaigns.iter().filter(|(d, _)| *d >= since) {
        let sent = lay.at(*day) + Duration::seconds((p.index % 600) as i64);
        let line = |event_type, t| SmsLine {
            source: "crm",
            phone: format!("+86{}", who.phone),
            channel: "sms",
            event_type,
            ts: iso(t),
            campaign_id: name,
        };
        json_line(out, FileId::Events, rng, lay.malformed_rate, line("sms_sent", sent), |e| e.ts = BAD_TS.into());
        if rng.gen_bool(sms_click) {
            let t = sent + Duration::minutes(rng.gen_range(1..600));
            json_line(out, FileId::Events, rng, lay.malformed_rate, line("sms_click", t), |e| e.ts = BAD_TS.into());
        }
    }
}
