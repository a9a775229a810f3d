//! ACPI table discovery: from the RSDP to the MADT (and the HPET's address),
//! reduced to a plain `PlatformInfo` that the interrupt-controller code reads.
//!
//! Hand-written rather than the `acpi` crate: the kernel needs one table (the
//! MADT, plus the HPET's base address), reads it once at boot, and wants no
//! allocator, no `AcpiHandler` mapping trait and no AML. What remains is a
//! few hundred lines of bounds-checked byte parsing that is easier to audit
//! than a general-purpose dependency.
//!
//! Everything the firmware hands us is untrusted: every table's length is
//! bounded and its checksum verified before any field is read, every field is
//! read through bounds-checked helpers, and a malformed table is an error
//! (or, for optional data, a logged warning), never a panic.

use core::fmt;

/// Most CPUs (local APIC entries) recorded; more are counted but not kept.
pub const MAX_CPUS: usize = 64;
/// Most I/O APICs recorded.
pub const MAX_IOAPICS: usize = 8;
/// Most interrupt source overrides recorded (there are only 16 ISA IRQs).
pub const MAX_OVERRIDES: usize = 16;
/// Most local-APIC NMI entries recorded.
pub const MAX_LAPIC_NMIS: usize = 8;

/// Largest SDT we are willing to map: far beyond any real MADT/XSDT, small
/// enough that a garbage length cannot make us map gigabytes.
const MAX_TABLE_LEN: u32 = 1 << 20;
/// Size of the common SDT header.
const SDT_HEADER_LEN: usize = 36;
/// ACPI processor UID meaning "all processors" in a local-APIC NMI entry.
pub const ALL_PROCESSORS: u32 = u32::MAX;

/// Input polarity of an interrupt line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polarity {
    ActiveHigh,
    ActiveLow,
}

/// Trigger mode of an interrupt line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Edge,
    Level,
}

/// One processor's local APIC, from a MADT type 0 (or type 9, x2APIC) entry.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    pub apic_id: u32,
    pub acpi_uid: u32,
    /// Enabled now (flag bit 0); otherwise the entry is only online-capable.
    pub enabled: bool,
}

/// One I/O APIC, from a MADT type 1 entry.
#[derive(Clone, Copy, Debug, Default)]
pub struct IoApicInfo {
    pub id: u8,
    pub phys: u64,
    pub gsi_base: u32,
}

/// An ISA IRQ that is not identity-mapped to a GSI, or not active-high
/// edge-triggered (MADT type 2). "Conforms to the bus" is resolved to the ISA
/// defaults (active high, edge) at parse time.
#[derive(Clone, Copy, Debug)]
pub struct SourceOverride {
    pub isa_irq: u8,
    pub gsi: u32,
    pub polarity: Polarity,
    pub trigger: Trigger,
}

/// A local APIC LINT pin wired to NMI (MADT type 4).
#[derive(Clone, Copy, Debug)]
pub struct LapicNmi {
    /// ACPI processor UID, or `ALL_PROCESSORS`.
    pub acpi_uid: u32,
    /// 0 for LINT0, 1 for LINT1.
    pub lint: u8,
    pub polarity: Polarity,
    pub trigger: Trigger,
}

const NO_OVERRIDE: SourceOverride =
    SourceOverride { isa_irq: 0, gsi: 0, polarity: Polarity::ActiveHigh, trigger: Trigger::Edge };
const NO_NMI: LapicNmi = LapicNmi { acpi_uid: 0, lint: 0, polarity: Polarity::ActiveHigh, trigger: Trigger::Edge };

/// What the kernel learned from ACPI. Fixed-size, no heap: it is built before
/// anything that could allocate needs it.
#[derive(Clone)]
pub struct PlatformInfo {
    /// RSDP revision (0 = ACPI 1.0 with RSDT only, 2 = ACPI 2.0+ with XSDT).
    pub acpi_revision: u8,
    pub oem_id: [u8; 6],
    /// Physical address of the local APIC registers (after any type 5 override).
    pub lapic_phys: u64,
    /// MADT flag PCAT_COMPAT: legacy 8259 PICs are present and must be masked.
    pub pcat_compat: bool,
    /// Physical address of the HPET registers, if the HPET table exists.
    pub hpet_phys: Option<u64>,
    cpus: [Cpu; MAX_CPUS],
    cpu_count: usize,
    /// CPU entries seen, including those beyond `MAX_CPUS`.
    pub cpus_seen: usize,
    ioapics: [IoApicInfo; MAX_IOAPICS],
    ioapic_count: usize,
    overrides: [SourceOverride; MAX_OVERRIDES],
    override_count: usize,
    nmis: [LapicNmi; MAX_LAPIC_NMIS],
    nmi_count: usize,
    /// MADT entries that did not fit the fixed arrays.
    pub dropped: usize,
}

