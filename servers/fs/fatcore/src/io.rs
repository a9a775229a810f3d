//! Handle operations: open, close, read, write, seek, truncate, fstat,
//! readdir. The server keeps the [`Handle`]s in its own per-client table.
//!
//! Each operation copies what it needs out of the open-file table, does its
//! I/O without holding the table, and writes back what changed; a handle
//! closed meanwhile simply has nothing written back.

use crate::dir::{raw, DirRef, ATTR_ARCHIVE};
use crate::fs::{DirEntry, FileSystem, Metadata};
use crate::handle::{Handle, Node, Open, OpenOptions, SeekFrom};
use crate::path::Target;
use crate::{BlockDevice, Error, Result};

impl<D: BlockDevice> FileSystem<D> {
    /// Opens (and with `create`, creates) the file or directory at `path`.
    /// Directories open read-only, for [`FileSystem::readdir`].
    pub async fn open(&self, path: &str, opts: OpenOptions) -> Result<Handle> {
        let write = opts.write || opts.append;
        if !opts.read && !write {
            return Err(Error::InvalidArgument);
        }
        if opts.truncate && !write {
            return Err(Error::PermissionDenied);
        }
        let _g = if opts.mutates() { self.lock.write().await } else { self.lock.read().await };
        let target = match self.vol.resolve(path).await {
            Err(Error::NotFound) if opts.create || opts.create_new => None,
            other => Some(other?),
        };
        let node = match target {
            Some(Target::Root) => {
                if write || opts.create_new {
                    return Err(Error::IsADirectory);
                }
                Node::new(None, Some(DirRef::Root), 0, 0)
            }
            Some(Target::Entry { found, .. }) => {
                if opts.create_new {
                    return Err(Error::Exists);
                }
                if found.is_dir() {
                    if write {
                        return Err(Error::IsADirectory);
                    }
                    let dir = self.vol.dir_of(&found)?;
                    Node::new(Some(found.loc), Some(dir), 0, 0)
                } else {
                    let mut f = self.file_state(found.loc, &found.raw);
                    if opts.truncate && f.size != 0 {
                        let r = self.vol.resize(&mut f, 0).await;
                        self.commit(found.loc, &f, true).await?;
                        r?;
                    }
                    Node::new(Some(found.loc), None, f.first, f.size)
                }
            }
            None => {
                let (parent, name) = self.vol.resolve_parent(path).await?;
                let e = raw::new(ATTR_ARCHIVE, 0, 0, self.vol.now());
                let loc = self.vol.add_entry(parent, name, &e, None).await?;
                Node::new(Some(loc), None, 0, 0)
            }
        };
        self.table.borrow_mut().open(node, opts.read, write, opts.append)
    }

    /// Closes a handle. Needs no I/O: file sizes are written to the
    /// directory entry (in the cache) by every write.
    pub fn close(&self, h: Handle) -> Result<()> {
        self.table.borrow_mut().close(h)
    }

    /// The handle's state and its node, for a file operation.
    fn file_of(&self, h: Handle) -> Result<(Open, Node)> {
        let t = self.table.borrow();
        let (open, node) = t.get(h)?;
        if node.dir.is_some() {
            return Err(Error::IsADirectory);
        }
        Ok((open.clone(), node.clone()))
    }

    /// Reads at the handle's position and advances it. Returns 0 at the
    /// end of the file.
    pub async fn read(&self, h: Handle, buf: &mut [u8]) -> Result<usize> {
        let _g = self.lock.read().await;
        let pos = self.file_of(h)?.0.pos;
        let n = self.read_locked(h, pos, buf).await?;
        if let Ok(o) = self.table.borrow_mut().get_mut(h) {
            o.pos = pos + n as u64;
        }
        Ok(n)
    }

    /// Reads at `pos` without moving the handle's position.
    pub async fn read_at(&self, h: Handle, pos: u64, buf: &mut [u8]) -> Result<usize> {
        let _g = self.lock.read().await;
        self.read_locked(h, pos, buf).await
    }

