//! `fuzz [seed=N] [calls=N]`: makes thousands of system calls with
//! pseudo-random numbers (0..=40, so unknown ones too) and random or
//! edge-case arguments, to show that the kernel checks everything it is
//! given. The test suite then checks that the system is still alive.
//!
//! Arguments are drawn by role, so that hostile values meet every check:
//! pointers (null, kernel half, non-canonical, around `USER_END`, unmapped,
//! or a valid scratch buffer), lengths (0, huge, wrapping), handles (small
//! numbers, huge numbers, handles this process really holds, closed ones).
//!
//! What it avoids, so that one run covers many calls instead of ending at
//! the first self-inflicted wound: `exit` and `thread_exit`; `unmap` and
//! `protect` of its own image, stack, heap or scratch buffer (it only
//! targets its own extra mappings and addresses nothing lives at); threads
//! with bad entry points (the `crash` program covers those); long sleeps;
//! and `debug_write` of random bytes (it would garble the test output).
//! At the end it leaves one thread asleep forever and one blocked joining
//! it, so that `exit` must tear down blocked threads.
//!
//! Exit status 0; it prints a summary of the results by error.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;
use core::hint::black_box;

use abi::{prot, Error, Syscall, USER_END};
use libipc::{println, Args, Mapping};

libipc::main!(main);

const KERNEL_HALF: u64 = 0xffff_8000_0000_0000;
const NONCANONICAL: u64 = 0x8000_0000_0000_0000;
/// The static executable's base (lld's default).
const IMAGE_BASE: u64 = 0x20_0000;
/// Highest syscall number tried.
const MAX_NUMBER: u64 = 40;
/// Most live mappings and threads it keeps.
const MAX_MAPS: usize = 24;
const MAX_THREADS: usize = 8;
/// Real programs it may start (each is waited for or killed later).
const MAX_SPAWNS: usize = 6;
const SCRATCH_LEN: usize = 64 * 1024;

/// xorshift64*: small, deterministic, good enough for argument choice.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    fn pick(&mut self, choices: &[u64]) -> u64 {
        choices.get(self.below(choices.len() as u64) as usize).copied().unwrap_or(0)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The fuzzer's state: what it owns, and what it must not touch.
struct Fuzz {
    rng: Rng,
    scratch: Mapping,
    maps: Vec<(u64, u64)>,
    handles: Vec<u64>,
    threads: usize,
    spawns: usize,
    /// Address ranges `unmap`/`protect` must leave alone (image, stacks,
    /// heap, scratch).
    keep: Vec<(u64, u64)>,
    /// Results: index 0 = success, 1.. = error code.
    results: [u32; 17],
}

fn main(args: Args) -> i32 {
    let seed = args.value("seed").and_then(|v| v.parse().ok()).unwrap_or(0x5eed_1234_u64);
    let calls: u32 = args.value("calls").and_then(|v| v.parse().ok()).unwrap_or(3000);
    let scratch = match Mapping::new(SCRATCH_LEN, prot::READ | prot::WRITE) {
        Ok(m) => m,
        Err(e) => {
            println!("fuzz: cannot map scratch: {e}");
            return 1;
        }
    };
    let stack_probe = black_box(0u64);
    let here = &stack_probe as *const u64 as u64;
    let heap_probe = alloc::boxed::Box::new(0u8);
    let heap = &*heap_probe as *const u8 as u64;
    let keep = alloc::vec![
        (IMAGE_BASE, IMAGE_BASE + (64 << 20)),
        (here.saturating_sub(1 << 20), here.saturating_add(1 << 20)),
        (heap.saturating_sub(16 << 20), heap.saturating_add(16 << 20)),
        (scratch.addr() as u64, scratch.addr() as u64 + scratch.len() as u64),
        // Where a kernel is likely to put stacks.
        (USER_END - (16 << 20), USER_END),
    ];
    let mut f = Fuzz {
        rng: Rng(seed | 1),
        scratch,
        maps: Vec::new(),
        handles: Vec::new(),
        threads: 0,
        spawns: 0,
        keep,
        results: [0; 17],
    };
    println!("fuzz: seed {seed}, {calls} calls");
    for _ in 0..calls {
        f.one();
    }
    f.report(calls);
    f.leave_blocked_threads();
    0
}

impl Fuzz {
    fn one(&mut self) {
        let n = self.rng.below(MAX_NUMBER + 1);
        let args = match Syscall::from_raw(n) {
            None => self.any_args(),
            Some(call) => match self.args_for(call) {
                Some(args) => args,
                None => return,
            },
        };
        #[allow(unsafe_code)]
        // SAFETY: the arguments are built by role above so that everything
        // the kernel may legitimately write, unmap or reprotect is memory
        // this program does not use (scratch buffer, its own extra
        // mappings), no thread starts on memory in use, and `exit` and
        // `thread_exit` are never made.
        let rax = unsafe { libipc::sys::raw_syscall(n, args) };
        self.record(n, args, rax);
    }

