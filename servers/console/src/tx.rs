//! The transmit buffer: bytes waiting for the UART. Pure logic, tested on
//! the host.
//!
//! A write message goes in whole or not at all ([`TxBuffer::push_message`]),
//! so a message is never split by another one: the server holds a writer
//! whose message does not fit until the UART has drained enough. `\n`
//! becomes `\r\n` here (serial terminals need the carriage return); echo is
//! put in as is ([`TxBuffer::push_raw`]), and is never refused: it is a
//! few bytes per typed key.

use alloc::collections::VecDeque;

/// Bytes waiting for the UART, at most about `capacity`.
#[derive(Debug)]
pub struct TxBuffer {
    bytes: VecDeque<u8>,
    capacity: usize,
}

impl TxBuffer {
    /// An empty buffer for `capacity` bytes.
    pub fn new(capacity: usize) -> TxBuffer {
        TxBuffer { bytes: VecDeque::new(), capacity }
    }

    /// Bytes `message` takes once `\n` is expanded.
    pub fn encoded_len(message: &[u8]) -> usize {
        message.len() + message.iter().filter(|&&b| b == b'\n').count()
    }

    /// True if `message` would be taken now. A message larger than the
    /// whole buffer is taken when the buffer is empty (so it cannot wait
    /// forever).
    pub fn fits(&self, message: &[u8]) -> bool {
        self.bytes.is_empty() || self.bytes.len() + Self::encoded_len(message) <= self.capacity
    }

    /// Appends `message` with `\n` expanded, if it [`fits`](Self::fits);
    /// false (and nothing appended) if not.
    pub fn push_message(&mut self, message: &[u8]) -> bool {
        if !self.fits(message) {
            return false;
        }
        for &b in message {
            if b == b'\n' {
                self.bytes.push_back(b'\r');
            }
            self.bytes.push_back(b);
        }
        true
    }

    /// Appends `bytes` unchanged, whatever the room (echo).
    pub fn push_raw(&mut self, bytes: &[u8]) {
        self.bytes.extend(bytes);
    }

    /// Removes up to `out.len()` bytes from the front into `out`; returns
    /// how many.
    pub fn take(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.bytes.len());
        for (slot, b) in out.iter_mut().zip(self.bytes.drain(..n)) {
            *slot = b;
        }
        n
    }

    /// Bytes waiting.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True if nothing waits.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    fn drain(tx: &mut TxBuffer) -> Vec<u8> {
        let mut out = vec![0u8; tx.len()];
        let n = tx.take(&mut out);
        out.truncate(n);
        out
    }

    #[test]
    fn newlines_expand_and_echo_does_not() {
        let mut tx = TxBuffer::new(64);
        assert!(tx.push_message(b"a\nb\n"));
        tx.push_raw(b"x\r\n");
        assert_eq!(drain(&mut tx), b"a\r\nb\r\nx\r\n");
        assert_eq!(TxBuffer::encoded_len(b"\n\n"), 4);
    }

    #[test]
    fn a_message_goes_in_whole_or_not_at_all() {
        let mut tx = TxBuffer::new(8);
        assert!(tx.push_message(b"12345"));
        assert!(!tx.push_message(b"abc\n"));
        assert_eq!(tx.len(), 5);
        let mut two = [0u8; 2];
        assert_eq!(tx.take(&mut two), 2);
        assert_eq!(&two, b"12");
        assert!(tx.push_message(b"abc\n"));
        assert_eq!(drain(&mut tx), b"345abc\r\n");
    }

    #[test]
    fn an_oversized_message_fits_an_empty_buffer() {
        let mut tx = TxBuffer::new(4);
        assert!(tx.push_message(b"0123456789"));
        assert!(!tx.push_message(b"x"));
        assert_eq!(drain(&mut tx).len(), 10);
        assert!(tx.is_empty());
        assert!(tx.push_message(b"x"));
    }

    #[test]
    fn take_stops_at_what_waits() {
        let mut tx = TxBuffer::new(16);
        let mut out = [0u8; 16];
        assert_eq!(tx.take(&mut out), 0);
        tx.push_raw(b"ab");
        assert_eq!(tx.take(&mut out), 2);
        assert_eq!(&out[..2], b"ab");
    }
}
