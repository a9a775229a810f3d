//! The GDT and TSS: flat kernel and user segments laid out for
//! `syscall`/`sysret`, and the TSS that names the kernel stack for traps
//! from user mode and the IST stacks for double fault, NMI and machine check
//! (which must run on a known-good stack whatever state the CPU was in).

use core::arch::asm;
use core::mem::size_of;
use core::ptr::addr_of;

pub const KERNEL_CODE: u16 = 0x08;
pub const KERNEL_DATA: u16 = 0x10;
/// `sysret` loads SS from STAR[63:48] + 8 and CS from STAR[63:48] + 16, so
/// user data sits right below user code.
pub const USER_DATA: u16 = 0x18 | 3;
pub const USER_CODE: u16 = 0x20 | 3;
const TSS_SELECTOR: u16 = 0x28;

/// IST slots (1-based, as the IDT encodes them).
pub const IST_DOUBLE_FAULT: u8 = 1;
pub const IST_NMI: u8 = 2;
pub const IST_MACHINE_CHECK: u8 = 3;

const IST_STACK_SIZE: usize = 16 * 1024;

#[repr(C, packed(4))]
pub struct Tss {
    _reserved0: u32,
    pub rsp: [u64; 3],
    _reserved1: u64,
    pub ist: [u64; 7],
    _reserved2: u64,
    _reserved3: u16,
    pub iomap_base: u16,
}

#[repr(C, align(16))]
struct IstStack([u8; IST_STACK_SIZE]);

static mut IST_STACKS: [IstStack; 3] = [const { IstStack([0; IST_STACK_SIZE]) }; 3];

/// Bytes in an I/O permission bitmap (one bit per port, set = denied).
pub const IO_BITMAP_BYTES: usize = 65536 / 8;

/// The TSS followed by its I/O permission bitmap, as the CPU expects.
#[repr(C)]
struct TssWithBitmap {
    tss: Tss,
    bitmap: [u8; IO_BITMAP_BYTES],
    /// The CPU may read one byte past the bitmap; it must be all ones.
    terminator: u8,
}

/// `iomap_base` pointing past the TSS limit: every port is denied.
const NO_IO_BITMAP: u16 = size_of::<TssWithBitmap>() as u16;

/// The one TSS (a single CPU for now; per-CPU later).
static mut TSS: TssWithBitmap = TssWithBitmap {
    tss: Tss {
        _reserved0: 0,
        rsp: [0; 3],
        _reserved1: 0,
        ist: [0; 7],
        _reserved2: 0,
        _reserved3: 0,
        iomap_base: NO_IO_BITMAP,
    },
    bitmap: [0xff; IO_BITMAP_BYTES],
    terminator: 0xff,
};

static mut GDT: [u64; 7] = [
    0,
    0x00af_9a00_0000_ffff, // kernel code: present, DPL0, long mode
    0x00cf_9200_0000_ffff, // kernel data
    0x00cf_f200_0000_ffff, // user data: DPL3
    0x00af_fa00_0000_ffff, // user code: DPL3, long mode
    0,                     // TSS, low half (filled in by init)
    0,                     // TSS, high half
];

#[repr(C, packed)]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

/// Loads the GDT and TSS and reloads every segment register.
///
/// # Safety
/// Call once per CPU, early, with interrupts disabled.
pub unsafe fn init() {
    // SAFETY: single-threaded early boot; nothing else touches these statics.
    unsafe {
        let stacks = &raw mut IST_STACKS;
        for (slot, i) in [IST_DOUBLE_FAULT, IST_NMI, IST_MACHINE_CHECK].into_iter().zip(0..) {
            let top = (&raw mut (*stacks)[i]) as u64 + IST_STACK_SIZE as u64;
            TSS.tss.ist[slot as usize - 1] = top;
        }
        let tss = addr_of!(TSS) as u64;
        let limit = (size_of::<TssWithBitmap>() - 1) as u64;
        GDT[5] = limit | ((tss & 0xff_ffff) << 16) | (0x89 << 40) | (((tss >> 24) & 0xff) << 56);
        GDT[6] = tss >> 32;

        let ptr = DescriptorPointer { limit: (size_of::<[u64; 7]>() - 1) as u16, base: addr_of!(GDT) as u64 };
        asm!(
            "lgdt [{ptr}]",
            "push {code}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ds, {data:x}",
            "mov es, {data:x}",
            "mov ss, {data:x}",
            "xor {tmp:e}, {tmp:e}",
            "mov fs, {tmp:x}",
            "mov gs, {tmp:x}",
            "ltr {tss:x}",
            ptr = in(reg) &ptr,
            code = in(reg) u64::from(KERNEL_CODE),
            data = in(reg) KERNEL_DATA,
            tss = in(reg) TSS_SELECTOR,
            tmp = out(reg) _,
        );
    }
}

/// Sets the stack the CPU switches to on a trap from user mode.
///
/// # Safety
/// `top` must be the top of a mapped kernel stack that stays valid while
/// the current thread can run in user mode.
pub unsafe fn set_kernel_stack(top: u64) {
    // SAFETY: the caller guarantees `top` is valid; only this CPU reads RSP0.
    unsafe { TSS.tss.rsp[0] = top };
}

/// Copies a process's I/O permission bitmap into the TSS (8 KiB: done only
/// when a different driver runs). Interrupts must be disabled.
pub fn load_io_bitmap(bitmap: &[u8; IO_BITMAP_BYTES]) {
    // SAFETY: only this CPU uses its TSS, with interrupts disabled; the CPU
    // reads the bitmap only on I/O instructions in user mode.
    unsafe {
        let dst = (&raw mut TSS.bitmap).cast::<u8>();
        core::ptr::copy_nonoverlapping(bitmap.as_ptr(), dst, IO_BITMAP_BYTES);
    }
}

/// Turns the TSS's bitmap on (the loaded one applies) or off (every port is
/// denied). Interrupts must be disabled.
#[inline]
pub fn enable_io_bitmap(on: bool) {
    let base = if on { size_of::<Tss>() as u16 } else { NO_IO_BITMAP };
    // SAFETY: as in `load_io_bitmap`; one field of this CPU's TSS.
    unsafe { TSS.tss.iomap_base = base };
}
