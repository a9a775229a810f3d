//! Leaving QEMU through the `isa-debug-exit` device (iobase 0xf4). QEMU exits
//! with status `(code << 1) | 1`; the test runner maps it back.

use super::cpu::{halt_forever, outl};

/// How the kernel wants QEMU to end.
#[derive(Clone, Copy)]
#[repr(u32)]
pub enum ExitCode {
    /// Everything passed: QEMU exits with status 33.
    Success = 0x10,
    /// A test failed or the kernel panicked: QEMU exits with status 35.
    Failure = 0x11,
}

/// Exits QEMU; halts forever if the device is absent (a real machine).
pub fn exit(code: ExitCode) -> ! {
    // SAFETY: port 0xf4 is the debug-exit device or nothing at all.
    unsafe { outl(0xf4, code as u32) };
    halt_forever()
}
