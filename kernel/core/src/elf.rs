//! ELF validation: turns an untrusted executable image into a `LoadPlan` the
//! kernel's loader can follow without further checks, or says why it refuses.
//!
//! The image comes from outside the kernel, so every field is hostile until
//! checked. The `elf` crate does the byte parsing (bounds-checked, no alloc);
//! this file applies the kernel's policy on top: static little-endian x86_64
//! executables only (`ET_EXEC`, no `PT_INTERP`/`PT_DYNAMIC`), each `PT_LOAD`
//! inside the file and inside the user half, page-congruent, W^X, no two
//! segments sharing a page, and the entry point in an executable segment.
//! Arithmetic is `checked_*` throughout; nothing here indexes with a value
//! taken from the image.
//!
//! Segments may share *file* pages (lld packs them back to back in the file
//! and advances the virtual address by a page instead), so the loader copies
//! file bytes into fresh frames; it never maps the image's pages directly.
//!
//! Sizes are the caller's business: `plan` accepts a 1 TiB `.bss` if it fits
//! the user range. The kernel's resource limits refuse it, not the parser.

use ::elf::abi::{
    EI_CLASS, EI_DATA, ELFCLASS64, ELFDATA2LSB, ELFMAGIC, EM_X86_64, ET_EXEC, PF_W, PF_X, PT_DYNAMIC, PT_INTERP,
    PT_LOAD,
};
use ::elf::endian::AnyEndian;
use ::elf::file::Class;
use ::elf::{ElfBytes, ParseError};

use crate::PAGE_SIZE;

/// Most `PT_LOAD` segments (with non-zero size) an image may have.
pub const MAX_SEGMENTS: usize = 16;

/// One loadable segment, exactly as the image describes it (not page
/// rounded). `plan` has checked that `offset + filesz` lies in the image,
/// `filesz <= memsz`, `memsz > 0` and that the page-rounded range
/// `[vaddr & !4095, align_up(vaddr + memsz))` lies in the user range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    pub memsz: u64,
    pub offset: u64,
    pub filesz: u64,
    pub writable: bool,
    pub executable: bool,
}

const EMPTY: Segment = Segment { vaddr: 0, memsz: 0, offset: 0, filesz: 0, writable: false, executable: false };

/// What to map and where to start: the checked result of `plan`.
#[derive(Debug)]
pub struct LoadPlan {
    pub entry: u64,
    segments: [Segment; MAX_SEGMENTS],
    count: usize,
}

impl LoadPlan {
    /// The segments to load, in program-header order; their page ranges do
    /// not overlap.
    pub fn segments(&self) -> &[Segment] {
        self.segments.get(..self.count).unwrap_or(&[])
    }
}

/// Why an image was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// The image ends inside a header or a header table.
    Truncated,
    /// Not `\x7fELF`, or an unknown `EI_VERSION`.
    BadMagic,
    NotElf64,
    NotLittleEndian,
    NotX86_64,
    /// Not `ET_EXEC`, or it asks for an interpreter or dynamic linking.
    NotExecutable,
    /// A header table is malformed: wrong entry size, absurd offset.
    BadProgramHeaders,
    TooManySegments,
    /// `offset + filesz` runs past the end of the image.
    SegmentOutsideFile,
    MemSmallerThanFile,
    /// The page-rounded segment leaves `[user_start, user_end)`.
    SegmentOutsideUserRange,
    /// Two segments share a page.
    Overlap,
    WritableAndExecutable,
    /// `vaddr` and `offset` differ modulo the page size, or `p_align` is
    /// not a power of two of at least a page.
    Misaligned,
    /// The entry point is not inside an executable segment.
    EntryNotExecutable,
    /// No `PT_LOAD` segment with non-zero size.
    NoSegments,
}

const PAGE_MASK: u64 = PAGE_SIZE - 1;

