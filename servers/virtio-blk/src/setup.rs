//! Bringing the device up: find it on the PCI bus, enable it, negotiate
//! features, give it its queue, and build the [`Engine`] over freshly
//! allocated DMA memory.

use alloc::format;
use alloc::string::String;

use libipc::ipc::Handle;
use vblk::blk::{feature, BlkQueue, META_STRIDE};
use vblk::engine::{Device, Engine};
use vblk::pci::{command, interrupt_line, reg, Bar, Location};
use vblk::virtqueue::{Layout, SplitQueue};

use crate::hw::{DmaMem, Ports};
use crate::legacy::{status, Legacy};
use crate::pcicfg::Config;

const VENDOR_VIRTIO: u16 = 0x1af4;
/// Transitional virtio-blk: legacy I/O BAR plus the modern interface.
const DEVICE_BLK_TRANSITIONAL: u16 = 0x1001;
/// Modern-only virtio-blk (no I/O BAR).
const DEVICE_BLK_MODERN: u16 = 0x1042;

/// Request slots (device requests in flight at once), at most.
const MAX_SLOTS: usize = 16;
/// Data bytes per slot: the largest single device request.
const SLOT_BYTES: usize = 64 * 1024;

/// Offsets in virtio-blk's configuration (§5.2.4).
const CFG_CAPACITY: u16 = 0;
const CFG_SIZE_MAX: u16 = 8;
const CFG_BLK_SIZE: u16 = 20;

/// The engine over DMA memory, as the driver runs it.
pub type DmaEngine = Engine<DmaMem, DmaMem, DmaMem>;

/// The device as found on the bus.
pub struct Found {
    pub at: Location,
    pub io_base: u16,
    /// The interrupt line its INTx pin raises, if the routing is known.
    pub line: Option<u8>,
}

/// Finds the first transitional virtio-blk device and enables its I/O
/// space and bus mastering.
pub fn find(ports: &Ports) -> Result<Found, String> {
    let cfg = Config::new(ports);
    let functions = cfg.scan();
    let host_bridge = Location { bus: 0, slot: 0, func: 0 };
    let host = functions.iter().find(|f| f.at == host_bridge).map_or((0, 0), |f| (f.vendor, f.device));
    let Some(dev) = functions.iter().find(|f| f.vendor == VENDOR_VIRTIO && f.device == DEVICE_BLK_TRANSITIONAL) else {
        if functions.iter().any(|f| f.vendor == VENDOR_VIRTIO && f.device == DEVICE_BLK_MODERN) {
            return Err("only a modern-only virtio-blk (1af4:1042) is present; its registers are in memory BARs, \
                        which the kernel cannot map for a process: give QEMU `disable-legacy=off`"
                .into());
        }
        return Err("no virtio-blk device (1af4:1001) on the PCI bus".into());
    };
    let at = dev.at;
    let io_base = match Bar::decode(cfg.read32(at, reg::BAR0)) {
        Bar::Io(base) if base != 0 => base,
        other => return Err(format!("BAR0 is not an assigned I/O BAR: {other:?}")),
    };
    let cmd = cfg.read16(at, reg::COMMAND);
    cfg.write16(at, reg::COMMAND, (cmd | command::IO_SPACE | command::BUS_MASTER) & !command::INTX_DISABLE);
    let pin = cfg.read8(at, reg::INTERRUPT_PIN);
    let line = interrupt_line(host, at, pin, cfg.read8(at, reg::INTERRUPT_LINE));
    Ok(Found { at, io_base, line })
}

/// Initialises the device (virtio 1.1 §3.1.2, legacy variant) and builds
/// the engine; on failure the device is left in the FAILED state.
pub fn start(dev: &Legacy<'_>, dma: &Handle) -> Result<(DmaEngine, u32), String> {
    dev.reset();
    dev.add_status(status::ACKNOWLEDGE);
    dev.add_status(status::DRIVER);
    let result = configure(dev, dma);
    match &result {
        Ok(_) => dev.add_status(status::DRIVER_OK),
        Err(_) => dev.add_status(status::FAILED),
    }
    result
}

fn configure(dev: &Legacy<'_>, dma: &Handle) -> Result<(DmaEngine, u32), String> {
    let features = dev.device_features() & feature::WANTED;
    dev.set_driver_features(features);

    let size = dev.queue_size(0);
    let layout = Layout::legacy(size).ok_or_else(|| format!("request queue size {size} is not usable"))?;
    let alloc = |len: usize, what: &str| DmaMem::alloc(dma, len).map_err(|e| format!("dma_alloc for {what}: {e}"));
    let queue = SplitQueue::new(alloc(layout.total, "the queue")?, size).map_err(|e| format!("queue memory: {e:?}"))?;
    if !dev.set_queue(0, queue.phys()) {
        return Err(format!("queue at {:#x} is out of the device's reach", queue.phys()));
    }

    let slots = MAX_SLOTS.min(usize::from(size) / 3);
    let mut slot_bytes = SLOT_BYTES;
    if features & feature::SIZE_MAX != 0 {
        let size_max = dev.config32(CFG_SIZE_MAX) as usize;
        slot_bytes = slot_bytes.min(size_max - size_max % 512);
        if slot_bytes == 0 {
            return Err(format!("size_max {size_max} is below one sector"));
        }
    }
    let meta = alloc(slots * META_STRIDE, "request headers")?;
    let data = alloc(slots * slot_bytes, "data buffers")?;
    let blk = BlkQueue::new(queue, meta, slots).map_err(|e| format!("request slots: {e:?}"))?;

    let block_size = if features & feature::BLK_SIZE != 0 { dev.config32(CFG_BLK_SIZE) } else { 512 };
    let device = Device {
        capacity: dev.config64(CFG_CAPACITY),
        block_size: if block_size >= 512 && block_size.is_power_of_two() { block_size } else { 512 },
        read_only: features & feature::RO != 0,
        flush: features & feature::FLUSH != 0,
    };
    let engine = Engine::new(blk, data, slot_bytes, device).map_err(|e| format!("engine: {e:?}"))?;
    Ok((engine, features))
}
