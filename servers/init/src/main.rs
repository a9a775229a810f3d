//! `init`, the first process. The kernel starts it with the kernel command
//! line as its arguments and every device capability in its handle table
//! (`abi::syscall::init_handles`). It hosts the name service, starts the
//! servers of its manifest (`manifest.rs`) and keeps them running
//! (`supervisor.rs`).
//!
//! - A normal boot: start the `boot` servers in order (console, virtio-blk,
//!   fs, the shell), then supervise them for ever.
//! - Test mode (`test` in the arguments): run the test suites
//!   (`testmode.rs`: those that need no servers first, then the `test`
//!   servers start and the rest run), and power off with the number of
//!   failed suites as the status (0 = success), which the kernel turns into
//!   QEMU's exit code.
//! - Bench mode (`bench`): run `ipcbench` with the command line as its
//!   arguments, no servers (so nothing disturbs the measurement), and power
//!   off with its status.
//!
//! init prints to the kernel log directly, never through the console it
//! supervises.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod child;
mod shutdown;
mod supervisor;
mod system;
mod testmode;

use core::time::Duration;

use libipc::{println, thread, Args};
use spin::Once;

use supervisor::Mode;
use system::System;

libipc::main!(main);

/// The shared state, for the threads (made once, never dropped).
static SYSTEM: Once<System> = Once::new();

fn main(args: Args) -> i32 {
    libipc::console::use_kernel_log();
    if args.contains("bench") {
        // Power off with ipcbench's status, so `make bench` ends at once.
        let status = run_bench(args);
        let e = libipc::sys::shutdown(status);
        println!("init: the shutdown call failed: {e}");
        return i32::try_from(status).unwrap_or(i32::MIN);
    }
    let mode = if args.contains("test") { Mode::Test } else { Mode::Boot };
    let system = match System::new() {
        Ok(s) => SYSTEM.call_once(|| s),
        Err(e) => {
            println!("init: cannot make its channel: {e}");
            return 1;
        }
    };
    if let Err(e) = thread::spawn(move || system.serve()) {
        println!("init: cannot start the name service thread: {e}");
        return 1;
    }
    println!("init: pid {}, name service up", libipc::getpid());
    match mode {
        Mode::Test => {
            // Starts the servers itself, after the suites that need none.
            let failed = testmode::run(system, &args);
            shutdown::power_off(system, failed as i64)
        }
        Mode::Boot => {
            supervisor::start_all(system, mode);
            loop {
                libipc::sleep(Duration::from_secs(3600));
            }
        }
    }
}

/// Runs `ipcbench` with the command line as its arguments; its status.
fn run_bench(args: Args) -> i64 {
    let child = match libipc::spawn("ipcbench", args.as_bytes()) {
        Ok(child) => child,
        Err(e) => {
            println!("init: cannot start ipcbench: {e}");
            return -1;
        }
    };
    child.wait().unwrap_or(-1)
}
