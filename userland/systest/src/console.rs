//! The console server: the write path (`println!` goes through it), the
//! UART's receive path (loopback through the interrupt), line editing and
//! Ctrl-C delivery (input injected as if typed: the real terminal is driven
//! by the host-side shell test).
//!
//! Reads here ask for no echo, so the injected text does not show in the
//! test log (line ends and `^C` still do).
#![forbid(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use libipc::console::{Console, Input, PULSE_INTERRUPT, READ_NO_ECHO};
use libipc::ipc::{Channel, Received};
use libipc::sync::Mutex;
use libipc::{println, thread, Error, Result};

use crate::ensure;
use crate::harness::{expect_err, ok, poll, Outcome};

fn console() -> core::result::Result<Console, alloc::string::String> {
    ok("look the console up", Console::connect())
}

pub fn write_path() -> Outcome {
    let c = console()?;
    let before = ok("stats", c.stats())?;
    let line = "systest: this line went through the console";
    println!("{line}");
    let after = ok("stats", c.stats())?;
    ensure!(
        after.writes > before.writes,
        "println did not reach the console (writes {} -> {})",
        before.writes,
        after.writes
    );
    ensure!(
        after.tx_bytes >= before.tx_bytes + line.len() as u64 + 2,
        "the console sent {} bytes for a {}-byte line",
        after.tx_bytes - before.tx_bytes,
        line.len() + 1
    );
    ok("write", c.write(b"systest: and this one with Console::write\n"))?;
    ok("flush", c.flush(Duration::from_secs(1)))?;
    Ok(())
}

pub fn loopback() -> Outcome {
    let c = console()?;
    let before = ok("stats", c.stats())?;
    let sent = b"loopback-0123456";
    let got = ok("loopback", c.loopback(sent))?;
    ensure!(got == sent, "sent {sent:?} through the UART, got {got:?} back");
    let after = ok("stats", c.stats())?;
    ensure!(
        after.rx_bytes >= before.rx_bytes + sent.len() as u64,
        "rx_bytes {} -> {}",
        before.rx_bytes,
        after.rx_bytes
    );
    println!("systest: loopback came back with {} interrupt(s)", after.irqs - before.irqs);
    Ok(())
}

type Slot<T> = Arc<Mutex<Option<Result<T>>>>;

/// Starts a thread blocked in `read_line` (no echo) on its own connection,
/// and waits until the console counts it as waiting.
fn blocked_reader(c: &Console) -> core::result::Result<(thread::JoinHandle, Slot<Input>), alloc::string::String> {
    blocked(c, |c| c.read_line_with(READ_NO_ECHO))
}

/// Starts a thread blocked in `read(console)` on its own connection, and
/// waits until the console counts it as waiting.
fn blocked<T: Send + 'static>(
    c: &Console,
    read: fn(&Console) -> Result<T>,
) -> core::result::Result<(thread::JoinHandle, Slot<T>), alloc::string::String> {
    let before = ok("stats", c.stats())?.waiting_readers;
    let slot: Slot<T> = Arc::new(Mutex::new(None));
    let out = slot.clone();
    let reader = ok(
        "thread",
        thread::spawn(move || {
            let r = Console::connect().and_then(|c| read(&c));
            *out.lock() = Some(r);
            0
        }),
    )?;
    let waiting = poll(Duration::from_secs(2), || c.stats().ok().filter(|s| s.waiting_readers > before));
    ensure!(waiting.is_some(), "the reader never blocked");
    Ok((reader, slot))
}

fn result_of<T>(reader: thread::JoinHandle, slot: Slot<T>) -> core::result::Result<T, alloc::string::String> {
    ok("join the reader", reader.join())?;
    let r = slot.lock().take();
    match r {
        Some(r) => ok("read", r),
        None => Err("the reader stored nothing".into()),
    }
}

fn line(s: &str) -> Input {
    Input::Line(s.as_bytes().to_vec())
}