    async fn read_locked(&self, h: Handle, pos: u64, buf: &mut [u8]) -> Result<usize> {
        let (open, node) = self.file_of(h)?;
        if !open.read {
            return Err(Error::PermissionDenied);
        }
        let mut f = node.file;
        let n = self.vol.read_file(&mut f, pos, buf).await?;
        if let Ok(node) = self.table.borrow_mut().node_mut(h) {
            node.file.hint = f.hint;
        }
        Ok(n)
    }

    /// Writes at the handle's position (at the end in append mode) and
    /// advances it. Writes everything or fails.
    pub async fn write(&self, h: Handle, data: &[u8]) -> Result<usize> {
        let _g = self.lock.write().await;
        let (open, node) = self.file_of(h)?;
        let pos = if open.append { u64::from(node.file.size) } else { open.pos };
        self.write_locked(h, pos, data).await?;
        if let Ok(o) = self.table.borrow_mut().get_mut(h) {
            o.pos = pos + data.len() as u64;
        }
        Ok(data.len())
    }

    /// Writes at `pos` without moving the handle's position.
    pub async fn write_at(&self, h: Handle, pos: u64, data: &[u8]) -> Result<usize> {
        let _g = self.lock.write().await;
        self.write_locked(h, pos, data).await?;
        Ok(data.len())
    }

    async fn write_locked(&self, h: Handle, pos: u64, data: &[u8]) -> Result<()> {
        let (open, node) = self.file_of(h)?;
        if !open.write {
            return Err(Error::PermissionDenied);
        }
        let loc = node.loc.ok_or(Error::IsADirectory)?;
        let mut f = node.file;
        let r = self.vol.write_file(&mut f, pos, data).await;
        if data.is_empty() {
            return r;
        }
        self.commit(loc, &f, r.is_ok()).await?;
        r
    }

    /// Moves the handle's position; returns the new one. Past the end is
    /// allowed (a later write fills the hole with zeros). On a directory
    /// handle only `Start(0)` (rewind) is meaningful.
    pub fn seek(&self, h: Handle, from: SeekFrom) -> Result<u64> {
        let mut t = self.table.borrow_mut();
        let (open, node) = t.get(h)?;
        let base = match from {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => u64::from(node.file.size).checked_add_signed(d),
            SeekFrom::Current(d) => open.pos.checked_add_signed(d),
        };
        let pos = base.ok_or(Error::InvalidArgument)?;
        t.get_mut(h)?.pos = pos;
        Ok(pos)
    }

    /// Sets the file's length (growing fills with zeros).
    pub async fn truncate(&self, h: Handle, len: u64) -> Result<()> {
        let _g = self.lock.write().await;
        let (open, node) = self.file_of(h)?;
        if !open.write {
            return Err(Error::PermissionDenied);
        }
        let len = u32::try_from(len).map_err(|_| Error::FileTooLarge)?;
        let loc = node.loc.ok_or(Error::IsADirectory)?;
        let mut f = node.file;
        let r = self.vol.resize(&mut f, len).await;
        self.commit(loc, &f, true).await?;
        r
    }

    /// Metadata of an open file or directory.
    pub async fn fstat(&self, h: Handle) -> Result<Metadata> {
        let _g = self.lock.read().await;
        let node = self.table.borrow().get(h)?.1.clone();
        let Some(loc) = node.loc else { return Ok(Metadata::root()) };
        let e = self.vol.read_raw(loc).await?;
        let mut m = Metadata::from_raw(&e);
        if !m.is_dir {
            m.size = u64::from(node.file.size);
        }
        Ok(m)
    }

    /// The next entry of an open directory (`.` and `..` are skipped), or
    /// `None` at the end.
    pub async fn readdir(&self, h: Handle) -> Result<Option<DirEntry>> {
        let _g = self.lock.read().await;
        let (pos, dir) = {
            let t = self.table.borrow();
            let (open, node) = t.get(h)?;
            (open.pos, node.dir.ok_or(Error::NotADirectory)?)
        };
        let Ok(index) = u32::try_from(pos) else { return Ok(None) };
        let Some((found, next)) = self.vol.entry_from(dir, index).await? else { return Ok(None) };
        if let Ok(o) = self.table.borrow_mut().get_mut(h) {
            o.pos = u64::from(next);
        }
        Ok(Some(DirEntry::from_found(&found)))
    }
}