impl PlatformInfo {
    /// Nothing known yet (what `parse_madt` fills in).
    pub const fn empty() -> Self {
        PlatformInfo {
            acpi_revision: 0,
            oem_id: [0; 6],
            lapic_phys: 0,
            pcat_compat: false,
            hpet_phys: None,
            cpus: [Cpu { apic_id: 0, acpi_uid: 0, enabled: false }; MAX_CPUS],
            cpu_count: 0,
            cpus_seen: 0,
            ioapics: [IoApicInfo { id: 0, phys: 0, gsi_base: 0 }; MAX_IOAPICS],
            ioapic_count: 0,
            overrides: [NO_OVERRIDE; MAX_OVERRIDES],
            override_count: 0,
            nmis: [NO_NMI; MAX_LAPIC_NMIS],
            nmi_count: 0,
            dropped: 0,
        }
    }

    /// Processors (enabled or online-capable), at most `MAX_CPUS`.
    pub fn cpus(&self) -> &[Cpu] {
        &self.cpus[..self.cpu_count]
    }

    /// Processors that are enabled now.
    pub fn enabled_cpus(&self) -> usize {
        self.cpus().iter().filter(|c| c.enabled).count()
    }

    pub fn ioapics(&self) -> &[IoApicInfo] {
        &self.ioapics[..self.ioapic_count]
    }

    pub fn overrides(&self) -> &[SourceOverride] {
        &self.overrides[..self.override_count]
    }

    pub fn lapic_nmis(&self) -> &[LapicNmi] {
        &self.nmis[..self.nmi_count]
    }

    /// The override for ISA `irq`, if the firmware declared one.
    pub fn isa_override(&self, irq: u8) -> Option<&SourceOverride> {
        self.overrides().iter().find(|o| o.isa_irq == irq)
    }
}

/// Appends to a fixed array; once it is full, counts the entry in `dropped`
/// (reported once, at the end of the MADT) instead.
fn push<T>(array: &mut [T], count: &mut usize, dropped: &mut usize, value: T) {
    match array.get_mut(*count) {
        Some(slot) => {
            *slot = value;
            *count += 1;
        }
        None => *dropped += 1,
    }
}

/// A firmware signature for printing (non-ASCII bytes become '?').
struct Sig<'a>(&'a [u8]);

impl fmt::Display for Sig<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.0 {
            let c = if b.is_ascii_graphic() || b == b' ' { b as char } else { '?' };
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

// ---- Bounds-checked little-endian readers over firmware bytes. ----

fn le_u8(b: &[u8], off: usize) -> Option<u8> {
    b.get(off).copied()
}

fn le_u16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(off..off.checked_add(2)?)?.try_into().ok()?))
}

fn le_u32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off.checked_add(4)?)?.try_into().ok()?))
}

fn le_u64(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(off..off.checked_add(8)?)?.try_into().ok()?))
}

fn checksum_ok(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |sum, &b| sum.wrapping_add(b)) == 0
}

/// Makes `len` bytes of firmware memory at `phys` readable and returns them.
///
/// ACPI tables live in firmware-reserved or ACPI memory, which the kernel's
/// HHDM (RAM only) may not cover, so they are mapped like device memory. They
/// are read a handful of times at boot; uncached reads cost nothing that
/// matters.
fn map_bytes(phys: u64, len: usize) -> Result<&'static [u8], &'static str> {
    if phys == 0 || len == 0 {
        return Err("acpi: null table address");
    }
    // Physical addresses on x86_64 have at most 52 bits.
    match phys.checked_add(len as u64) {
        Some(end) if end <= 1 << 52 => {}
        _ => return Err("acpi: table address out of range"),
    }
    let virt = crate::mm::map_mmio(phys, len as u64);
    // SAFETY: `map_mmio` mapped `len` bytes at `virt`, readable, for the rest
    // of the kernel's life. The memory is firmware-owned ACPI data that
    // nothing writes while the kernel runs, so a shared `'static` slice over
    // it does not alias any mutable reference.
    Ok(unsafe { core::slice::from_raw_parts(virt as *const u8, len) })
}

