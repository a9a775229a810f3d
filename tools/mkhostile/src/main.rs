//! `mkhostile <valid.elf> <outdir>`: writes hostile variants of a valid
//! userland ELF for the in-QEMU loader tests. Each variant changes one thing
//! by patching header fields of the input in place, so everything else about
//! it stays a real, well-formed binary.
//!
//! Offsets used (ELF64, little endian; `ph` is the file offset of a program
//! header, `e_phoff + i * 56`):
//!
//! | field     | offset      | variants                      |
//! |-----------|-------------|-------------------------------|
//! | `e_entry` | 0x18        | entry                         |
//! | `e_phoff` | 0x20        | all (to find the headers)     |
//! | `e_phnum` | 0x38        | truncated                     |
//! | `p_type`  | ph + 0x00   | all (to find `PT_LOAD`s)      |
//! | `p_flags` | ph + 0x04   | wx                            |
//! | `p_offset`| ph + 0x08   | overlap, kernel (congruence)  |
//! | `p_vaddr` | ph + 0x10   | overlap, kernel               |
//! | `p_paddr` | ph + 0x18   | overlap, kernel (kept = vaddr)|
//! | `p_memsz` | ph + 0x28   | bigmem                        |
//!
//! The input must pass `kcore::elf::plan` over the ABI's user range and have
//! at least two non-empty `PT_LOAD`s. Every variant is run through `plan`
//! before it is written and must fail with the error it was made for
//! (`hostile-bigmem` must pass: the kernel's resource limits refuse it), so
//! a parser change that lets one through breaks the build of the test
//! images instead of silently weakening the test.

use std::path::Path;
use std::process::ExitCode;

use kcore::elf::{plan, ElfError};

const E_ENTRY: usize = 0x18;
const E_PHOFF: usize = 0x20;
const E_PHNUM: usize = 0x38;
const PHDR_SIZE: usize = 56;
const P_TYPE: usize = 0x00;
const P_FLAGS: usize = 0x04;
const P_OFFSET: usize = 0x08;
const P_VADDR: usize = 0x10;
const P_PADDR: usize = 0x18;
const P_MEMSZ: usize = 0x28;

const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PAGE: u64 = 0x1000;
const KERNEL_HALF: u64 = 0xffff_8000_0000_0000;
const ONE_TIB: u64 = 1 << 40;

/// One hostile image and what `plan` must say about it (`None`: accept).
struct Variant {
    name: &'static str,
    bytes: Vec<u8>,
    expect: Option<ElfError>,
}

