//! The echo server's protocol, for the server (`main.rs`) and its clients
//! (which depend on this crate as a library).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

libipc::protocol! {
    /// Requests to the echo server (registered as `"echo"`).
    pub mod echo = "echo", version 1 {
        /// Returns `text` unchanged.
        Echo = 1 => fn echo(text: String) -> String;
        /// Returns `text` reversed after `delay_ms` milliseconds; other
        /// requests are served meanwhile.
        Reverse = 2 => fn reverse(text: String, delay_ms: u32) -> String;
        /// Requests answered so far, and requests in progress (this one
        /// included).
        Stats = 3 => fn stats() -> (u64, u32);
    }
}
