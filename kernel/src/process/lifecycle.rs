//! How processes and threads begin and end: spawning from the initrd,
//! creating threads, a thread's exit, a process's end (exit, kill or fault),
//! and releasing what a closed handle named. Ending is one path for every
//! cause, so nothing is forgotten: threads leave every queue, handles are
//! released, memory is freed, waiters are woken with the status.

use super::address_space::AddressSpace;
use super::{loader, Handle, Object, Process, ProcessState, DEFAULT_PRIORITY, MAX_HANDLES, MAX_PAGES, MAX_THREADS};
use crate::arch::{cpu, user};
use crate::ipc::{ChannelId, Pending};
use crate::state::Kernel;
use crate::thread::{Blocked, ProcessId, State, Thread, ThreadId};
use abi::Error;
use alloc::{boxed::Box, string::String, vec::Vec};
use kcore::handles::HandleTable;

impl Kernel {
    /// Starts program `name` from the initrd as a child of `parent`, with
    /// `handles` as the first entries of its handle table.
    pub fn spawn(
        &mut self,
        parent: Option<ProcessId>,
        name: &str,
        args: &[u8],
        handles: &[Handle],
    ) -> Result<ProcessId, Error> {
        if self.processes.is_full() {
            return Err(Error::LimitReached);
        }
        let archive = kcore::initrd::Archive::new(self.initrd).map_err(|_| Error::NotFound)?;
        let image = archive.file(name).ok_or(Error::NotFound)?;
        let loaded = loader::load(image, args, MAX_PAGES)?;
        let pid = self.next_pid;
        let id = self
            .processes
            .insert_with(|_| Process {
                pid,
                name: String::from(name),
                space: Some(loaded.space),
                handles: HandleTable::new(MAX_HANDLES),
                threads: Vec::new(),
                parent,
                state: ProcessState::Alive,
                waiters: Vec::new(),
                handle_refs: 0,
                may_spawn: true,
                priority: DEFAULT_PRIORITY,
                async_outstanding: 0,
                io_bitmap: None,
            })
            .ok_or(Error::LimitReached)?;
        self.next_pid += 1;
        for &h in handles {
            let inserted = self.processes.get_mut(id).map(|p| p.handles.insert(h));
            match inserted {
                Some(Ok(_)) => self.retain(h, id),
                _ => {
                    self.end_process(id, abi::EXIT_KILLED);
                    self.reap_if_unreferenced(id);
                    return Err(Error::LimitReached);
                }
            }
        }
        let frame = user::initial_frame(loaded.entry, loaded.stack_top, loaded.args_addr, args.len() as u64, 0);
        if let Err(e) = self.create_thread(id, frame) {
            self.end_process(id, abi::EXIT_KILLED);
            self.reap_if_unreferenced(id);
            return Err(e);
        }
        crate::kdebug!("spawned {name} as pid {pid}");
        Ok(id)
    }

    /// Adds a thread with registers `frame` to `process` and makes it ready.
    pub fn create_thread(
        &mut self,
        process: ProcessId,
        frame: crate::arch::trap::TrapFrame,
    ) -> Result<ThreadId, Error> {
        let p = self.processes.get(process).ok_or(Error::BadState)?;
        if p.threads.len() >= MAX_THREADS {
            return Err(Error::LimitReached);
        }
        let priority = p.priority;
        let (root, pid, io_privileged) = (p.cr3(), p.pid, p.io_bitmap.is_some());
        self.runq.reserve(priority, 1).map_err(|_| Error::NoMemory)?;
        let id = self
            .threads
            .insert_with(|_| {
                Box::new(Thread {
                    frame,
                    process,
                    root,
                    pid,
                    io_privileged,
                    priority,
                    state: State::Ready,
                    handle_refs: 0,
                    joiners: Vec::new(),
                    slice_left: 0,
                    base_priority: priority,
                    timeout_armed: false,
                    ipc: Default::default(),
                })
            })
            .ok_or(Error::LimitReached)?;
        let p = self.processes.get_mut(process).ok_or(Error::BadState)?;
        if p.threads.try_reserve(1).is_err() {
            self.threads.remove(id);
            return Err(Error::NoMemory);
        }
        p.threads.push(id);
        self.make_ready(id);
        Ok(id)
    }

