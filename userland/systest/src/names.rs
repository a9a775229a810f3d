//! The name service init hosts: register, look up, use, list, unregister,
//! and its refusals.
#![forbid(unsafe_code)]

use alloc::string::String;

use libipc::ipc::{reply, Channel, Received};
use libipc::{names, thread, Error};

use crate::ensure;
use crate::harness::{expect_err, ok, Outcome};

const NAME: &str = "systest.echo";

pub fn register_lookup() -> Outcome {
    let chan = ok("channel_create", Channel::create())?;
    ok("register", names::register(NAME, &chan))?;
    // Answer one message on the registered channel: echo with status 7.
    let server = ok(
        "thread",
        thread::spawn(move || {
            let mut buf = [0u8; 64];
            match chan.receive(&mut buf) {
                Ok(Received::Message(m)) => reply(m.rcvid, 7, &buf[..m.len.min(64)]).map_or(2, |()| 0),
                _ => 1,
            }
        }),
    )?;
    let conn = ok("lookup", names::lookup(NAME))?;
    let mut answer = [0u8; 64];
    let (status, len) = ok("send through the looked-up connection", conn.send(b"ping", &mut answer))?;
    ensure!(status == 7 && &answer[..len] == b"ping", "echo answered {status} {:?}", &answer[..len]);
    ensure!(ok("join", server.join())? == 0, "the echo thread failed");

    let list = ok("list", names::list())?;
    for want in ["console", NAME] {
        ensure!(list.iter().any(|n| n == want), "list {list:?} lacks {want}");
    }
    let other = ok("channel_create", Channel::create())?;
    expect_err(
        "registering a name another process holds",
        names::register("console", &other),
        Error::PermissionDenied,
    )?;
    expect_err("an invalid name", names::lookup("no such/name"), Error::BadArgument)?;
    ok("unregister", names::unregister(NAME))?;
    expect_err("lookup after unregister", names::lookup(NAME), Error::NotFound)?;
    expect_err("unregister twice", names::unregister(NAME), Error::NotFound)?;
    Ok(())
}

/// init's server list names the console, running.
pub fn init_services() -> Outcome {
    let services = ok("services", libipc::init::services())?;
    let console = services.iter().find(|s| s.program == "console");
    let Some(c) = console else { return Err(alloc::format!("no console in {services:?}")) };
    ensure!(
        c.state == libipc::init::state::RUNNING && c.pid != 0 && c.name.as_deref() == Some("console"),
        "console entry {c:?}"
    );
    expect_err("killing a pid init does not supervise", libipc::init::kill(0xdead_beef), Error::NotFound)?;
    let _: String = c.program.clone();
    Ok(())
}
