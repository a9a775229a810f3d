//! `ipcbench`: the IPC latency benchmark. Run by `make bench` (see
//! `docs/benchmarks.md` for the method). `ipcbench server` is its echo peer.
#![no_std]
#![no_main]

mod raw;

use libipc::{println, Args};

libipc::main!(main);

const ITERATIONS: usize = 2000;

fn main(args: Args) -> i32 {
    if args.as_str() == Some("server") {
        return server();
    }
    // Timer overhead.
    let mut samples = [0u64; ITERATIONS];
    for s in samples.iter_mut() {
        let t0 = raw::rdtsc();
        let t1 = raw::rdtsc();
        *s = t1 - t0;
    }
    let overhead = median(&mut samples);
    for s in samples.iter_mut() {
        let t0 = raw::rdtsc();
        raw::null_syscall();
        let t1 = raw::rdtsc();
        *s = t1 - t0 - overhead;
    }
    println!("null syscall: median {} (overhead {overhead})", median(&mut samples));

    let chan = raw::channel_create();
    let child = libipc::sys::spawn(b"ipcbench", b"server", &[chan]).expect("spawn server");
    let conn = raw::connect(chan);
    let msg = [0u8; 4096];
    let mut reply = [0u8; 4096];
    let before = ipc_stats();
    for size in [0usize, 8, 64, 256, 1024, 4096] {
        for s in samples.iter_mut() {
            let t0 = raw::rdtsc();
            let (r, _) = raw::send(conn, &msg[..size], &mut reply[..size]);
            let t1 = raw::rdtsc();
            assert!(r >= 0);
            *s = t1 - t0 - overhead;
        }
        println!("round trip {size}: median {}", median(&mut samples));
    }
    let after = ipc_stats();
    println!("stats before {:?}", before);
    println!("stats after  {:?}", after);
    let _ = libipc::sys::kill(child.raw());
    0
}

fn server() -> i32 {
    let chan = abi::syscall::first_handle(0);
    let mut buf = [0u8; 4096];
    let (mut rcvid, mut len) = raw::reply_receive(0, 0, chan, &mut buf);
    loop {
        if rcvid <= 0 {
            return 1;
        }
        (rcvid, len) = raw::reply_receive(rcvid as u64, len as usize, chan, &mut buf);
    }
}

fn median(s: &mut [u64]) -> u64 {
    s.sort_unstable();
    s[s.len() / 2]
}

fn ipc_stats() -> abi::ipc::IpcStats {
    let mut buf = [0u8; abi::ipc::IpcStats::SIZE];
    let _ = libipc::sys::kernel_info(abi::syscall::InfoKind::Ipc as u64, &mut buf);
    let mut w = [0u64; abi::ipc::IpcStats::WORDS];
    for (i, c) in buf.chunks_exact(8).enumerate() {
        w[i] = u64::from_le_bytes(c.try_into().unwrap_or_default());
    }
    abi::ipc::IpcStats::from_words(w)
}
