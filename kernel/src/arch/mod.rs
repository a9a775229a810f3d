//! Architecture support. Only x86_64 exists; the rest of the kernel names
//! `arch::` items so another architecture would slot in here.

mod x86_64;
pub use self::x86_64::*;
