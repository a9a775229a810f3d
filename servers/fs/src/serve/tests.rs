//! The server on the host: a FAT image made by the host's `mkfs.fat` in a
//! RAM disk, requests handed to [`Server::handle`] with an in-memory lease,
//! and at the end `fsck.fat -n` on what the server left on the disk. One
//! test goes through the executor (libipc's simulated kernel) to check the
//! request path itself.

extern crate std;

use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::path::PathBuf;
use std::process::Command;

use fatcore::{MountOptions, RamDisk};
use fs_proto::proto::{Reply, Request};
use fs_proto::{DirPage, Metadata};

use super::*;

/// Runs `fut` to the end (the RAM disk never really waits).
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn tool(name: &str) -> PathBuf {
    ["/usr/sbin", "/sbin", "/usr/bin"]
        .iter()
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{name} is needed for these tests (Debian: dosfstools)"))
}

fn temp_path(tag: &str) -> PathBuf {
    static N: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(std::format!("fs-serve-{}-{tag}-{n}.img", std::process::id()))
}

/// A fresh FAT image of `kib` KiB (`bits`: 16 or 32).
fn mkfs(bits: u32, kib: u32) -> Vec<u8> {
    let path = temp_path("mkfs");
    let ok = Command::new(tool("mkfs.fat"))
        .args(["-F", &bits.to_string(), "-C"])
        .arg(&path)
        .arg(kib.to_string())
        .output()
        .expect("mkfs.fat runs")
        .status
        .success();
    assert!(ok, "mkfs.fat failed");
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    bytes
}

/// `fsck.fat -n` on `image`: its output if it found anything.
fn fsck(image: &[u8]) -> Result<(), String> {
    let path = temp_path("fsck");
    std::fs::write(&path, image).unwrap();
    let out = Command::new(tool("fsck.fat")).arg("-n").arg(&path).output().expect("fsck.fat runs");
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() && text.lines().filter(|l| !l.trim().is_empty()).count() <= 2 {
        Ok(())
    } else {
        Err(text)
    }
}

std::thread_local! {
    /// What the test's liveness function reports.
    static ALIVE: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

fn alive() -> Option<Vec<u64>> {
    Some(ALIVE.with(|a| a.borrow().clone()))
}

fn server(bits: u32) -> Server<RamDisk> {
    let disk = RamDisk::new(mkfs(bits, if bits == 32 { 40 * 1024 } else { 16 * 1024 }), 512);
    let options = MountOptions { cache_sectors: 16, ..MountOptions::default() };
    let fs = block_on(fatcore::FileSystem::mount(disk, options)).expect("mounts");
    Server::new(fs, 77, alive)
}

/// A lease over a buffer.
struct Buf(RefCell<Vec<u8>>);

impl Buf {
    fn new(bytes: Vec<u8>) -> Buf {
        Buf(RefCell::new(bytes))
    }
}

impl Lease for Buf {
    fn read(&self, offset: usize, buf: &mut [u8]) -> Result<usize, Error> {
        let b = self.0.borrow();
        let src = b.get(offset..offset + buf.len()).ok_or(Error::BadArgument)?;
        buf.copy_from_slice(src);
        Ok(buf.len())
    }

    fn write(&self, offset: usize, data: &[u8]) -> Result<usize, Error> {
        let mut b = self.0.borrow_mut();
        b.get_mut(offset..offset + data.len()).ok_or(Error::BadArgument)?.copy_from_slice(data);
        Ok(data.len())
    }
}

/// Sends `Variant { fields }` from `pid` with `lease` to the server `s`,
/// passes the reply through its wire form as a client would see it, and
/// gives the op's result.
macro_rules! call {
    ($s:expr, $pid:expr, $lease:expr, $variant:ident { $($fields:tt)* }) => {{
        let reply = block_on($s.handle($pid, Request::$variant { $($fields)* }, $lease));
        match libipc::wire::from_bytes::<Reply>(&libipc::wire::to_vec(&reply)).unwrap() {
            Reply::$variant(answer) => answer.into_result(),
            other => panic!("a reply to another op: {other:?}"),
        }
    }};
}

fn no_lease() -> Buf {
    Buf::new(Vec::new())
}

fn path(p: &str) -> String {
    p.to_string()
}

const RW_CREATE: OpenFlags =
    OpenFlags::from_bits(OpenFlags::READ.bits() | OpenFlags::WRITE.bits() | OpenFlags::CREATE.bits()).unwrap();

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31) ^ seed ^ (i >> 9) as u8).collect()
}

