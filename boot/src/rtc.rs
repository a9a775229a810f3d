//! Reading the CMOS real-time clock for the date-at-boot response: the
//! time as a UNIX timestamp, assuming the RTC keeps UTC (as QEMU's does).

use crate::cpu::{inb, outb};

const CMOS_INDEX: u16 = 0x70;
const CMOS_DATA: u16 = 0x71;

fn cmos(reg: u8) -> u8 {
    outb(CMOS_INDEX, reg);
    inb(CMOS_DATA)
}

fn update_in_progress() -> bool {
    cmos(0x0a) & 0x80 != 0
}

/// Raw clock registers: seconds, minutes, hours, day, month, year, century.
fn read_raw() -> Option<[u8; 7]> {
    for _ in 0..1_000_000 {
        if !update_in_progress() {
            return Some([cmos(0x00), cmos(0x02), cmos(0x04), cmos(0x07), cmos(0x08), cmos(0x09), cmos(0x32)]);
        }
    }
    None
}

/// Seconds since 1970-01-01 00:00:00 UTC, or `None` if the clock does not
/// answer or reads as nonsense.
pub fn unix_time() -> Option<i64> {
    // Read until two consecutive reads agree, so no field is torn by an update.
    let mut raw = read_raw()?;
    for _ in 0..10 {
        let again = read_raw()?;
        if again == raw {
            break;
        }
        raw = again;
    }
    let status_b = cmos(0x0b);
    let binary = status_b & 0x04 != 0;
    let hour_24 = status_b & 0x02 != 0;
    let decode = |v: u8| -> i64 {
        if binary {
            i64::from(v)
        } else {
            i64::from(v >> 4) * 10 + i64::from(v & 0x0f)
        }
    };
    let [sec, min, hour_raw, day, month, year, century] = raw;
    let pm = !hour_24 && hour_raw & 0x80 != 0;
    let mut hour = decode(hour_raw & 0x7f);
    if !hour_24 {
        hour %= 12;
        if pm {
            hour += 12;
        }
    }
    let century = match decode(century) {
        c @ 19..=30 => c,
        _ => 20,
    };
    let year = century * 100 + decode(year);
    let (sec, min, day, month) = (decode(sec), decode(min), decode(day), decode(month));
    if sec > 60 || min > 59 || hour > 23 || !(1..=31).contains(&day) || !(1..=12).contains(&month) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
