//! Timestamps and their DOS encoding. FAT stores local time with a 2-second
//! resolution from 1980 to 2107; the filesystem has no clock of its own, so
//! the server passes one in [`crate::MountOptions`].

/// A calendar date and time, as FAT stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// 1980..=2107.
    pub year: u16,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59 (stored in 2-second steps).
    pub second: u8,
}

impl Timestamp {
    /// 1980-01-01 00:00:00, FAT's epoch and the default clock.
    pub const EPOCH: Timestamp = Timestamp { year: 1980, month: 1, day: 1, hour: 0, minute: 0, second: 0 };

    /// The DOS `(date, time)` pair; out-of-range fields are clamped.
    pub(crate) fn to_dos(self) -> (u16, u16) {
        let year = self.year.clamp(1980, 2107) - 1980;
        let month = u16::from(self.month.clamp(1, 12));
        let day = u16::from(self.day.clamp(1, 31));
        let date = (year << 9) | (month << 5) | day;
        let time = (u16::from(self.hour.min(23)) << 11)
            | (u16::from(self.minute.min(59)) << 5)
            | u16::from(self.second.min(59) / 2);
        (date, time)
    }

    /// Decodes a DOS pair; `None` when the date is zero (never set).
    pub(crate) fn from_dos(date: u16, time: u16) -> Option<Timestamp> {
        if date == 0 {
            return None;
        }
        Some(Timestamp {
            year: 1980 + (date >> 9),
            month: ((date >> 5) & 0xF) as u8,
            day: (date & 0x1F) as u8,
            hour: (time >> 11) as u8,
            minute: ((time >> 5) & 0x3F) as u8,
            second: ((time & 0x1F) * 2) as u8,
        })
    }
}

/// The default clock: always [`Timestamp::EPOCH`].
pub fn epoch_clock() -> Timestamp {
    Timestamp::EPOCH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = Timestamp { year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 58 };
        let (d, tm) = t.to_dos();
        assert_eq!(Timestamp::from_dos(d, tm), Some(t));
        assert_eq!(Timestamp::from_dos(0, 0), None);
        let (d, _) = Timestamp { year: 3000, month: 0, day: 99, ..t }.to_dos();
        assert_eq!(Timestamp::from_dos(d, 0).map(|t| (t.year, t.month, t.day)), Some((2107, 1, 31)));
    }
}
