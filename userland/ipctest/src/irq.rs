//! Interrupts as pulses: the RTC (CMOS, ISA IRQ 8, ports 0x70/0x71) is set
//! to interrupt periodically, its line is bound to a channel, and its
//! pulses arrive there, one per acknowledgement. Needs the I/O port handle
//! as `first_handle(0)` and interrupt line 8 as `first_handle(1)` from the
//! spawner (init). `ioports_narrow` narrows that port handle further.
#![forbid(clippy::undocumented_unsafe_blocks)]

use core::time::Duration;

use libipc::ipc::{self, raw, Channel, Handle, Irq, Received};
use libipc::{sys, Error};

use crate::ensure;
use crate::harness::{expect_err, ok, stats, Outcome};

/// The pulse code the line is bound with.
const CODE: u64 = abi::ipc::PULSE_CODE_IRQ + 8;
/// RTC registers (with bit 7 set: NMI stays disabled while we index).
const REG_A: u8 = 0x8a;
const REG_B: u8 = 0x8b;
const REG_C: u8 = 0x8c;
/// Register B: periodic interrupt enable.
const PIE: u8 = 0x40;
/// Register C: a periodic interrupt happened.
const PF: u8 = 0x40;
/// Register A rate 10: 64 Hz.
const RATE_64HZ: u8 = 0x0a;
/// Pulses to receive.
const PULSES: u64 = 4;

/// Reads or writes an RTC register.
#[allow(unsafe_code)]
fn cmos(reg: u8, write: Option<u8>) -> u8 {
    // SAFETY: ports 0x70/0x71 reach only the CMOS RTC and its NVRAM, which
    // does no DMA and holds nothing this program's memory depends on; we
    // touch registers A-C only. (Without the ports enabled the CPU would
    // fault and end the process, which is not unsound either.)
    unsafe {
        raw::outb(0x70, reg);
        match write {
            Some(v) => {
                raw::outb(0x71, v);
                v
            }
            None => raw::inb(0x71),
        }
    }
}

/// Narrowing the port handle init gave (0x70..=0x71): only inside it, and a
/// process given the narrower handle can use its port and faults on the
/// one next to it.
pub fn ioports_narrow() -> Outcome {
    let ports = abi::syscall::first_handle(0);
    expect_err("narrow below the range", raw::ioports_narrow(ports, 0x6f, 2).map(drop), Error::BadArgument)?;
    expect_err("narrow past the range", raw::ioports_narrow(ports, 0x71, 2).map(drop), Error::BadArgument)?;
    expect_err("narrow to no port", raw::ioports_narrow(ports, 0x70, 0).map(drop), Error::BadArgument)?;
    let ch = ok("channel_create", Channel::create())?;
    expect_err("narrow a channel", raw::ioports_narrow(ch.handle().raw(), 0, 1).map(drop), Error::BadHandle)?;
    let data_port = ok("narrow to 0x71", raw::ioports_narrow(ports, 0x71, 1))?;
    for (port, want) in [(0x71u16, 0), (0x70, abi::EXIT_FAULTED)] {
        let args = alloc::format!("ports-in {port}");
        let child = ok("spawn crash", sys::spawn(b"crash", args.as_bytes(), &[data_port.raw()]))?;
        let status = ok("wait for crash", sys::wait(child.raw()))?;
        ensure!(status == want, "crash {args} with port 0x71 only: status {status}, expected {want}");
    }
    Ok(())
}

pub fn irq_pulse() -> Outcome {
    let (Some(ports), Some(line)) = (Handle::initial(0), Handle::initial(1)) else {
        return Err("the spawn-time handles were already claimed".into());
    };
    // Refused without the right handles.
    let ch = ok("channel_create", Channel::create())?;
    expect_err("ioports_enable with a channel", ipc::ioports_enable(ch.handle()), Error::BadHandle)?;
    let not_irq = Irq::from_handle(ok("dup", ch.dup(abi::ipc::rights::RECEIVE))?.into_handle());
    expect_err("irq bind with a channel as the line", not_irq.bind(&ch, CODE), Error::BadHandle)?;

    ipc::ioports_enable(&ports)
        .map_err(|e| alloc::format!("ioports_enable(first_handle(0)): {e:?} (init must pass IOPORTS, then irq(8))"))?;
    let irq = Irq::from_handle(line);
    expect_err("ack before binding", irq.ack(), Error::BadState)?;
    ok("irq bind (first_handle(1) must be irq(8))", irq.bind(&ch, CODE))?;

    let before = stats()?;
    let a = cmos(REG_A, None);
    cmos(REG_A, Some((a & 0xf0) | RATE_64HZ));
    let b = cmos(REG_B, None);
    cmos(REG_B, Some(b | PIE));
    cmos(REG_C, None);
    let result = receive_pulses(&ch, &irq);
    // Quiet the device whatever happened; the line stays masked (unacked).
    let b = cmos(REG_B, None);
    cmos(REG_B, Some(b & !PIE));
    cmos(REG_C, None);
    result?;
    let pulses = stats()?.pulses - before.pulses;
    ensure!(pulses >= PULSES, "the pulse counter went up by {pulses}, expected at least {PULSES}");
    Ok(())
}

fn receive_pulses(ch: &Channel, irq: &Irq) -> Outcome {
    let mut buf = [0u8; 8];
    for i in 0..PULSES {
        match ch.receive_timeout(&mut buf, Duration::from_secs(1)) {
            Ok(Received::Pulse { code: CODE, value: 8 }) => {}
            Ok(other) => return Err(alloc::format!("interrupt {i}: expected pulse ({CODE:#x}, 8), got {other:?}")),
            Err(e) => return Err(alloc::format!("interrupt {i}: {e:?} (no RTC interrupt arrived)")),
        }
        // Tell the device, then the kernel: the line may fire again.
        let c = cmos(REG_C, None);
        ensure!(c & PF != 0, "interrupt {i}: register C {c:#x} shows no periodic interrupt");
        if i + 1 < PULSES {
            ok("irq ack", irq.ack())?;
        }
    }
    Ok(())
}
