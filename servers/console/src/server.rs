//! The console's event loop: requests from clients, interrupt pulses from
//! the UART, and the work between them (draining the receiver, feeding the
//! transmitter).
//!
//! One thread, one channel. It blocks in `receive` (with no timeout, so an
//! idle console costs nothing and never wakes the scheduler; only a
//! loopback test polls) and handles what comes:
//!
//! - **Interrupt pulse** (IRQ 4): [`Server::service`] drains the receive
//!   FIFO and refills the transmit FIFO until the UART reports nothing
//!   pending (so its interrupt output drops), then `irq_ack` unmasks the
//!   line, then it services once more. The second pass matters: the line is
//!   edge-triggered, and an edge that came while it was masked is lost, so
//!   whatever arrived between the first pass and the unmask is picked up
//!   here; anything later makes a fresh edge.
//! - **Write**: the bytes go into the [`TxBuffer`] whole (a writer whose
//!   message does not fit waits, unanswered, in order) and the writer is
//!   answered at once. The transmitter is fed while the UART says its FIFO
//!   is empty, 16 bytes at a time; if bytes remain, the "transmitter empty"
//!   interrupt is switched on and each such interrupt feeds it again (and
//!   it is switched off once the buffer is empty, so an idle console takes
//!   no interrupts). Under QEMU the FIFO drains at once and the buffer
//!   rarely holds anything; on a real 115200-baud line it smooths bursts.
//! - **Reads, Ctrl-C, subscriptions**: [`Input`] decides; this file carries
//!   out its actions.
//!
//! Bytes still in the buffer are lost if the console is killed (writers
//! were already answered); under QEMU that is almost never more than the
//! message being written.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use abi::Error;
use console::input::{Action, Input};
use console::tx::TxBuffer;
use libipc::console::{self as proto, op, Stats, MAX_LINE, PULSE_INTERRUPT, READ_NO_ECHO};
use libipc::ipc::{error_reply, reply, Channel, Connection, Irq, Message, Received, MAX_MESSAGE};

use crate::uart::{Uart, TX_FIFO};

/// The pulse code the UART's interrupts arrive with.
pub const IRQ_CODE: u64 = 1;
/// The wait while a loopback test runs.
const LOOPBACK_POLL: Duration = Duration::from_millis(2);
/// How long a loopback test may take.
const LOOPBACK_LIMIT_NS: u64 = 500_000_000;
/// Transmit buffer size.
const TX_CAPACITY: usize = 16 * 1024;
/// Most service rounds per interrupt (each drains and refills the FIFOs).
const MAX_ROUNDS: usize = 4096;

/// A loopback test in progress.
struct Loopback {
    rcvid: u64,
    want: usize,
    got: Vec<u8>,
    deadline_ns: u64,
}

/// The console.
pub struct Server {
    uart: Uart,
    irq: Irq,
    channel: Channel,
    tx: TxBuffer,
    /// Writers whose message did not fit yet: receive id and message.
    writers: VecDeque<(u64, Vec<u8>)>,
    /// `FLUSH` requests waiting for the buffer to empty.
    flushers: Vec<u64>,
    input: Input,
    /// Who gets the Ctrl-C pulse: its pid and a connection to its channel.
    subscriber: Option<(u64, Connection)>,
    loopback: Option<Loopback>,
    stats: Stats,
}

impl Server {
    /// A console on `uart`, its interrupts bound to `channel` through `irq`.
    pub fn new(uart: Uart, irq: Irq, channel: Channel) -> Server {
        Server {
            uart,
            irq,
            channel,
            tx: TxBuffer::new(TX_CAPACITY),
            writers: VecDeque::new(),
            flushers: Vec::new(),
            input: Input::new(MAX_LINE),
            subscriber: None,
            loopback: None,
            stats: Stats::default(),
        }
    }

