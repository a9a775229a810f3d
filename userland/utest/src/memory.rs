//! Memory: `map`/`protect`/`unmap` do what they say, refuse what the ABI
//! forbids, the per-process page limit holds cleanly, and processes,
//! threads and mappings give their frames back when they end.
#![deny(unsafe_code)]

use alloc::format;
use alloc::vec::Vec;

use abi::prot::{EXEC, READ, WRITE};
use libipc::mem::{self, PAGE_SIZE};
use libipc::{thread, Error, Mapping};

use crate::ensure;
use crate::harness::{expect_err, expect_some_err, free_frames, ok, run_expect, Outcome};

const MIB: usize = 1 << 20;
/// Most 1 MiB mappings the limit check makes before calling the limit missing.
const LIMIT_PROBE: usize = 4096;

pub fn memory() -> Outcome {
    heap()?;
    read_write_protect()?;
    refusals()?;
    limit()
}

/// The heap grows by mapping: a block larger than its chunk size, many
/// small ones, freeing and reusing.
fn heap() -> Outcome {
    let big_len = 3 * MIB + 123;
    let mut big = alloc::vec![0u8; big_len];
    for (i, b) in big.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let mut small: Vec<alloc::boxed::Box<[u64; 4]>> = Vec::new();
    for i in 0..20_000u64 {
        small.push(alloc::boxed::Box::new([i, i + 1, i + 2, i + 3]));
    }
    if let Some(i) = big.iter().enumerate().position(|(i, &b)| b != (i % 251) as u8) {
        return Err(format!("heap byte {i} of a 3 MiB block changed"));
    }
    if let Some(i) = small.iter().enumerate().position(|(i, b)| b[3] != i as u64 + 3) {
        return Err(format!("small heap block {i} changed"));
    }
    drop(big);
    small.truncate(100);
    let again = alloc::vec![7u8; big_len];
    ensure!(again.iter().all(|&b| b == 7), "reused heap block reads wrong");
    Ok(())
}

fn read_write_protect() -> Outcome {
    let mut m = ok("map 1 MiB", Mapping::new(MIB, READ | WRITE))?;
    ensure!(m.len() == MIB, "1 MiB mapping is {} bytes", m.len());
    ensure!((m.addr() as usize).is_multiple_of(PAGE_SIZE), "mapping at unaligned {:p}", m.addr());
    let bytes = m.as_mut_slice().ok_or("read/write mapping lends no &mut")?;
    ensure!(bytes.iter().all(|&b| b == 0), "fresh mapping is not zero-filled");
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (i * 7 + i / 4096) as u8;
    }
    ok("protect read-only", m.protect(READ))?;
    ensure!(m.as_mut_slice().is_none(), "read-only mapping still lends &mut");
    let bytes = m.as_slice().ok_or("read-only mapping lends no slice")?;
    if let Some(i) = bytes.iter().enumerate().position(|(i, &b)| b != (i * 7 + i / 4096) as u8) {
        return Err(format!("byte {i} changed after protect"));
    }
    let (addr, len) = (m.addr(), m.len());
    ok("unmap", m.unmap())?;
    #[allow(unsafe_code)]
    // SAFETY: nothing uses the range (it was just unmapped); a kernel that
    // wrongly accepts only unmaps nothing or pages nobody uses.
    let again = unsafe { mem::unmap(addr, len) };
    expect_some_err("unmap of an unmapped range", again)?;

    // Writing to a read-only page kills the writer (it must be a child).
    run_expect("crash", "write-ro", abi::EXIT_FAULTED)?;
    // Reading a page after unmapping it, likewise.
    run_expect("crash", "unmapped-after-unmap", abi::EXIT_FAULTED)
}