/// A non-empty `PT_LOAD` of the input, with where its header sits.
#[derive(Clone, Copy)]
struct Load {
    ph: usize,
    flags: u32,
    offset: u64,
    vaddr: u64,
    memsz: u64,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, outdir] = args.as_slice() else {
        eprintln!("usage: mkhostile <valid.elf> <outdir>");
        return ExitCode::from(2);
    };
    match run(Path::new(input), Path::new(outdir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mkhostile: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(input: &Path, outdir: &Path) -> Result<(), String> {
    let valid = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let variants = variants(&valid)?;
    std::fs::create_dir_all(outdir).map_err(|e| format!("{}: {e}", outdir.display()))?;
    for v in variants {
        let path = outdir.join(v.name);
        std::fs::write(&path, &v.bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn variants(valid: &[u8]) -> Result<Vec<Variant>, String> {
    let good =
        plan(valid, abi::USER_START, abi::USER_END).map_err(|e| format!("input is not a valid user ELF: {e:?}"))?;
    // `plan` has checked the header and the program header table, so the
    // reads below are in bounds.
    let phoff = rd64(valid, E_PHOFF) as usize;
    let phnum = rd16(valid, E_PHNUM) as usize;
    let loads: Vec<Load> = (0..phnum)
        .map(|i| phoff + i * PHDR_SIZE)
        .filter(|&ph| rd32(valid, ph + P_TYPE) == PT_LOAD && rd64(valid, ph + P_MEMSZ) > 0)
        .map(|ph| Load {
            ph,
            flags: rd32(valid, ph + P_FLAGS),
            offset: rd64(valid, ph + P_OFFSET),
            vaddr: rd64(valid, ph + P_VADDR),
            memsz: rd64(valid, ph + P_MEMSZ),
        })
        .collect();
    let text = *loads
        .iter()
        .find(|l| l.flags & PF_X != 0 && good.entry.wrapping_sub(l.vaddr) < l.memsz)
        .ok_or("no segment holds the entry point")?;
    let other = *loads.iter().find(|l| l.ph != text.ph).ok_or("need at least two non-empty PT_LOAD segments")?;
    let highest = *loads.iter().max_by_key(|l| l.vaddr).unwrap_or(&text);
    let top = loads.iter().map(|l| l.vaddr + l.memsz).max().unwrap_or(0);

    let patched = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut v = valid.to_vec();
        f(&mut v);
        v
    };
    let out = vec![
        Variant {
            name: "hostile-truncated",
            bytes: valid[..phoff + phnum * PHDR_SIZE / 2].to_vec(),
            expect: Some(ElfError::Truncated),
        },
        Variant {
            // `other` moved onto the text's first page.
            name: "hostile-overlap",
            bytes: patched(&|v| move_segment(v, other, (text.vaddr & !(PAGE - 1)) | (other.offset % PAGE))),
            expect: Some(ElfError::Overlap),
        },
        Variant {
            // A page above the highest segment's end.
            name: "hostile-entry",
            bytes: patched(&|v| wr64(v, E_ENTRY, (top | (PAGE - 1)) + 1 + PAGE)),
            expect: Some(ElfError::EntryNotExecutable),
        },
        Variant {
            name: "hostile-kernel",
            bytes: patched(&|v| move_segment(v, highest, KERNEL_HALF | (highest.offset % PAGE))),
            expect: Some(ElfError::SegmentOutsideUserRange),
        },
        Variant {
            name: "hostile-wx",
            bytes: patched(&|v| wr32(v, text.ph + P_FLAGS, text.flags | PF_W)),
            expect: Some(ElfError::WritableAndExecutable),
        },
        Variant {
            // The highest segment grows upwards, so it overlaps nothing.
            name: "hostile-bigmem",
            bytes: patched(&|v| wr64(v, highest.ph + P_MEMSZ, ONE_TIB)),
            expect: None,
        },
    ];
    for v in &out {
        let got = plan(&v.bytes, abi::USER_START, abi::USER_END).err();
        if got != v.expect {
            return Err(format!("{}: plan gave {got:?}, expected {:?}", v.name, v.expect));
        }
    }
    Ok(out)
}

/// Sets a segment's `p_vaddr` and `p_paddr`.
fn move_segment(image: &mut [u8], load: Load, vaddr: u64) {
    wr64(image, load.ph + P_VADDR, vaddr);
    wr64(image, load.ph + P_PADDR, vaddr);
}

fn rd16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn rd32(b: &[u8], at: usize) -> u32 {
    let mut x = [0; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(x)
}

fn rd64(b: &[u8], at: usize) -> u64 {
    let mut x = [0; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

fn wr32(b: &mut [u8], at: usize, val: u32) {
    b[at..at + 4].copy_from_slice(&val.to_le_bytes());
}

fn wr64(b: &mut [u8], at: usize, val: u64) {
    b[at..at + 8].copy_from_slice(&val.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A static executable laid out like lld's output: R, R+X, R+W (+ .bss)
    /// segments on their own pages, sharing file pages, then a
    /// `PT_GNU_STACK`. Entry at the start of the text.
    fn handmade() -> Vec<u8> {
        // (type, flags, offset, vaddr, filesz, memsz)
        let phs: [(u32, u32, u64, u64, u64, u64); 4] = [
            (PT_LOAD, 4, 0, 0x20_0000, 0x120, 0x120),
            (PT_LOAD, 4 | PF_X, 0x120, 0x20_1120, 0x20, 0x20),
            (PT_LOAD, 4 | PF_W, 0x140, 0x20_2140, 0x10, 0x3000),
            (0x6474_e551, 4 | PF_W, 0, 0, 0, 0),
        ];
        let mut v = vec![0u8; 0x150];
        v[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
        v[0x10..0x12].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        v[0x12..0x14].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
        wr32(&mut v, 0x14, 1); // e_version
        wr64(&mut v, E_ENTRY, 0x20_1120);
        wr64(&mut v, E_PHOFF, 64);
        v[0x34..0x36].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        v[0x36..0x38].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
        v[E_PHNUM..E_PHNUM + 2].copy_from_slice(&(phs.len() as u16).to_le_bytes());
        for (i, (p_type, flags, offset, vaddr, filesz, memsz)) in phs.into_iter().enumerate() {
            let ph = 64 + i * PHDR_SIZE;
            wr32(&mut v, ph + P_TYPE, p_type);
            wr32(&mut v, ph + P_FLAGS, flags);
            wr64(&mut v, ph + P_OFFSET, offset);
            wr64(&mut v, ph + P_VADDR, vaddr);
            wr64(&mut v, ph + P_PADDR, vaddr);
            wr64(&mut v, ph + 0x20, filesz);
            wr64(&mut v, ph + P_MEMSZ, memsz);
            wr64(&mut v, ph + 0x30, if p_type == PT_LOAD { PAGE } else { 0 });
        }
        v
    }

    fn check(image: &[u8]) -> Result<(), ElfError> {
        plan(image, abi::USER_START, abi::USER_END).map(|_| ())
    }

    #[test]
    fn each_variant_is_refused_for_its_reason() {
        let valid = handmade();
        assert_eq!(check(&valid), Ok(()));
        let vs = variants(&valid).unwrap();
        let got: Vec<(&str, Result<(), ElfError>)> = vs.iter().map(|v| (v.name, check(&v.bytes))).collect();
        assert_eq!(
            got,
            [
                ("hostile-truncated", Err(ElfError::Truncated)),
                ("hostile-overlap", Err(ElfError::Overlap)),
                ("hostile-entry", Err(ElfError::EntryNotExecutable)),
                ("hostile-kernel", Err(ElfError::SegmentOutsideUserRange)),
                ("hostile-wx", Err(ElfError::WritableAndExecutable)),
                ("hostile-bigmem", Ok(())),
            ]
        );
        let bigmem = &vs[5].bytes;
        let p = plan(bigmem, abi::USER_START, abi::USER_END).unwrap();
        assert!(p.segments().iter().any(|s| s.memsz == ONE_TIB));
    }

    #[test]
    fn writes_every_variant() {
        let dir = std::env::temp_dir().join(format!("mkhostile-test-{}", std::process::id()));
        let input = dir.join("valid.elf");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&input, handmade()).unwrap();
        run(&input, &dir.join("out")).unwrap();
        for name in ["truncated", "overlap", "entry", "kernel", "wx", "bigmem"] {
            assert!(dir.join("out").join(format!("hostile-{name}")).is_file());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refuses_unusable_input() {
        assert!(variants(b"not an elf").is_err());
        // Only one non-empty PT_LOAD: no second segment to overlap with.
        let mut one = handmade();
        wr64(&mut one, 64 + P_MEMSZ, 0);
        wr64(&mut one, 64 + 0x20, 0);
        wr64(&mut one, 64 + 2 * PHDR_SIZE + P_MEMSZ, 0);
        wr64(&mut one, 64 + 2 * PHDR_SIZE + 0x20, 0);
        assert_eq!(check(&one), Ok(()));
        assert!(variants(&one).is_err());
    }
}