    /// Serves until the channel fails.
    pub fn run(mut self) -> Error {
        let mut buf = vec![0u8; MAX_MESSAGE];
        // Whatever was typed before we started.
        self.service();
        loop {
            let got = if self.loopback.is_some() {
                self.channel.receive_timeout(&mut buf, LOOPBACK_POLL)
            } else {
                self.channel.receive(&mut buf)
            };
            match got {
                Ok(Received::Message(m)) => {
                    let len = m.len.min(buf.len());
                    self.request(m, &buf[..len]);
                }
                Ok(Received::AsyncMessage(m)) => {
                    let _ = error_reply(m.rcvid, Error::BadArgument);
                }
                Ok(Received::Pulse { code: IRQ_CODE, .. }) => {
                    self.stats.irqs += 1;
                    self.service();
                    let _ = self.irq.ack();
                    self.service();
                }
                Ok(Received::Pulse { .. } | Received::AsyncReply { .. }) => {}
                Err(Error::TimedOut) => self.service(),
                Err(e) => return e,
            }
            self.finish_loopback();
        }
    }

    fn request(&mut self, m: Message, msg: &[u8]) {
        let Some((code, payload)) = proto::parse_request(msg) else {
            let _ = error_reply(m.rcvid, Error::BadArgument);
            return;
        };
        match code {
            op::WRITE => self.write(m.rcvid, payload),
            op::READ_LINE => {
                let flags = payload.first_chunk::<4>().map_or(0, |b| u32::from_le_bytes(*b));
                let actions = self.input.read_line(m.rcvid, flags & READ_NO_ECHO == 0);
                self.perform(actions);
            }
            op::READ_RAW => {
                let max = payload.first_chunk::<4>().map_or(1, |b| u32::from_le_bytes(*b) as usize);
                let actions = self.input.read_raw(m.rcvid, max.min(MAX_MESSAGE));
                self.perform(actions);
            }
            op::SUBSCRIBE => match m.handle {
                Some(h) => {
                    self.subscriber = Some((m.sender_pid, Connection::from_handle(h)));
                    let _ = reply(m.rcvid, 0, &[]);
                }
                None => {
                    let _ = error_reply(m.rcvid, Error::BadArgument);
                }
            },
            op::UNSUBSCRIBE => {
                if self.subscriber.as_ref().is_some_and(|(pid, _)| *pid == m.sender_pid) {
                    self.subscriber = None;
                }
                let _ = reply(m.rcvid, 0, &[]);
            }
            op::STATS => {
                let c = self.input.counters;
                let stats = Stats {
                    lines: c.lines,
                    interrupts: c.interrupts,
                    dropped: c.dropped + self.stats.dropped,
                    waiting_readers: self.input.waiting() as u64,
                    ..self.stats
                };
                let _ = reply(m.rcvid, 0, &stats.to_bytes());
            }
            op::INJECT => {
                let _ = reply(m.rcvid, 0, &[]);
                let actions = self.input.typed(payload);
                self.perform(actions);
            }
            op::LOOPBACK => self.start_loopback(m.rcvid, payload),
            op::FLUSH => {
                self.flushers.push(m.rcvid);
                self.pump();
            }
            _ => {
                let _ = error_reply(m.rcvid, Error::BadArgument);
            }
        }
    }

    fn write(&mut self, rcvid: u64, bytes: &[u8]) {
        self.stats.writes += 1;
        if self.writers.is_empty() && self.tx.push_message(bytes) {
            // Feed the UART first: under QEMU the bytes are on the wire
            // before the writer runs again.
            self.pump();
            let _ = reply(rcvid, bytes.len() as i64, &[]);
        } else {
            self.writers.push_back((rcvid, bytes.to_vec()));
        }
    }

