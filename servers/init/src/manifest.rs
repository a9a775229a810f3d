//! The system's manifest: which servers exist, in what order they start,
//! at what priority, with which device rights, how they are found by name
//! and restarted; and the in-QEMU test suites. A static table compiled into
//! init (Hubris's `app.toml` in Rust): the build checks it, nothing parses
//! it at boot, and the host tests below check that it is consistent.
//!
//! # What a process gets
//!
//! A server is spawned with the handles of its [`Service::grants`], in
//! order, as `first_handle(0)`, `first_handle(1)`, ... The convention is
//! that `first_handle(0)` is [`Grant::Names`], a connection to init's name
//! service (what `libipc::names` uses, and `libipc::io` to find the
//! console); a server that wants none may lay its handles out otherwise
//! (virtio-blk's layout is its own, see `servers/virtio-blk/src/main.rs`).
//!
//! # Gaps (kernel calls that would close them)
//!
//! - **Priority is passed as an argument.** `spawn` takes no priority, so
//!   init appends `prio=N` to the arguments and the server applies it with
//!   `set_priority` (the console does). A priority argument to `spawn` would
//!   make it binding.

/// A capability init hands a process at spawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// A connection to init's channel: name service and init's requests.
    Names,
    /// The I/O ports `first..=last`: a handle init narrows from its own
    /// (`ioports_narrow`), so the server can enable no other port.
    IoPorts { first: u16, last: u16 },
    /// Interrupt line `n` (ISA 0..=15, PCI GSIs 16..=23).
    Irq(u8),
    /// The right to allocate DMA memory.
    Dma,
    /// The server's own channel, made and kept by init (see
    /// [`Endpoint::Held`]).
    Channel,
}

/// How clients find a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// The server makes its channel and registers this name itself; init
    /// waits for the registration before starting the next server, and
    /// forgets the name when the server dies (its successor registers
    /// again; clients that get `PeerDied` look the name up again).
    Registers(&'static str),
    /// init makes the channel, registers this name for it, and passes the
    /// channel as [`Grant::Channel`]. The channel outlives the server, so a
    /// restarted server serves the same channel and clients keep their
    /// connections (requests in flight when it died fail with `PeerDied`).
    Held(&'static str),
    /// No name (the shell).
    Unnamed,
}

impl Endpoint {
    /// The name, if any.
    pub fn name(&self) -> Option<&'static str> {
        match *self {
            Endpoint::Registers(n) | Endpoint::Held(n) => Some(n),
            Endpoint::Unnamed => None,
        }
    }
}

/// When a server that ended is started again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// Whatever its status (the shell: `exit` gives a fresh one).
    Always,
    /// Unless it exited with status 0.
    OnFailure,
    /// Never.
    Never,
}

/// One server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Service {
    /// Its program in the initrd, and its name in logs.
    pub program: &'static str,
    /// Its arguments (init appends `prio=N`).
    pub args: &'static str,
    pub endpoint: Endpoint,
    /// Scheduling priority (0..=24; ordinary programs run at 8).
    pub priority: u8,
    /// Its handles, as `first_handle(0)`, `first_handle(1)`, ...
    pub grants: &'static [Grant],
    /// Started at a normal boot.
    pub boot: bool,
    /// Started in test mode, before the suites.
    pub test: bool,
    pub restart: Restart,
    /// Exit statuses that mean "nothing to do here" (no device, no disk):
    /// the server is not restarted after them, whatever `restart` says.
    /// The convention is [`EXIT_NOTHING_TO_SERVE`].
    pub done_statuses: &'static [i64],
}

/// The exit status by which a server says "there is nothing for me to
/// serve on this machine" (virtio-blk without a virtio disk, fs without a
/// block device): not an error to restart from.
pub const EXIT_NOTHING_TO_SERVE: i64 = 2;

