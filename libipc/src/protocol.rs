//! Typed protocols: a server's requests and replies declared once, as Rust
//! types with a fixed wire layout, and the client and server code that
//! follows from the declaration.
//!
//! ```ignore
//! libipc::protocol! {
//!     /// A key-value store.
//!     pub mod kv = "kv", version 1 {
//!         /// The value under `key`, if any.
//!         Get = 1 => fn get(key: String) -> Option<Vec<u8>>;
//!         /// Stores `value` under `key`; the previous value, if any.
//!         Put = 2 => fn put(key: String, value: Vec<u8>) -> Option<Vec<u8>>;
//!     }
//! }
//! ```
//!
//! makes a module `kv` with:
//! - `kv::Request`, an enum with one variant per operation (`Get { key }`,
//!   `Put { key, value }`) — what the server's handler receives, decoded;
//! - `kv::Reply`, an enum with one variant per operation holding its result
//!   type (`Get(Option<Vec<u8>>)`) — what the handler returns;
//! - `kv::Client` (`From<Connection>`, or `kv::lookup()` by name): one
//!   `async fn` per operation (`kv.get("k").await?`, over
//!   [`call_async`](crate::executor::call_async), for tasks of an
//!   executor) and the same operations blocking through
//!   `kv.blocking().get("k")` (a plain `send`, the synchronous fast path);
//!   arguments may be borrowed forms ([`Encode`](crate::wire::Encode): `&str`
//!   for `String`, `&[u8]` for `Vec<u8>`). (So `blocking` is not a
//!   possible operation name.)
//! - `kv::encode::get(..)` / `kv::result::get(..)`: the request bytes and
//!   the reply's decoding per operation, for code that sends by hand;
//! - `kv::NAME`, `kv::ID`, `kv::VERSION`.
//!
//! Wire layout (little-endian): a request is `ID: u32` (FNV-1a of the
//! protocol's name), `opcode: u16`, `version: u16`, then the arguments in
//! order ([`wire`](mod@crate::wire) describes each type); a reply is
//! `opcode: u16` then the result. A request with another protocol's ID,
//! another version, an unknown opcode or arguments that do not decode is
//! malformed: the executor answers it `BadArgument` and the handler never
//! sees it. Trailing bytes are ignored, so a field appended at the end of
//! an operation's arguments does not break older servers; anything else
//! (changing or removing a field, changing a type) needs a new opcode or a
//! new version. Opcodes are never reused.
//!
//! Field types must implement [`crate::wire::Wire`], `Debug`, `Clone`
//! and `PartialEq` (the enums derive them). Messages are at most
//! `abi::ipc::MAX_MESSAGE` bytes; bulk data travels in leases.
#![forbid(unsafe_code)]

use alloc::vec::Vec;
use core::mem::MaybeUninit;

use abi::ipc::MAX_MESSAGE;
use abi::Error;

use crate::ipc::{raw, Connection};
use crate::wire::{Reader, Wire, Writer};
use crate::Result;

/// Bytes of a request's header.
pub const HEADER: usize = 8;

/// What the generated modules glob-import, so field types like `String`
/// and `Vec` resolve in `no_std` crates too.
#[doc(hidden)]
pub mod prelude {
    pub use alloc::boxed::Box;
    pub use alloc::string::String;
    pub use alloc::vec::Vec;
}

/// FNV-1a of `name`: a protocol's wire identity.
pub const fn protocol_id(name: &str) -> u32 {
    let b = name.as_bytes();
    let mut h: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < b.len() {
        h ^= b[i] as u32;
        h = h.wrapping_mul(0x0100_0193);
        i += 1;
    }
    h
}

/// Writes a request header.
#[doc(hidden)]
#[inline]
pub fn write_header(w: &mut Writer, id: u32, opcode: u16, version: u16) {
    id.encode(w);
    opcode.encode(w);
    version.encode(w);
}

/// Reads a request header; the opcode if the ID and version are ours.
#[doc(hidden)]
#[inline]
pub fn read_header(r: &mut Reader<'_>, id: u32, version: u16) -> Result<u16> {
    let (their_id, opcode, their_version) = <(u32, u16, u16)>::decode(r)?;
    if their_id != id || their_version != version {
        return Err(Error::BadArgument);
    }
    Ok(opcode)
}

/// The connection a typed client talks through: owned, or (for tests
/// against the simulated kernel) only a number.
#[derive(Debug)]
pub struct Peer {
    raw: u64,
    owned: Option<Connection>,
}

impl Peer {
    /// Talks through `conn` (owned: closed with the client).
    pub fn new(conn: Connection) -> Peer {
        Peer { raw: conn.handle().raw(), owned: Some(conn) }
    }

