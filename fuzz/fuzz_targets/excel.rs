//! Workbook bytes (`.xlsx` zip or `.xls` compound file) through the adapters that read Excel
//! fixtures: never a panic escaping custlens, and every record read is accounted for exactly once.
//! Note: libfuzzer-sys aborts on any panic, also one custlens catches inside calamine (see
//! `ingest::read::read_workbook`), so this target also finds calamine's own panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for name in ["pinduoduo", "jd", "douyin"] {
        let m = custlens::ingest::adapters::by_name(name)
            .expect("adapter exists")
            .mapping()
            .expect("adapter mapping checks");
        if let Ok((read, accounted)) = custlens::ingest::dry_run(data, &m) {
            assert_eq!(read, accounted);
        }
    }
});