/// Maps a whole SDT at `phys` after checking its header: the length must be
/// plausible and the checksum must hold. `signature` is checked if given.
fn map_sdt(phys: u64, signature: Option<&[u8; 4]>) -> Result<&'static [u8], &'static str> {
    let header = map_bytes(phys, SDT_HEADER_LEN)?;
    if let Some(sig) = signature {
        if header.get(0..4) != Some(&sig[..]) {
            return Err("acpi: table signature mismatch");
        }
    }
    let len = le_u32(header, 4).ok_or("acpi: short table header")?;
    if (len as usize) < SDT_HEADER_LEN || len > MAX_TABLE_LEN {
        return Err("acpi: implausible table length");
    }
    let table = map_bytes(phys, len as usize)?;
    if !checksum_ok(table) {
        return Err("acpi: table checksum mismatch");
    }
    Ok(table)
}

/// The parts of the RSDP we use.
struct Rsdp {
    revision: u8,
    oem_id: [u8; 6],
    rsdt: u32,
    xsdt: u64,
}

/// Validates the RSDP at `phys`: signature and v1 checksum over 20 bytes;
/// for revision >= 2 also the length and the extended checksum.
fn read_rsdp(phys: u64) -> Result<Rsdp, &'static str> {
    let v1 = map_bytes(phys, 20)?;
    if v1.get(0..8) != Some(&b"RSD PTR "[..]) {
        return Err("acpi: bad RSDP signature");
    }
    if !checksum_ok(v1) {
        return Err("acpi: bad RSDP checksum");
    }
    let revision = le_u8(v1, 15).ok_or("acpi: short RSDP")?;
    let mut oem_id = [0u8; 6];
    oem_id.copy_from_slice(v1.get(9..15).ok_or("acpi: short RSDP")?);
    let rsdt = le_u32(v1, 16).ok_or("acpi: short RSDP")?;
    let mut xsdt = 0;
    if revision >= 2 {
        let head = map_bytes(phys, 36)?;
        let len = le_u32(head, 20).ok_or("acpi: short RSDP")?;
        if !(36..=4096).contains(&len) {
            return Err("acpi: implausible RSDP length");
        }
        let full = map_bytes(phys, len as usize)?;
        if !checksum_ok(full) {
            return Err("acpi: bad RSDP extended checksum");
        }
        xsdt = le_u64(full, 24).ok_or("acpi: short RSDP")?;
    }
    Ok(Rsdp { revision, oem_id, rsdt, xsdt })
}

/// Looks for the RSDP where BIOS machines keep it: the first KiB of the
/// EBDA, then 0xe0000..0x100000, on 16-byte boundaries. Used only when the
/// boot loader gave no address.
fn scan_for_rsdp() -> Option<u64> {
    let ebda = map_bytes(0x40e, 2).ok().and_then(|b| le_u16(b, 0)).map(|seg| u64::from(seg) << 4);
    let areas = [(ebda.unwrap_or(0), 1024usize), (0xe0000, 0x20000)];
    for (base, len) in areas {
        if base < 0x1000 {
            continue;
        }
        let Ok(bytes) = map_bytes(base, len) else { continue };
        for off in (0..len.saturating_sub(20)).step_by(16) {
            if bytes.get(off..off + 8) == Some(&b"RSD PTR "[..]) && bytes.get(off..off + 20).is_some_and(checksum_ok) {
                return Some(base + off as u64);
            }
        }
    }
    None
}

