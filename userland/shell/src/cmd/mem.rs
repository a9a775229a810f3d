//! `mem`: physical memory from the kernel's frame allocator
//! (`kernel_info(Memory)`): frames in total, used and free.

use alloc::string::String;

use libipc::println;
use shell::table::{bytes, percent};

use super::{fail, Failure, Outcome};
use crate::state::Shell;

pub fn run(_: &mut Shell, args: &[String]) -> Outcome {
    if !args.is_empty() {
        return Err(Failure::Usage);
    }
    let m = libipc::memory_info().map_err(fail)?;
    let used = m.total_frames.saturating_sub(m.free_frames);
    let size = |frames: u64| bytes(frames.saturating_mul(m.page_size));
    println!("frames: {} total, {} used, {} free ({} each)", m.total_frames, used, m.free_frames, bytes(m.page_size));
    println!(
        "memory: {} total, {} used ({}%), {} free",
        size(m.total_frames),
        size(used),
        percent(used, m.total_frames),
        size(m.free_frames)
    );
    Ok(())
}