/// The servers, in start order. A server whose program is not in the
/// initrd is skipped with a log line.
pub const SERVICES: &[Service] = &[
    Service {
        program: "console",
        args: "",
        endpoint: Endpoint::Registers("console"),
        priority: 12,
        grants: &[Grant::Names, Grant::IoPorts { first: 0x3f8, last: 0x3ff }, Grant::Irq(4)],
        boot: true,
        test: true,
        restart: Restart::OnFailure,
        done_statuses: &[],
    },
    Service {
        program: "virtio-blk",
        args: "",
        endpoint: Endpoint::Held("blk"),
        priority: 10,
        grants: &[
            // PCI configuration, and the PCI I/O window the firmware places
            // BARs in (the device's BAR is found at run time; QEMU's q35 puts
            // it at 0xc000): no legacy ISA device is reachable.
            Grant::IoPorts { first: 0xcf8, last: 0xcff },
            Grant::Dma,
            Grant::Irq(16),
            Grant::Irq(17),
            Grant::Irq(18),
            Grant::Irq(19),
            Grant::Irq(20),
            Grant::Irq(21),
            Grant::Irq(22),
            Grant::Irq(23),
            Grant::Channel,
            Grant::IoPorts { first: 0x1000, last: 0xffff },
        ],
        boot: true,
        test: true,
        restart: Restart::OnFailure,
        // No usable virtio-blk device (QEMU started without a disk).
        done_statuses: &[EXIT_NOTHING_TO_SERVE],
    },
    Service {
        program: "fs",
        args: "",
        endpoint: Endpoint::Registers("fs"),
        priority: 10,
        grants: &[Grant::Names],
        boot: true,
        test: true,
        restart: Restart::OnFailure,
        // No block device to serve.
        done_statuses: &[EXIT_NOTHING_TO_SERVE],
    },
    Service {
        program: "shell",
        args: "",
        endpoint: Endpoint::Unnamed,
        priority: 8,
        grants: &[Grant::Names],
        boot: true,
        test: false,
        restart: Restart::Always,
        done_statuses: &[],
    },
];

/// An in-QEMU test suite: a program that prints `PASS`/`FAIL` lines and a
/// closing `N passed, N failed`, and exits with the number that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    /// Its program in the initrd.
    pub program: &'static str,
    /// Its handles, as for a [`Service`].
    pub grants: &'static [Grant],
    /// init kills it after this long.
    pub timeout_s: u64,
    /// It needs the test-mode servers (console, disk, fs). Suites that do
    /// not run first, on a quiet system, before any server starts: the
    /// kernel and IPC suites count the scheduler's work and time things,
    /// and servers' timers would disturb them.
    pub needs_servers: bool,
}

/// The suites, run one after the other in test mode: first those that do
/// not need the servers, then (once the test-mode servers are up) those
/// that do, each group in this order. A suite that is not in the initrd
/// fails.
pub const SUITES: &[Suite] = &[
    Suite { program: "utest", grants: &[], timeout_s: 90, needs_servers: false },
    // The RTC's ports and its interrupt, for the interrupt-pulse test.
    Suite {
        program: "ipctest",
        grants: &[Grant::IoPorts { first: 0x70, last: 0x71 }, Grant::Irq(8)],
        timeout_s: 60,
        needs_servers: false,
    },
    // The benchmark's smoke run: every case once, correctness only.
    Suite { program: "ipcbench", grants: &[], timeout_s: 60, needs_servers: false },
    Suite { program: "systest", grants: &[Grant::Names], timeout_s: 60, needs_servers: true },
    Suite { program: "rttest", grants: &[Grant::Names], timeout_s: 60, needs_servers: true },
    Suite { program: "exclient", grants: &[Grant::Names], timeout_s: 60, needs_servers: true },
    Suite { program: "blktest", grants: &[Grant::Names], timeout_s: 60, needs_servers: true },
    Suite { program: "fstest", grants: &[Grant::Names], timeout_s: 120, needs_servers: true },
];

/// How long init waits for a server to register its name.
pub const REGISTER_TIMEOUT_MS: u64 = 3000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_programs_are_unique() {
        for (i, a) in SERVICES.iter().enumerate() {
            for b in &SERVICES[i + 1..] {
                assert_ne!(a.program, b.program);
                if let Some(n) = a.endpoint.name() {
                    assert_ne!(Some(n), b.endpoint.name(), "{} and {}", a.program, b.program);
                }
            }
        }
    }

    #[test]
    fn grants_are_consistent_with_endpoints() {
        for s in SERVICES.iter() {
            let channels = s.grants.iter().filter(|g| **g == Grant::Channel).count();
            let held = matches!(s.endpoint, Endpoint::Held(_));
            assert_eq!(channels, usize::from(held), "{}: Grant::Channel iff Endpoint::Held", s.program);
            if matches!(s.endpoint, Endpoint::Registers(_)) {
                assert!(s.grants.contains(&Grant::Names), "{} registers, so it needs Names", s.program);
            }
            assert!(s.priority <= 24, "{}", s.program);
            for g in s.grants {
                match *g {
                    Grant::Irq(n) => assert!(n < 24, "{}: no line {n}", s.program),
                    Grant::IoPorts { first, last } => assert!(first <= last, "{}", s.program),
                    _ => {}
                }
            }
            assert!(s.grants.len() <= 16, "{}: spawn passes at most 16 handles", s.program);
        }
    }

    #[test]
    fn suites_are_unique_and_bounded() {
        for (i, a) in SUITES.iter().enumerate() {
            assert!(a.timeout_s > 0);
            assert!(SUITES[i + 1..].iter().all(|b| b.program != a.program));
        }
    }
}
