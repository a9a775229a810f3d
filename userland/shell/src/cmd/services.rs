//! `services`: the servers init supervises: program, registered name,
//! pid, state and how often init restarted each (after `crash`, the count
//! goes up and the pid changes).

use alloc::format;
use alloc::string::String;
use alloc::vec;

use libipc::init::state;
use libipc::println;
use shell::table::{Align, Table};

use super::{fail, Failure, Outcome};
use crate::state::Shell;

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    if !args.is_empty() {
        return Err(Failure::Usage);
    }
    let list = sh.init.services().map_err(fail)?;
    let mut table = Table::new(&[
        ("PROGRAM", Align::Left),
        ("NAME", Align::Left),
        ("PID", Align::Right),
        ("STATE", Align::Left),
        ("RESTARTS", Align::Right),
        ("LAST EXIT", Align::Right),
    ]);
    for s in &list {
        let pid = if s.pid == 0 { String::from("-") } else { format!("{}", s.pid) };
        let last = s.last_status.map_or(String::from("-"), |st| format!("{st}"));
        table.row(vec![
            s.program.clone(),
            s.name.clone().unwrap_or_else(|| String::from("-")),
            pid,
            String::from(state::describe(s.state)),
            format!("{}", s.restarts),
            last,
        ]);
    }
    for line in table.lines() {
        println!("{line}");
    }
    Ok(())
}
