//! `ps`: every process the kernel knows (`kernel_info(Processes)`): pid,
//! parent, threads, pages of memory, state and name. Ended processes that
//! someone still holds a handle to show as `exited N`, `killed` or
//! `faulted`.

use alloc::format;
use alloc::string::String;
use alloc::vec;

use libipc::{abi, ipc, println};
use shell::table::{Align, Table};

use super::{fail, Failure, Outcome};
use crate::state::Shell;

pub fn run(_: &mut Shell, args: &[String]) -> Outcome {
    if !args.is_empty() {
        return Err(Failure::Usage);
    }
    let mut list = ipc::processes().map_err(fail)?;
    list.sort_by_key(|p| p.pid);
    let mut table = Table::new(&[
        ("PID", Align::Right),
        ("PARENT", Align::Right),
        ("THREADS", Align::Right),
        ("PAGES", Align::Right),
        ("STATE", Align::Left),
        ("NAME", Align::Left),
    ]);
    for p in &list {
        let parent = if p.parent == 0 { String::from("-") } else { format!("{}", p.parent) };
        table.row(vec![
            format!("{}", p.pid),
            parent,
            format!("{}", p.threads),
            format!("{}", p.pages),
            state(p.ended, p.status),
            String::from(p.name()),
        ]);
    }
    for line in table.lines() {
        println!("{line}");
    }
    Ok(())
}

/// The STATE column.
fn state(ended: bool, status: i64) -> String {
    match (ended, status) {
        (false, _) => String::from("running"),
        (true, abi::EXIT_KILLED) => String::from("killed"),
        (true, abi::EXIT_FAULTED) => String::from("faulted"),
        (true, code) => format!("exited {code}"),
    }
}
