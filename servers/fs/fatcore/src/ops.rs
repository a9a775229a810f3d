//! Namespace operations: mkdir, rmdir, unlink, rename, and listing a
//! directory by path; plus whole-file helpers for simple callers (the
//! shell's `cat` and `write`).
//!
//! Ordering for crash safety, as far as FAT allows: a new directory's
//! cluster is initialised before the entry that points to it; an entry is
//! removed before its clusters are freed; a rename writes the new entry
//! before deleting the old. A crash in between leaves lost clusters or a
//! duplicate entry (which `fsck.fat` repairs), never a cluster in use twice.

use alloc::vec::Vec;

use crate::dir::{raw, DirRef, EntryLoc, Found, ATTR_DIRECTORY};
use crate::fs::{DirEntry, FileSystem};
use crate::handle::{Handle, OpenOptions};
use crate::path::Target;
use crate::volume::Volume;
use crate::{name, BlockDevice, Error, Result};

impl<D: BlockDevice> FileSystem<D> {
    /// Lists the directory at `path` (without `.` and `..`).
    pub async fn list(&self, path: &str) -> Result<Vec<DirEntry>> {
        let _g = self.lock.read().await;
        let dir = match self.vol.resolve(path).await? {
            Target::Root => DirRef::Root,
            Target::Entry { found, .. } => self.vol.dir_of(&found)?,
        };
        let mut out = Vec::new();
        let mut index = 0;
        while let Some((found, next)) = self.vol.entry_from(dir, index).await? {
            out.push(DirEntry::from_found(&found));
            index = next;
        }
        Ok(out)
    }

    /// Creates a directory.
    pub async fn mkdir(&self, path: &str) -> Result<()> {
        let _g = self.lock.write().await;
        let (parent, leaf) = self.vol.resolve_parent(path).await?;
        if !name::valid_long(leaf) {
            return Err(Error::InvalidName);
        }
        if self.vol.find(parent, leaf).await?.is_some() {
            return Err(Error::Exists);
        }
        let now = self.vol.now();
        let c = self.vol.alloc_chain(1, None).await?;
        let r = async {
            self.vol.init_dir(c, parent, now).await?;
            let e = raw::new(ATTR_DIRECTORY, c, 0, now);
            self.vol.add_entry(parent, leaf, &e, None).await
        }
        .await;
        if let Err(e) = r {
            let _ = self.vol.free_chain(c).await;
            return Err(e);
        }
        Ok(())
    }

    /// The entry `path` names, which must not be the root.
    async fn entry(&self, path: &str) -> Result<Found> {
        match self.vol.resolve(path).await? {
            Target::Root => Err(Error::InvalidArgument),
            Target::Entry { found, .. } => Ok(found),
        }
    }

    /// Removes an empty directory.
    pub async fn rmdir(&self, path: &str) -> Result<()> {
        let _g = self.lock.write().await;
        let found = self.entry(path).await?;
        if !found.is_dir() {
            return Err(Error::NotADirectory);
        }
        self.remove(&found).await
    }

    /// Removes a file.
    pub async fn unlink(&self, path: &str) -> Result<()> {
        let _g = self.lock.write().await;
        let found = self.entry(path).await?;
        if found.is_dir() {
            return Err(Error::IsADirectory);
        }
        self.remove(&found).await
    }

    /// Removes an entry (a directory only if empty) and frees its clusters.
    async fn remove(&self, found: &Found) -> Result<()> {
        if self.table.borrow().is_open(found.loc) {
            return Err(Error::Busy);
        }
        if found.is_dir() && !self.vol.dir_is_empty(self.vol.dir_of(found)?).await? {
            return Err(Error::NotEmpty);
        }
        self.vol.remove_entry(found).await?;
        let c = raw::cluster(&found.raw, self.vol.geo.fat_type);
        if self.vol.geo.is_cluster(c) {
            self.vol.free_chain(c).await?;
        }
        Ok(())
    }

    /// Renames or moves `from` to `to`, within or across directories. An
    /// existing file at `to` is replaced (if it is not open); an existing
    /// directory only if it is empty and `from` is a directory too. A
    /// directory cannot move into itself.
    pub async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let _g = self.lock.write().await;
        let (src_parent, src) = match self.vol.resolve(from).await? {
            Target::Root => return Err(Error::InvalidArgument),
            Target::Entry { parent, found } => (parent, found),
        };
        let (dst_dir, leaf) = self.vol.resolve_parent(to).await?;
        if !name::valid_long(leaf) {
            return Err(Error::InvalidName);
        }
        let src_dir = if src.is_dir() { Some(self.vol.dir_of(&src)?) } else { None };
        if let Some(moving) = src_dir {
            // Walk up from the destination: meeting `moving` means a cycle.
            let mut d = dst_dir;
            for _ in 0..=self.vol.geo.cluster_count {
                if d == moving {
                    return Err(Error::InvalidArgument);
                }
                if d == DirRef::Root {
                    break;
                }
                d = self.vol.parent_of(d).await?;
            }
        }
        let mut ignore = None;
        if let Some(existing) = self.vol.find(dst_dir, leaf).await? {
            if existing.loc == src.loc {
                if existing.name == leaf {
                    return Ok(()); // renamed to itself
                }
                ignore = Some(src.loc); // a change of case
            } else {
                match (src.is_dir(), existing.is_dir()) {
                    (false, true) => return Err(Error::IsADirectory),
                    (true, false) => return Err(Error::NotADirectory),
                    _ => {}
                }
                self.remove(&existing).await?;
            }
        }
        let new_loc = self.vol.add_entry(dst_dir, leaf, &src.raw, ignore).await?;
        self.vol.remove_entry(&src).await?;
        self.table.borrow_mut().relocate(src.loc, new_loc);
        if let (Some(DirRef::Chain(c)), true) = (src_dir, src_parent != dst_dir) {
            // `..` of a moved directory names its new parent.
            let loc = EntryLoc { lba: self.vol.geo.cluster_lba(c)?, offset: 32, index: 1 };
            let parent = Volume::<D>::dotdot_cluster(dst_dir);
            self.vol.update_raw(loc, |e| raw::set_cluster(e, parent)).await?;
        }
        Ok(())
    }

    /// Reads a whole file.
    pub async fn read_file(&self, path: &str) -> Result<Vec<u8>> {
        let h = CloseOnDrop(self, self.open(path, OpenOptions::read()).await?);
        let len = usize::try_from(self.fstat(h.1).await?.size).map_err(|_| Error::FileTooLarge)?;
        let mut buf = alloc::vec![0u8; len];
        let mut done = 0;
        while done < len {
            let n = self.read(h.1, &mut buf[done..]).await?;
            if n == 0 {
                break;
            }
            done += n;
        }
        buf.truncate(done);
        Ok(buf)
    }

    /// Creates or replaces a whole file.
    pub async fn write_file(&self, path: &str, data: &[u8]) -> Result<()> {
        let h = CloseOnDrop(self, self.open(path, OpenOptions::create()).await?);
        self.write(h.1, data).await.map(|_| ())
    }
}

/// Closes a handle however the operation that opened it ends (also when
/// its future is dropped half-way).
struct CloseOnDrop<'a, D: BlockDevice>(&'a FileSystem<D>, Handle);

impl<D: BlockDevice> Drop for CloseOnDrop<'_, D> {
    fn drop(&mut self) {
        let _ = self.0.close(self.1);
    }
}