fn refusals() -> Outcome {
    expect_err("map with WRITE|EXEC", mem::map(PAGE_SIZE, READ | WRITE | EXEC), &[Error::BadArgument])?;
    expect_err("map of 0 bytes", mem::map(0, READ | WRITE), &[Error::BadArgument])?;
    expect_err("map with unknown prot bits", mem::map(PAGE_SIZE, READ | 1 << 10), &[Error::BadArgument])?;
    expect_err("map of 1 TiB", mem::map(1 << 40, READ | WRITE), &[Error::LimitReached, Error::NoMemory])?;
    expect_err(
        "map of usize::MAX bytes",
        mem::map(usize::MAX, READ | WRITE),
        &[Error::BadArgument, Error::LimitReached, Error::NoMemory],
    )?;

    let mut m = ok("map 2 pages", Mapping::new(2 * PAGE_SIZE, READ | WRITE))?;
    expect_err("protect to WRITE|EXEC", m.protect(READ | WRITE | EXEC), &[Error::BadArgument])?;
    ensure!(m.as_mut_slice().is_some(), "a refused protect changed the mapping's protection");
    let base = m.addr();
    #[allow(unsafe_code)]
    // SAFETY (all three): the ranges are inside `m` (unaligned, so the kernel
    // must refuse) or wrap around the address space; `m` lends nothing now.
    let (unaligned_unmap, unaligned_protect, wrapping_unmap) = unsafe {
        (
            mem::unmap(base.wrapping_add(1), PAGE_SIZE),
            mem::protect(base.wrapping_add(100), PAGE_SIZE, READ),
            mem::unmap(base, usize::MAX - PAGE_SIZE + 1),
        )
    };
    expect_some_err("unmap at an unaligned address", unaligned_unmap)?;
    expect_some_err("protect at an unaligned address", unaligned_protect)?;
    expect_some_err("unmap of a range that wraps", wrapping_unmap)?;
    let bytes = m.as_mut_slice().ok_or("mapping lost its protection")?;
    bytes[PAGE_SIZE] = 1;
    ok("unmap 2 pages", m.unmap())
}

fn limit() -> Outcome {
    let mut maps = Vec::new();
    let refusal = loop {
        if maps.len() == LIMIT_PROBE {
            break None;
        }
        match Mapping::new(MIB, READ | WRITE) {
            Ok(mut m) => {
                // Touch every page, in case the kernel maps lazily.
                if let Some(bytes) = m.as_mut_slice() {
                    for page in bytes.chunks_mut(PAGE_SIZE) {
                        page[0] = 1;
                    }
                }
                maps.push(m);
            }
            Err(e) => break Some(e),
        }
    };
    let made = maps.len();
    drop(maps);
    match refusal {
        None => return Err(format!("{LIMIT_PROBE} MiB mapped and nothing refused: no page limit")),
        Some(e) => ensure!(
            matches!(e, Error::LimitReached | Error::NoMemory),
            "mapping refused after {made} MiB with {e:?}, expected LimitReached or NoMemory"
        ),
    }
    ensure!(made >= 4, "only {made} MiB could be mapped");
    let again = ok("map 1 MiB after the limit", Mapping::new(MIB, READ | WRITE))?;
    ok("unmap", again.unmap())
}

/// Frames a round of work may keep (kernel caches, lazily grown tables).
const LEAK_SLACK: u64 = 8;
const ROUNDS: usize = 5;

pub fn no_leaks() -> Outcome {
    let round = || -> Outcome {
        run_expect("hello", "leak check", 0)?;
        run_expect("exitcode", "threads", 23)?;
        run_expect("crash", "null", abi::EXIT_FAULTED)?;
        let child = ok("spawn sleeper", libipc::spawn("sleeper", b""))?;
        ok("kill sleeper", child.kill())?;
        ok("wait sleeper", child.wait())?;
        let m = ok("map 1 MiB", Mapping::new(MIB, READ | WRITE))?;
        ok("unmap", m.unmap())?;
        let t = ok("spawn thread", thread::spawn(|| 5))?;
        ok("join", t.join())?;
        Ok(())
    };
    // Warm up: let the kernel grow whatever it keeps for good.
    round()?;
    let before = ok("memory_info", libipc::memory_info())?.free_frames;
    for _ in 0..ROUNDS {
        round()?;
    }
    let after = free_frames();
    ensure!(
        after + LEAK_SLACK >= before,
        "{} frames lost over {ROUNDS} rounds of spawn/exit/fault/kill/map/thread ({before} free before, {after} after)",
        before - after
    );
    Ok(())
}
