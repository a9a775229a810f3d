//! The 32-bit entry point QEMU's Multiboot loader jumps to, and the static
//! state it needs: the boot stack, the page tables that identity-map the
//! first 4 GiB with 2 MiB pages, and the GDT (in the layout the Limine
//! protocol promises, so the kernel is later entered with this same GDT).
//!
//! `_start32` runs with paging off, EAX = Multiboot magic and EBX = physical
//! address of the Multiboot info. It checks for long mode, enables PAE,
//! EFER.LME (and EFER.NXE when CPUID reports NX), paging and CR0.WP, loads
//! the GDT, far-jumps to 64-bit code and calls
//! `boot_main(magic: u32, info: u32)`. Without long mode it prints an error
//! on COM1 and exits QEMU through the isa-debug-exit port.

use core::arch::global_asm;

/// Selector of the 64-bit code segment in [`GDT_ENTRIES`] order.
pub const KERNEL_CS: u16 = 0x28;
/// Selector of the 64-bit data segment.
pub const KERNEL_DS: u16 = 0x30;

/// Number of descriptors in the boot GDT.
pub const GDT_ENTRIES: usize = 7;

extern "C" {
    /// The GDT defined below: null, 16-bit code/data, 32-bit code/data,
    /// 64-bit code (0x28), 64-bit data (0x30).
    pub static boot_gdt: [u64; GDT_ENTRIES];
    /// First byte of the loader image (the ELF header, at 1 MiB).
    pub static __load_addr: u8;
    /// First byte after the loader image including its BSS, page aligned.
    pub static __bss_end: u8;
}

global_asm!(
    r#"
    .section .text.entry32, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    mov esp, offset boot_stack_top
    mov edi, eax                    /* Multiboot magic, 1st argument */
    mov esi, ebx                    /* Multiboot info, 2nd argument */

    /* Long mode available? */
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .Lno_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 0x20000000            /* LM */
    jz .Lno_long_mode
    mov ebp, edx                    /* keep the NX bit (20) for later */

    /* PML4[0] -> PDPT, PDPT[0..4] -> 4 page directories. */
    mov eax, offset boot_pdpt
    or eax, 3
    mov dword ptr [boot_pml4], eax
    mov eax, offset boot_pds
    or eax, 3
    xor ecx, ecx
.Lfill_pdpt:
    mov dword ptr [boot_pdpt + 8 * ecx], eax
    add eax, 4096
    inc ecx
    cmp ecx, 4
    jb .Lfill_pdpt

    /* 2048 x 2 MiB pages: present | writable | huge. */
    mov eax, 0x83
    xor ecx, ecx
.Lfill_pds:
    mov dword ptr [boot_pds + 8 * ecx], eax
    add eax, 0x200000
    inc ecx
    cmp ecx, 2048
    jb .Lfill_pds

    mov eax, offset boot_pml4
    mov cr3, eax

    mov eax, cr4
    or eax, 0x20                    /* PAE */
    mov cr4, eax

    mov ecx, 0xC0000080             /* EFER */
    rdmsr
    or eax, 0x100                   /* LME */
    test ebp, 0x100000
    jz .Lno_nx
    or eax, 0x800                   /* NXE */
.Lno_nx:
    wrmsr

    mov eax, cr0
    or eax, 0x80010001              /* PG | WP | PE */
    mov cr0, eax

    lgdt [.Lgdtr32]
    push 0x28
    mov eax, offset .Lstart64
    push eax
    retf

.Lno_long_mode:
    mov esi, offset .Lmsg_no_long_mode
.Lputc:
    mov bl, byte ptr [esi]
    test bl, bl
    jz .Lfail_exit
    mov dx, 0x3fd
.Lwait_tx:
    in al, dx
    test al, 0x20
    jz .Lwait_tx
    mov dx, 0x3f8
    mov al, bl
    out dx, al
    inc esi
    jmp .Lputc
.Lfail_exit:
    mov dx, 0xf4
    mov eax, 0x11
    out dx, eax
.Lhalt32:
    hlt
    jmp .Lhalt32

    .code64
.Lstart64:
    mov ax, 0x30
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov esp, esp                    /* zero-extend into RSP */
    mov edi, edi
    mov esi, esi
    xor ebp, ebp
    call {main}
    ud2

    .section .rodata.entry32, "a"
.Lmsg_no_long_mode:
    .asciz "boot: error: CPU does not support long mode\r\n"

    .section .data.boot_gdt, "aw"
    .balign 16
    .global boot_gdt
boot_gdt:
    .quad 0                         /* null */
    .quad 0x00009a000000ffff        /* 0x08: 16-bit code, base 0, limit 0xffff */
    .quad 0x000092000000ffff        /* 0x10: 16-bit data, base 0, limit 0xffff */
    .quad 0x00cf9a000000ffff        /* 0x18: 32-bit code, base 0, limit 4 GiB */
    .quad 0x00cf92000000ffff        /* 0x20: 32-bit data, base 0, limit 4 GiB */
    .quad 0x00af9a000000ffff        /* 0x28: 64-bit code */
    .quad 0x00cf92000000ffff        /* 0x30: 64-bit data */
.Lgdt_end:
    .balign 4
.Lgdtr32:
    .word .Lgdt_end - boot_gdt - 1
    .long boot_gdt

    .section .bss.boot_paging, "aw", @nobits
    .balign 4096
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pds:
    .skip 4 * 4096

    .section .bss.boot_stack, "aw", @nobits
    .balign 16
boot_stack_bottom:
    .skip 128 * 1024
boot_stack_top:

    .text
"#,
    main = sym crate::boot_main,
);
