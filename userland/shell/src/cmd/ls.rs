//! `ls [path]`: a directory's entries (directories marked with `/`, files
//! with their size), or one line for a file.

use alloc::format;
use alloc::string::String;
use alloc::vec;

use libipc::println;
use shell::table::{Align, Table};

use super::{fail_at, Failure, Outcome};
use crate::state::Shell;

pub fn run(sh: &mut Shell, args: &[String]) -> Outcome {
    if args.len() > 1 {
        return Err(Failure::Usage);
    }
    let path = sh.path(args.first().map_or(".", String::as_str));
    let info = sh.fs.stat(&path).map_err(|e| fail_at(&path, e))?;
    if !info.is_dir {
        println!("{}  {}", info.size, path);
        return Ok(());
    }
    let mut entries = sh.fs.list(&path).map_err(|e| fail_at(&path, e))?;
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let mut table = Table::new(&[("SIZE", Align::Right), ("NAME", Align::Left)]);
    for e in &entries {
        let (size, name) = if e.is_dir {
            (String::from("-"), format!("{}/", e.name))
        } else {
            (format!("{}", e.size), e.name.clone())
        };
        table.row(vec![size, name]);
    }
    // The heading only helps when there is something under it.
    for line in table.lines().iter().skip(usize::from(entries.is_empty())) {
        println!("{line}");
    }
    if entries.is_empty() {
        println!("(empty)");
    }
    Ok(())
}
