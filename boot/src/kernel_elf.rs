//! Validating and loading the kernel ELF. The kernel's PT_LOAD segments are
//! placed in one physically contiguous, zeroed block (as Limine does): the
//! block starts at the page holding the lowest segment, so a kernel virtual
//! address `v` lives at physical `phys_base + (v - virt_base)`.

use elf::abi::{EM_X86_64, ET_EXEC, PF_W, PF_X, PT_LOAD};
use elf::endian::AnyEndian;
use elf::file::Class;
use elf::ElfBytes;

use crate::error::{bail, Result};
use crate::frames::{FrameAllocator, Use};
use crate::phys::{self, align_down, align_up, PAGE_SIZE};

/// The Limine protocol requires kernels at or above this address.
pub const HIGHER_HALF_MIN: u64 = 0xffff_ffff_8000_0000;
/// Most PT_LOAD segments accepted.
const MAX_SEGMENTS: usize = 16;

#[derive(Clone, Copy, Default)]
pub struct Segment {
    pub vaddr: u64,
    pub memsz: u64,
    pub writable: bool,
    pub executable: bool,
    offset: u64,
    filesz: u64,
}

impl Segment {
    pub fn end(&self) -> u64 {
        self.vaddr + self.memsz
    }
}

/// A kernel loaded into physical memory.
pub struct Kernel {
    /// Lowest segment address rounded down to a page.
    pub virt_base: u64,
    /// Highest segment end rounded up to a page.
    pub virt_end: u64,
    /// Physical address of `virt_base`.
    pub phys_base: u64,
    pub entry: u64,
    segments: [Segment; MAX_SEGMENTS],
    segment_count: usize,
}

impl Kernel {
    pub fn segments(&self) -> &[Segment] {
        &self.segments[..self.segment_count]
    }

    /// Size of the loaded image in bytes.
    pub fn size(&self) -> u64 {
        self.virt_end - self.virt_base
    }

    /// Physical address of kernel virtual address `v` (inside the image).
    pub fn phys_of(&self, v: u64) -> u64 {
        self.phys_base + (v - self.virt_base)
    }

    /// Whether `v` lies in an executable segment.
    pub fn is_executable(&self, v: u64) -> bool {
        self.segments().iter().any(|s| s.executable && s.vaddr <= v && v < s.end())
    }
}

/// Validates `file` as a Limine-loadable kernel, allocates its image and
/// copies the segments in.
pub fn load(file: &[u8], frames: &mut FrameAllocator) -> Result<Kernel> {
    let Ok(elf) = ElfBytes::<AnyEndian>::minimal_parse(file) else {
        bail!("kernel: not a valid ELF file");
    };
    let ehdr = &elf.ehdr;
    if ehdr.class != Class::ELF64 {
        bail!("kernel: not a 64-bit ELF file");
    }
    if ehdr.endianness != AnyEndian::Little {
        bail!("kernel: not little-endian");
    }
    if ehdr.e_machine != EM_X86_64 {
        bail!("kernel: not an x86_64 ELF file, e_machine", ehdr.e_machine);
    }
    if ehdr.e_type != ET_EXEC {
        bail!("kernel: not a static executable (ET_EXEC), e_type", ehdr.e_type);
    }
    let Some(table) = elf.segments() else {
        bail!("kernel: no program headers");
    };

    let mut segments = [Segment::default(); MAX_SEGMENTS];
    let mut count = 0;
    for phdr in table.iter() {
        if phdr.p_type != PT_LOAD || phdr.p_memsz == 0 {
            continue;
        }
        if count == MAX_SEGMENTS {
            bail!("kernel: too many PT_LOAD segments", MAX_SEGMENTS);
        }
        let seg = Segment {
            vaddr: phdr.p_vaddr,
            memsz: phdr.p_memsz,
            writable: phdr.p_flags & PF_W != 0,
            executable: phdr.p_flags & PF_X != 0,
            offset: phdr.p_offset,
            filesz: phdr.p_filesz,
        };
        check_segment(&seg, file.len() as u64)?;
        segments[count] = seg;
        count += 1;
    }
    if count == 0 {
        bail!("kernel: no PT_LOAD segments");
    }
    let segments_sorted = &mut segments[..count];
    segments_sorted.sort_unstable_by_key(|s| s.vaddr);
    for pair in segments_sorted.windows(2) {
        if pair[0].end() > pair[1].vaddr {
            bail!("kernel: PT_LOAD segments overlap at", pair[1].vaddr);
        }
    }

    let virt_base = align_down(segments_sorted[0].vaddr, PAGE_SIZE);
    let last_end = segments_sorted[count - 1].end();
    let Some(virt_end) = align_up(last_end, PAGE_SIZE).filter(|&e| e != 0) else {
        bail!("kernel: image reaches the top of the address space");
    };
    let mut kernel = Kernel { virt_base, virt_end, phys_base: 0, entry: ehdr.e_entry, segments, segment_count: count };
    if !kernel.is_executable(kernel.entry) {
        bail!("kernel: entry point is not inside an executable segment", kernel.entry);
    }

    kernel.phys_base = frames.alloc_pages(kernel.size() / PAGE_SIZE, Use::KernelAndModules)?;
    for seg in kernel.segments() {
        let range = seg.offset as usize..(seg.offset + seg.filesz) as usize;
        let Some(data) = file.get(range) else {
            bail!("kernel: segment data lies outside the file at", seg.vaddr);
        };
        phys::copy_to(kernel.phys_of(seg.vaddr), data)?;
    }
    Ok(kernel)
}

/// Checks one PT_LOAD program header against the file and the protocol.
fn check_segment(seg: &Segment, file_len: u64) -> Result<()> {
    if seg.filesz > seg.memsz {
        bail!("kernel: segment file size exceeds memory size at", seg.vaddr);
    }
    match seg.offset.checked_add(seg.filesz) {
        Some(end) if end <= file_len => {}
        _ => bail!("kernel: segment data lies outside the file at", seg.vaddr),
    }
    if seg.vaddr < HIGHER_HALF_MIN {
        bail!("kernel: segment below 0xffffffff80000000", seg.vaddr);
    }
    if seg.vaddr.checked_add(seg.memsz).is_none() {
        bail!("kernel: segment wraps around the address space", seg.vaddr);
    }
    Ok(())
}