    /// Talks through connection number `raw`, which this value does not own
    /// (nothing is closed): for host tests with the simulated kernel.
    pub fn unowned(raw: u64) -> Peer {
        Peer { raw, owned: None }
    }

    /// The connection's number.
    pub fn raw(&self) -> u64 {
        self.raw
    }

    /// The connection, if owned (for sends with leases or handles).
    pub fn connection(&self) -> Option<&Connection> {
        self.owned.as_ref()
    }
}

/// Sends `msg` on connection number `conn`, blocking until the reply;
/// returns the reply bytes (an error the server answered is `Err`).
pub fn call_blocking(conn: u64, msg: &[u8]) -> Result<Vec<u8>> {
    call_blocking_with(conn, msg, |reply| Ok(reply.to_vec()))
}

/// Sends `msg` on connection number `conn`, blocking until the reply, and
/// returns what `decode` makes of the reply bytes (an error the server
/// answered is `Err`, and `decode` is not called). The reply is received
/// into a `MAX_MESSAGE`-byte buffer on the stack that is neither allocated
/// nor cleared first: `decode` sees exactly the bytes the server sent.
#[inline]
pub fn call_blocking_with<R>(conn: u64, msg: &[u8], decode: impl FnOnce(&[u8]) -> Result<R>) -> Result<R> {
    if msg.len() > MAX_MESSAGE {
        return Err(Error::MessageTooLong);
    }
    let mut reply = [const { MaybeUninit::<u8>::uninit() }; MAX_MESSAGE];
    let (_, data) = raw::send_uninit(conn, msg, &mut reply)?;
    decode(data)
}

impl Connection {
    /// Sends a typed request and blocks until the typed reply (the
    /// synchronous fast path; inside an executor's task prefer
    /// [`call_async`](crate::executor::call_async), which lets the other
    /// tasks run). A reply that does not decode as `R` is `BadArgument`.
    /// Allocates nothing for requests of up to [`wire::INLINE`](crate::wire::INLINE)
    /// bytes (beyond what decoding `R` itself allocates).
    pub fn call<Q: Wire, R: Wire>(&self, req: &Q) -> Result<R> {
        let mut w = Writer::new();
        req.encode(&mut w);
        call_blocking_with(self.handle().raw(), w.as_slice(), crate::wire::from_bytes)
    }
}

