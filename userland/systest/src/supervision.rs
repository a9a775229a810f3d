//! init's supervision, on the real console: kill it through init, see it
//! die for its clients, come back under a new pid with its name registered
//! again, and serve clients that look it up again; `println!` finds the new
//! one by itself.
#![forbid(unsafe_code)]

use core::time::Duration;

use libipc::console::Console;
use libipc::init::{self, state, ServiceInfo};
use libipc::{names, println, Error};

use crate::ensure;
use crate::harness::{expect_err, ok, poll, Outcome};

fn console_entry() -> Option<ServiceInfo> {
    init::services().ok()?.into_iter().find(|s| s.program == "console")
}

pub fn console_restart() -> Outcome {
    let Some(old) = console_entry() else { return Err("no console entry".into()) };
    ensure!(old.state == state::RUNNING && old.pid != 0, "console not running: {old:?}");
    let c1 = ok("look the console up", Console::connect())?;
    ok("write before the kill", c1.write(b"systest: killing the console\n"))?;
    ok("kill through init", init::kill(old.pid))?;
    expect_err("writing to the dead console", c1.write(b"lost\n"), Error::PeerDied)?;
    println!("systest: printed while the console restarts");

    let new = poll(Duration::from_secs(3), || {
        console_entry().filter(|s| s.state == state::RUNNING && s.pid != old.pid && names::lookup("console").is_ok())
    });
    let Some(new) = new else { return Err(alloc::format!("no new console within 3 s: {:?}", console_entry())) };
    ensure!(new.restarts == old.restarts + 1, "restarts {} -> {}", old.restarts, new.restarts);
    ensure!(new.last_status == Some(abi::EXIT_KILLED), "last status {:?}", new.last_status);

    // A client that looks the name up again reaches the new instance.
    let c2 = ok("look the new console up", Console::connect())?;
    ok("write to the new console", c2.write(b"systest: the new console took this\n"))?;
    // println finds it too, once its retry interval has passed.
    libipc::sleep(Duration::from_millis(150));
    let before = ok("stats", c2.stats())?;
    println!("systest: println found the new console (pid {})", new.pid);
    let after = ok("stats", c2.stats())?;
    ensure!(after.writes > before.writes, "println did not reach the new console");
    Ok(())
}
