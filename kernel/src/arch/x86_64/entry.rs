//! The first kernel instruction: move off the loader's stack (which lives in
//! bootloader-reclaimable memory the kernel will reuse) onto the kernel's
//! own boot stack in .bss, then call `kmain`.

use core::arch::global_asm;

const BOOT_STACK_SIZE: usize = 64 * 1024;

#[repr(C, align(16))]
struct BootStack([u8; BOOT_STACK_SIZE]);

#[no_mangle]
static mut BOOT_STACK: BootStack = BootStack([0; BOOT_STACK_SIZE]);

global_asm!(
    r#"
.section .text.entry, "ax"
.global kernel_entry
kernel_entry:
    lea rsp, [rip + BOOT_STACK + {size}]
    xor ebp, ebp
    call {kmain}
    ud2
"#,
    size = const BOOT_STACK_SIZE,
    kmain = sym crate::kmain,
);