/// Declares a typed protocol; see the [module documentation](self).
#[macro_export]
macro_rules! protocol {
    (
        $(#[$meta:meta])*
        $vis:vis mod $module:ident = $name:literal, version $version:literal {
            $(
                $(#[$op_meta:meta])*
                $variant:ident = $opcode:literal => fn $method:ident ( $( $arg:ident : $ty:ty ),* $(,)? ) -> $ret:ty ;
            )*
        }
    ) => {
        $(#[$meta])*
        // A program uses the client side or the server side, rarely both.
        #[allow(dead_code, clippy::large_enum_variant)]
        $vis mod $module {
            #![allow(unused_imports)]
            use super::*;
            use $crate::protocol::prelude::*;

            /// The protocol's name (also the usual name its server registers).
            pub const NAME: &str = $name;
            /// The protocol's wire identity: FNV-1a of [`NAME`].
            pub const ID: u32 = $crate::protocol::protocol_id($name);
            /// The protocol's version: requests of another are malformed.
            pub const VERSION: u16 = $version;

            /// A request of this protocol, as a handler receives it.
            #[derive(Debug, Clone, PartialEq)]
            pub enum Request {
                $( $(#[$op_meta])* $variant { $( #[allow(missing_docs)] $arg: $ty ),* }, )*
            }

            /// A reply of this protocol: one variant per request.
            #[derive(Debug, Clone, PartialEq)]
            pub enum Reply {
                $( $(#[$op_meta])* $variant($ret), )*
            }

            impl $crate::wire::Wire for Request {
                const MIN_SIZE: usize = $crate::protocol::HEADER;

                fn encode(&self, w: &mut $crate::wire::Writer) {
                    match self {
                        $( Request::$variant { $( $arg ),* } => {
                            $crate::protocol::write_header(w, ID, $opcode, VERSION);
                            $( $crate::wire::Wire::encode($arg, w); )*
                        } )*
                    }
                }

                fn decode(r: &mut $crate::wire::Reader<'_>) -> $crate::Result<Self> {
                    match $crate::protocol::read_header(r, ID, VERSION)? {
                        $( $opcode => Ok(Request::$variant { $( $arg: <$ty as $crate::wire::Wire>::decode(r)? ),* }), )*
                        _ => Err($crate::Error::BadArgument),
                    }
                }

                fn describe(&self) -> &'static str {
                    match self {
                        $( Request::$variant { .. } => stringify!($variant), )*
                    }
                }
            }

            impl $crate::wire::Wire for Reply {
                const MIN_SIZE: usize = 2;

                fn encode(&self, w: &mut $crate::wire::Writer) {
                    match self {
                        $( Reply::$variant(v) => {
                            $crate::wire::Wire::encode(&($opcode as u16), w);
                            $crate::wire::Wire::encode(v, w);
                        } )*
                    }
                }

                fn decode(r: &mut $crate::wire::Reader<'_>) -> $crate::Result<Self> {
                    match <u16 as $crate::wire::Wire>::decode(r)? {
                        $( $opcode => Ok(Reply::$variant(<$ret as $crate::wire::Wire>::decode(r)?)), )*
                        _ => Err($crate::Error::BadArgument),
                    }
                }
            }

            /// Request bytes for each operation, from borrowed arguments.
            pub mod encode {
                use super::*;
                $(
                    $(#[$op_meta])*
                    pub fn $method($( $arg: impl $crate::wire::Encode<$ty> ),*) -> Vec<u8> {
                        let mut w = $crate::wire::Writer::new();
                        write::$method(&mut w, $( $arg ),*);
                        w.finish()
                    }
                )*
            }

            /// Each operation's request appended to a writer (what
            /// [`encode`] and the clients build on).
            #[doc(hidden)]
            pub mod write {
                use super::*;
                $(
                    #[inline]
                    pub fn $method(w: &mut $crate::wire::Writer, $( $arg: impl $crate::wire::Encode<$ty> ),*) {
                        $crate::protocol::write_header(w, ID, $opcode, VERSION);
                        $( $crate::wire::Encode::<$ty>::encode_as(&$arg, w); )*
                    }
                )*
            }

            /// Each operation's result out of reply bytes.
            pub mod result {
                use super::*;
                $(
                    $(#[$op_meta])*
                    #[allow(unreachable_patterns)]
                    pub fn $method(bytes: &[u8]) -> $crate::Result<$ret> {
                        match $crate::wire::from_bytes::<Reply>(bytes)? {
                            Reply::$variant(v) => Ok(v),
                            _ => Err($crate::Error::BadArgument),
                        }
                    }
                )*
            }

            /// A client of this protocol; see `libipc::protocol`.
            #[derive(Debug)]
            pub struct Client {
                peer: $crate::protocol::Peer,
            }

            impl From<$crate::ipc::Connection> for Client {
                fn from(conn: $crate::ipc::Connection) -> Client {
                    Client { peer: $crate::protocol::Peer::new(conn) }
                }
            }

            impl AsRef<$crate::protocol::Peer> for Client {
                fn as_ref(&self) -> &$crate::protocol::Peer {
                    &self.peer
                }
            }

            impl From<$crate::protocol::Peer> for Client {
                fn from(peer: $crate::protocol::Peer) -> Client {
                    Client { peer }
                }
            }

            /// A client of the server registered as [`NAME`] (looked up with
            /// the name service).
            pub fn lookup() -> $crate::Result<Client> {
                $crate::names::lookup(NAME).map(Client::from)
            }

            impl Client {
                /// The operations, blocking the calling thread until each reply.
                pub fn blocking(&self) -> Blocking<'_> {
                    Blocking { client: self }
                }

                $(
                    $(#[$op_meta])*
                    pub async fn $method(&self, $( $arg: impl $crate::wire::Encode<$ty> ),*) -> $crate::Result<$ret> {
                        let mut w = $crate::wire::Writer::new();
                        write::$method(&mut w, $( $arg ),*);
                        $crate::executor::call_async_with(self.peer.raw(), w.as_slice(), result::$method).await
                    }
                )*
            }

            /// [`Client`]'s operations as blocking calls.
            #[derive(Debug, Clone, Copy)]
            pub struct Blocking<'a> {
                client: &'a Client,
            }

            impl Blocking<'_> {
                $(
                    $(#[$op_meta])*
                    pub fn $method(&self, $( $arg: impl $crate::wire::Encode<$ty> ),*) -> $crate::Result<$ret> {
                        let mut w = $crate::wire::Writer::new();
                        write::$method(&mut w, $( $arg ),*);
                        $crate::protocol::call_blocking_with(self.client.peer.raw(), w.as_slice(), result::$method)
                    }
                )*
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use alloc::collections::BTreeMap;
    use alloc::rc::Rc;
    use alloc::string::String;
    use core::cell::RefCell;
    use core::time::Duration;

    use super::*;
    use crate::executor::sim::{SimKernel, SimResponse};
    use crate::executor::{self, Executor, Shutdown};
    use crate::wire::{from_bytes, to_vec};

    crate::protocol! {
        /// A key-value store.
        pub mod kv = "kv", version 1 {
            /// The value under `key`.
            Get = 1 => fn get(key: String) -> Option<Vec<u8>>;
            /// Stores `value` under `key`; the previous value.
            Put = 2 => fn put(key: String, value: Vec<u8>) -> Option<Vec<u8>>;
            /// How many keys there are.
            Len = 3 => fn len() -> u32;
        }
    }

    #[test]
    fn requests_have_the_documented_layout() {
        let bytes = kv::encode::get("ab");
        let mut want = Vec::new();
        want.extend_from_slice(&protocol_id("kv").to_le_bytes());
        want.extend_from_slice(&[1, 0, 1, 0, 2, 0, 0, 0, b'a', b'b']);
        assert_eq!(bytes, want);
        assert_eq!(from_bytes::<kv::Request>(&bytes), Ok(kv::Request::Get { key: "ab".into() }));
        let owned = kv::Request::Put { key: "k".into(), value: vec![1, 2] };
        assert_eq!(to_vec(&owned), kv::encode::put("k", &[1u8, 2]));
        assert_eq!(owned.describe(), "Put");
        assert_eq!(to_vec(&kv::Reply::Len(5)), [3, 0, 5, 0, 0, 0]);
        assert_eq!(kv::result::len(&[3, 0, 5, 0, 0, 0]), Ok(5));
        assert_eq!(kv::result::get(&[3, 0, 5, 0, 0, 0]), Err(Error::BadArgument), "a reply to another op");
    }

    #[test]
    fn foreign_old_or_unknown_requests_are_malformed() {
        let mut other = kv::encode::len();
        other[0] ^= 1; // another protocol's ID
        let mut old = kv::encode::len();
        old[6] = 2; // another version
        let mut unknown = kv::encode::len();
        unknown[4] = 9; // no such opcode
        for bad in [other, old, unknown, vec![], kv::encode::get("x")[..9].to_vec()] {
            assert_eq!(from_bytes::<kv::Request>(&bad), Err(Error::BadArgument), "{bad:?}");
        }
        // A longer request (a field appended by a newer client) still decodes.
        let mut newer = kv::encode::get("x");
        newer.extend_from_slice(&[1, 2, 3]);
        assert_eq!(from_bytes::<kv::Request>(&newer), Ok(kv::Request::Get { key: "x".into() }));
    }

    /// The kv server's logic, as an example server would write it.
    fn apply(store: &mut BTreeMap<String, Vec<u8>>, req: kv::Request) -> kv::Reply {
        match req {
            kv::Request::Get { key } => kv::Reply::Get(store.get(&key).cloned()),
            kv::Request::Put { key, value } => kv::Reply::Put(store.insert(key, value)),
            kv::Request::Len {} => kv::Reply::Len(store.len() as u32),
        }
    }

    #[test]
    fn a_typed_server_answers_typed_clients() {
        const KV: u64 = 3;
        let sim = SimKernel::new();
        // Clients' requests as they arrive at the server, and a garbage one.
        let put = sim.message_at(0, kv::encode::put("a", b"1"));
        let get = sim.message_at(1, kv::encode::get("a"));
        let junk = sim.message_at(2, b"not a request".to_vec());
        let store = Rc::new(RefCell::new(BTreeMap::new()));
        let mut server = Executor::new(sim.clone()).serve(move |req: kv::Request, _ctx| {
            let reply = apply(&mut store.borrow_mut(), req);
            async move { Ok(reply) }
        });
        server
            .spawn("stop", async {
                executor::sleep(Duration::from_millis(1)).await;
                executor::shutdown(Shutdown::Graceful);
            })
            .unwrap();
        server.run().unwrap();
        assert_eq!(kv::result::put(&sim.reply_to(put).unwrap().data), Ok(None));
        assert_eq!(kv::result::get(&sim.reply_to(get).unwrap().data), Ok(Some(b"1".to_vec())));
        assert_eq!(sim.reply_to(junk).and_then(|r| r.error()), Some(Error::BadArgument));

        // A typed client in an executor, talking to a simulated kv server
        // that answers its asynchronous sends.
        let sim2 = SimKernel::new();
        let remote = spin::Mutex::new(BTreeMap::new());
        sim2.responder(KV, move |msg| {
            let reply = apply(&mut remote.lock(), from_bytes(msg).ok()?);
            Some(SimResponse { status: 0, data: to_vec(&reply), delay_ns: 1000 })
        });
        let kv = kv::Client::from(Peer::unowned(KV));
        let got = Executor::new(sim2.clone())
            .block_on(async move {
                let old = kv.put("b", &b"22"[..]).await?;
                let b = kv.get(&String::from("b")).await?;
                let n = kv.len().await?;
                Ok::<_, Error>((old, b, n))
            })
            .unwrap();
        assert_eq!(got, Ok((None, Some(b"22".to_vec()), 1)));
        assert_eq!(sim2.sends().len(), 3);
    }
}
