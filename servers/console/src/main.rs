//! `console`: the serial console server, a userspace driver for COM1 (a
//! 16550 UART). Everything userspace prints reaches the terminal through it
//! (`libipc::io` sends each `println!` here), and the shell reads its lines
//! from it. The protocol is `libipc::console`.
//!
//! From init (`servers/init/src/manifest.rs`) it gets `first_handle(0)`, the
//! name service connection; `first_handle(1)`, the I/O ports (COM1 is
//! `0x3f8..=0x3ff`; the handle covers every port until the kernel can grant
//! ranges); `first_handle(2)`, interrupt line 4. Arguments: `prio=N` sets
//! its priority (init passes the manifest's).
//!
//! It starts by taking over the UART's interrupts, binds IRQ 4 to its
//! channel, registers the name `console` and serves (`server.rs`). Its own
//! messages go to the kernel log: it cannot send to itself.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod server;
mod uart;

use libipc::ipc::{Channel, Handle, Irq};
use libipc::{println, Args};

use server::{Server, IRQ_CODE};
use uart::{Uart, COM1};

libipc::main!(main);

fn main(args: Args) -> i32 {
    libipc::console::use_kernel_log();
    libipc::server::apply_priority(&args);
    match start() {
        Ok(server) => {
            let e = server.run();
            println!("console: receive failed: {e}");
            1
        }
        Err((what, e)) => {
            println!("console: {what}: {e}");
            1
        }
    }
}

/// Takes the UART, binds its interrupt and registers the name.
fn start() -> Result<Server, (&'static str, libipc::Error)> {
    let (Some(ports), Some(line)) = (Handle::initial(1), Handle::initial(2)) else {
        return Err(("needs the I/O ports and IRQ 4 as first_handle(1), (2)", libipc::Error::BadHandle));
    };
    let uart = Uart::new(COM1, &ports).map_err(|e| ("ioports_enable", e))?;
    let channel = Channel::create().map_err(|e| ("channel_create", e))?;
    let irq = Irq::from_handle(line);
    irq.bind(&channel, IRQ_CODE).map_err(|e| ("irq_bind(4)", e))?;
    libipc::names::register(libipc::console::NAME, &channel).map_err(|e| ("register", e))?;
    Ok(Server::new(uart, irq, channel))
}