    /// Counts the result and keeps track of what the call created or freed.
    fn record(&mut self, n: u64, args: [u64; 6], rax: i64) {
        let slot = if rax >= 0 { 0 } else { rax.unsigned_abs().min(16) as usize };
        if let Some(count) = self.results.get_mut(slot) {
            *count += 1;
        }
        if rax < 0 {
            return;
        }
        match Syscall::from_raw(n) {
            Some(Syscall::Map) => self.maps.push((rax as u64, args[0])),
            Some(Syscall::Unmap) => self.maps.retain(|&(a, _)| a != args[0]),
            Some(Syscall::Spawn) => {
                self.spawns += 1;
                self.handles.push(rax as u64);
            }
            Some(Syscall::ThreadCreate) => {
                self.threads += 1;
                self.handles.push(rax as u64);
            }
            Some(Syscall::HandleClose) => self.handles.retain(|&h| h != args[0]),
            _ => {}
        }
        while self.maps.len() > MAX_MAPS {
            let (addr, len) = self.maps.remove(0);
            #[allow(unsafe_code)]
            // SAFETY: a mapping this program made and never uses.
            let _ = unsafe { libipc::mem::unmap(addr as *mut u8, len as usize) };
        }
    }

    /// Arguments for an unknown call: anything.
    fn any_args(&mut self) -> [u64; 6] {
        let mut a = [0; 6];
        for v in &mut a {
            *v = match self.rng.below(3) {
                0 => self.hostile_ptr(),
                1 => self.len(),
                _ => self.handle(),
            };
        }
        a
    }

    /// Arguments for a known call, or `None` to skip it.
    fn args_for(&mut self, call: Syscall) -> Option<[u64; 6]> {
        let r = &mut self.rng;
        let junk = r.next();
        Some(match call {
            Syscall::Exit | Syscall::ThreadExit => return None,
            Syscall::DebugWrite => {
                if self.rng.chance(4) {
                    let msg = b"fuzz: debug_write with a valid buffer\n";
                    [msg.as_ptr() as u64, msg.len() as u64, junk, 0, 0, 0]
                } else {
                    [self.hostile_ptr(), self.len(), junk, 0, 0, 0]
                }
            }
            Syscall::Spawn => {
                if self.spawns < MAX_SPAWNS && self.rng.chance(3) {
                    let name: &'static [u8] = if self.rng.chance(50) { b"hello" } else { b"exitcode" };
                    let args = b"7";
                    [name.as_ptr() as u64, name.len() as u64, args.as_ptr() as u64, args.len() as u64, 0, 0]
                } else {
                    let (p, l) = self.read_range();
                    let (q, m) = self.read_range();
                    let (h, c) = self.read_range();
                    [p, l, q, m, h, c]
                }
            }
            Syscall::Wait | Syscall::Kill | Syscall::ThreadJoin | Syscall::HandleClose => {
                [self.handle(), junk, junk, 0, 0, 0]
            }
            Syscall::ThreadCreate => {
                if self.threads >= MAX_THREADS {
                    return None;
                }
                let stack = Mapping::new(16 * 1024, prot::READ | prot::WRITE).ok()?;
                let (lo, hi) = (stack.addr() as u64, stack.addr() as u64 + stack.len() as u64);
                // The thread may run on it until the process ends: keep it
                // mapped, and away from `unmap`/`protect`.
                core::mem::forget(stack);
                self.keep.push((lo, hi));
                let top = hi - 8;
                [worker as *const () as u64, top, self.rng.below(100), junk, 0, 0]
            }
            Syscall::Yield | Syscall::Time | Syscall::GetPid => [junk, junk, junk, junk, junk, junk],
            Syscall::Sleep => [self.rng.pick(&[0, 1, 1000, 100_000, 999_999]), junk, 0, 0, 0, 0],
            Syscall::Map => {
                let len =
                    self.rng.pick(&[0, 1, 4096, 4097, 65536, 1 << 20, 1 << 30, 1 << 40, u64::MAX, u64::MAX - 4095]);
                let p = self.rng.below(16);
                [len, p, junk, 0, 0, 0]
            }
            Syscall::Unmap => {
                let (a, l) = self.own_range();
                [a, l, junk, 0, 0, 0]
            }
            Syscall::Protect => {
                let (a, l) = self.own_range();
                [a, l, self.rng.below(16), junk, 0, 0]
            }
            Syscall::KernelInfo => {
                let kind = self.rng.pick(&[0, 0, 0, 1, 2, 255, u64::MAX]);
                let (p, l) = self.write_range();
                [kind, p, l, junk, 0, 0]
            }
            // A channel of its own would let `send`/`receive` on it block
            // this single-minded process for ever.
            Syscall::ChannelCreate => return None,
            // The IPC calls: random arguments (the handles it holds name no
            // channel, so none of them can block).
            _ => self.any_args(),
        })
    }

    fn hostile_ptr(&mut self) -> u64 {
        let random = self.rng.next();
        let random_user = (self.rng.next() % USER_END) & !0xfff;
        self.rng.pick(&[
            0,
            1,
            0xfff,
            0x1000,
            IMAGE_BASE - 0x1000,
            USER_END - 1,
            USER_END - 8,
            USER_END,
            USER_END + 0x1000,
            KERNEL_HALF,
            KERNEL_HALF + 0x1000,
            0xffff_ffff_8000_0000,
            0xffff_ffff_ffff_f000,
            u64::MAX,
            NONCANONICAL,
            random,
            random_user,
            random_user + 0x7ff,
        ])
    }

