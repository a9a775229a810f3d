//! Background programs (`run ... &`): the shell keeps each one's process
//! handle, which is what `kill` needs to end it.
//!
//! `spawn` returns a handle, not a pid, so a new job's pid is read from the
//! kernel's process list: the one running child of the shell that no other
//! job claims (the shell has no other children while it is reading
//! commands: foreground programs are reaped before the prompt returns).

use alloc::vec::Vec;

use libipc::{ipc, Result};

use crate::child::Child;

/// One background program.
pub struct Job {
    /// Its process id (0 if it could not be found out).
    pub pid: u64,
    /// Its handle: kills and reaps it.
    pub process: Child,
}

/// The background programs.
#[derive(Default)]
pub struct Jobs {
    list: Vec<Job>,
}

impl Jobs {
    /// How many are held.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Adds a just-started program; returns its pid if found.
    pub fn add(&mut self, process: Child) -> Option<u64> {
        let me = libipc::getpid();
        let pid = ipc::processes()
            .ok()
            .and_then(|all| {
                all.iter()
                    .filter(|p| p.parent == me && !p.ended && !self.list.iter().any(|j| j.pid == p.pid))
                    .map(|p| p.pid)
                    .max()
            })
            .unwrap_or(0);
        self.list.push(Job { pid, process });
        (pid != 0).then_some(pid)
    }

    /// Forgets the jobs that have ended (closing their handles lets the
    /// kernel drop their records).
    pub fn reap(&mut self) {
        let Ok(all) = ipc::processes() else {
            return;
        };
        self.list.retain(|j| all.iter().any(|p| p.pid == j.pid && !p.ended));
    }

    /// Kills and reaps the job with this pid; `None` if it is not one of
    /// ours.
    pub fn kill(&mut self, pid: u64) -> Option<Result<()>> {
        let at = self.list.iter().position(|j| j.pid == pid && pid != 0)?;
        let job = self.list.swap_remove(at);
        Some(job.process.kill().and_then(|()| job.process.wait().map(drop)))
    }
}