/// Checks `image` and says how to load it into the user range
/// `[user_start, user_end)`.
pub fn plan(image: &[u8], user_start: u64, user_end: u64) -> Result<LoadPlan, ElfError> {
    check_ident(image)?;
    let file = ElfBytes::<AnyEndian>::minimal_parse(image).map_err(from_parse)?;
    let ehdr = &file.ehdr;
    // `check_ident` has settled these; kept in case the crate reads them
    // differently.
    if ehdr.class != Class::ELF64 {
        return Err(ElfError::NotElf64);
    }
    if ehdr.endianness != AnyEndian::Little {
        return Err(ElfError::NotLittleEndian);
    }
    if ehdr.e_machine != EM_X86_64 {
        return Err(ElfError::NotX86_64);
    }
    if ehdr.e_type != ET_EXEC {
        return Err(ElfError::NotExecutable);
    }
    let phdrs = file.segments().ok_or(ElfError::NoSegments)?;

    let image_len = u64::try_from(image.len()).map_err(|_| ElfError::Truncated)?;
    let mut out = LoadPlan { entry: ehdr.e_entry, segments: [EMPTY; MAX_SEGMENTS], count: 0 };
    for ph in phdrs {
        match ph.p_type {
            PT_INTERP | PT_DYNAMIC => return Err(ElfError::NotExecutable),
            PT_LOAD => {}
            _ => continue,
        }
        let end_in_file = ph.p_offset.checked_add(ph.p_filesz).ok_or(ElfError::SegmentOutsideFile)?;
        if end_in_file > image_len {
            return Err(ElfError::SegmentOutsideFile);
        }
        if ph.p_filesz > ph.p_memsz {
            return Err(ElfError::MemSmallerThanFile);
        }
        if ph.p_memsz == 0 {
            continue;
        }
        let seg = Segment {
            vaddr: ph.p_vaddr,
            memsz: ph.p_memsz,
            offset: ph.p_offset,
            filesz: ph.p_filesz,
            writable: ph.p_flags & PF_W != 0,
            executable: ph.p_flags & PF_X != 0,
        };
        if seg.writable && seg.executable {
            return Err(ElfError::WritableAndExecutable);
        }
        if !ph.p_align.is_power_of_two() || ph.p_align < PAGE_SIZE || seg.vaddr & PAGE_MASK != seg.offset & PAGE_MASK {
            return Err(ElfError::Misaligned);
        }
        let (start, end) = page_range(&seg).ok_or(ElfError::SegmentOutsideUserRange)?;
        if start < user_start || end > user_end {
            return Err(ElfError::SegmentOutsideUserRange);
        }
        for other in out.segments() {
            // Both ranges were computed once already, so this cannot fail.
            let (o_start, o_end) = page_range(other).ok_or(ElfError::Overlap)?;
            if start < o_end && o_start < end {
                return Err(ElfError::Overlap);
            }
        }
        let slot = out.segments.get_mut(out.count).ok_or(ElfError::TooManySegments)?;
        *slot = seg;
        out.count += 1;
    }

    if out.count == 0 {
        return Err(ElfError::NoSegments);
    }
    let entry_ok = out.segments().iter().any(|s| s.executable && out.entry >= s.vaddr && out.entry - s.vaddr < s.memsz);
    if !entry_ok {
        return Err(ElfError::EntryNotExecutable);
    }
    Ok(out)
}

/// The page-aligned range `[start, end)` a segment occupies, or `None` if its
/// end overflows.
fn page_range(seg: &Segment) -> Option<(u64, u64)> {
    let start = seg.vaddr & !PAGE_MASK;
    let end = seg.vaddr.checked_add(seg.memsz)?.checked_add(PAGE_MASK)? & !PAGE_MASK;
    Some((start, end))
}

/// Checks the identification bytes the `elf` crate would otherwise accept
/// (32-bit, big-endian) or misreport (it would parse a big-endian header's
/// offsets and fail later with an unrelated error).
fn check_ident(image: &[u8]) -> Result<(), ElfError> {
    let magic = image.get(..4).ok_or(ElfError::Truncated)?;
    if magic != ELFMAGIC {
        return Err(ElfError::BadMagic);
    }
    if image.get(EI_CLASS).ok_or(ElfError::Truncated)? != &ELFCLASS64 {
        return Err(ElfError::NotElf64);
    }
    if image.get(EI_DATA).ok_or(ElfError::Truncated)? != &ELFDATA2LSB {
        return Err(ElfError::NotLittleEndian);
    }
    Ok(())
}