    /// The current thread exits with `code`. The last thread's exit ends
    /// the process with that code.
    pub fn exit_current_thread(&mut self, code: i64) {
        let id = self.current.expect("exit without a thread");
        let process = self.cur().process;
        let last = self.processes.get(process).is_some_and(|p| p.threads.len() <= 1);
        if last {
            self.end_process(process, code);
            return;
        }
        if let Some(p) = self.processes.get_mut(process) {
            p.threads.retain(|&t| t != id);
        }
        self.finish_thread(id, code);
    }

    /// Marks a thread exited, wakes its joiners, and frees it if no handle
    /// names it. The thread must already be off every queue.
    fn finish_thread(&mut self, id: ThreadId, code: i64) {
        let Some(t) = self.thread(id) else { return };
        t.state = State::Exited(code);
        let joiners = core::mem::take(&mut t.joiners);
        let free = t.handle_refs == 0;
        for j in joiners {
            if self.thread(j).is_some_and(|t| t.state == State::Blocked(Blocked::Join(id))) {
                self.wake(j, 0, code as u64);
            }
        }
        if free {
            self.threads.remove(id);
        }
    }

    /// Takes a thread off every queue, whatever it waits for.
    fn detach_thread(&mut self, id: ThreadId) {
        self.disarm_timeout(id);
        let Some(t) = self.thread(id) else { return };
        match t.state {
            State::Ready => {
                self.runq.remove(id);
            }
            State::Blocked(Blocked::Send(ch) | Blocked::Receive(ch)) => self.ipc_forget(id, ch),
            _ => {}
        }
        if self.current == Some(id) {
            self.current = None;
        }
    }

    /// Ends `process` with `status`: its threads stop, its handles are
    /// released, its memory is freed, and whoever waits for it is told.
    pub fn end_process(&mut self, process: ProcessId, status: i64) {
        let Some(p) = self.processes.get_mut(process) else { return };
        if p.state != ProcessState::Alive {
            return;
        }
        p.state = ProcessState::Zombie(status);
        let threads = core::mem::take(&mut p.threads);
        let space = p.space.take();
        let mut handles = core::mem::replace(&mut p.handles, HandleTable::new(0));
        super::epochs::HANDLES.bump();
        let waiters = core::mem::take(&mut p.waiters);
        let (pid, name) = (p.pid, p.name.clone());

        for t in threads {
            self.detach_thread(t);
            // Handles to these threads live only in this process's table,
            // which is released below, so the threads go now.
            self.threads.remove(t);
        }
        let mut objects = Vec::new();
        handles.drain(|h| objects.push(h.object));
        for o in objects {
            self.release(o);
        }
        self.fail_clients_of(process);
        self.fail_inflight_of(process);
        self.irq_release_of(process);
        let owned: Vec<ChannelId> =
            self.channels.iter().filter(|(_, c)| c.owner == process && c.alive).map(|(id, _)| id).collect();
        for ch in owned {
            self.kill_channel(ch);
        }
        if self.io_bitmap_owner == Some(process) {
            crate::arch::gdt::enable_io_bitmap(false);
            self.io_bitmap_on = false;
            self.io_bitmap_owner = None;
        }
        let children: Vec<ProcessId> =
            self.processes.iter().filter(|(_, c)| c.parent == Some(process)).map(|(id, _)| id).collect();
        for child in children {
            if let Some(c) = self.processes.get_mut(child) {
                c.parent = None;
            }
        }
        if let Some(space) = space {
            if cpu::read_cr3() == space.tables.root {
                // SAFETY: the kernel's tables map everything the kernel uses.
                unsafe { cpu::write_cr3(crate::mm::paging::kernel_tables().root) };
            }
            drop::<AddressSpace>(space);
        }
        for w in waiters {
            if self.thread(w).is_some_and(|t| t.state == State::Blocked(Blocked::Wait(process))) {
                self.wake(w, 0, status as u64);
            }
        }
        crate::kdebug!("process {pid} ({name}) ended with status {status}");
        if Some(process) == self.init {
            self.init_ended(status);
        }
        self.reap_if_unreferenced(process);
    }

    /// Frees a process record once it has ended and no handle names it.
    pub fn reap_if_unreferenced(&mut self, process: ProcessId) {
        if let Some(p) = self.processes.get(process) {
            if p.handle_refs == 0 && p.state != ProcessState::Alive {
                self.processes.remove(process);
            }
        }
    }

