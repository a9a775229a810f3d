//! rttest's servers, each run as its own process (`rttest front`,
//! `rttest back`): the front one calls the back one from every request.
#![forbid(unsafe_code)]

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::{Poll, Waker};
use core::time::Duration;

use libipc::executor::{self, Report};
use libipc::server::Server;
use libipc::{names, Result};

use crate::proto::{back, front, GROUP};

/// `rttest back`: squares after a delay.
pub fn back() -> Result<Report> {
    let server = Server::new(back::NAME)?;
    server
        .serve(|req: back::Request, _ctx| async move {
            let back::Request::Square { x, delay_ms } = req;
            executor::sleep(Duration::from_millis(u64::from(delay_ms))).await;
            Ok(back::Reply::Square(crate::proto::expected(x)))
        })
        .run()
}

/// The front server's state.
struct Front {
    back: back::Client,
    arrived: Cell<usize>,
    busy: Cell<u32>,
    peak: Cell<u32>,
    gate_timeouts: Cell<u32>,
    waiters: RefCell<Vec<Waker>>,
}

/// `rttest front`: holds each `Work` request until `GROUP` are in progress,
/// then calls the back server asynchronously (with delays that make the
/// replies come back out of order).
pub fn front() -> Result<Report> {
    let back = back::Client::from(names::lookup_wait(back::NAME, Duration::from_secs(5))?);
    let state = Rc::new(Front {
        back,
        arrived: Cell::new(0),
        busy: Cell::new(0),
        peak: Cell::new(0),
        gate_timeouts: Cell::new(0),
        waiters: RefCell::new(Vec::new()),
    });
    let server = Server::new(front::NAME)?;
    server.serve(move |req: front::Request, _ctx| answer(state.clone(), req)).run()
}

async fn answer(f: Rc<Front>, req: front::Request) -> Result<front::Reply> {
    let x = match req {
        front::Request::Stats {} => return Ok(front::Reply::Stats((f.peak.get(), f.gate_timeouts.get()))),
        front::Request::Work { x } => x,
    };
    f.busy.set(f.busy.get() + 1);
    f.peak.set(f.peak.get().max(f.busy.get()));
    f.arrived.set(f.arrived.get() + 1);
    if f.arrived.get() >= GROUP {
        f.waiters.borrow_mut().drain(..).for_each(Waker::wake);
    }
    let gate = poll_fn(|cx| {
        if f.arrived.get() >= GROUP {
            return Poll::Ready(());
        }
        f.waiters.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    });
    if executor::timeout(Duration::from_secs(10), gate).await.is_err() {
        f.gate_timeouts.set(f.gate_timeouts.get() + 1);
    }
    let y = f.back.square(x, (x * 7) % 11).await;
    f.busy.set(f.busy.get() - 1);
    Ok(front::Reply::Work((x, y?)))
}