    /// Carries out what the input side decided.
    fn perform(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Reply { rcvid, status, data } => {
                    let _ = reply(rcvid, status, &data);
                }
                Action::Busy { rcvid } => {
                    let _ = error_reply(rcvid, Error::QueueFull);
                }
                Action::Echo(bytes) => {
                    self.tx.push_raw(&bytes);
                    self.pump();
                }
                Action::Interrupt => self.notify_interrupt(),
            }
        }
    }

    fn notify_interrupt(&mut self) {
        let count = self.input.counters.interrupts;
        if let Some((_, conn)) = &self.subscriber {
            if let Err(Error::PeerDied | Error::BadHandle) = conn.pulse(PULSE_INTERRUPT, count) {
                self.subscriber = None;
            }
        }
    }

    /// Drains the receiver and feeds the transmitter until the UART has
    /// nothing pending; hands what was received to the input side.
    fn service(&mut self) {
        let mut received = Vec::new();
        for _ in 0..MAX_ROUNDS {
            let pending = self.uart.interrupt_pending();
            let mut got = false;
            loop {
                let (byte, overrun) = self.uart.receive();
                if overrun {
                    self.stats.dropped += 1;
                }
                let Some(b) = byte else { break };
                received.push(b);
                got = true;
            }
            self.pump();
            if !pending && !got {
                break;
            }
        }
        if received.is_empty() {
            return;
        }
        self.stats.rx_bytes += received.len() as u64;
        if let Some(test) = &mut self.loopback {
            test.got.extend_from_slice(&received);
            return;
        }
        let actions = self.input.typed(&received);
        self.perform(actions);
    }

    /// Moves bytes from the buffer to the UART while it takes them, admits
    /// waiting writers as room appears, and asks for the "transmitter
    /// empty" interrupt only while bytes remain.
    fn pump(&mut self) {
        if self.loopback.is_some() {
            return;
        }
        loop {
            let mut fifo = [0u8; TX_FIFO];
            while !self.tx.is_empty() && self.uart.can_send() {
                let n = self.tx.take(&mut fifo);
                for &b in &fifo[..n] {
                    self.uart.send(b);
                }
                self.stats.tx_bytes += n as u64;
            }
            let mut admitted = false;
            while let Some((rcvid, bytes)) = self.writers.front() {
                if !self.tx.push_message(bytes) {
                    break;
                }
                let _ = reply(*rcvid, bytes.len() as i64, &[]);
                self.writers.pop_front();
                admitted = true;
            }
            if !admitted {
                break;
            }
        }
        self.uart.want_tx_interrupt(!self.tx.is_empty());
        if self.tx.is_empty() && self.writers.is_empty() {
            for rcvid in self.flushers.drain(..) {
                let _ = reply(rcvid, 0, &[]);
            }
        }
    }

    fn start_loopback(&mut self, rcvid: u64, bytes: &[u8]) {
        if self.loopback.is_some() || bytes.is_empty() || bytes.len() > TX_FIFO {
            let _ = error_reply(rcvid, Error::BadArgument);
            return;
        }
        // What waits must reach the line before the transmitter is looped.
        let deadline = libipc::time_ns() + LOOPBACK_LIMIT_NS;
        while !self.tx.is_empty() && libipc::time_ns() < deadline {
            self.pump();
        }
        while !self.uart.can_send() && libipc::time_ns() < deadline {}
        if !self.tx.is_empty() || !self.uart.can_send() {
            let _ = error_reply(rcvid, Error::WouldBlock);
            return;
        }
        self.uart.set_loopback(true);
        for &b in bytes {
            self.uart.send(b);
        }
        self.stats.tx_bytes += bytes.len() as u64;
        self.loopback = Some(Loopback { rcvid, want: bytes.len(), got: Vec::new(), deadline_ns: deadline });
    }

    /// Ends the loopback test once everything came back or time is up.
    fn finish_loopback(&mut self) {
        let done = self.loopback.as_ref().is_some_and(|t| t.got.len() >= t.want || libipc::time_ns() >= t.deadline_ns);
        if !done {
            return;
        }
        if let Some(test) = self.loopback.take() {
            self.uart.set_loopback(false);
            let _ = reply(test.rcvid, test.got.len() as i64, &test.got);
            self.pump();
        }
    }
}
