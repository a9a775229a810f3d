//! `ipcstat`: the kernel's IPC and scheduler counters
//! (`kernel_info(Ipc)`), with the share of sends that took the fast path
//! (straight from client to waiting server, no scheduler).

use alloc::format;
use alloc::string::String;
use alloc::vec;

use libipc::{ipc, println};
use shell::table::{percent, Align, Table};

use super::{fail, Failure, Outcome};
use crate::state::Shell;

pub fn run(_: &mut Shell, args: &[String]) -> Outcome {
    if !args.is_empty() {
        return Err(Failure::Usage);
    }
    let s = ipc::ipc_stats().map_err(fail)?;
    let mut table = Table::new(&[("COUNTER", Align::Left), ("VALUE", Align::Right)]);
    let rows = [
        ("fast_sends", s.fast_sends),
        ("fast_replies", s.fast_replies),
        ("slow_sends", s.slow_sends),
        ("scheduler_invocations", s.scheduler_invocations),
        ("context_switches", s.context_switches),
        ("syscalls", s.syscalls),
        ("pulses", s.pulses),
        ("async_sends", s.async_sends),
    ];
    for (name, value) in rows {
        table.row(vec![String::from(name), format!("{value}")]);
    }
    for line in table.lines() {
        println!("{line}");
    }
    let sends = s.fast_sends.saturating_add(s.slow_sends);
    println!("fast path: {}% of {} sends", percent(s.fast_sends, sends), sends);
    Ok(())
}
