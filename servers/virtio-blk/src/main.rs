//! `virtio-blk`: the block-device driver for QEMU's virtio-blk-pci, as a
//! userspace server speaking the `blk-proto` protocol.
//!
//! What its spawner (init) passes, as `first_handle(n)`:
//!
//! | n | handle |
//! |---|---|
//! | 0 | I/O ports: PCI configuration (`0xcf8..=0xcff`) |
//! | 1 | DMA (`init_handles::DMA`) |
//! | 2..=9 | interrupt lines 16..=23 (`init_handles::irq(16 + k)`): the PCI lines; the driver keeps the one its device uses and closes the others |
//! | 10 | the channel to serve (with RECEIVE); the spawner keeps a connection to hand to clients |
//! | 11 | I/O ports: the PCI I/O window holding the device's I/O BAR |
//!
//! The spawner makes the channel (rather than the driver) so that the
//! endpoint outlives the driver: a restarted driver serves the same channel
//! and clients keep their connections.
//!
//! Start-up: find the device on the PCI bus, set it up (`setup`), bind its
//! interrupt line to the channel, then serve (`server`) until the channel
//! stops. Exit status 2 means no usable device, 3 bad handles; neither is
//! cured by a restart.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod hw;
mod legacy;
mod pcicfg;
mod server;
mod setup;

use alloc::format;
use alloc::string::String;

use abi::ipc::PULSE_CODE_IRQ;
use libipc::ipc::{Channel, Handle, Irq};
use libipc::{println, Args};

use crate::hw::Ports;
use crate::legacy::Legacy;

libipc::main!(main);

/// The first of the eight interrupt-line handles, and the line it names.
const FIRST_IRQ_HANDLE: u64 = 2;
const FIRST_IRQ_LINE: u8 = 16;
const IRQ_HANDLES: u8 = 8;
/// The handle of the channel to serve.
const CHANNEL_HANDLE: u64 = 10;
/// The handle to the ports the device's I/O BAR may lie in, which start
/// at `BAR_WINDOW_START` (init's manifest grants up to 0xffff).
const BAR_PORTS_HANDLE: u64 = 11;
const BAR_WINDOW_START: u32 = 0x1000;

fn main(_args: Args) -> i32 {
    match run() {
        Ok(stopped) => {
            println!("virtio-blk: channel stopped ({stopped}); exiting");
            0
        }
        Err((status, why)) => {
            println!("virtio-blk: {why}");
            status
        }
    }
}

/// Exit status: no usable device.
const NO_DEVICE: i32 = 2;
/// Exit status: start-up handles missing or unusable.
const BAD_HANDLES: i32 = 3;

/// Starts the device and serves until the channel stops (the error that
/// stopped it); `Err` is an exit status and why.
fn run() -> Result<abi::Error, (i32, String)> {
    let (Some(ports), Some(dma), Some(channel)) =
        (Handle::initial(0), Handle::initial(1), Handle::initial(CHANNEL_HANDLE))
    else {
        return Err((BAD_HANDLES, "start-up handles missing".into()));
    };
    let channel = Channel::from_handle(channel);
    let bar_ports = Handle::initial(BAR_PORTS_HANDLE).ok_or((BAD_HANDLES, String::from("no BAR port handle")))?;
    let no_access = |e| (BAD_HANDLES, format!("no I/O port access: {e}"));
    let ports = Ports::enable(&ports).map_err(no_access)?;
    Ports::enable(&bar_ports).map_err(no_access)?;
    let found = setup::find(&ports).map_err(|why| (NO_DEVICE, why))?;
    if u32::from(found.io_base) < BAR_WINDOW_START {
        // Touching it would fault: the handle does not cover it.
        return Err((NO_DEVICE, format!("I/O BAR at {:#x}, below the granted window", found.io_base)));
    }
    let irq = take_irq(found.line);
    let dev = Legacy::new(&ports, found.io_base);
    let (mut engine, features) =
        setup::start(&dev, &dma).map_err(|why| (NO_DEVICE, format!("device set-up failed: {why}")))?;
    let irq = irq.and_then(|irq| match irq.bind(&channel, PULSE_CODE_IRQ) {
        Ok(()) => Some(irq),
        Err(e) => {
            println!("virtio-blk: cannot bind the interrupt ({e}); polling");
            None
        }
    });
    announce(&found, irq.is_some(), &engine.info(), features);
    Ok(server::run(&channel, irq.as_ref(), &dev, &mut engine))
}

/// One line about the device, for the log.
fn announce(found: &setup::Found, interrupts: bool, info: &blk_proto::Info, features: u32) {
    let at = found.at;
    let line = match found.line {
        Some(line) if interrupts => format!("line {line}"),
        _ => String::from("polled"),
    };
    let read_only = if info.read_only() { ", read-only" } else { "" };
    let cache = if info.flags & blk_proto::info_flags::FLUSH != 0 { ", write cache" } else { "" };
    println!(
        "virtio-blk: {:02x}:{:02x}.{} io {:#x} {line}, {} sectors ({} MiB){read_only}{cache}, features {features:#x}",
        at.bus,
        at.slot,
        at.func,
        found.io_base,
        info.capacity,
        info.capacity / 2048,
    );
}

/// Claims the interrupt-line handles and keeps the one for `line` (the
/// others are closed as they drop).
fn take_irq(line: Option<u8>) -> Option<Irq> {
    let mut kept = None;
    for k in 0..IRQ_HANDLES {
        let handle = Handle::initial(FIRST_IRQ_HANDLE + u64::from(k));
        if line == Some(FIRST_IRQ_LINE + k) {
            kept = handle.map(Irq::from_handle);
        }
    }
    if kept.is_none() {
        println!("virtio-blk: no handle for interrupt line {line:?}; polling");
    }
    kept
}
