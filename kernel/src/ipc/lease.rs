//! Leases: ranges of a blocked client's memory the server may read or write
//! (QNX `MsgRead`/`MsgWrite`, Hubris leases). They are named by the receive
//! id and index, checked against the lease's bounds and rights on every
//! access, and end with the reply.

use super::copy;
use crate::state::Kernel;
use crate::thread::{Blocked, Range, State};
use abi::ipc::lease;
use abi::Error;

impl Kernel {
    /// Copies between the client's lease `index` (at `offset`) and the
    /// current thread's `buf`. `write` = server writes into the lease.
    pub fn lease_copy(&mut self, rcvid: u64, index: u64, offset: u64, buf: Range, write: bool) -> Result<u64, Error> {
        let client = self.client_of(rcvid).ok_or(Error::PeerDied)?;
        let me = self.current.ok_or(Error::BadState)?;
        let server = self.cur().process;
        let c = self.threads.get(client).ok_or(Error::PeerDied)?;
        if c.state != State::Blocked(Blocked::Reply { server }) {
            return Err(Error::PeerDied);
        }
        let l = *c.ipc.leases[..c.ipc.lease_count].get(index as usize).ok_or(Error::BadArgument)?;
        let need = if write { lease::WRITE } else { lease::READ };
        if l.rights & need == 0 {
            return Err(Error::PermissionDenied);
        }
        let end = offset.checked_add(buf.len).ok_or(Error::BadArgument)?;
        if end > l.len {
            return Err(Error::BadArgument);
        }
        let client_tables = self.tables_of(client).ok_or(Error::PeerDied)?;
        let my_tables = self.tables_of(me).ok_or(Error::BadState)?;
        let at = l.addr + offset;
        let result = if write {
            copy::copy(my_tables, buf.addr, client_tables, at, buf.len)
        } else {
            copy::copy(client_tables, at, my_tables, buf.addr, buf.len)
        };
        result.map_err(|_| Error::BadAddress)?;
        Ok(buf.len)
    }
}