#[test]
fn files_are_written_read_and_seeked_through_leases() {
    let s = server(32);
    let o: Opened = call!(s, 1, &no_lease(), Open { path: path("/A long name.bin"), flags: RW_CREATE }).unwrap();
    assert_eq!(o.size, 0);
    let data = pattern(3 * CHUNK + 1234, 7);
    let n: u64 = call!(s, 1, &Buf::new(data.clone()), Write { handle: o.handle, len: data.len() as u64 }).unwrap();
    assert_eq!(n, data.len() as u64);
    let pos: u64 = call!(s, 1, &no_lease(), Seek { handle: o.handle, from: SeekFrom::Start(0) }).unwrap();
    assert_eq!(pos, 0);
    // Read more than is there: a short read at the end of the file.
    let back = Buf::new(vec![0; data.len() + 100]);
    let n: u64 = call!(s, 1, &back, Read { handle: o.handle, len: data.len() as u64 + 100 }).unwrap();
    assert_eq!(n, data.len() as u64);
    assert_eq!(&back.0.borrow()[..data.len()], &data[..]);
    let n: u64 = call!(s, 1, &Buf::new(vec![0; 10]), Read { handle: o.handle, len: 10 }).unwrap();
    assert_eq!(n, 0, "at the end");
    let m: Metadata = call!(s, 1, &no_lease(), Fstat { handle: o.handle }).unwrap();
    assert_eq!((m.size, m.is_dir), (data.len() as u64, false));
    call!(s, 1, &no_lease(), Close { handle: o.handle }).unwrap();
    assert_eq!(call!(s, 1, &no_lease(), Close { handle: o.handle }), Err(FsError::BadHandle));
    call!(s, 1, &no_lease(), Sync {}).unwrap();
    fsck(&s.fs().device().snapshot()).unwrap();
}

#[test]
fn handles_belong_to_the_process_that_opened_them() {
    let s = server(16);
    let o: Opened = call!(s, 1, &no_lease(), Open { path: path("/f"), flags: RW_CREATE }).unwrap();
    let other = call!(s, 2, &Buf::new(vec![0]), Read { handle: o.handle, len: 1 }).unwrap_err();
    assert_eq!(other, FsError::BadHandle);
    assert_eq!(call!(s, 2, &no_lease(), Close { handle: o.handle }), Err(FsError::BadHandle));
    call!(s, 2, &no_lease(), CloseAll {}).unwrap();
    assert_eq!(s.open_files(), 1, "another process's close-all leaves it");
    call!(s, 1, &no_lease(), CloseAll {}).unwrap();
    assert_eq!(s.open_files(), 0);
    assert_eq!(s.fs().open_handles(), 0);
}

#[test]
fn bad_requests_get_errors() {
    let s = server(16);
    let bad_flags = OpenFlags::READ | OpenFlags::CREATE;
    assert_eq!(call!(s, 1, &no_lease(), Open { path: path("/f"), flags: bad_flags }), Err(FsError::InvalidArgument));
    assert_eq!(
        call!(s, 1, &no_lease(), Open { path: path("/missing"), flags: OpenFlags::READ }),
        Err(FsError::NotFound)
    );
    let o: Opened = call!(s, 1, &no_lease(), Open { path: path("/f"), flags: RW_CREATE }).unwrap();
    // A lease shorter than the request says.
    let short = call!(s, 1, &Buf::new(vec![1; 10]), Write { handle: o.handle, len: 100 });
    assert_eq!(short, Err(FsError::InvalidArgument));
    let before = call!(s, 1, &no_lease(), Seek { handle: o.handle, from: SeekFrom::Current(-1) });
    assert_eq!(before, Err(FsError::InvalidArgument));
    assert!(call!(s, 1, &no_lease(), Rmdir { path: path("/") }).is_err());
    assert_eq!(call!(s, 1, &no_lease(), Stat { path: path("/no/such") }), Err(FsError::NotFound));
    assert_eq!(call!(s, 1, &no_lease(), Mkdir { path: path("/bad:name") }), Err(FsError::InvalidName));
}

#[test]
fn directories_list_in_pages_and_change() {
    let s = server(32);
    let ok = |r: Result<(), FsError>| r.unwrap();
    ok(call!(s, 1, &no_lease(), Mkdir { path: path("/Many Files") }));
    ok(call!(s, 1, &no_lease(), Mkdir { path: path("/Many Files/sub dir") }));
    let names: Vec<String> = (0..150).map(|i| std::format!("a rather long file name number {i:03}.txt")).collect();
    for n in &names {
        let o: Opened =
            call!(s, 1, &no_lease(), Open { path: std::format!("/Many Files/{n}"), flags: RW_CREATE }).unwrap();
        ok(call!(s, 1, &no_lease(), Close { handle: o.handle }));
    }
    let mut listed = Vec::new();
    let mut cursor = 0;
    let mut pages = 0;
    loop {
        let page: DirPage = call!(s, 1, &no_lease(), Readdir { path: path("/Many Files"), cursor }).unwrap();
        assert!(convert::fits(&page));
        pages += 1;
        listed.extend(page.entries);
        if page.next == 0 {
            break;
        }
        cursor = page.next;
    }
    assert!(pages > 1, "150 long names take more than one reply");
    assert_eq!(listed.len(), 151);
    assert!(listed.iter().any(|e| e.name == "sub dir" && e.is_dir));
    for n in &names {
        assert!(listed.iter().any(|e| &e.name == n && !e.is_dir), "{n}");
    }
    // Rename across directories, unlink, rmdir.
    let first = std::format!("/Many Files/{}", names[0]);
    ok(call!(s, 1, &no_lease(), Rename { from: first.clone(), to: path("/Many Files/sub dir/moved.txt") }));
    assert_eq!(call!(s, 1, &no_lease(), Stat { path: first }), Err(FsError::NotFound));
    let m: Metadata = call!(s, 1, &no_lease(), Stat { path: path("/many files/SUB DIR/MOVED.TXT") }).unwrap();
    assert!(!m.is_dir, "names match without regard to case");
    assert_eq!(call!(s, 1, &no_lease(), Rmdir { path: path("/Many Files/sub dir") }), Err(FsError::NotEmpty));
    ok(call!(s, 1, &no_lease(), Unlink { path: path("/Many Files/sub dir/moved.txt") }));
    ok(call!(s, 1, &no_lease(), Rmdir { path: path("/Many Files/sub dir") }));
    ok(call!(s, 1, &no_lease(), Sync {}));
    fsck(&s.fs().device().snapshot()).unwrap();
}