    fn len(&mut self) -> u64 {
        let random = self.rng.next();
        self.rng.pick(&[
            0,
            1,
            7,
            8,
            24,
            4095,
            4096,
            4097,
            65536,
            1 << 20,
            1 << 32,
            1 << 47,
            1 << 63,
            u64::MAX - 7,
            u64::MAX,
            random,
        ])
    }

    fn handle(&mut self) -> u64 {
        if !self.handles.is_empty() && self.rng.chance(30) {
            let i = self.rng.below(self.handles.len() as u64) as usize;
            return self.handles.get(i).copied().unwrap_or(0);
        }
        let random = self.rng.next();
        let small = self.rng.below(64);
        self.rng.pick(&[
            0,
            1,
            2,
            3,
            4,
            7,
            8,
            15,
            16,
            255,
            256,
            1023,
            1024,
            4096,
            u32::MAX as u64,
            1 << 32,
            u64::MAX,
            random,
            small,
            small,
        ])
    }

    /// A range the kernel may read: hostile, or inside the scratch buffer.
    fn read_range(&mut self) -> (u64, u64) {
        if self.rng.chance(30) {
            self.scratch_range()
        } else {
            (self.hostile_ptr(), self.len())
        }
    }

    /// A range the kernel may write: hostile, read-only (this program's
    /// code: the kernel must refuse), or inside the scratch buffer.
    fn write_range(&mut self) -> (u64, u64) {
        match self.rng.below(10) {
            0..=3 => self.scratch_range(),
            4 => (worker as *const () as u64, 24),
            _ => (self.hostile_ptr(), self.len()),
        }
    }

    fn scratch_range(&mut self) -> (u64, u64) {
        let base = self.scratch.addr() as u64;
        let size = self.scratch.len() as u64;
        let off = self.rng.below(size);
        let len = self.rng.below(size - off + 1).min(self.rng.pick(&[0, 1, 24, 100, 4096, size]));
        (base + off, len)
    }

    /// A range for `unmap`/`protect`: one of this program's own extra
    /// mappings (whole, part, or overhanging), or an address where nothing
    /// of the program lives.
    fn own_range(&mut self) -> (u64, u64) {
        if !self.maps.is_empty() && self.rng.chance(50) {
            let i = self.rng.below(self.maps.len() as u64) as usize;
            let (a, l) = self.maps.get(i).copied().unwrap_or((0, 0));
            let (addr, len) = match self.rng.below(4) {
                0 => (a, l),
                1 => (a, 4096),
                2 => (a + 4096, l),
                _ => (a + 1, l),
            };
            // Overhanging ranges must not reach a neighbour the program uses.
            return if self.clear_of_keep(addr, len) { (addr, len) } else { (a, l) };
        }
        for _ in 0..8 {
            let addr = self.hostile_ptr();
            let len = self.len();
            if self.clear_of_keep(addr, len) {
                return (addr, len);
            }
        }
        (KERNEL_HALF, 4096)
    }

    /// True if `[addr, addr + len)` misses everything in `keep`. A wrapping
    /// range counts as clear: the kernel must refuse it whole.
    fn clear_of_keep(&self, addr: u64, len: u64) -> bool {
        match addr.checked_add(len) {
            None => true,
            Some(end) => self.keep.iter().all(|&(lo, hi)| end <= lo || addr >= hi),
        }
    }

    fn report(&self, calls: u32) {
        println!("fuzz: {calls} calls made; {} succeeded", self.results[0]);
        for (code, &count) in self.results.iter().enumerate().skip(1) {
            if count > 0 {
                let name = Error::from_raw(-(code as i64)).err().map(|e| e.as_str()).unwrap_or("?");
                println!("fuzz:   error {code} ({name}): {count}");
            }
        }
    }

    /// One thread asleep for ever, one joining it; then the caller exits.
    fn leave_blocked_threads(&self) {
        let sleeper = libipc::thread::spawn(|| {
            let _ = libipc::sleep_ns(u64::MAX);
            0
        });
        match sleeper {
            Ok(sleeper) => {
                let raw = sleeper.raw_handle();
                // Detached: the process ends with it still asleep.
                core::mem::forget(sleeper);
                let joiner = libipc::thread::spawn(move || libipc::sys::thread_join(raw).unwrap_or(-1));
                if let Ok(joiner) = joiner {
                    core::mem::forget(joiner);
                }
                for _ in 0..10 {
                    libipc::yield_now();
                }
                println!("fuzz: exiting with a thread asleep for ever and one joining it");
            }
            Err(e) => println!("fuzz: could not start the sleeping thread: {e}"),
        }
    }
}

/// Entry of threads made by raw `thread_create`: exits at once.
extern "C" fn worker(arg: u64) -> ! {
    libipc::thread::exit(arg as i64)
}