    /// Every client waiting for a reply from `server` gets `PeerDied`.
    fn fail_clients_of(&mut self, server: ProcessId) {
        let waiting: Vec<ThreadId> = self
            .threads
            .iter()
            .filter(|(_, t)| t.state == State::Blocked(Blocked::Reply { server }))
            .map(|(id, _)| id)
            .collect();
        for t in waiting {
            self.wake(t, Error::PeerDied.to_raw(), 0);
        }
    }

    /// A channel stops: everything queued on it is answered with `PeerDied`
    /// (blocked senders, asynchronous messages) or dropped (pulses, replies
    /// to a receiver that is gone).
    pub fn kill_channel(&mut self, ch: ChannelId) {
        let Some(c) = self.channels.get_mut(ch) else { return };
        c.alive = false;
        let pending = core::mem::take(&mut c.pending);
        let receivers: Vec<ThreadId> = c.receivers.drain().collect();
        c.pulses = 0;
        for item in pending {
            match item {
                Pending::Send(client) => {
                    if self.threads.get(client).is_some_and(|t| t.state == State::Blocked(Blocked::Send(ch))) {
                        self.wake(client, Error::PeerDied.to_raw(), 0);
                    }
                }
                Pending::Async(m) => {
                    self.finish_async(m.sender, m.reply_channel, m.token, Error::PeerDied.to_raw(), &[])
                }
                Pending::Pulse { .. } | Pending::AsyncReply(_) => {}
            }
        }
        for r in receivers {
            self.wake(r, Error::PeerDied.to_raw(), 0);
        }
        if self.channels.get(ch).is_some_and(|c| c.refs == 0) {
            self.channels.remove(ch);
        }
    }

    /// Counts one more handle naming its object, now held by `holder`.
    pub fn retain(&mut self, handle: Handle, holder: ProcessId) {
        let object = handle.object;
        match object {
            Object::Process(id) => {
                if let Some(p) = self.processes.get_mut(id) {
                    p.handle_refs += 1;
                }
            }
            Object::Thread(id) => {
                if let Some(t) = self.thread(id) {
                    t.handle_refs += 1;
                }
            }
            Object::Channel(id) | Object::Connection(id) => {
                if let Some(c) = self.channels.get_mut(id) {
                    c.refs += 1;
                    if let Object::Channel(_) = object {
                        c.receive_handles += 1;
                        if handle.rights & abi::ipc::rights::RECEIVE != 0 {
                            c.server = Some(holder);
                        }
                    }
                }
            }
            Object::Irq(_) | Object::IoPorts { .. } | Object::Dma => {}
        }
    }

    /// Drops one reference to the object a handle named.
    pub fn release(&mut self, object: Object) {
        match object {
            Object::Channel(id) | Object::Connection(id) => {
                let Some(c) = self.channels.get_mut(id) else { return };
                c.refs = c.refs.saturating_sub(1);
                if let Object::Channel(_) = object {
                    c.receive_handles = c.receive_handles.saturating_sub(1);
                }
                // Nobody can receive any more: the channel stops.
                if c.alive && c.receive_handles == 0 {
                    self.kill_channel(id);
                } else if !c.alive && c.refs == 0 {
                    self.channels.remove(id);
                }
            }
            Object::Irq(_) | Object::IoPorts { .. } | Object::Dma => {}
            Object::Process(id) => {
                if let Some(p) = self.processes.get_mut(id) {
                    p.handle_refs = p.handle_refs.saturating_sub(1);
                }
                self.reap_if_unreferenced(id);
            }
            Object::Thread(id) => {
                if let Some(t) = self.thread(id) {
                    t.handle_refs = t.handle_refs.saturating_sub(1);
                    if t.handle_refs == 0 && matches!(t.state, State::Exited(_)) {
                        self.threads.remove(id);
                    }
                }
            }
        }
    }

    /// init is gone: in test mode that ends the run with its verdict.
    fn init_ended(&mut self, status: i64) {
        self.init = None;
        if self.test_mode {
            crate::kprintln!("kernel: init exited with status {status}");
            let code =
                if status == 0 { crate::arch::qemu::ExitCode::Success } else { crate::arch::qemu::ExitCode::Failure };
            crate::arch::qemu::exit(code);
        }
        crate::kerror!("init exited with status {status}; nothing left to supervise the system");
    }
}