/// Reads the ACPI tables starting from the RSDP at physical address
/// `rsdp_phys` (Limine base revision 3 reports it physical; 0 means "not
/// given", and the BIOS areas are searched). Fails if the RSDP, the root
/// table or the MADT is missing or malformed.
pub fn parse(rsdp_phys: u64) -> Result<PlatformInfo, &'static str> {
    let rsdp_phys = if rsdp_phys == 0 {
        crate::kwarn!("acpi: boot loader gave no RSDP; searching the BIOS areas");
        scan_for_rsdp().ok_or("acpi: no RSDP found")?
    } else {
        rsdp_phys
    };
    let rsdp = read_rsdp(rsdp_phys)?;
    let mut info = PlatformInfo::empty();
    info.acpi_revision = rsdp.revision;
    info.oem_id = rsdp.oem_id;

    // Prefer the XSDT (64-bit entries); fall back to the RSDT.
    let root = if rsdp.xsdt != 0 {
        match map_sdt(rsdp.xsdt, Some(b"XSDT")) {
            Ok(t) => Some((t, 8usize)),
            Err(e) => {
                crate::kwarn!("acpi: XSDT at {:#x} unusable ({e}); trying the RSDT", rsdp.xsdt);
                None
            }
        }
    } else {
        None
    };
    let (root, entry_size) = match root {
        Some(r) => r,
        None => (map_sdt(u64::from(rsdp.rsdt), Some(b"RSDT"))?, 4),
    };

    let mut madt = None;
    let entries = root.get(SDT_HEADER_LEN..).unwrap_or(&[]);
    for entry in entries.chunks_exact(entry_size) {
        let phys = if entry_size == 8 { le_u64(entry, 0) } else { le_u32(entry, 0).map(u64::from) };
        let Some(phys) = phys.filter(|&p| p != 0) else { continue };
        let Ok(header) = map_bytes(phys, SDT_HEADER_LEN) else { continue };
        let signature = header.get(0..4).unwrap_or(&[]);
        match signature {
            b"APIC" if madt.is_none() => match map_sdt(phys, None) {
                Ok(t) => madt = Some(t),
                Err(e) => crate::kerror!("acpi: MADT at {phys:#x}: {e}"),
            },
            b"HPET" if info.hpet_phys.is_none() => match map_sdt(phys, None).and_then(parse_hpet) {
                Ok(addr) => info.hpet_phys = Some(addr),
                Err(e) => crate::kwarn!("acpi: HPET table at {phys:#x} ignored: {e}"),
            },
            _ => {}
        }
    }
    parse_madt(madt.ok_or("acpi: no valid MADT")?, &mut info)?;
    Ok(info)
}

/// The HPET's register base from its table (a Generic Address Structure at
/// offset 40, which must be in system memory).
fn parse_hpet(table: &[u8]) -> Result<u64, &'static str> {
    let space = le_u8(table, 40).ok_or("short table")?;
    let addr = le_u64(table, 44).ok_or("short table")?;
    if space != 0 {
        return Err("registers not in system memory");
    }
    if addr == 0 {
        return Err("null address");
    }
    Ok(addr)
}

/// Decodes the MPS INTI flags of an override or NMI entry; "conforms to the
/// bus" means the ISA defaults, active high and edge-triggered.
fn inti_flags(flags: u16) -> (Polarity, Trigger) {
    let polarity = match flags & 0b11 {
        0b11 => Polarity::ActiveLow,
        _ => Polarity::ActiveHigh,
    };
    let trigger = match (flags >> 2) & 0b11 {
        0b11 => Trigger::Level,
        _ => Trigger::Edge,
    };
    (polarity, trigger)
}

