//! How soon the allocator (mimalloc, the binary's global allocator) returns freed memory.
//!
//! mimalloc v3 keeps freed memory for a second (`purge_delay`, default 1000 ms; ten times that
//! for its arenas) before it gives it back to the OS, which spares ingest, which frees and
//! allocates hundreds of megabytes a second, from faulting the same memory in again. A spilled
//! lake is the sign that memory is short: there that memory is hundreds of MB the kernel cannot
//! reclaim, so from the spill on — the merge of each file into a spilled lake, identity
//! resolution and the lake's writing — freed memory goes back at once
//! ([`return_freed_memory_promptly`]). Setting it only as identity resolution starts is too
//! late: what the merge freed before stays held (a 5M-customer list started identity with
//! 500 MB of anonymous memory, 20 MB with prompt returns from the spill on), and no
//! `mi_collect` of this thread or of every pool thread gives it back. It costs the merge some
//! system time (parts in flight are freed and allocated all the time: a 10M-event GA4 ingest in
//! 1 GB took 70 s instead of 67, system time 40 s instead of 30, when measured in the sixth round).
//! The lake kept in memory, and the analyses, keep mimalloc's default.
//!
//! Written by hand: the `mimalloc` crate does not export `mi_option_get`/`mi_option_set` (only
//! with its `extended` feature, which builds more of the C library). Without mimalloc as the
//! global allocator (library tests) the call only tunes mimalloc's own unused heap.

use std::ffi::{c_int, c_long};

// Links mimalloc's C library, whose option is set here, into every binary of the crate.
extern crate mimalloc;

/// mimalloc v3's `mi_option_purge_delay` (its number in `mi_option_e`).
const PURGE_DELAY: c_int = 15;
/// v3's default for it: reading it back is how we know the option number is the one we expect.
const DEFAULT_MS: c_long = 1000;
const PROMPT_MS: c_long = 0;

extern "C" {
    fn mi_option_get(option: c_int) -> c_long;
    fn mi_option_set(option: c_int, value: c_long);
    fn mi_collect(force: bool);
}

/// Until the guard is dropped, freed memory goes back to the OS at once instead of after
/// mimalloc's 1 s, and this thread's freed memory goes back now. Held while a file merges into a
/// spilled lake, and by identity resolution and the writing of a spilled lake (a guard taken
/// while another is held changes nothing). A `MIMALLOC_PURGE_DELAY` in the environment wins.
pub fn return_freed_memory_promptly() -> PromptReturns {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return PromptReturns { changed: false };
    }
    // SAFETY: plain calls into the linked mimalloc with an option id and a value, and a
    // collection of its own heap; none touches Rust-owned memory.
    unsafe {
        if mi_option_get(PURGE_DELAY) != DEFAULT_MS {
            return PromptReturns { changed: false };
        }
        mi_option_set(PURGE_DELAY, PROMPT_MS);
        // And what this thread's heap holds already.
        mi_collect(true);
    }
    tracing::debug!("freed memory is returned to the OS at once");
    PromptReturns { changed: true }
}

/// Restores mimalloc's purge delay when dropped ([`return_freed_memory_promptly`]).
#[must_use = "prompt returns end when the guard is dropped"]
pub struct PromptReturns {
    changed: bool,
}

impl Drop for PromptReturns {
    fn drop(&mut self) {
        if self.changed {
            // SAFETY: as above.
            unsafe { mi_option_set(PURGE_DELAY, DEFAULT_MS) }
        }
    }
}
