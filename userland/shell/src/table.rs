//! Text tables and the units the shell prints (`ps`, `mem`, `ipcstat`,
//! `uptime`, `ls -l` style listings).
//!
//! A [`Table`] gathers rows of cells and renders them as lines with every
//! column as wide as its widest cell: numbers right-aligned, text
//! left-aligned, two spaces between columns, no trailing spaces. Pure
//! logic, tested on the host.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// How a column lines up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Text: padded on the right.
    Left,
    /// Numbers: padded on the left.
    Right,
}

/// A table being built.
#[derive(Debug, Default)]
pub struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these headings.
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table { columns: columns.iter().map(|&(h, a)| (String::from(h), a)).collect(), rows: Vec::new() }
    }

    /// Adds a row; missing cells are blank, extra cells are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The rendered lines, heading first, without newlines.
    pub fn lines(&self) -> Vec<String> {
        let n = self.columns.len();
        let mut width: Vec<usize> = self.columns.iter().map(|(h, _)| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in width.iter_mut().zip(row.iter()) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let heading: Vec<&str> = self.columns.iter().map(|(h, _)| h.as_str()).collect();
        let mut out = Vec::with_capacity(self.rows.len() + 1);
        out.push(self.render(&heading, &width));
        for row in &self.rows {
            let cells: Vec<&str> = (0..n).map(|i| row.get(i).map_or("", String::as_str)).collect();
            out.push(self.render(&cells, &width));
        }
        out
    }

    fn render(&self, cells: &[&str], width: &[usize]) -> String {
        let mut line = String::new();
        for (i, ((cell, w), (_, align))) in cells.iter().zip(width).zip(&self.columns).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = w.saturating_sub(cell.chars().count());
            match align {
                Align::Left => {
                    line.push_str(cell);
                    line.extend(core::iter::repeat_n(' ', pad));
                }
                Align::Right => {
                    line.extend(core::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
        }
        let end = line.trim_end().len();
        line.truncate(end);
        line
    }
}

/// A byte count for people: `512 B`, `4.0 KiB`, `1.5 MiB`, `2.0 GiB`
/// (one decimal, truncated: integer arithmetic only, userland is soft-float).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut unit = 0;
    let mut scale: u64 = 1024;
    while unit + 1 < UNITS.len() && n / scale >= 1024 {
        unit += 1;
        scale *= 1024;
    }
    let whole = n / scale;
    let tenth = (n % scale) * 10 / scale;
    format!("{whole}.{tenth} {}", UNITS[unit])
}

/// A duration in nanoseconds as `3.250 s` below a minute, else `1h 02m 03s`
/// / `4m 05s` (seconds truncated).
pub fn duration(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    if secs < 60 {
        let ms = (ns / 1_000_000) % 1000;
        return format!("{secs}.{ms:03} s");
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else {
        format!("{m}m {s:02}s")
    }
}

/// `part` as a percentage of `whole` with one decimal (`0.0` if `whole` is 0).
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return String::from("0.0");
    }
    let tenths = (u128::from(part) * 1000 / u128::from(whole)) as u64;
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn columns_line_up() {
        let mut t = Table::new(&[("PID", Align::Right), ("NAME", Align::Left), ("PAGES", Align::Right)]);
        t.row(vec!["1".into(), "init".into(), "12".into()]);
        t.row(vec!["12".into(), "console".into(), "3".into()]);
        t.row(vec!["3".into()]);
        assert_eq!(t.lines(), ["PID  NAME     PAGES", "  1  init        12", " 12  console      3", "  3"]);
    }

    #[test]
    fn empty_table_is_its_heading() {
        let t = Table::new(&[("A", Align::Left), ("B", Align::Left)]);
        assert_eq!(t.lines(), ["A  B"]);
    }

    #[test]
    fn byte_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(4096), "4.0 KiB");
        assert_eq!(bytes(1536 * 1024), "1.5 MiB");
        assert_eq!(bytes(256 << 20), "256.0 MiB");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
        assert_eq!(bytes(u64::MAX).split(' ').nth(1), Some("TiB"));
    }

    #[test]
    fn durations() {
        assert_eq!(duration(0), "0.000 s");
        assert_eq!(duration(3_250_000_000), "3.250 s");
        assert_eq!(duration(245_000_000_000), "4m 05s");
        assert_eq!(duration(3_723_000_000_000), "1h 02m 03s");
    }

    #[test]
    fn percentages() {
        assert_eq!(percent(1, 3), "33.3");
        assert_eq!(percent(5, 0), "0.0");
        assert_eq!(percent(u64::MAX, u64::MAX), "100.0");
        assert_eq!(percent(0, 7).to_string(), "0.0");
    }
}
