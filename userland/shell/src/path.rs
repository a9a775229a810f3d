//! Paths as the shell shows and resolves them.
//!
//! The fs server takes absolute paths; the shell keeps a current directory
//! (`cd`, `pwd`) and turns what the user typed into a normalised absolute
//! path: `.` and empty components vanish, `..` goes up (never above `/`).
//! Pure logic, tested on the host.

use alloc::string::String;
use alloc::vec::Vec;

/// `path` resolved against the absolute directory `cwd`, normalised.
pub fn resolve(cwd: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let start = if path.starts_with('/') { "" } else { cwd };
    for part in start.split('/').chain(path.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut out = String::new();
    for p in &parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The last component of a normalised path (`""` for `/`).
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_and_relative() {
        assert_eq!(resolve("/", "/t.txt"), "/t.txt");
        assert_eq!(resolve("/d", "t.txt"), "/d/t.txt");
        assert_eq!(resolve("/d/e", "../f"), "/d/f");
        assert_eq!(resolve("/", ""), "/");
        assert_eq!(resolve("/d", "."), "/d");
    }

    #[test]
    fn normalisation() {
        assert_eq!(resolve("/", "//a///b/./c/"), "/a/b/c");
        assert_eq!(resolve("/", "/../../x"), "/x");
        assert_eq!(resolve("/a", ".."), "/");
        assert_eq!(resolve("/a/b", "/"), "/");
    }

    #[test]
    fn names() {
        assert_eq!(file_name("/a/b.txt"), "b.txt");
        assert_eq!(file_name("/"), "");
    }
}
