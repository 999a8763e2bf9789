//! How soon the allocator (mimalloc, the binary's global allocator) returns freed memory.
//!
//! mimalloc v3 keeps freed memory for a second (`purge_delay`, default 1000 ms; ten times that
//! for its arenas) before it gives it back to the OS, which spares ingest, which frees and
//! allocates hundreds of megabytes a second, from faulting the same memory in again. A spilled
//! lake is the sign that memory is short: there that memory is hundreds of MB the kernel cannot
//! reclaim, so once a spilled lake's files are merged — through identity resolution and the
//! lake's writing — freed memory goes back at once ([`return_freed_memory_promptly`]), and what
//! the heaps hold already goes back first. That order matters: with a delay of 0, mimalloc's
//! collection skips the purges it scheduled before (`mi_arenas_try_purge` returns early), so
//! setting the delay first left the 350–500 MB the merge had freed held through identity
//! resolution (a 5M-customer list started it with 500 MB of anonymous memory; 7–25 MB now).
//! The merge itself keeps the default: its parts are freed and allocated again all the time, and
//! prompt returns there cost a 10M-event GA4 ingest in 1 GB 16% (112 s instead of 96, in the
//! ninth round). The lake kept in memory, and the analyses, keep the default too.
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
/// mimalloc's 1 s, and what every pool thread's heap and this thread's hold goes back now. Held
/// by identity resolution and the writing of a spilled lake (a guard taken while another is held
/// changes nothing). A `MIMALLOC_PURGE_DELAY` in the environment wins.
pub fn return_freed_memory_promptly() -> PromptReturns {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return PromptReturns { changed: false };
    }
    // SAFETY: plain calls into the linked mimalloc with an option id and a value, and
    // collections of its own heaps; none touches Rust-owned memory.
    unsafe {
        if mi_option_get(PURGE_DELAY) != DEFAULT_MS {
            return PromptReturns { changed: false };
        }
    }
    // What the heaps hold already goes back first, while the delay is still mimalloc's: with a
    // delay of 0 its collection skips the purges it had scheduled (`mi_arenas_try_purge` returns
    // early), which is how 500 MB the merge had freed stayed held through identity resolution.
    // Each pool thread's heap, then this thread's (which also purges the arenas).
    rayon::broadcast(|_| unsafe { mi_collect(true) });
    unsafe {
        mi_collect(true);
        mi_option_set(PURGE_DELAY, PROMPT_MS);
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
