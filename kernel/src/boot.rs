//! What the kernel asks of its boot loader, in the Limine protocol. Both the
//! real Limine and our direct-boot loader (`boot/`) answer these requests;
//! the kernel cannot tell them apart. Everything is read once, in `kmain`,
//! before the loader's memory is reclaimed.

use limine::request::{
    ExecutableAddressRequest, ExecutableCmdlineRequest, HhdmRequest, MemoryMapRequest, ModuleRequest,
    RequestsEndMarker, RequestsStartMarker, RsdpRequest, StackSizeRequest,
};
use limine::BaseRevision;

/// Size of the boot stack the kernel runs on until the scheduler starts.
pub const BOOT_STACK_SIZE: u64 = 256 * 1024;

#[used]
#[link_section = ".requests_start_marker"]
static START_MARKER: RequestsStartMarker = RequestsStartMarker::new();

#[used]
#[link_section = ".requests"]
pub static BASE_REVISION: BaseRevision = BaseRevision::with_revision(3);

#[used]
#[link_section = ".requests"]
pub static HHDM: HhdmRequest = HhdmRequest::new();

#[used]
#[link_section = ".requests"]
pub static MEMORY_MAP: MemoryMapRequest = MemoryMapRequest::new();

#[used]
#[link_section = ".requests"]
pub static MODULES: ModuleRequest = ModuleRequest::new();

#[used]
#[link_section = ".requests"]
pub static RSDP: RsdpRequest = RsdpRequest::new();

#[used]
#[link_section = ".requests"]
pub static EXECUTABLE_ADDRESS: ExecutableAddressRequest = ExecutableAddressRequest::new();

#[used]
#[link_section = ".requests"]
pub static CMDLINE: ExecutableCmdlineRequest = ExecutableCmdlineRequest::new();

#[used]
#[link_section = ".requests"]
pub static STACK_SIZE: StackSizeRequest = StackSizeRequest::new().with_size(BOOT_STACK_SIZE);

#[used]
#[link_section = ".requests_end_marker"]
static END_MARKER: RequestsEndMarker = RequestsEndMarker::new();