/// Parses a MADT's body (`madt` is the whole table; its checksum is the
/// caller's business) into `info`. Pure over bytes, so tests can feed it
/// malformed tables.
pub fn parse_madt(madt: &[u8], info: &mut PlatformInfo) -> Result<(), &'static str> {
    let lapic32 = le_u32(madt, 36).ok_or("acpi: short MADT")?;
    let flags = le_u32(madt, 40).ok_or("acpi: short MADT")?;
    info.lapic_phys = u64::from(lapic32);
    info.pcat_compat = flags & 1 != 0;

    let mut off = 44;
    while off < madt.len() {
        let (Some(kind), Some(len)) = (le_u8(madt, off), le_u8(madt, off + 1)) else {
            return Err("acpi: truncated MADT entry");
        };
        let len = usize::from(len);
        let Some(e) = madt.get(off..off + len).filter(|_| len >= 2) else {
            return Err("acpi: MADT entry overruns the table");
        };
        // A short entry of a known kind is skipped with a warning: each field
        // read below is bounds-checked against the entry itself.
        let parsed = match kind {
            0 => (|| {
                let uid = le_u8(e, 2)?;
                let apic_id = le_u8(e, 3)?;
                let flags = le_u32(e, 4)?;
                add_cpu(info, u32::from(apic_id), u32::from(uid), flags);
                Some(())
            })(),
            1 => (|| {
                let io = IoApicInfo { id: le_u8(e, 2)?, phys: u64::from(le_u32(e, 4)?), gsi_base: le_u32(e, 8)? };
                push(&mut info.ioapics, &mut info.ioapic_count, &mut info.dropped, io);
                Some(())
            })(),
            2 => (|| {
                let bus = le_u8(e, 2)?;
                let source = le_u8(e, 3)?;
                let gsi = le_u32(e, 4)?;
                let (polarity, trigger) = inti_flags(le_u16(e, 8)?);
                if bus != 0 || source >= 16 {
                    crate::kwarn!("acpi: ignoring override for bus {bus} irq {source}");
                } else if info.isa_override(source).is_some() {
                    crate::kwarn!("acpi: duplicate override for ISA irq {source} ignored");
                } else {
                    let o = SourceOverride { isa_irq: source, gsi, polarity, trigger };
                    push(&mut info.overrides, &mut info.override_count, &mut info.dropped, o);
                }
                Some(())
            })(),
            4 => (|| {
                let uid = le_u8(e, 2)?;
                let (polarity, trigger) = inti_flags(le_u16(e, 3)?);
                let lint = le_u8(e, 5)?;
                let acpi_uid = if uid == 0xff { ALL_PROCESSORS } else { u32::from(uid) };
                let nmi = LapicNmi { acpi_uid, lint, polarity, trigger };
                push(&mut info.nmis, &mut info.nmi_count, &mut info.dropped, nmi);
                Some(())
            })(),
            5 => (|| {
                info.lapic_phys = le_u64(e, 4)?;
                Some(())
            })(),
            9 => (|| {
                let apic_id = le_u32(e, 4)?;
                let flags = le_u32(e, 8)?;
                let uid = le_u32(e, 12)?;
                add_cpu(info, apic_id, uid, flags);
                Some(())
            })(),
            0xa => (|| {
                let uid = le_u32(e, 4)?;
                let lint = le_u8(e, 8)?;
                let (polarity, trigger) = inti_flags(le_u16(e, 2)?);
                let nmi = LapicNmi { acpi_uid: uid, lint, polarity, trigger };
                push(&mut info.nmis, &mut info.nmi_count, &mut info.dropped, nmi);
                Some(())
            })(),
            _ => Some(()),
        };
        if parsed.is_none() {
            crate::kwarn!("acpi: MADT entry type {kind} too short ({len} bytes); skipped");
        }
        off += len;
    }

    if info.dropped > 0 {
        crate::kwarn!(
            "acpi: {} MADT entries beyond the kernel's limits ignored ({MAX_CPUS} CPUs, \
             {MAX_IOAPICS} I/O APICs, {MAX_OVERRIDES} overrides, {MAX_LAPIC_NMIS} NMI entries)",
            info.dropped
        );
    }
    if info.lapic_phys == 0 || info.lapic_phys & 0xfff != 0 {
        return Err("acpi: MADT gives no usable local APIC address");
    }
    if info.cpu_count == 0 {
        return Err("acpi: MADT lists no usable processor");
    }
    for io in info.ioapics() {
        if io.phys == 0 || io.phys & 0x3 != 0 {
            return Err("acpi: MADT gives a bad I/O APIC address");
        }
    }
    Ok(())
}

/// Records a processor unless it is neither enabled nor online-capable.
fn add_cpu(info: &mut PlatformInfo, apic_id: u32, acpi_uid: u32, flags: u32) {
    let enabled = flags & 1 != 0;
    let online_capable = flags & 2 != 0;
    if !enabled && !online_capable {
        return;
    }
    info.cpus_seen += 1;
    push(&mut info.cpus, &mut info.cpu_count, &mut info.dropped, Cpu { apic_id, acpi_uid, enabled });
}

/// Logs what ACPI told us.
pub fn report(info: &PlatformInfo) {
    crate::kinfo!(
        "acpi: revision {}, OEM '{}', local APIC at {:#x}, {} CPU(s) ({} enabled){}",
        info.acpi_revision,
        Sig(&info.oem_id),
        info.lapic_phys,
        info.cpus_seen,
        info.enabled_cpus(),
        if info.pcat_compat { ", legacy PICs present" } else { "" },
    );
    for io in info.ioapics() {
        crate::kinfo!("acpi: I/O APIC id {} at {:#x}, GSI base {}", io.id, io.phys, io.gsi_base);
    }
    for o in info.overrides() {
        crate::kinfo!("acpi: ISA irq {} -> GSI {} ({:?}, {:?})", o.isa_irq, o.gsi, o.polarity, o.trigger);
    }
    crate::kinfo!(
        "acpi: {} interrupt source override(s), {} local APIC NMI entr{}, HPET {}",
        info.override_count,
        info.nmi_count,
        if info.nmi_count == 1 { "y" } else { "ies" },
        HpetAddr(info.hpet_phys),
    );
}

struct HpetAddr(Option<u64>);

impl fmt::Display for HpetAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(a) => write!(f, "at {a:#x}"),
            None => write!(f, "absent"),
        }
    }
}
