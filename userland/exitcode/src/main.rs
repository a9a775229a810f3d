//! `exitcode`: exits with the status its first argument names (a decimal
//! `i64`, default 0), to test that exit statuses travel back through `wait`
//! whole. `exitcode threads` instead tests that the last thread's exit ends
//! the process with that thread's code: the main thread exits with 5 while a
//! second thread sleeps, then exits with 23, so `wait` must report 23.
//! `exitcode hash <bytes>` exits with the FNV-1a hash of all its argument
//! bytes, to check that arguments arrive whole.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::time::Duration;

use libipc::{println, thread, Args};

libipc::main!(main);

/// The status `exitcode threads` must end with.
const LAST_THREAD_CODE: i64 = 23;

fn main(args: Args) -> i32 {
    match args.word(0) {
        None => 0,
        Some("threads") => last_thread_exits(),
        Some("hash") => libipc::exit(fnv1a(args.as_bytes()) as i64),
        Some(word) => match word.parse::<i64>() {
            Ok(status) => libipc::exit(status),
            Err(_) => {
                println!("exitcode: not a number: {word}");
                2
            }
        },
    }
}

fn last_thread_exits() -> ! {
    match thread::spawn(|| {
        libipc::sleep(Duration::from_millis(50));
        LAST_THREAD_CODE
    }) {
        // Detach: the main thread goes first.
        Ok(handle) => drop(handle),
        Err(e) => {
            println!("exitcode: thread spawn failed: {e}");
            libipc::exit(3);
        }
    }
    thread::exit(5)
}

/// 64-bit FNV-1a.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
