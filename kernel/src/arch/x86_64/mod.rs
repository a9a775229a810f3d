//! Everything specific to x86_64: CPU instructions, descriptor tables, trap
//! entry, interrupt controllers and time. All of the kernel's assembly lives
//! under this directory.

pub mod acpi;
pub mod apic;
pub mod cpu;
mod entry;
pub mod features;
pub mod gdt;
pub mod ioapic;
pub mod percpu;
pub mod qemu;
pub mod serial;
pub mod time;
pub mod trap;
pub mod user;
pub mod usercopy;
