//! Running a program in the foreground: spawn it, wait for it to end, and
//! kill it if the user types Ctrl-C meanwhile.
//!
//! Two things can end the wait, so the shell waits for both on one channel
//! of its own, made for the run: a helper thread blocks in `wait` on the
//! child and pulses [`EXITED`] with the status; the console pulses
//! [`INTERRUPT_PULSE`] when Ctrl-C is typed, the channel being its
//! subscriber for the run (`svc::console`). On
//! Ctrl-C the shell kills the child and keeps waiting for the `EXITED`
//! pulse, so the child is always reaped before the prompt returns.

use abi::{EXIT_FAULTED, EXIT_KILLED};
use libipc::ipc::{Channel, Received};
use libipc::{println, sys, thread};

use crate::child::{self, Child};
use crate::cmd::{fail, fail_at, Outcome};
use crate::state::Shell;
use crate::svc::INTERRUPT_PULSE;

/// Pulse code: the foreground program ended; the value is its status.
pub const EXITED: u64 = 1;

/// Runs `program` with `args` until it ends; a non-zero status is a
/// failure message.
pub fn run(sh: &mut Shell, program: &str, args: &[u8]) -> Outcome {
    let events = Channel::create().map_err(fail)?;
    let notify = events.connect().map_err(fail)?;
    // Subscribed before the program starts, so no Ctrl-C is missed.
    let interrupts = sh.console.watch_interrupts(&events).is_ok();
    let child = match child::spawn(program, args) {
        Ok(child) => child,
        Err(e) => {
            if interrupts {
                let _ = sh.console.unwatch_interrupts();
            }
            return Err(fail_at(program, e));
        }
    };
    let raw = child.raw();
    let waiter = thread::spawn(move || {
        let status = sys::wait(raw).unwrap_or(EXIT_KILLED);
        // The shell receives until this arrives; a full queue cannot happen
        // (it holds at most this pulse and Ctrl-Cs).
        let _ = notify.pulse(EXITED, status as u64);
        0
    });
    let (status, waiter) = match waiter {
        Ok(w) => (wait_for_exit(&events, &child), Some(w)),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            println!("{program}: cannot wait for it ({e}); ended it");
            (EXIT_KILLED, None)
        }
    };
    if interrupts {
        let _ = sh.console.unwatch_interrupts();
    }
    if let Some(w) = waiter {
        let _ = w.join();
    }
    match status {
        0 => Ok(()),
        EXIT_KILLED => Err(fail_at(program, "killed")),
        EXIT_FAULTED => Err(fail_at(program, "crashed (CPU fault)")),
        s => {
            println!("{program}: exit status {s}");
            Ok(())
        }
    }
}

/// Receives on `events` until the [`EXITED`] pulse, killing `child` on
/// every [`INTERRUPT_PULSE`].
fn wait_for_exit(events: &Channel, child: &Child) -> i64 {
    let mut buf = [0u8; 64];
    loop {
        match events.receive(&mut buf) {
            Ok(Received::Pulse { code: EXITED, value }) => return value as i64,
            Ok(Received::Pulse { code: INTERRUPT_PULSE, .. }) => {
                let _ = child.kill();
            }
            Ok(Received::Message(m) | Received::AsyncMessage(m)) => {
                let _ = libipc::ipc::error_reply(m.rcvid, abi::Error::BadArgument);
            }
            Ok(_) => {}
            // The channel is ours and alive; if receiving fails anyway,
            // fall back to a plain wait so the child is still reaped.
            Err(_) => return child.wait().unwrap_or(EXIT_KILLED),
        }
    }
}
