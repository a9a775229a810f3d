//! Names: how a server makes itself findable and a client finds it.
//!
//! ```ignore
//! libipc::names::register("fs", &channel)?;          // server side
//! let fs = libipc::names::lookup("fs")?;             // client side: a Connection
//! let fs = libipc::names::lookup_wait("fs", Duration::from_secs(2))?; // until it appears
//! ```
//!
//! The name service is a process holding a [`NameTable`] behind a channel
//! (init, or a test program hosting its own with [`serve`]). Every process
//! init spawns gets a connection to it as its first handle
//! (`abi::syscall::first_handle(0)`); the free functions here use that
//! connection (claimed once, on first use), unless the program chose
//! another with [`set_service`]. [`Names`] talks to an explicit one.
//!
//! Protocol ([`proto`]): `Register{name}` is sent with a connection to the
//! server's channel in the message's handle slot (register makes it with
//! `connect`, so the server keeps its channel); `Lookup{name}` is answered
//! with a copy of that connection in the reply's handle slot, or
//! `NotFound`. `Unregister{name}` and `List` complete it. Only the
//! registering process may replace or remove a name; the host of the
//! service frees a dead process's names ([`NameTable::remove_owner`]).
#![forbid(unsafe_code)]

pub mod table;

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use abi::ipc::MAX_MESSAGE;
use abi::Error;

use crate::ipc::{self, Channel, Connection, Handle, Message, Received, SendOptions};
use crate::Result;

pub use table::{Answer, NameTable, MAX_NAMES};

/// Longest name.
pub const MAX_NAME: usize = 32;
/// How often [`lookup_wait`] asks again.
pub const RETRY: Duration = Duration::from_millis(5);

/// Whether `name` is a valid name: 1 to [`MAX_NAME`] bytes of ASCII
/// letters, digits, `-`, `_` and `.`.
pub fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

crate::protocol! {
    /// The name service's requests. Two of them carry a handle out of band:
    /// `Register` is sent with a connection to the server's channel, and
    /// the reply to `Lookup` carries a copy of the registered connection.
    pub mod proto = "names", version 1 {
        /// Registers the connection sent with the message under `name`.
        /// Errors: `BadArgument` (bad name, or no connection sent),
        /// `PermissionDenied` (another process holds the name),
        /// `LimitReached` (the table is full).
        Register = 1 => fn register(name: String) -> ();
        /// Looks `name` up: the reply carries a copy of its connection.
        /// Errors: `NotFound`, `BadArgument`.
        Lookup = 2 => fn lookup(name: String) -> ();
        /// Removes `name`. Errors: `NotFound`, `PermissionDenied` (another
        /// process registered it).
        Unregister = 3 => fn unregister(name: String) -> ();
        /// Every registered name, sorted.
        List = 4 => fn list() -> Vec<String>;
    }
}

static SERVICE: spin::Once<Connection> = spin::Once::new();

/// The connection to the name service: the one given to [`set_service`],
/// else the first handle from the spawner. `BadState` if that handle was
/// already claimed for something else.
pub fn service() -> Result<&'static Connection> {
    SERVICE.try_call_once(|| Handle::initial(0).map(Connection::from_handle).ok_or(Error::BadState))
}

/// Uses `conn` as the name service from now on (before any other call of
/// this module; `BadState` afterwards). For programs that host or reach the
/// service another way than through their first handle.
pub fn set_service(conn: Connection) -> Result<()> {
    let mut set = false;
    SERVICE.call_once(|| {
        set = true;
        conn
    });
    if set {
        Ok(())
    } else {
        Err(Error::BadState)
    }
}

/// Registers `channel` under `name` with the name service.
pub fn register(name: &str, channel: &Channel) -> Result<()> {
    Names::new(service()?).register(name, channel)
}

/// The connection registered under `name` (`NotFound` if none).
pub fn lookup(name: &str) -> Result<Connection> {
    Names::new(service()?).lookup(name)
}

/// Like [`lookup`], asking again every [`RETRY`] until the name appears
/// (`TimedOut` after `timeout`). Blocks the thread: inside an executor's
/// task use [`lookup_wait_async`].
pub fn lookup_wait(name: &str, timeout: Duration) -> Result<Connection> {
    Names::new(service()?).lookup_wait(name, timeout)
}

/// [`lookup_wait`] for tasks: sleeps on the executor's timers between tries.
pub async fn lookup_wait_async(name: &str, timeout: Duration) -> Result<Connection> {
    let names = Names::new(service()?);
    let deadline = crate::executor::now_ns().saturating_add(ns(timeout));
    loop {
        match names.lookup(name) {
            Err(Error::NotFound) if crate::executor::now_ns() < deadline => crate::executor::sleep(RETRY).await,
            Err(Error::NotFound) => return Err(Error::TimedOut),
            r => return r,
        }
    }
}

