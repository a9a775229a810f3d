//! `echo`: the smallest server on the runtime. It registers as `"echo"`
//! and answers the requests of `echo::echo` (see `lib.rs`): every request
//! is a task, so a slow `Reverse` does not hold up the others.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::rc::Rc;
use alloc::string::String;
use core::cell::Cell;
use core::time::Duration;

use echo::echo::{Reply, Request};
use libipc::executor::{self, Report};
use libipc::server::{self, Server};
use libipc::{Args, Result};

libipc::main!(main);

fn main(args: Args) -> i32 {
    server::apply_priority(&args);
    server::exit_code("echo", serve())
}

fn serve() -> Result<Report> {
    let counters = Rc::new(Counters::default());
    let server = Server::new("echo")?;
    server.serve(move |req: Request, _ctx| answer(counters.clone(), req)).run()
}

/// Requests answered, and requests in progress.
#[derive(Default)]
struct Counters {
    served: Cell<u64>,
    busy: Cell<u32>,
}

async fn answer(c: Rc<Counters>, req: Request) -> Result<Reply> {
    c.busy.set(c.busy.get() + 1);
    let reply = match req {
        Request::Echo { text } => Reply::Echo(text),
        Request::Reverse { text, delay_ms } => {
            executor::sleep(Duration::from_millis(u64::from(delay_ms))).await;
            Reply::Reverse(text.chars().rev().collect::<String>())
        }
        Request::Stats {} => Reply::Stats((c.served.get(), c.busy.get())),
    };
    c.busy.set(c.busy.get() - 1);
    c.served.set(c.served.get() + 1);
    Ok(reply)
}
