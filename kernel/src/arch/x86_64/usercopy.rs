//! Copies that may fault: the one routine the kernel uses to touch memory
//! whose mapping it does not control (user memory). If the copy faults, the
//! trap handler sees the faulting RIP inside `copy_start..copy_end` and
//! resumes at `copy_fault`, which returns an error instead of crashing.
//! With SMAP on, user pages are reachable only between its `stac`/`clac`.

use super::trap::TrapFrame;
use core::arch::global_asm;
use core::ptr::addr_of;

global_asm!(
    r#"
.section .text.usercopy, "ax"
.global usercopy_copy, usercopy_start, usercopy_end, usercopy_fault
// usercopy_copy(dst: rdi, src: rsi, len: rdx) -> rax: 0 copied, 1 faulted
usercopy_copy:
    mov rcx, rdx
    shr rcx, 3
    cmp byte ptr [rip + {smap}], 0
    je 1f
    stac
1:
usercopy_start:
    rep movsq
    mov ecx, edx
    and ecx, 7
    rep movsb
usercopy_end:
    xor eax, eax
    jmp 2f
usercopy_fault:
    mov eax, 1
2:
    cmp byte ptr [rip + {smap}], 0
    je 3f
    clac
3:
    ret
"#,
    smap = sym super::features::SMAP_ENABLED,
);

extern "C" {
    fn usercopy_copy(dst: *mut u8, src: *const u8, len: usize) -> u64;
    static usercopy_start: u8;
    static usercopy_end: u8;
    static usercopy_fault: u8;
}

/// The copy touched an address that is not mapped as it needs.
#[derive(Debug, PartialEq, Eq)]
pub struct CopyFault;

/// Copies `len` bytes from `src` to `dst`, either of which may be unmapped.
///
/// # Safety
/// Every byte of both ranges that *is* mapped must be memory the caller may
/// read (`src`) or write (`dst`) without breaking Rust's aliasing rules.
pub unsafe fn copy(dst: *mut u8, src: *const u8, len: usize) -> Result<(), CopyFault> {
    // SAFETY: the caller vouches for whatever is mapped; what is not mapped
    // faults and is recovered by `fixup`.
    match unsafe { usercopy_copy(dst, src, len) } {
        0 => Ok(()),
        _ => Err(CopyFault),
    }
}

/// If `frame` faulted inside the copy loop, redirects it to the error exit
/// and returns true.
pub fn fixup(frame: &mut TrapFrame) -> bool {
    let start = addr_of!(usercopy_start) as u64;
    let end = addr_of!(usercopy_end) as u64;
    if (start..=end).contains(&frame.rip) {
        frame.rip = addr_of!(usercopy_fault) as u64;
        true
    } else {
        false
    }
}
