//! In-kernel tests, run when the command line says `test`: what only the
//! real machine can show (frames, page tables, heap, interrupts, exceptions).
//! Each prints `PASS name` or `FAIL name: why`; the run closes with
//! `ktest: N passed, N failed`; the boot then goes on to the userspace tests.

use crate::arch::{cpu, time, usercopy};
use crate::mm::{self, frames, paging::HhdmMemory, PAGE_SIZE};
use alloc::{boxed::Box, vec::Vec};
use core::sync::atomic::Ordering;
use kcore::paging::{flags, MapError};

type TestResult = Result<(), &'static str>;

fn check(cond: bool, why: &'static str) -> TestResult {
    if cond {
        Ok(())
    } else {
        Err(why)
    }
}

type Test = (&'static str, fn() -> TestResult);

const TESTS: &[Test] = &[
    ("frames_exhaust_and_reuse", frames_exhaust_and_reuse),
    ("frames_contiguous", frames_contiguous),
    ("paging_map_translate_unmap", paging_map_translate_unmap),
    ("paging_kernel_wx", paging_kernel_wx),
    ("heap_stress", heap_stress),
    ("timer_interrupts_arrive", timer_interrupts_arrive),
    ("exception_breakpoint_caught", exception_breakpoint_caught),
    ("exception_page_fault_recovered", exception_page_fault_recovered),
];

/// Runs every test and prints the tally; true if all passed.
pub fn run_all() -> bool {
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in TESTS {
        match test() {
            Ok(()) => {
                passed += 1;
                kprintln!("PASS {name}");
            }
            Err(why) => {
                failed += 1;
                kprintln!("FAIL {name}: {why}");
            }
        }
    }
    kprintln!("ktest: {passed} passed, {failed} failed");
    failed == 0
}

fn frames_exhaust_and_reuse() -> TestResult {
    let (free_before, _) = frames::stats();
    let mut taken = Vec::with_capacity(free_before);
    while let Some(f) = frames::alloc_zeroed() {
        taken.push(f);
    }
    let exhausted = frames::stats().0 == 0 && taken.len() == free_before;
    taken.sort_unstable();
    let unique = taken.windows(2).all(|w| w[0] != w[1]);
    let Some(&first) = taken.first() else { return Err("no frames at all") };
    for &f in &taken {
        frames::free(f).map_err(|_| "free refused a frame it handed out")?;
    }
    let double_free_refused = frames::free(first).is_err();
    let reused = frames::alloc_zeroed().ok_or("no frame after freeing")?;
    frames::free(reused).map_err(|_| "free refused")?;
    check(exhausted, "allocation did not end at exactly the free count")?;
    check(unique, "a frame was handed out twice")?;
    check(double_free_refused, "double free accepted")?;
    check(frames::stats().0 == free_before, "free count did not return to where it started")
}

fn frames_contiguous() -> TestResult {
    let base = frames::alloc_contiguous_zeroed(16, 64 * 1024).ok_or("no 64 KiB-aligned run of 16 frames")?;
    let aligned = base % (64 * 1024) == 0;
    for i in 0..16 {
        frames::free(base + i * PAGE_SIZE).map_err(|_| "free of a run frame refused")?;
    }
    check(aligned, "run not aligned")
}

/// An address in a kernel-half slot the kernel does not otherwise use.
const SCRATCH: u64 = 0xffff_ff00_0000_0000;

fn paging_map_translate_unmap() -> TestResult {
    let tables = mm::paging::kernel_tables();
    let frame = frames::alloc_zeroed().ok_or("no frame")?;
    tables.map(&mut HhdmMemory, SCRATCH, frame, flags::WRITABLE | flags::NO_EXECUTE).map_err(|_| "map failed")?;
    let translated = tables.translate(&mut HhdmMemory, SCRATCH + 0x10).map(|t| t.0);
    // SAFETY: SCRATCH was just mapped writable to a frame nobody else uses.
    unsafe { (SCRATCH as *mut u64).write_volatile(0x1234_5678_9abc_def0) };
    // SAFETY: the same frame through the HHDM.
    let via_hhdm = unsafe { (mm::phys_to_virt(frame) as *const u64).read_volatile() };
    let remap = tables.map(&mut HhdmMemory, SCRATCH, frame, 0);
    let unmapped = tables.unmap(&mut HhdmMemory, SCRATCH);
    cpu::invlpg(SCRATCH);
    let gone = tables.translate(&mut HhdmMemory, SCRATCH).is_none();
    // A read of the unmapped page must fault, and the copy routine recovers.
    let mut byte = 0u8;
    // SAFETY: `byte` is ours; SCRATCH is unmapped, so the copy faults.
    let fault = unsafe { usercopy::copy(&mut byte, SCRATCH as *const u8, 1) };
    frames::free(frame).map_err(|_| "free failed")?;
    check(translated == Some(frame + 0x10), "translate gave the wrong address")?;
    check(via_hhdm == 0x1234_5678_9abc_def0, "write through the mapping not seen through the HHDM")?;
    check(remap == Err(MapError::AlreadyMapped), "double map accepted")?;
    check(unmapped == Ok(frame), "unmap returned the wrong frame")?;
    check(gone, "translate still finds the page")?;
    check(fault.is_err(), "read of an unmapped page did not fault")
}

fn paging_kernel_wx() -> TestResult {
    let tables = mm::paging::kernel_tables();
    let text = paging_kernel_wx as *const () as u64;
    let data = &crate::fault::KERNEL_BREAKPOINTS as *const _ as u64;
    let (_, tf) = tables.translate(&mut HhdmMemory, text).ok_or("text not mapped")?;
    let (_, df) = tables.translate(&mut HhdmMemory, data).ok_or("data not mapped")?;
    check(tf & flags::WRITABLE == 0 && tf & flags::NO_EXECUTE == 0, "text is writable or not executable")?;
    check(df & flags::WRITABLE != 0 && df & flags::NO_EXECUTE != 0, "data is executable or read-only")?;
    check(cpu::read_cr0() & cpu::CR0_WP != 0, "CR0.WP is off")
}

fn heap_stress() -> TestResult {
    let mut boxes: Vec<Box<[u8]>> = Vec::new();
    for round in 0..4u32 {
        for i in 0..500usize {
            let size = 1 + (i * 37 + round as usize * 101) % 3000;
            let fill = (i as u8).wrapping_add(round as u8);
            boxes.push(alloc::vec![fill; size].into_boxed_slice());
        }
        for (i, b) in boxes.iter().enumerate() {
            let fill = (i as u8).wrapping_add(round as u8);
            if b.iter().any(|&x| x != fill) {
                return Err("heap block corrupted");
            }
        }
        boxes.clear();
    }
    let big = alloc::vec![0xa5u8; 1 << 20];
    check(big.iter().all(|&x| x == 0xa5), "1 MiB block corrupted")
}

fn timer_interrupts_arrive() -> TestResult {
    let before = time::ticks();
    let start = time::uptime_ns();
    while time::ticks() < before + 3 {
        if time::uptime_ns() - start > 2_000_000_000 {
            return Err("no timer interrupts within 2 s");
        }
        cpu::enable_and_halt();
    }
    cpu::disable_interrupts();
    check(time::uptime_ns() > start, "uptime did not advance")
}

fn exception_breakpoint_caught() -> TestResult {
    let before = crate::fault::KERNEL_BREAKPOINTS.load(Ordering::Relaxed);
    // SAFETY: int3 traps to the breakpoint handler, which returns here.
    unsafe { core::arch::asm!("int3") };
    check(crate::fault::KERNEL_BREAKPOINTS.load(Ordering::Relaxed) == before + 1, "breakpoint not seen")
}

fn exception_page_fault_recovered() -> TestResult {
    let before = crate::fault::USERCOPY_FAULTS.load(Ordering::Relaxed);
    let mut buf = [0u8; 8];
    // SAFETY: the source is a non-canonical-free but unmapped lower-half
    // address in the kernel's tables; the copy faults and is recovered.
    let r = unsafe { usercopy::copy(buf.as_mut_ptr(), 0x1000 as *const u8, 8) };
    check(r.is_err(), "copy from an unmapped page succeeded")?;
    check(crate::fault::USERCOPY_FAULTS.load(Ordering::Relaxed) == before + 1, "fault not counted")
}
