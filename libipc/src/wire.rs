//! The wire format of typed messages: how requests and replies declared as
//! Rust types become bytes and back, with a fixed layout that never depends
//! on the compiler.
//!
//! Every value is written field after field, with no padding and no
//! alignment:
//!
//! | type | bytes |
//! |---|---|
//! | `u8`..`u64`, `i8`..`i64` | little-endian, 1/2/4/8 bytes |
//! | `bool` | one byte, 0 or 1 (anything else is malformed) |
//! | `()` | nothing |
//! | `String` | `u32` length, then that many bytes of UTF-8 |
//! | `Vec<T>` | `u32` count, then the elements |
//! | `Option<T>` | one byte 0 (`None`) or 1 then the value |
//! | `[u8; N]` | the N bytes |
//! | `(A, B)`, `(A, B, C)` | the fields in order |
//! | `Duration` | `u64` nanoseconds (saturating) |
//!
//! A struct declared with [`wire!`](crate::wire!) is its fields in
//! declaration order; a protocol's request and reply (see
//! [`protocol!`](crate::protocol!)) add a small header.
//!
//! Decoding is checked everywhere: a short buffer, a bad UTF-8 string, a
//! bool or tag out of range, or a count larger than the bytes left is
//! `Err(BadArgument)`, never a panic and never a huge allocation. Bytes
//! after the value are ignored, so a newer peer may append fields that an
//! older one does not know (see `docs/writing-a-server.md` on versions).
//!
//! A [`Writer`] encodes into a buffer inside itself (no allocation, and not
//! cleared first) until a message outgrows it. Reading back the bytes it
//! wrote there is this module's only unsafe code.
#![deny(unsafe_code)]

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::mem::MaybeUninit;
use core::time::Duration;

use abi::Error;

use crate::Result;

/// Bytes a [`Writer`] keeps in itself before it moves to the heap: most
/// requests and replies fit, so encoding one allocates nothing.
pub const INLINE: usize = 128;

/// Bytes being encoded: in the writer itself up to [`INLINE`] bytes (no
/// allocation, and nothing cleared beforehand), in a `Vec` beyond.
pub struct Writer {
    /// The first `len` bytes are initialised (while `spill` is empty).
    inline: [MaybeUninit<u8>; INLINE],
    /// Bytes of `inline` written, while `spill` is empty.
    len: usize,
    /// Everything written, once it no longer fit in `inline`.
    spill: Vec<u8>,
}

impl Default for Writer {
    fn default() -> Writer {
        Writer::new()
    }
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer").field("bytes", &self.as_slice()).finish()
    }
}

impl Writer {
    /// An empty message.
    #[inline]
    pub fn new() -> Writer {
        Writer { inline: [const { MaybeUninit::uninit() }; INLINE], len: 0, spill: Vec::new() }
    }

    /// Appends raw bytes.
    #[inline]
    pub fn bytes(&mut self, b: &[u8]) {
        if self.spill.is_empty() {
            if let Some(dst) = self.inline.get_mut(self.len..self.len + b.len()) {
                dst.write_copy_of_slice(b);
                self.len += b.len();
                return;
            }
        }
        self.spill_bytes(b);
    }

    /// [`bytes`](Self::bytes) past the inline room: moves to a `Vec`.
    #[cold]
    fn spill_bytes(&mut self, b: &[u8]) {
        if self.spill.is_empty() {
            let written = self.as_slice();
            let mut spill = Vec::with_capacity(written.len() + b.len());
            spill.extend_from_slice(written);
            self.spill = spill;
        }
        self.spill.extend_from_slice(b);
    }

    /// Appends a `u32` length (saturating: no message is that long, the
    /// kernel refuses it before anyone reads the length).
    #[inline]
    pub fn len(&mut self, n: usize) {
        self.bytes(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
    }

    /// Bytes written so far.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        if !self.spill.is_empty() {
            return &self.spill;
        }
        let written = self.inline.get(..self.len).unwrap_or(&[]);
        // SAFETY: `bytes` wrote `inline[..len]` before it counted those
        // bytes in `len`, and nothing else raises `len` (`clear` lowers it
        // to 0): every byte of `written` is initialised.
        #[allow(unsafe_code)]
        unsafe {
            written.assume_init_ref()
        }
    }

    /// Forgets what was written (keeping any heap room), to encode the
    /// next message in the same writer.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
        self.spill.clear();
    }

    /// The message.
    pub fn finish(self) -> Vec<u8> {
        if self.spill.is_empty() {
            self.as_slice().to_vec()
        } else {
            self.spill
        }
    }
}

