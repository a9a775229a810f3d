//! From fatcore's types to the protocol's: errors, metadata, open flags,
//! and directory listings cut into pages that fit one reply.

use alloc::vec::Vec;

use abi::ipc::MAX_MESSAGE;
use fatcore::{OpenOptions, Timestamp};
use fs_proto::{DateTime, DirEntry, DirPage, FsError, Metadata, OpenFlags};
use libipc::wire::Wire;

/// fatcore's error as the client sees it.
pub fn error(e: fatcore::Error) -> FsError {
    use fatcore::Error as E;
    match e {
        E::NotFound => FsError::NotFound,
        E::Exists => FsError::Exists,
        E::NotEmpty => FsError::NotEmpty,
        E::NotADirectory => FsError::NotADirectory,
        E::IsADirectory => FsError::IsADirectory,
        E::NoSpace => FsError::NoSpace,
        E::InvalidName => FsError::InvalidName,
        E::InvalidArgument => FsError::InvalidArgument,
        E::Busy => FsError::Busy,
        E::BadHandle => FsError::BadHandle,
        E::TooManyOpen => FsError::TooManyOpen,
        E::PermissionDenied => FsError::PermissionDenied,
        E::FileTooLarge => FsError::FileTooLarge,
        E::Unsupported => FsError::Unsupported,
        E::Io => FsError::Io,
        E::Corrupt => FsError::Corrupt,
    }
}

/// A FAT timestamp on the wire.
pub fn date_time(t: Timestamp) -> DateTime {
    DateTime { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second }
}

/// fatcore's metadata on the wire.
pub fn metadata(m: &fatcore::Metadata) -> Metadata {
    Metadata { is_dir: m.is_dir, size: m.size, attributes: m.attributes, modified: m.modified.map(date_time) }
}

/// A listing entry on the wire.
pub fn dir_entry(e: fatcore::DirEntry) -> DirEntry {
    let m = metadata(&e.meta);
    DirEntry { name: e.name, is_dir: m.is_dir, size: m.size, attributes: m.attributes, modified: m.modified }
}

/// The open flags as fatcore's options. `InvalidArgument` for a
/// combination that makes no sense: neither read nor write; create,
/// truncate or append without write; exclusive without create.
pub fn open_options(flags: OpenFlags) -> Result<OpenOptions, FsError> {
    let has = |f| flags.contains(f);
    let (read, write) = (has(OpenFlags::READ), has(OpenFlags::WRITE));
    let needs_write = has(OpenFlags::CREATE) || has(OpenFlags::TRUNCATE) || has(OpenFlags::APPEND);
    let nothing = !read && !write;
    if nothing || (needs_write && !write) || (has(OpenFlags::EXCLUSIVE) && !has(OpenFlags::CREATE)) {
        return Err(FsError::InvalidArgument);
    }
    let exclusive = has(OpenFlags::EXCLUSIVE);
    Ok(OpenOptions {
        read,
        write,
        append: has(OpenFlags::APPEND),
        create: has(OpenFlags::CREATE) && !exclusive,
        create_new: exclusive,
        truncate: has(OpenFlags::TRUNCATE),
    })
}

/// Bytes a [`DirPage`] may take: a reply less its opcode and status.
const PAGE_BUDGET: usize = MAX_MESSAGE - 2 - 4;
/// A page's own bytes: the entry count and the next cursor.
const PAGE_OVERHEAD: usize = 4 + 8;

/// The page of `entries` starting at index `cursor`: as many entries as
/// fit in one reply (at least one, so a listing always moves on), and the
/// cursor of the next page (0 after the last).
pub fn page(entries: Vec<DirEntry>, cursor: u64) -> DirPage {
    let start = usize::try_from(cursor).unwrap_or(usize::MAX);
    let total = entries.len();
    let mut used = PAGE_OVERHEAD;
    let mut page = Vec::new();
    for e in entries.into_iter().skip(start) {
        let size = e.wire_size();
        if !page.is_empty() && used + size > PAGE_BUDGET {
            break;
        }
        used += size;
        page.push(e);
    }
    let end = start.saturating_add(page.len());
    let next = if end < total { end as u64 } else { 0 };
    DirPage { entries: page, next }
}

/// Whether a page is small enough for a reply (for tests and asserts).
pub fn fits(page: &DirPage) -> bool {
    let mut w = libipc::wire::Writer::new();
    page.encode(&mut w);
    w.as_slice().len() <= PAGE_BUDGET
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;

    fn entry(name: String) -> DirEntry {
        DirEntry { name, is_dir: false, size: 1, attributes: 0x20, modified: None }
    }

    #[test]
    fn pages_fit_and_cover_everything_once() {
        for (count, name_len) in [(0, 1), (1, 1), (150, 40), (40, 255), (10, 765)] {
            let all: Vec<DirEntry> = (0..count).map(|i| entry(format!("{i:05}{}", "x".repeat(name_len)))).collect();
            let mut seen = Vec::new();
            let mut cursor = 0;
            loop {
                let p = page(all.clone(), cursor);
                assert!(fits(&p), "{count} entries of {name_len}");
                seen.extend(p.entries.iter().cloned());
                if p.next == 0 {
                    break;
                }
                assert!(p.next > cursor);
                cursor = p.next;
            }
            assert_eq!(seen, all);
        }
    }

    #[test]
    fn a_cursor_past_the_end_is_an_empty_last_page() {
        let all = alloc::vec![entry("a".into())];
        assert_eq!(page(all.clone(), 5), DirPage { entries: Vec::new(), next: 0 });
        assert_eq!(page(all, u64::MAX), DirPage { entries: Vec::new(), next: 0 });
    }

    #[test]
    fn open_flags() {
        let f = |flags| open_options(flags);
        assert_eq!(f(OpenFlags::default()), Err(FsError::InvalidArgument));
        assert_eq!(f(OpenFlags::READ | OpenFlags::CREATE), Err(FsError::InvalidArgument));
        assert_eq!(f(OpenFlags::WRITE | OpenFlags::EXCLUSIVE), Err(FsError::InvalidArgument));
        assert_eq!(f(OpenFlags::READ), Ok(OpenOptions::read()));
        assert_eq!(f(OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE), Ok(OpenOptions::create()));
        let excl = f(OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE).unwrap();
        assert!(excl.create_new && !excl.create);
        assert!(f(OpenFlags::WRITE | OpenFlags::APPEND).unwrap().append);
    }

    #[test]
    fn every_fatcore_error_has_its_own_code() {
        use fatcore::Error as E;
        let all = [
            E::NotFound,
            E::Exists,
            E::NotEmpty,
            E::NotADirectory,
            E::IsADirectory,
            E::NoSpace,
            E::InvalidName,
            E::InvalidArgument,
            E::Busy,
            E::BadHandle,
            E::TooManyOpen,
            E::PermissionDenied,
            E::FileTooLarge,
            E::Unsupported,
            E::Io,
            E::Corrupt,
        ];
        let mut codes: Vec<i64> = all.iter().map(|&e| error(e).status().unwrap()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
