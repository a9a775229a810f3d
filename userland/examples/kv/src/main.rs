//! `kv`: an in-memory key-value store on the runtime, registered as `"kv"`.
//! Small values travel in messages; large ones (up to `MAX_VALUE`) in
//! leases, which the handler reads and writes with its request context.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;

use kv::kv::{Reply, Request};
use kv::MAX_VALUE;
use libipc::executor::{Ctx, Report};
use libipc::server::{self, Server};
use libipc::{Args, Error, Result};

libipc::main!(main);

type Store = Rc<RefCell<BTreeMap<String, Vec<u8>>>>;

fn main(args: Args) -> i32 {
    server::apply_priority(&args);
    server::exit_code("kv", serve())
}

fn serve() -> Result<Report> {
    let store = Store::default();
    let server = Server::new("kv")?;
    server.serve(move |req: Request, ctx| answer(store.clone(), req, ctx)).run()
}

async fn answer(store: Store, req: Request, ctx: Ctx) -> Result<Reply> {
    let mut map = store.borrow_mut();
    Ok(match req {
        Request::Get { key } => Reply::Get(map.get(&key).cloned()),
        Request::Put { key, value } => Reply::Put(map.insert(key, value)),
        Request::Delete { key } => Reply::Delete(map.remove(&key).is_some()),
        Request::Keys {} => Reply::Keys(map.keys().cloned().collect()),
        Request::PutLease { key, len } => {
            let len = usize::try_from(len).map_err(|_| Error::BadArgument)?;
            if len > MAX_VALUE {
                return Err(Error::BadArgument);
            }
            let mut value = vec![0; len];
            ctx.read_lease(0, 0, &mut value)?;
            map.insert(key, value);
            Reply::PutLease(())
        }
        Request::GetLease { key, capacity } => {
            let value = map.get(&key).ok_or(Error::NotFound)?;
            let n = value.len().min(usize::try_from(capacity).unwrap_or(usize::MAX));
            ctx.write_lease(0, 0, &value[..n])?;
            Reply::GetLease(value.len() as u32)
        }
    })
}