pub fn line_editing() -> Outcome {
    let c = console()?;
    let (reader, slot) = blocked_reader(&c)?;
    ok("inject", c.inject(b"lx\x7fs  -l\x17-la\r"))?;
    let got = result_of(reader, slot)?;
    ensure!(got == line("ls  -la"), "edited line came back as {got:?}");

    // Typed ahead of the reads: kept in order; Ctrl-D on an empty line.
    ok("inject", c.inject(b"one\r\ntwo\r\x04"))?;
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(ok("read_line", c.read_line_with(READ_NO_ECHO))?);
    }
    ensure!(got == [line("one"), line("two"), Input::EndOfInput], "typed-ahead lines came back as {got:?}");
    Ok(())
}

pub fn ctrl_c() -> Outcome {
    let c = console()?;
    let chan = ok("channel_create", Channel::create())?;
    let notify = ok("connect", chan.connect())?;
    ok("subscribe", c.subscribe_interrupts(&notify))?;
    let (reader, slot) = blocked_reader(&c)?;
    ok("inject", c.inject(b"half a line\x03"))?;
    let got = result_of(reader, slot)?;
    ensure!(got == Input::Interrupted, "the reader got {got:?} for Ctrl-C");
    let mut buf = [0u8; 16];
    match chan.receive_timeout(&mut buf, Duration::from_secs(1)) {
        Ok(Received::Pulse { code: PULSE_INTERRUPT, .. }) => {}
        other => return Err(alloc::format!("expected the Ctrl-C pulse, got {other:?}")),
    }
    // Nothing is left over from the interrupted line.
    ok("inject", c.inject(b"after\r"))?;
    let got = ok("read_line", c.read_line_with(READ_NO_ECHO))?;
    ensure!(got == line("after"), "the line after Ctrl-C came back as {got:?}");

    ok("unsubscribe", c.unsubscribe_interrupts())?;
    ok("inject", c.inject(b"\x03"))?;
    expect_err(
        "a pulse after unsubscribing",
        chan.receive_timeout(&mut buf, Duration::from_millis(200)),
        Error::TimedOut,
    )?;
    Ok(())
}

/// Raw reads: bytes as typed (Ctrl-C too, while a raw reader waits);
/// bytes typed between raw reads wait for the next; Ctrl-C with no raw
/// reader waiting drops them and pulses the subscriber.
pub fn raw_reads() -> Outcome {
    let c = console()?;
    let chan = ok("channel_create", Channel::create())?;
    let notify = ok("connect", chan.connect())?;
    ok("subscribe", c.subscribe_interrupts(&notify))?;
    let (reader, slot) = blocked(&c, |c| c.read_raw(64))?;
    ok("inject", c.inject(b"q\x1b[A\x03"))?;
    let got = result_of(reader, slot)?;
    ensure!(got == b"q\x1b[A\x03", "the raw reader got {got:?}");

    // No reader now: kept raw, for the next raw read.
    ok("inject", c.inject(b"kept"))?;
    let got = ok("read_raw", c.read_raw(64))?;
    ensure!(got == b"kept", "bytes typed between raw reads came back as {got:?}");

    // Ctrl-C with no raw reader waiting: dropped input, and the pulse.
    ok("inject", c.inject(b"dropped\x03"))?;
    let mut buf = [0u8; 16];
    match chan.receive_timeout(&mut buf, Duration::from_secs(1)) {
        Ok(Received::Pulse { code: PULSE_INTERRUPT, .. }) => {}
        other => return Err(alloc::format!("expected the Ctrl-C pulse, got {other:?}")),
    }
    ok("unsubscribe", c.unsubscribe_interrupts())?;
    // Back to cooked: the raw bytes waiting go through the line editor.
    ok("inject", c.inject(b"x\r"))?;
    let got = ok("read_line", c.read_line_with(READ_NO_ECHO))?;
    ensure!(got == line("x"), "after Ctrl-C and back to cooked: {got:?}");
    Ok(())
}