/// Removes `name` (registered by this process).
pub fn unregister(name: &str) -> Result<()> {
    Names::new(service()?).unregister(name)
}

/// Every registered name.
pub fn list() -> Result<Vec<String>> {
    Names::new(service()?).list()
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A client of a name service reached through a given connection.
#[derive(Clone, Copy, Debug)]
pub struct Names<'a> {
    conn: &'a Connection,
}

impl<'a> Names<'a> {
    /// Talks to the name service behind `conn`.
    pub fn new(conn: &'a Connection) -> Names<'a> {
        Names { conn }
    }

    /// Sends `msg` (with `options`); returns the reply bytes and handle.
    fn call(&self, msg: &[u8], options: &SendOptions<'_>) -> Result<(Vec<u8>, Option<Handle>)> {
        let mut reply = vec![0u8; MAX_MESSAGE];
        let r = self.conn.send_with(msg, &mut reply, options)?;
        reply.truncate(r.len);
        Ok((reply, r.handle))
    }

    /// Registers a new connection to `channel` under `name`.
    pub fn register(&self, name: &str, channel: &Channel) -> Result<()> {
        let conn = channel.connect()?;
        self.register_connection(name, &conn)
    }

    /// Registers (a copy of) `conn` under `name`.
    pub fn register_connection(&self, name: &str, conn: &Connection) -> Result<()> {
        if !valid_name(name) {
            return Err(Error::BadArgument);
        }
        let (reply, _) = self.call(&proto::encode::register(name), &SendOptions::new().handle(conn.handle()))?;
        proto::result::register(&reply)
    }

    /// The connection registered under `name`.
    pub fn lookup(&self, name: &str) -> Result<Connection> {
        if !valid_name(name) {
            return Err(Error::BadArgument);
        }
        let (reply, handle) = self.call(&proto::encode::lookup(name), &SendOptions::new())?;
        proto::result::lookup(&reply)?;
        handle.map(Connection::from_handle).ok_or(Error::BadState)
    }

    /// [`lookup`](Self::lookup), retried every [`RETRY`] for up to `timeout`.
    pub fn lookup_wait(&self, name: &str, timeout: Duration) -> Result<Connection> {
        let deadline = crate::time::time_ns().saturating_add(ns(timeout));
        loop {
            match self.lookup(name) {
                Err(Error::NotFound) if crate::time::time_ns() < deadline => crate::time::sleep(RETRY),
                Err(Error::NotFound) => return Err(Error::TimedOut),
                r => return r,
            }
        }
    }

    /// Removes `name`.
    pub fn unregister(&self, name: &str) -> Result<()> {
        let (reply, _) = self.call(&proto::encode::unregister(name), &SendOptions::new())?;
        proto::result::unregister(&reply)
    }

    /// Every registered name.
    pub fn list(&self) -> Result<Vec<String>> {
        let (reply, _) = self.call(&proto::encode::list(), &SendOptions::new())?;
        proto::result::list(&reply)
    }
}

/// Answers one message received on a name service's channel (its bytes
/// are `data`) from `table`.
pub fn answer(table: &mut NameTable<Handle>, data: &[u8], mut message: Message) {
    let answer = table.handle_request(data, message.sender_pid, message.handle.take());
    let rcvid = message.rcvid;
    // A client that died meanwhile makes the reply fail: nothing to do.
    let _ = match (answer.reply, answer.handle) {
        (Ok(bytes), Some(h)) => ipc::reply_with_handle(rcvid, 0, &bytes, h),
        (Ok(bytes), None) => ipc::reply(rcvid, 0, &bytes),
        (Err(e), _) => ipc::error_reply(rcvid, e),
    };
    drop(answer.released);
}

/// Starts a name service on a thread of this process (a fresh channel and
/// an empty table) and returns a connection to it: for programs that need
/// one before init provides it (test programs), or to pass to children.
pub fn spawn_service() -> Result<Connection> {
    let channel = Channel::create()?;
    let conn = channel.connect()?;
    crate::thread::spawn(move || {
        let mut table = NameTable::new();
        match serve(&channel, &mut table) {
            Ok(()) => 0,
            Err(e) => e.to_raw(),
        }
    })?;
    Ok(conn)
}

/// Runs a name service on `channel` from `table`, forever (returns only
/// the error of a failed `receive`: the channel is gone). Pulses are
/// ignored. Init can run this on a thread of its own, or call [`answer`]
/// from its own loop.
pub fn serve(channel: &Channel, table: &mut NameTable<Handle>) -> Result<()> {
    let mut buf = vec![0u8; 512];
    loop {
        match channel.receive(&mut buf)? {
            Received::Message(m) | Received::AsyncMessage(m) => {
                let data = buf.get(..m.len).unwrap_or(&[]).to_vec();
                answer(table, &data, m);
            }
            Received::Pulse { .. } | Received::AsyncReply { .. } => {}
        }
    }
}
