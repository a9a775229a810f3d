//! `init`, the first process. The kernel starts it with the kernel command
//! line as its arguments.
//!
//! - Test mode (the word `test` in the arguments): run the in-QEMU test suite
//!   `utest`, report its status and exit with it; the kernel turns init's
//!   exit into QEMU's exit code. `utest=a,b` on the command line runs only
//!   tests `a` and `b`.
//! - Otherwise: greet, run `hello`, then stay alive (later issues start the
//!   servers and the shell here and supervise them).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use core::time::Duration;

use libipc::{println, Args};

libipc::main!(main);

fn main(args: Args) -> i32 {
    if args.contains("test") {
        let selection = args.value("utest").unwrap_or("").replace(',', " ");
        let status = run("utest", selection.as_bytes());
        println!("init: utest exited with status {status}");
        return i32::try_from(status).unwrap_or(i32::MIN);
    }
    if args.contains("bench") {
        let status = run("ipcbench", args.as_bytes());
        return i32::try_from(status).unwrap_or(i32::MIN);
    }
    println!("init: hello from userspace (pid {})", libipc::getpid());
    let status = run("hello", b"from init");
    if status != 0 {
        println!("init: hello exited with status {status}");
    }
    loop {
        libipc::sleep(Duration::from_secs(3600));
    }
}

/// Runs a program to its end and returns its exit status; a program that
/// cannot be started counts as status -1 (after saying why).
fn run(name: &str, args: &[u8]) -> i64 {
    let child = match libipc::spawn(name, args) {
        Ok(child) => child,
        Err(e) => {
            println!("init: cannot start {name}: {e}");
            return -1;
        }
    };
    match child.wait() {
        Ok(status) => status,
        Err(e) => {
            println!("init: waiting for {name} failed: {e}");
            -1
        }
    }
}
