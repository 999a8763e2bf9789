//! Arbitrary bytes through the `woocommerce-webtoffee` adapter: never a panic, and every record read is accounted
//! for exactly once (a unit's row or a reject).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let m = custlens::ingest::adapters::by_name("woocommerce-webtoffee")
        .expect("adapter exists")
        .mapping()
        .expect("adapter mapping checks");
    if let Ok((read, accounted)) = custlens::ingest::dry_run(data, &m) {
        assert_eq!(read, accounted);
    }
});
