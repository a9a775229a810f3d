//! `crash <server>`: asks init to kill one of its servers (by program or
//! registered name), to show supervision at work: init notices the death
//! and starts the server again (`services` shows the restart count go up,
//! `ps` a new pid).

use alloc::string::String;

use libipc::init::state;
use libipc::println;

use super::{fail, fail_at, Failure, Outcome};
use crate::state::Shell;

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    let [server] = args else {
        return Err(Failure::Usage);
    };
    let services = sh.init.services().map_err(fail)?;
    let s = services
        .iter()
        .find(|s| s.program == *server || s.name.as_deref() == Some(server.as_str()))
        .ok_or_else(|| fail_at(server, "no such server (see services)"))?;
    if s.state != state::RUNNING || s.pid == 0 {
        return Err(fail_at(server, alloc::format!("not running ({})", state::describe(s.state))));
    }
    sh.init.kill(s.pid).map_err(|e| fail_at(server, e))?;
    println!("crashed {server} (pid {}); init restarts it", s.pid);
    Ok(())
}