fn from_parse(e: ParseError) -> ElfError {
    match e {
        ParseError::BadMagic(_) | ParseError::UnsupportedVersion(_) => ElfError::BadMagic,
        ParseError::UnsupportedElfClass(_) => ElfError::NotElf64,
        ParseError::UnsupportedElfEndianness(_) => ElfError::NotLittleEndian,
        ParseError::SliceReadError(_) => ElfError::Truncated,
        _ => ElfError::BadProgramHeaders,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER_START: u64 = 0x1000;
    const USER_END: u64 = 0x0000_8000_0000_0000;
    const PT_GNU_STACK: u32 = 0x6474_e551;
    const PF_R: u32 = 4;
    const EHDR: usize = 64;
    const PHDR: usize = 56;

    #[derive(Clone, Copy)]
    struct Ph {
        p_type: u32,
        flags: u32,
        offset: u64,
        vaddr: u64,
        filesz: u64,
        memsz: u64,
        align: u64,
    }

    /// An ELF64 image described field by field; `bytes` lays it out as
    /// header, program headers, then zero padding up to `len`.
    #[derive(Clone)]
    struct Image {
        e_type: u16,
        machine: u16,
        entry: u64,
        phentsize: u16,
        phs: Vec<Ph>,
        len: usize,
    }

    impl Image {
        /// Header at 0, 4 program headers at 64..288, text at 0x120,
        /// rodata at 0x140, data at 0x150 (+ .bss), file ends at 0x160.
        /// Each segment has its own page; file pages are shared, as lld does.
        fn valid() -> Self {
            let load = |flags, offset, vaddr, filesz, memsz| Ph {
                p_type: PT_LOAD,
                flags,
                offset,
                vaddr,
                filesz,
                memsz,
                align: 0x1000,
            };
            Image {
                e_type: ET_EXEC,
                machine: EM_X86_64,
                entry: 0x40_1120,
                phentsize: PHDR as u16,
                phs: vec![
                    load(PF_R | PF_X, 0x120, 0x40_1120, 0x20, 0x20),
                    load(PF_R, 0x140, 0x40_2140, 0x10, 0x10),
                    load(PF_R | PF_W, 0x150, 0x40_3150, 0x10, 0x2000),
                    Ph { p_type: PT_GNU_STACK, flags: PF_R | PF_W, offset: 0, vaddr: 0, filesz: 0, memsz: 0, align: 0 },
                ],
                len: 0x160,
            }
        }

        fn bytes(&self) -> Vec<u8> {
            let phnum = self.phs.len();
            let mut v = Vec::new();
            v.extend_from_slice(&ELFMAGIC);
            v.extend_from_slice(&[ELFCLASS64, ELFDATA2LSB, 1, 0]);
            v.resize(16, 0);
            v.extend_from_slice(&self.e_type.to_le_bytes());
            v.extend_from_slice(&self.machine.to_le_bytes());
            v.extend_from_slice(&1u32.to_le_bytes()); // e_version
            v.extend_from_slice(&self.entry.to_le_bytes());
            let phoff: u64 = if phnum == 0 { 0 } else { EHDR as u64 };
            v.extend_from_slice(&phoff.to_le_bytes());
            v.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
            v.extend_from_slice(&0u32.to_le_bytes()); // e_flags
            v.extend_from_slice(&(EHDR as u16).to_le_bytes());
            v.extend_from_slice(&self.phentsize.to_le_bytes());
            v.extend_from_slice(&(phnum as u16).to_le_bytes());
            v.extend_from_slice(&[0; 6]); // shentsize, shnum, shstrndx
            assert_eq!(v.len(), EHDR);
            for ph in &self.phs {
                v.extend_from_slice(&ph.p_type.to_le_bytes());
                v.extend_from_slice(&ph.flags.to_le_bytes());
                v.extend_from_slice(&ph.offset.to_le_bytes());
                v.extend_from_slice(&ph.vaddr.to_le_bytes());
                v.extend_from_slice(&ph.vaddr.to_le_bytes()); // p_paddr
                v.extend_from_slice(&ph.filesz.to_le_bytes());
                v.extend_from_slice(&ph.memsz.to_le_bytes());
                v.extend_from_slice(&ph.align.to_le_bytes());
            }
            assert!(v.len() <= self.len, "payload starts before headers end");
            v.resize(self.len, 0xcc);
            v
        }

        fn plan(&self) -> Result<LoadPlan, ElfError> {
            plan(&self.bytes(), USER_START, USER_END)
        }

        fn err(&self) -> ElfError {
            self.plan().expect_err("image should be refused")
        }
    }

    #[test]
    fn valid_image_gives_its_segments() {
        let p = Image::valid().plan().unwrap();
        assert_eq!(p.entry, 0x40_1120);
        let seg = |vaddr, memsz, offset, filesz, writable, executable| Segment {
            vaddr,
            memsz,
            offset,
            filesz,
            writable,
            executable,
        };
        assert_eq!(
            p.segments(),
            &[
                seg(0x40_1120, 0x20, 0x120, 0x20, false, true),
                seg(0x40_2140, 0x10, 0x140, 0x10, false, false),
                seg(0x40_3150, 0x2000, 0x150, 0x10, true, false),
            ]
        );
    }

    #[test]
    fn every_prefix_is_refused() {
        let full = Image::valid().bytes();
        let headers_end = EHDR + 4 * PHDR;
        for len in 0..full.len() {
            let want = if len < headers_end { ElfError::Truncated } else { ElfError::SegmentOutsideFile };
            let got = plan(&full[..len], USER_START, USER_END).unwrap_err();
            assert_eq!(got, want, "prefix of {len} bytes");
        }
    }

    #[test]
    fn bad_identification() {
        let good = Image::valid().bytes();
        let with = |i: usize, b: u8| {
            let mut v = good.clone();
            v[i] = b;
            plan(&v, USER_START, USER_END).unwrap_err()
        };
        assert_eq!(with(0, 0x7e), ElfError::BadMagic);
        assert_eq!(with(3, b'f'), ElfError::BadMagic);
        assert_eq!(with(6, 2), ElfError::BadMagic); // EI_VERSION
        assert_eq!(with(4, 1), ElfError::NotElf64);
        assert_eq!(with(4, 0), ElfError::NotElf64);
        assert_eq!(with(4, 9), ElfError::NotElf64);
        assert_eq!(with(5, 2), ElfError::NotLittleEndian);
        assert_eq!(with(5, 0), ElfError::NotLittleEndian);
    }

    #[test]
    fn wrong_machine() {
        let mut img = Image::valid();
        img.machine = 3; // EM_386
        assert_eq!(img.err(), ElfError::NotX86_64);
    }

    #[test]
    fn not_a_static_executable() {
        let mut img = Image::valid();
        img.e_type = ::elf::abi::ET_DYN;
        assert_eq!(img.err(), ElfError::NotExecutable);
        for p_type in [PT_INTERP, PT_DYNAMIC] {
            let mut img = Image::valid();
            img.phs[3].p_type = p_type;
            assert_eq!(img.err(), ElfError::NotExecutable);
        }
    }

    #[test]
    fn malformed_header_table() {
        let mut img = Image::valid();
        img.phentsize = 32;
        assert_eq!(img.err(), ElfError::BadProgramHeaders);
        // e_phoff far past the end.
        let mut v = Image::valid().bytes();
        v[0x20..0x28].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(plan(&v, USER_START, USER_END).unwrap_err(), ElfError::BadProgramHeaders);
    }

    #[test]
    fn no_loadable_segment() {
        let mut img = Image::valid();
        img.phs.clear();
        assert_eq!(img.err(), ElfError::NoSegments);
        let mut img = Image::valid();
        img.phs.truncate(3);
        for ph in &mut img.phs {
            ph.filesz = 0;
            ph.memsz = 0;
        }
        assert_eq!(img.err(), ElfError::NoSegments);
    }

    #[test]
    fn empty_segments_are_skipped() {
        let mut img = Image::valid();
        img.phs[3] = Ph {
            p_type: PT_LOAD,
            flags: PF_W | PF_X,
            offset: 0,
            vaddr: 0xffff_8000_0000_0000,
            filesz: 0,
            memsz: 0,
            align: 3,
        };
        assert_eq!(img.plan().unwrap().segments().len(), 3);
    }

    #[test]
    fn overlapping_segments() {
        // rodata moved onto the text's page, at a different byte.
        let mut img = Image::valid();
        img.phs[1].vaddr = 0x40_1140;
        assert_eq!(img.err(), ElfError::Overlap);
        // data's .bss runs into the page of a later segment.
        let mut img = Image::valid();
        img.phs[2].vaddr = 0x40_0150;
        assert_eq!(img.err(), ElfError::Overlap);
        // Identical ranges.
        let mut img = Image::valid();
        img.phs[1] = img.phs[0];
        img.phs[1].flags = PF_R;
        assert_eq!(img.err(), ElfError::Overlap);
    }

    #[test]
    fn adjacent_pages_do_not_overlap() {
        // text ends exactly at 0x402000 and rodata starts there.
        let mut img = Image::valid();
        img.phs[0].memsz = 0x2000 - 0x120;
        img.phs[1].vaddr = 0x40_3140;
        img.phs[2].vaddr = 0x40_4150;
        assert!(img.plan().is_ok());
    }

    #[test]
    fn entry_must_be_in_an_executable_segment() {
        for entry in [0, 0x40_1000, 0x40_111f, 0x40_1140, 0x40_2140, 0x40_3150, u64::MAX] {
            let mut img = Image::valid();
            img.entry = entry;
            assert_eq!(img.err(), ElfError::EntryNotExecutable, "entry {entry:#x}");
        }
        let mut img = Image::valid();
        img.entry = 0x40_113f; // last byte of text
        assert!(img.plan().is_ok());
    }

    #[test]
    fn segment_outside_user_range() {
        let cases = [
            // Kernel half.
            (0xffff_8000_0000_0150, 0x10),
            (0xffff_ffff_8000_0150, 0x10),
            // Straddles user_end.
            (USER_END - 0x1000 + 0x150, 0x2000),
            // Ends exactly at the top of the address space, then past it.
            (0xffff_ffff_ffff_f150, 0xeb0),
            (0xffff_ffff_ffff_f150, u64::MAX),
            // Below user_start (the null page).
            (0x150, 0x10),
        ];
        for (vaddr, memsz) in cases {
            let mut img = Image::valid();
            img.phs[2].vaddr = vaddr;
            img.phs[2].memsz = memsz;
            assert_eq!(img.err(), ElfError::SegmentOutsideUserRange, "{vaddr:#x}+{memsz:#x}");
        }
        // The last user page is fine.
        let mut img = Image::valid();
        img.phs[2].vaddr = USER_END - 0x1000 + 0x150;
        img.phs[2].memsz = 0x1000 - 0x150;
        assert!(img.plan().is_ok());
    }

    #[test]
    fn segment_outside_file() {
        for (offset, filesz) in [(0x150, 0x11), (0x160, 1), (u64::MAX, 1), (1, u64::MAX)] {
            let mut img = Image::valid();
            img.phs[2].offset = offset;
            img.phs[2].filesz = filesz;
            img.phs[2].memsz = u64::MAX;
            assert_eq!(img.err(), ElfError::SegmentOutsideFile);
        }
        // Ending exactly at EOF is fine.
        let mut img = Image::valid();
        img.phs[2].filesz = 0x10;
        assert!(img.plan().is_ok());
    }

    #[test]
    fn file_larger_than_memory() {
        let mut img = Image::valid();
        img.phs[1].memsz = 0xf;
        assert_eq!(img.err(), ElfError::MemSmallerThanFile);
    }

    #[test]
    fn writable_and_executable() {
        let mut img = Image::valid();
        img.phs[0].flags |= PF_W;
        assert_eq!(img.err(), ElfError::WritableAndExecutable);
        let mut img = Image::valid();
        img.phs[2].flags |= PF_X;
        assert_eq!(img.err(), ElfError::WritableAndExecutable);
    }

    #[test]
    fn alignment() {
        let mut img = Image::valid();
        img.phs[1].vaddr = 0x40_2148;
        assert_eq!(img.err(), ElfError::Misaligned);
        for align in [0, 1, 0x800, 0x3000] {
            let mut img = Image::valid();
            img.phs[1].align = align;
            assert_eq!(img.err(), ElfError::Misaligned, "align {align:#x}");
        }
        let mut img = Image::valid();
        img.phs[1].align = 0x20_0000;
        assert!(img.plan().is_ok());
    }

    #[test]
    fn segment_count_limit() {
        let many = |n: u64| {
            let mut img = Image::valid();
            img.phs.truncate(1);
            for i in 1..n {
                img.phs.push(Ph {
                    p_type: PT_LOAD,
                    flags: PF_R,
                    offset: 0x140,
                    vaddr: 0x50_0140 + i * 0x1000,
                    filesz: 0x10,
                    memsz: 0x10,
                    align: 0x1000,
                });
            }
            img.len = EHDR + img.phs.len() * PHDR + 0x40;
            // Keep offsets inside the file and congruent.
            let base = (img.len - 0x40) as u64;
            img.phs[0].offset = base;
            img.phs[0].vaddr = 0x40_1000 | (base & PAGE_MASK);
            img.entry = img.phs[0].vaddr;
            for ph in img.phs.iter_mut().skip(1) {
                ph.offset = base + 0x20;
                ph.vaddr = (ph.vaddr & !PAGE_MASK) | ((base + 0x20) & PAGE_MASK);
            }
            img
        };
        assert_eq!(many(MAX_SEGMENTS as u64).plan().unwrap().segments().len(), MAX_SEGMENTS);
        assert_eq!(many(MAX_SEGMENTS as u64 + 1).err(), ElfError::TooManySegments);
        assert_eq!(many(200).err(), ElfError::TooManySegments);
    }

    /// xorshift64: deterministic, so a failure reproduces.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn mutated_images_never_panic() {
        let good = Image::valid().bytes();
        let interesting: [u64; 8] =
            [0, 1, 0xfff, 0x1000, USER_END, 0x7fff_ffff_ffff_ffff, 0xffff_ffff_ffff_f000, u64::MAX];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut v = good.clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(v.len());
                match rng.below(4) {
                    0 => v[at] ^= 1 << rng.below(8),
                    1 => v[at] = rng.next() as u8,
                    _ => {
                        // An extreme value over an aligned 8-byte field.
                        let at = at & !7;
                        let val = interesting[rng.below(interesting.len())];
                        let end = (at + 8).min(v.len());
                        v[at..end].copy_from_slice(&val.to_le_bytes()[..end - at]);
                    }
                }
            }
            if rng.below(8) == 0 {
                v.truncate(rng.below(v.len() + 1));
            }
            // `plan` must return, and anything it accepts must hold up.
            if let Ok(p) = plan(&v, USER_START, USER_END) {
                accepted += 1;
                for s in p.segments() {
                    assert!(s.filesz <= s.memsz && s.memsz > 0);
                    assert!(s.offset + s.filesz <= v.len() as u64);
                    assert!(s.vaddr >= USER_START && s.vaddr + s.memsz <= USER_END);
                    assert!(!(s.writable && s.executable));
                }
            }
        }
        // Mutations that miss every checked field keep the image valid.
        assert!(accepted > 0);
    }
}