/// Bytes being decoded: a cursor that only moves forward and checks every
/// read.
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads `bytes` from the start.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    /// The next `n` bytes; `BadArgument` if fewer are left.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.rest.len() {
            return Err(Error::BadArgument);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// A `u32` count of items of at least `min_size` bytes each, checked
    /// to fit in what is left (items of size 0: at most `MAX_MESSAGE`), so
    /// a hostile count cannot make the decoder allocate or loop much.
    pub fn len(&mut self, min_size: usize) -> Result<usize> {
        let n = u32::from_le_bytes(self.array()?) as usize;
        let fits = match min_size {
            0 => n <= abi::ipc::MAX_MESSAGE,
            size => n.saturating_mul(size) <= self.rest.len(),
        };
        if !fits {
            return Err(Error::BadArgument);
        }
        Ok(n)
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }
}

/// A type with a wire form. Implemented for the types in the table above;
/// [`wire!`](crate::wire!) implements it for structs.
pub trait Wire: Sized {
    /// Smallest encoded size, used to bound counts while decoding.
    const MIN_SIZE: usize = 1;

    /// Appends the value.
    fn encode(&self, w: &mut Writer);

    /// Reads a value; `Err(BadArgument)` if the bytes are not one.
    fn decode(r: &mut Reader<'_>) -> Result<Self>;

    /// A short name for reports (the executor names request tasks with it).
    fn describe(&self) -> &'static str {
        "request"
    }
}

/// Encodes a whole value into a new buffer.
pub fn to_vec<T: Wire>(value: &T) -> Vec<u8> {
    let mut w = Writer::new();
    value.encode(&mut w);
    w.finish()
}

/// Decodes a value from the start of `bytes` (trailing bytes are ignored).
pub fn from_bytes<T: Wire>(bytes: &[u8]) -> Result<T> {
    T::decode(&mut Reader::new(bytes))
}

/// Something that encodes exactly as a `T` would: lets a client pass
/// `"key"` or `&[u8]` where the protocol declares `String` or `Vec<u8>`,
/// without building the owned value first.
pub trait Encode<T> {
    /// Appends `self` in `T`'s wire form.
    fn encode_as(&self, w: &mut Writer);
}

impl<T: Wire> Encode<T> for T {
    fn encode_as(&self, w: &mut Writer) {
        self.encode(w)
    }
}

impl<T: Wire> Encode<T> for &T {
    fn encode_as(&self, w: &mut Writer) {
        (*self).encode(w)
    }
}

impl Encode<String> for &str {
    fn encode_as(&self, w: &mut Writer) {
        w.len(self.len());
        w.bytes(self.as_bytes());
    }
}

impl Encode<Vec<u8>> for &[u8] {
    fn encode_as(&self, w: &mut Writer) {
        w.len(self.len());
        w.bytes(self);
    }
}

impl<const N: usize> Encode<Vec<u8>> for &[u8; N] {
    fn encode_as(&self, w: &mut Writer) {
        w.len(N);
        w.bytes(&self[..]);
    }
}

macro_rules! int_wire {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            const MIN_SIZE: usize = core::mem::size_of::<$t>();
            fn encode(&self, w: &mut Writer) {
                w.bytes(&self.to_le_bytes());
            }
            fn decode(r: &mut Reader<'_>) -> Result<Self> {
                Ok(<$t>::from_le_bytes(r.array()?))
            }
        }
    )*};
}

int_wire!(u8, u16, u32, u64, i8, i16, i32, i64);

impl Wire for bool {
    fn encode(&self, w: &mut Writer) {
        w.bytes(&[u8::from(*self)]);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.array::<1>()? {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err(Error::BadArgument),
        }
    }
}

impl Wire for () {
    const MIN_SIZE: usize = 0;
    fn encode(&self, _: &mut Writer) {}
    fn decode(_: &mut Reader<'_>) -> Result<Self> {
        Ok(())
    }
}

