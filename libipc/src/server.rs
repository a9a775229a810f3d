//! A server in three lines: [`Server::new`] makes the channel and registers
//! its name, [`serve`](Server::serve) installs the request handler, and
//! [`run`](Executor::run) runs the executor on the channel.
//!
//! ```ignore
//! fn serve() -> libipc::Result<Report> {
//!     let server = Server::new("echo")?;           // channel + register
//!     server.serve(|req: echo::Request, _ctx| async move { ... }).run()
//! }
//! ```
//!
//! For a server that should not be registered (its clients get a
//! connection another way), [`Server::unregistered`].
#![forbid(unsafe_code)]

use alloc::borrow::Cow;
use core::future::Future;

use crate::executor::{Config, Ctx, Executor, Report, Spawner};
use crate::ipc::{Channel, Connection};
use crate::wire::Wire;
use crate::Result;

/// A server's channel with its executor, before it runs.
pub struct Server {
    executor: Executor,
    /// A connection to our own channel, to hand out copies of.
    own: Connection,
}

impl Server {
    /// Makes a channel and registers it as `name` with the name service.
    ///
    /// Errors: those of `channel_create` and `connect` (`LimitReached`),
    /// and of [`names::register`](crate::names::register) (`BadHandle` when
    /// the process has no name service; `PermissionDenied` when another
    /// process holds the name).
    pub fn new(name: &'static str) -> Result<Server> {
        let server = Server::unregistered(name)?;
        crate::names::Names::new(crate::names::service()?).register_connection(name, &server.own)?;
        Ok(server)
    }

    /// Makes a channel without registering it.
    pub fn unregistered(name: &'static str) -> Result<Server> {
        Server::with_config(Config { name: Cow::Borrowed(name), ..Config::default() })
    }

    /// Makes an unregistered channel with executor settings `config`.
    pub fn with_config(config: Config) -> Result<Server> {
        let channel = Channel::create()?;
        let own = channel.connect()?;
        let backend = crate::executor::KernelBackend::new(channel)?;
        Ok(Server { executor: Executor::with_config(backend, config), own })
    }

    /// A new connection to this server's channel (e.g. to pass at spawn).
    pub fn connect(&self) -> Result<Connection> {
        self.own.dup(abi::ipc::rights::SEND | abi::ipc::rights::DUPLICATE | abi::ipc::rights::TRANSFER)
    }

    /// A spawner, to start background tasks before [`serve`](Self::serve).
    pub fn spawner(&self) -> Spawner {
        self.executor.spawner()
    }

    /// Installs `handler` for every request (see [`Executor::serve`]) and
    /// returns the executor, ready to [`run`](Executor::run).
    pub fn serve<Req, Rep, F, Fut>(self, handler: F) -> Executor
    where
        Req: Wire + 'static,
        Rep: Wire + 'static,
        F: Fn(Req, Ctx) -> Fut + 'static,
        Fut: Future<Output = Result<Rep>> + 'static,
    {
        self.executor.serve(handler)
    }

    /// The executor without a handler (a process that only makes calls).
    pub fn into_executor(self) -> Executor {
        self.executor
    }
}

/// Applies the `prio=N` argument init passes to a server (its manifest
/// priority) to the calling thread; says so if it cannot. Servers usually
/// run above their clients, so a crowd of ready clients does not delay
/// them.
pub fn apply_priority(args: &crate::Args) {
    if let Some(p) = args.value("prio") {
        match p.parse::<u8>().map_err(|_| abi::Error::BadArgument).and_then(crate::ipc::set_priority) {
            Ok(()) => {}
            Err(e) => crate::println!("{}: cannot set priority {p}: {e}", crate::rt::program_name()),
        }
    }
}

/// An exit status for `main` from what [`run`](Executor::run) returned:
/// 0 after a shutdown or when idle, 1 (after printing the error) otherwise.
pub fn exit_code(name: &str, result: Result<Report>) -> i32 {
    match result {
        Ok(_) => 0,
        Err(e) => {
            crate::println!("{name}: {e}");
            1
        }
    }
}
