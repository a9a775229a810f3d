//! Paths: `/`-separated, absolute or not (both mean from the root), with
//! `.` and `..` resolved lexically (FAT has no links, so that is exact).
//! Resolution walks one directory per component through [`Volume::find`].

use alloc::vec::Vec;

use crate::dir::{DirRef, Found};
use crate::volume::Volume;
use crate::{BlockDevice, Error, Result};

/// The components of `path` after removing empty parts, `.` and `..`.
pub(crate) fn components(path: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out
}

/// What a path names.
pub(crate) enum Target {
    Root,
    Entry { parent: DirRef, found: Found },
}

impl<D: BlockDevice> Volume<D> {
    /// The directory `parts` names.
    pub async fn walk_dirs(&self, parts: &[&str]) -> Result<DirRef> {
        let mut dir = DirRef::Root;
        for part in parts {
            let f = self.find(dir, part).await?.ok_or(Error::NotFound)?;
            dir = self.dir_of(&f)?;
        }
        Ok(dir)
    }

    /// Resolves a whole path.
    pub async fn resolve(&self, path: &str) -> Result<Target> {
        let parts = components(path);
        let Some((last, dirs)) = parts.split_last() else { return Ok(Target::Root) };
        let parent = self.walk_dirs(dirs).await?;
        let found = self.find(parent, last).await?.ok_or(Error::NotFound)?;
        Ok(Target::Entry { parent, found })
    }

    /// Resolves all but the last component: the directory to create in or
    /// remove from, and the last name. The root itself has no parent.
    pub async fn resolve_parent<'p>(&self, path: &'p str) -> Result<(DirRef, &'p str)> {
        let parts = components(path);
        let Some((last, dirs)) = parts.split_last() else { return Err(Error::InvalidArgument) };
        Ok((self.walk_dirs(dirs).await?, last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical() {
        assert_eq!(components("/a//b/./c/"), ["a", "b", "c"]);
        assert_eq!(components("a/../../b/.."), Vec::<&str>::new());
        assert_eq!(components(""), Vec::<&str>::new());
        assert_eq!(components("x/y/../z"), ["x", "z"]);
    }
}
