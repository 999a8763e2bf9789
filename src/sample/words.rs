//! Word lists and the catalog the sample generator draws from (all invented).

#[rustfmt::skip]
pub const SURNAMES: &[(&str, &str)] = &[
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"), ("黄", "Huang"),
    ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"),
    ("胡", "Hu"), ("郭", "Guo"),
];
#[rustfmt::skip]
pub const GIVEN: &[(&str, &str)] = &[
    ("芳", "Fang"), ("伟", "Wei"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("丽", "Li"), ("强", "Qiang"),
    ("磊", "Lei"), ("洋", "Yang"), ("艳", "Yan"), ("勇", "Yong"), ("军", "Jun"), ("杰", "Jie"), ("娟", "Juan"),
    ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"), ("秀英", "Xiuying"), ("晓燕", "Xiaoyan"), ("建华", "Jianhua"),
    ("子涵", "Zihan"), ("欣怡", "Xinyi"), ("梓轩", "Zixuan"), ("雨桐", "Yutong"),
];
#[rustfmt::skip]
pub const PHONE_PREFIXES: &[&str] =
    &["130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "176", "186", "188"];
pub const NICK_ADJ: &[&str] = &["快乐的", "爱吃", "小", "阳光", "安静的", "会飞的"];
pub const NICK_NOUN: &[&str] = &["鱼", "猫咪", "兔子", "星星", "橙子", "小熊"];
/// Province, city, district, postcode, street.
#[rustfmt::skip]
pub const PLACES: &[(&str, &str, &str, &str, &str)] = &[
    ("浙江省", "杭州市", "西湖区", "310000", "文三路"), ("上海", "上海市", "静安区", "200040", "南京西路"),
    ("广东省", "深圳市", "南山区", "518000", "科技园路"), ("北京", "北京市", "朝阳区", "100020", "建国路"),
    ("江苏省", "南京市", "鼓楼区", "210008", "中山北路"), ("四川省", "成都市", "武侯区", "610041", "人民南路"),
];
#[rustfmt::skip]
pub const THEMES: [&str; 10] = [
    "new-year", "spring-sale", "mothers-day", "618", "summer", "back-to-school", "golden-week", "singles-day",
    "black-friday", "holiday",
];
/// Category, English name, Chinese name, USD price in cents.
#[rustfmt::skip]
pub const CATALOG: &[(&str, &str, &str, i64)] = &[
    ("Kitchen", "Nonstick Frying Pan 28cm", "不粘煎锅28厘米", 3990), ("Kitchen", "Stainless Steel Wok", "不锈钢炒锅", 5900),
    ("Kitchen", "Chef Knife 8in", "主厨刀8英寸", 2950), ("Kitchen", "Bamboo Cutting Board", "竹制砧板", 1890),
    ("Kitchen", "Ceramic Saucepan", "陶瓷奶锅", 3400), ("Kitchen", "Silicone Spatula Set", "硅胶铲套装", 1250),
    ("Kitchen", "Electric Kettle 1.7L", "电热水壶1.7升", 4500),
    ("Bedding", "Cotton Duvet Cover Queen", "纯棉被套双人", 6900), ("Bedding", "Linen Pillowcase Pair", "亚麻枕套一对", 2490),
    ("Bedding", "Memory Foam Pillow", "记忆棉枕头", 3900), ("Bedding", "Silk Sleep Mask", "真丝眼罩", 1590),
    ("Bedding", "Down Alternative Comforter", "仿羽绒被", 8900), ("Bedding", "Fitted Sheet Queen", "床笠双人", 3200),
    ("Bedding", "Weighted Blanket", "重力毯", 9900),
    ("Bath", "Turkish Cotton Towel", "土耳其棉浴巾", 2200), ("Bath", "Bath Mat", "浴室地垫", 1650),
    ("Bath", "Bamboo Bath Caddy", "竹制浴缸架", 2800), ("Bath", "Shower Curtain", "浴帘", 1990),
    ("Bath", "Soap Dispenser Set", "皂液器套装", 1490), ("Bath", "Bathrobe", "浴袍", 4900),
    ("Bath", "Toothbrush Holder", "牙刷架", 990),
    ("Decor", "Ceramic Vase", "陶瓷花瓶", 2600), ("Decor", "Scented Candle", "香薰蜡烛", 1800),
    ("Decor", "Wall Clock", "挂钟", 3500), ("Decor", "Table Lamp", "台灯", 5800),
    ("Decor", "Photo Frame Set", "相框套装", 2190), ("Decor", "Throw Pillow Cover", "抱枕套", 1290),
    ("Storage", "Storage Basket", "收纳篮", 1900), ("Storage", "Drawer Organizer", "抽屉收纳盒", 1350),
    ("Storage", "Shoe Rack", "鞋架", 3600), ("Storage", "Under-bed Storage Bag", "床底收纳袋", 1790),
    ("Storage", "Wall Shelf", "墙面置物架", 4400), ("Storage", "Jewelry Box", "首饰盒", 2750),
    ("Tableware", "Porcelain Dinner Plate Set", "骨瓷餐盘套装", 4800), ("Tableware", "Glass Tumbler Set", "玻璃杯套装", 2250),
    ("Tableware", "Wooden Chopsticks 10 Pairs", "实木筷子10双", 950), ("Tableware", "Ceramic Rice Bowl Set", "陶瓷饭碗套装", 1990),
    ("Tableware", "Stainless Cutlery Set", "不锈钢刀叉套装", 3200), ("Tableware", "Teapot", "茶壶", 3800),
    ("Tableware", "Coffee Mug", "咖啡杯", 1190),
];
