//! What init's threads share: its channel, the name table, and the state of
//! each supervised server; and the loop that answers the channel.
//!
//! init's channel carries two protocols, told apart by the protocol ID at
//! the start of each request: the name service (`libipc::names::proto`,
//! answered from the [`NameTable`]) and init's own requests
//! (`libipc::init::proto`: shutdown, the server list, kill). Every process
//! init starts holds a connection to it as `first_handle(0)`.
//!
//! One thread answers the channel ([`System::serve`]); each server has a
//! supervisor thread (`supervisor.rs`); the main thread starts the servers
//! and, in test mode, runs the suites. They meet in [`State`], behind a
//! lock that is never held across a blocking call (`reply` does not block).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use abi::Error;
use init::manifest::{Endpoint, Service, SERVICES};
use libipc::init::{proto, state, ServiceInfo};
use libipc::ipc::{self, Channel, Connection, Handle, Message, Received};
use libipc::names::{self, NameTable};
use libipc::sync::Mutex;
use libipc::{println, wire, Result};

use crate::child;

/// One supervised server.
#[derive(Debug)]
pub struct Slot {
    pub service: &'static Service,
    /// Its pid while it runs (0 otherwise).
    pub pid: u64,
    /// Its process handle's number while it runs (0 otherwise), to kill it.
    pub process: u64,
    /// A `libipc::init::state` value.
    pub state: u8,
    pub restarts: u32,
    pub last_status: Option<i64>,
}

/// The shared, changing part.
pub struct State {
    pub names: NameTable<Handle>,
    /// One per entry of `SERVICES`, in order.
    pub slots: Vec<Slot>,
    /// Set once a shutdown began: supervisors stop restarting.
    pub shutting_down: bool,
}

/// init's shared world.
pub struct System {
    /// init's channel: names and init's requests.
    pub channel: Channel,
    /// For each entry of `SERVICES`, the channel init holds for it
    /// ([`Endpoint::Held`]): made at start, closed when the server stops
    /// for good (so clients queued on it get `PeerDied`).
    pub held: Vec<Mutex<Option<Channel>>>,
    pub state: Mutex<State>,
}

impl System {
    /// Makes init's channel and the held channels, and registers the held
    /// channels' names.
    pub fn new() -> Result<System> {
        let channel = Channel::create()?;
        let mut names = NameTable::new();
        let mut held = Vec::new();
        for service in SERVICES {
            let chan = match service.endpoint {
                Endpoint::Held(name) => {
                    let chan = Channel::create()?;
                    names.register(name, chan.connect()?.into_handle(), libipc::getpid())?;
                    Some(chan)
                }
                _ => None,
            };
            held.push(Mutex::new(chan));
        }
        let slots = SERVICES
            .iter()
            .map(|service| Slot { service, pid: 0, process: 0, state: state::STARTING, restarts: 0, last_status: None })
            .collect();
        Ok(System { channel, held, state: Mutex::new(State { names, slots, shutting_down: false }) })
    }

    /// True once a shutdown began.
    pub fn shutting_down(&self) -> bool {
        self.state.lock().shutting_down
    }

    /// A new connection to the server registered as `name` (from the table,
    /// without a message).
    pub fn connection_to(&self, name: &str) -> Result<Connection> {
        let st = self.state.lock();
        let h = st.names.lookup(name)?;
        ipc::handle_dup(h, abi::ipc::rights::SEND).map(Connection::from_handle)
    }

    /// The server at `index` stopped for good: if init holds its channel,
    /// unregister the name and close the channel.
    pub fn retire_endpoint(&self, index: usize) {
        let Some(chan) = self.held.get(index).and_then(|h| h.lock().take()) else { return };
        if let Some(name) = SERVICES.get(index).and_then(|s| s.endpoint.name()) {
            drop(self.state.lock().names.unregister(name, libipc::getpid()));
        }
        drop(chan);
    }

    /// True if `name` is registered.
    pub fn registered(&self, name: &str) -> bool {
        self.state.lock().names.lookup(name).is_ok()
    }

    /// Answers init's channel, forever.
    pub fn serve(&self) -> ! {
        let mut buf = vec![0u8; 1024];
        loop {
            match self.channel.receive(&mut buf) {
                Ok(Received::Message(m) | Received::AsyncMessage(m)) => {
                    let data = buf.get(..m.len).unwrap_or(&[]).to_vec();
                    self.dispatch(&data, m);
                }
                Ok(Received::Pulse { .. } | Received::AsyncReply { .. }) => {}
                Err(e) => {
                    println!("init: receive on init's channel failed: {e}");
                    libipc::sleep(core::time::Duration::from_millis(100));
                }
            }
        }
    }

    fn dispatch(&self, data: &[u8], m: Message) {
        let id = data.first_chunk::<4>().map(|b| u32::from_le_bytes(*b));
        if id == Some(names::proto::ID) {
            let mut st = self.state.lock();
            names::answer(&mut st.names, data, m);
        } else if id == Some(proto::ID) {
            match wire::from_bytes::<proto::Request>(data) {
                Ok(request) => self.control(request, m.rcvid),
                Err(e) => {
                    let _ = ipc::error_reply(m.rcvid, e);
                }
            }
        } else {
            let _ = ipc::error_reply(m.rcvid, Error::BadArgument);
        }
    }

    /// init's own requests.
    fn control(&self, request: proto::Request, rcvid: u64) {
        let answer = match request {
            proto::Request::Shutdown { status } => {
                let _ = ipc::reply(rcvid, 0, &wire::to_vec(&proto::Reply::Shutdown(())));
                crate::shutdown::power_off(self, status);
            }
            proto::Request::Services {} => Ok(proto::Reply::Services(self.services())),
            proto::Request::Kill { pid } => self.kill(pid).map(proto::Reply::Kill),
        };
        let _ = match answer {
            Ok(reply) => ipc::reply(rcvid, 0, &wire::to_vec(&reply)),
            Err(e) => ipc::error_reply(rcvid, e),
        };
    }

    fn services(&self) -> Vec<ServiceInfo> {
        let st = self.state.lock();
        st.slots
            .iter()
            .map(|s| ServiceInfo {
                program: String::from(s.service.program),
                name: s.service.endpoint.name().map(String::from),
                pid: s.pid,
                state: s.state,
                restarts: s.restarts,
                last_status: s.last_status,
            })
            .collect()
    }

    /// Ends the running server with this pid; its supervisor restarts it.
    fn kill(&self, pid: u64) -> Result<()> {
        let process = {
            let st = self.state.lock();
            st.slots.iter().find(|s| pid != 0 && s.pid == pid && s.process != 0).map(|s| s.process)
        };
        let process = process.ok_or(Error::NotFound)?;
        println!("init: killing pid {pid} on request");
        child::kill(process)
    }
}
