//! A zip archive of stored (uncompressed) members, as Keras writes `.keras` files, and the time
//! stamp it and `metadata.json` carry.

use crate::zip::crc32;

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const EOCD: u32 = 0x0605_4b50;
const EOCD64: u32 = 0x0606_4b50;
const EOCD64_LOCATOR: u32 = 0x0706_4b50;
/// The ZIP64 extra field's tag.
const ZIP64_EXTRA: u16 = 0x0001;

/// A UTC date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Stamp {
    /// The stamp `seconds` after 1970-01-01 00:00:00 UTC.
    pub fn from_unix(seconds: u64) -> Self {
        let days = seconds / 86_400;
        let rest = seconds % 86_400;
        // Howard Hinnant's civil_from_days, for days since 1970-01-01.
        let z = days as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u32;
        Self {
            year,
            month,
            day,
            hour: (rest / 3600) as u32,
            minute: (rest / 60 % 60) as u32,
            second: (rest % 60) as u32,
        }
    }

    /// Keras's `date_saved` format: `2026-11-26@15:25:09`.
    pub fn keras(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}@{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// MS-DOS time and date fields of a zip header (years before 1980 clamp to 1980).
    fn dos(&self) -> (u16, u16) {
        let time = (self.hour << 11) | (self.minute << 5) | (self.second / 2);
        let date = ((self.year.clamp(1980, 2107) - 1980) << 9) | (self.month << 5) | self.day;
        (time as u16, date as u16)
    }
}

/// The current UTC time.
pub fn now() -> Stamp {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Stamp::from_unix(seconds)
}

/// An archive of `members` (name, bytes), each stored uncompressed, stamped with the current
/// time. Members or offsets past 4 GiB get ZIP64 records.
pub fn stored(members: &[(&str, &[u8])]) -> Vec<u8> {
    stored_at(members, now())
}

fn stored_at(members: &[(&str, &[u8])], stamp: Stamp) -> Vec<u8> {
    let (time, date) = stamp.dos();
    let total: usize = members
        .iter()
        .map(|(n, d)| 30 + 20 + n.len() + d.len())
        .sum();
    let mut out = Vec::with_capacity(total + 512);
    let mut central = Vec::new();
    for (name, data) in members {
        let offset = out.len() as u64;
        let size = data.len() as u64;
        let crc = crc32(data);
        let big = size >= 0xFFFF_FFFF || offset >= 0xFFFF_FFFF;
        let version: u16 = if big { 45 } else { 20 };
        let short = |v: u64| if big { 0xFFFF_FFFF } else { v as u32 };

        // Local header: sizes in a ZIP64 extra field when they do not fit.
        let local_extra: Vec<u8> = if big {
            let mut e = Vec::new();
            e.extend_from_slice(&ZIP64_EXTRA.to_le_bytes());
            e.extend_from_slice(&16u16.to_le_bytes());
            e.extend_from_slice(&size.to_le_bytes());
            e.extend_from_slice(&size.to_le_bytes());
            e
        } else {
            Vec::new()
        };
        out.extend_from_slice(&LOCAL.to_le_bytes());
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&0u16.to_le_bytes()); // stored
        out.extend_from_slice(&time.to_le_bytes());
        out.extend_from_slice(&date.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&short(size).to_le_bytes());
        out.extend_from_slice(&short(size).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&(local_extra.len() as u16).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&local_extra);
        out.extend_from_slice(data);

        let central_extra: Vec<u8> = if big {
            let mut e = Vec::new();
            e.extend_from_slice(&ZIP64_EXTRA.to_le_bytes());
            e.extend_from_slice(&24u16.to_le_bytes());
            e.extend_from_slice(&size.to_le_bytes());
            e.extend_from_slice(&size.to_le_bytes());
            e.extend_from_slice(&offset.to_le_bytes());
            e
        } else {
            Vec::new()
        };
        central.extend_from_slice(&CENTRAL.to_le_bytes());
        central.extend_from_slice(&version.to_le_bytes()); // made by
        central.extend_from_slice(&version.to_le_bytes()); // needed
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&time.to_le_bytes());
        central.extend_from_slice(&date.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&short(size).to_le_bytes());
        central.extend_from_slice(&short(size).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&(central_extra.len() as u16).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&0o100_644u32.wrapping_shl(16).to_le_bytes()); // rw-r--r--
        central.extend_from_slice(&short(offset).to_le_bytes());
        central.extend_from_slice(name.as_bytes());
        central.extend_from_slice(&central_extra);
    }
    let cd_offset = out.len() as u64;
    let cd_size = central.len() as u64;
    let count = members.len() as u64;
    out.extend_from_slice(&central);
    let big = cd_offset >= 0xFFFF_FFFF || count >= 0xFFFF;
    if big {
        let eocd64 = out.len() as u64;
        out.extend_from_slice(&EOCD64.to_le_bytes());
        out.extend_from_slice(&44u64.to_le_bytes());
        out.extend_from_slice(&45u16.to_le_bytes());
        out.extend_from_slice(&45u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]); // disks
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&cd_size.to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&EOCD64_LOCATOR.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&eocd64.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
    }
    let short16 = |v: u64| if big { 0xFFFF } else { v as u16 };
    let short32 = |v: u64| if big { 0xFFFF_FFFF } else { v as u32 };
    out.extend_from_slice(&EOCD.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // disks
    out.extend_from_slice(&short16(count).to_le_bytes());
    out.extend_from_slice(&short16(count).to_le_bytes());
    out.extend_from_slice(&short32(cd_size).to_le_bytes());
    out.extend_from_slice(&short32(cd_offset).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zip::Archive;

    #[test]
    fn dates_match_the_calendar() {
        assert_eq!(Stamp::from_unix(0).keras(), "1970-01-01@00:00:00");
        // 2000-02-29 12:34:56 UTC (a leap day).
        assert_eq!(Stamp::from_unix(951_827_696).keras(), "2000-02-29@12:34:56");
        // 2026-11-26 15:25:09 UTC.
        assert_eq!(
            Stamp::from_unix(1_795_706_709).keras(),
            "2026-11-26@15:25:09"
        );
    }

    #[test]
    fn the_reader_reads_what_the_writer_stores() {
        let stamp = Stamp::from_unix(1_795_706_709);
        let zip = stored_at(
            &[("a.json", b"{}"), ("b.bin", &[7u8; 1000]), ("e", b"")],
            stamp,
        );
        let archive = Archive::parse(&zip).unwrap();
        assert_eq!(archive.names(), ["a.json", "b.bin", "e"]);
        assert_eq!(archive.member("a.json").unwrap(), Some(&b"{}"[..]));
        assert_eq!(archive.member("b.bin").unwrap(), Some(&[7u8; 1000][..]));
        assert_eq!(archive.member("e").unwrap(), Some(&b""[..]));
    }
}