impl Wire for String {
    const MIN_SIZE: usize = 4;
    fn encode(&self, w: &mut Writer) {
        self.as_str().encode_as(w)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let n = r.len(1)?;
        let bytes = r.take(n)?;
        core::str::from_utf8(bytes).map(String::from).map_err(|_| Error::BadArgument)
    }
}

impl<T: Wire> Wire for Vec<T> {
    const MIN_SIZE: usize = 4;
    fn encode(&self, w: &mut Writer) {
        w.len(self.len());
        for item in self {
            item.encode(w);
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let n = r.len(T::MIN_SIZE)?;
        let mut v = Vec::new();
        // `len` bounded `n` by the bytes left (or `MAX_MESSAGE`).
        v.try_reserve(n).map_err(|_| Error::NoMemory)?;
        for _ in 0..n {
            v.push(T::decode(r)?);
        }
        Ok(v)
    }
}

impl<T: Wire> Wire for Option<T> {
    fn encode(&self, w: &mut Writer) {
        match self {
            None => w.bytes(&[0]),
            Some(v) => {
                w.bytes(&[1]);
                v.encode(w);
            }
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.array::<1>()? {
            [0] => Ok(None),
            [1] => T::decode(r).map(Some),
            _ => Err(Error::BadArgument),
        }
    }
}

impl<const N: usize> Wire for [u8; N] {
    const MIN_SIZE: usize = N;
    fn encode(&self, w: &mut Writer) {
        w.bytes(self);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        r.array()
    }
}

impl<A: Wire, B: Wire> Wire for (A, B) {
    const MIN_SIZE: usize = A::MIN_SIZE + B::MIN_SIZE;
    fn encode(&self, w: &mut Writer) {
        self.0.encode(w);
        self.1.encode(w);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok((A::decode(r)?, B::decode(r)?))
    }
}

impl<A: Wire, B: Wire, C: Wire> Wire for (A, B, C) {
    const MIN_SIZE: usize = A::MIN_SIZE + B::MIN_SIZE + C::MIN_SIZE;
    fn encode(&self, w: &mut Writer) {
        self.0.encode(w);
        self.1.encode(w);
        self.2.encode(w);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok((A::decode(r)?, B::decode(r)?, C::decode(r)?))
    }
}

impl Wire for Duration {
    const MIN_SIZE: usize = 8;
    fn encode(&self, w: &mut Writer) {
        u64::try_from(self.as_nanos()).unwrap_or(u64::MAX).encode(w)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        u64::decode(r).map(Duration::from_nanos)
    }
}

/// Declares structs with a wire form: the fields in declaration order.
///
/// ```ignore
/// libipc::wire! {
///     /// One entry of a directory listing.
///     #[derive(Debug, Clone, PartialEq)]
///     pub struct Entry { pub name: String, pub size: u64, pub dir: bool }
/// }
/// ```
#[macro_export]
macro_rules! wire {
    ($(
        $(#[$meta:meta])*
        $vis:vis struct $name:ident { $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty ),* $(,)? }
    )*) => {$(
        $(#[$meta])*
        $vis struct $name { $( $(#[$fmeta])* $fvis $field : $ty ),* }

        impl $crate::wire::Wire for $name {
            const MIN_SIZE: usize = 0 $( + <$ty as $crate::wire::Wire>::MIN_SIZE )*;
            fn encode(&self, w: &mut $crate::wire::Writer) {
                $( $crate::wire::Wire::encode(&self.$field, w); )*
                let _ = w;
            }
            fn decode(r: &mut $crate::wire::Reader<'_>) -> $crate::Result<Self> {
                let _ = &r;
                Ok($name { $( $field: <$ty as $crate::wire::Wire>::decode(r)? ),* })
            }
        }
    )*};
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    crate::wire! {
        #[derive(Debug, Clone, PartialEq)]
        struct Entry { name: String, size: u64, tags: Vec<u16>, dir: bool, parent: Option<u32> }

        #[derive(Debug, PartialEq)]
        struct Empty {}
    }

    #[test]
    fn layout_is_fixed() {
        let e = Entry { name: "ab".into(), size: 0x0102, tags: vec![7], dir: true, parent: None };
        assert_eq!(to_vec(&e), [2, 0, 0, 0, b'a', b'b', 2, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 7, 0, 1, 0].to_vec());
        assert_eq!(from_bytes::<Entry>(&to_vec(&e)), Ok(e));
        assert_eq!(from_bytes::<Empty>(&[]), Ok(Empty {}));
    }

    #[test]
    fn round_trips() {
        let v: (u8, i64, (String, [u8; 3])) = (200, -5, ("héllo".into(), [1, 2, 3]));
        assert_eq!(from_bytes(&to_vec(&v)), Ok(v));
        let d = Duration::from_millis(1500);
        assert_eq!(from_bytes(&to_vec(&d)), Ok(d));
        let nested: Vec<Option<Vec<u8>>> = vec![None, Some(vec![]), Some(vec![9; 10])];
        assert_eq!(from_bytes(&to_vec(&nested)), Ok(nested));
    }

    #[test]
    fn borrowed_forms_encode_like_owned() {
        let mut a = Writer::new();
        Encode::<String>::encode_as(&"key", &mut a);
        assert_eq!(a.finish(), to_vec(&String::from("key")));
        let mut b = Writer::new();
        Encode::<Vec<u8>>::encode_as(&&b"xyz"[..], &mut b);
        Encode::<Vec<u8>>::encode_as(&b"xyz", &mut b);
        assert_eq!(b.finish(), [to_vec(&b"xyz".to_vec()), to_vec(&b"xyz".to_vec())].concat());
    }

    #[test]
    fn the_writer_moves_to_the_heap_past_its_inline_room() {
        // Written in pieces that straddle the inline room, and reused.
        let long: Vec<u8> = (0..3 * INLINE).map(|i| i as u8).collect();
        let mut w = Writer::new();
        for round in 0..2 {
            for chunk in long.chunks(INLINE / 2 - 3) {
                w.bytes(chunk);
            }
            assert_eq!(w.as_slice(), &long[..], "round {round}");
            w.clear();
            assert!(w.as_slice().is_empty());
            w.bytes(b"ab");
            assert_eq!(w.as_slice(), b"ab");
            w.clear();
        }
        // Exactly the inline room, then one byte more.
        let mut w = Writer::new();
        w.bytes(&long[..INLINE]);
        assert_eq!(w.as_slice(), &long[..INLINE]);
        w.bytes(&long[INLINE..=INLINE]);
        assert_eq!(w.finish(), long[..=INLINE].to_vec());
        let v: Vec<u16> = (0..500).collect();
        assert_eq!(from_bytes::<Vec<u16>>(&to_vec(&v)), Ok(v));
    }

    #[test]
    fn malformed_input_is_an_error_never_a_panic() {
        assert_eq!(from_bytes::<u32>(&[1, 2, 3]), Err(Error::BadArgument));
        assert_eq!(from_bytes::<bool>(&[2]), Err(Error::BadArgument));
        assert_eq!(from_bytes::<Option<u8>>(&[5, 1]), Err(Error::BadArgument));
        // Invalid UTF-8.
        assert_eq!(from_bytes::<String>(&[2, 0, 0, 0, 0xff, 0xfe]), Err(Error::BadArgument));
        // A count far beyond what is left must not allocate.
        assert_eq!(from_bytes::<Vec<u64>>(&[0xff, 0xff, 0xff, 0x7f, 1]), Err(Error::BadArgument));
        assert_eq!(from_bytes::<Vec<()>>(&[0xff, 0xff, 0xff, 0xff]), Err(Error::BadArgument));
        assert_eq!(from_bytes::<Vec<()>>(&[3, 0, 0, 0]), Ok(vec![(), (), ()]));
        // Every prefix of a valid message fails cleanly.
        let e = Entry { name: "name".into(), size: 1, tags: vec![1, 2], dir: false, parent: Some(3) };
        let bytes = to_vec(&e);
        for n in 0..bytes.len() {
            assert_eq!(from_bytes::<Entry>(&bytes[..n]), Err(Error::BadArgument), "prefix {n}");
        }
        // Every single-byte corruption decodes to something or fails: no panic.
        for i in 0..bytes.len() {
            for v in [0u8, 1, 0x7f, 0xff] {
                let mut b = bytes.clone();
                b[i] = v;
                let _ = from_bytes::<Entry>(&b);
            }
        }
    }
}