#[test]
fn files_of_ended_clients_are_closed() {
    let s = server(16);
    ALIVE.with(|a| *a.borrow_mut() = vec![1, 5]);
    let o: Opened = call!(s, 5, &no_lease(), Open { path: path("/held"), flags: RW_CREATE }).unwrap();
    // While pid 5 lives, its open file cannot be removed.
    assert_eq!(call!(s, 1, &no_lease(), Unlink { path: path("/held") }), Err(FsError::Busy));
    // Once it has ended, the server closes its files and the unlink works.
    ALIVE.with(|a| *a.borrow_mut() = vec![1]);
    call!(s, 1, &no_lease(), Unlink { path: path("/held") }).unwrap();
    assert_eq!(s.open_files(), 0);
    assert_eq!(call!(s, 5, &Buf::new(vec![0]), Read { handle: o.handle, len: 1 }), Err(FsError::BadHandle));
}

#[test]
fn each_client_has_a_quota_of_open_files() {
    let s = server(16);
    for i in 0..crate::clients::PER_CLIENT {
        call!(s, 3, &no_lease(), Open { path: std::format!("/f{i}"), flags: RW_CREATE }).unwrap();
    }
    let more = call!(s, 3, &no_lease(), Open { path: path("/one more"), flags: RW_CREATE });
    assert_eq!(more, Err(FsError::TooManyOpen));
    assert!(call!(s, 4, &no_lease(), Open { path: path("/f0"), flags: OpenFlags::READ }).is_ok());
}

#[test]
fn shutdown_syncs_and_refuses_changes() {
    let s = server(16);
    let o: Opened = call!(s, 1, &no_lease(), Open { path: path("/kept.txt"), flags: RW_CREATE }).unwrap();
    call!(s, 1, &Buf::new(b"hello".to_vec()), Write { handle: o.handle, len: 5 }).unwrap();
    call!(s, 1, &no_lease(), Shutdown {}).unwrap();
    let refused = call!(s, 1, &Buf::new(vec![0]), Write { handle: o.handle, len: 1 });
    assert_eq!(refused, Err(FsError::ShuttingDown));
    assert_eq!(call!(s, 1, &no_lease(), Mkdir { path: path("/d") }), Err(FsError::ShuttingDown));
    assert!(call!(s, 1, &no_lease(), Stat { path: path("/kept.txt") }).is_ok(), "reads still work");
    // The data reached the disk: a fresh mount of it sees the file.
    let image = s.fs().device().snapshot();
    fsck(&image).unwrap();
    let again = block_on(fatcore::FileSystem::mount(RamDisk::new(image, 512), MountOptions::default())).unwrap();
    assert_eq!(block_on(again.read_file("/kept.txt")).unwrap(), b"hello");
}

#[test]
fn requests_run_as_executor_tasks() {
    use libipc::executor::sim::SimKernel;
    use libipc::executor::Executor;

    let sim = SimKernel::new();
    let mut exec = Executor::new(sim.clone());
    let s = Rc::new(server(16));
    let exec_server = s.clone();
    let open = fs_proto::proto::encode::open("/via executor", RW_CREATE);
    let r1 = sim.message_from(10, 9, open, false);
    let r2 = sim.message_from(20, 9, vec![0xff, 1, 2], false);
    let r3 = sim.message_from(30, 9, fs_proto::proto::encode::statfs(), false);
    let exec = &mut exec;
    let mut exec = core::mem::replace(exec, Executor::new(SimKernel::new()))
        .serve(move |req, ctx| serve(exec_server.clone(), req, ctx));
    // The simulated kernel says BadState once nothing is left to receive.
    let _ = exec.run();
    let answered = |rcvid| sim.reply_to(rcvid).expect("answered");
    let r = answered(r1);
    assert_eq!(r.error(), None);
    let opened: Opened = fs_proto::proto::result::open(&r.data).unwrap().into_result().unwrap();
    assert_eq!(s.clone().open_files(), 1);
    assert!(opened.handle >> 32 == 77, "the salt is in the handle");
    assert_eq!(answered(r2).error(), Some(Error::BadArgument), "malformed: refused by the executor");
    let info: VolumeInfo = fs_proto::proto::result::statfs(&answered(r3).data).unwrap().into_result().unwrap();
    assert_eq!(info.fat_bits, 16);
}
