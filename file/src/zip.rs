//! The members of a `.keras` archive.
//!
//! Keras writes every member uncompressed (ZIP "stored"), so a member is a byte range of the
//! archive: this reads the central directory, finds the member, checks its local header and its
//! CRC-32, and slices. ZIP64 records (archives or members over 4 GiB) are understood; compressed
//! members are refused with a message, since Keras never writes them.

use crate::error::{archive, Error};

const EOCD: u32 = 0x0605_4b50;
const EOCD64: u32 = 0x0606_4b50;
const EOCD64_LOCATOR: u32 = 0x0706_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const LOCAL: u32 = 0x0403_4b50;

/// Whether `bytes` start like a zip archive.
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Some(u64::from_le_bytes(a))
}

fn usize_of(v: u64) -> Result<usize, Error> {
    usize::try_from(v).map_err(|_| archive("an offset does not fit in memory"))
}

/// One member of the central directory.
struct Entry {
    name: Vec<u8>,
    method: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    local_offset: u64,
}

/// A parsed archive: its central directory over the archive's bytes.
pub struct Archive<'a> {
    bytes: &'a [u8],
    entries: Vec<Entry>,
}

impl<'a> Archive<'a> {
    /// Reads the central directory.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        let truncated =
            || archive("the end-of-central-directory record is missing (truncated file?)");
        // The EOCD record is the last 22 bytes plus a comment of at most 65535 bytes.
        let lowest = bytes.len().saturating_sub(22 + 0xFFFF);
        let eocd = (lowest..bytes.len().saturating_sub(21))
            .rev()
            .find(|&i| u32_at(bytes, i) == Some(EOCD))
            .ok_or_else(truncated)?;
        let mut count = u64::from(u16_at(bytes, eocd + 10).ok_or_else(truncated)?);
        let mut cd_size = u64::from(u32_at(bytes, eocd + 12).ok_or_else(truncated)?);
        let mut cd_offset = u64::from(u32_at(bytes, eocd + 16).ok_or_else(truncated)?);
        if count == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
            let bad =
                || archive("the ZIP64 end-of-central-directory record is missing or malformed");
            let locator = eocd.checked_sub(20).ok_or_else(bad)?;
            if u32_at(bytes, locator) != Some(EOCD64_LOCATOR) {
                return Err(bad());
            }
            let at = usize_of(u64_at(bytes, locator + 8).ok_or_else(bad)?)?;
            if u32_at(bytes, at) != Some(EOCD64) {
                return Err(bad());
            }
            count = u64_at(bytes, at + 32).ok_or_else(bad)?;
            cd_size = u64_at(bytes, at + 40).ok_or_else(bad)?;
            cd_offset = u64_at(bytes, at + 48).ok_or_else(bad)?;
        }
        let start = usize_of(cd_offset)?;
        let end = start
            .checked_add(usize_of(cd_size)?)
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| {
                archive("the central directory lies past the end of the file (truncated file?)")
            })?;
        let directory = &bytes[start..end];
        let mut entries = Vec::new();
        let mut at = 0usize;
        for _ in 0..count {
            entries.push(Self::entry(directory, &mut at)?);
        }
        Ok(Self { bytes, entries })
    }

    fn entry(directory: &[u8], at: &mut usize) -> Result<Entry, Error> {
        let bad = || archive("a central-directory entry is truncated or malformed");
        let e = *at;
        if u32_at(directory, e) != Some(CENTRAL) {
            return Err(bad());
        }
        let method = u16_at(directory, e + 10).ok_or_else(bad)?;
        let crc = u32_at(directory, e + 16).ok_or_else(bad)?;
        let mut compressed = u64::from(u32_at(directory, e + 20).ok_or_else(bad)?);
        let mut size = u64::from(u32_at(directory, e + 24).ok_or_else(bad)?);
        let name_len = usize::from(u16_at(directory, e + 28).ok_or_else(bad)?);
        let extra_len = usize::from(u16_at(directory, e + 30).ok_or_else(bad)?);
        let comment_len = usize::from(u16_at(directory, e + 32).ok_or_else(bad)?);
        let mut local_offset = u64::from(u32_at(directory, e + 42).ok_or_else(bad)?);
        let name_start = e + 46;
        let name = directory
            .get(name_start..name_start + name_len)
            .ok_or_else(bad)?
            .to_vec();
        let extra_start = name_start + name_len;
        let extra = directory
            .get(extra_start..extra_start + extra_len)
            .ok_or_else(bad)?;
        // ZIP64 extended information: the 64-bit values of the fields saturated above, in order.
        let mut i = 0;
        while i + 4 <= extra.len() {
            let id = u16_at(extra, i).ok_or_else(bad)?;
            let len = usize::from(u16_at(extra, i + 2).ok_or_else(bad)?);
            let body = extra.get(i + 4..i + 4 + len).ok_or_else(bad)?;
            if id == 1 {
                let mut field = 0;
                for value in [&mut size, &mut compressed, &mut local_offset] {
                    if *value == 0xFFFF_FFFF {
                        *value = u64_at(body, field).ok_or_else(bad)?;
                        field += 8;
                    }
                }
            }
            i += 4 + len;
        }
        *at = extra_start + extra_len + comment_len;
        Ok(Entry {
            name,
            method,
            crc,
            compressed,
            size,
            local_offset,
        })
    }

    /// The names of the members, for messages.
    pub fn names(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| String::from_utf8_lossy(&e.name).into_owned())
            .collect()
    }

    /// The bytes of member `name`, or `None` if the archive has no such member.
    pub fn member(&self, name: &str) -> Result<Option<&'a [u8]>, Error> {
        let Some(entry) = self.entries.iter().find(|e| e.name == name.as_bytes()) else {
            return Ok(None);
        };
        if entry.method != 0 || entry.compressed != entry.size {
            return Err(archive(format!(
                "member `{name}` is compressed (method {}); Keras stores members uncompressed, \
                 so re-save the model with Keras instead of re-zipping it",
                entry.method
            )));
        }
        let bad = || {
            archive(format!(
                "member `{name}` is truncated or its local header is malformed"
            ))
        };
        let local = usize_of(entry.local_offset)?;
        if u32_at(self.bytes, local) != Some(LOCAL) {
            return Err(bad());
        }
        let name_len = usize::from(u16_at(self.bytes, local + 26).ok_or_else(bad)?);
        let extra_len = usize::from(u16_at(self.bytes, local + 28).ok_or_else(bad)?);
        let start = local + 30 + name_len + extra_len;
        let data = start
            .checked_add(usize_of(entry.size)?)
            .and_then(|end| self.bytes.get(start..end))
            .ok_or_else(bad)?;
        // Under the fuzzer the check is skipped, so that mutated archives reach the HDF5 and
        // JSON readers instead of all stopping here.
        if crc32(data) != entry.crc && !cfg!(fuzzing) {
            return Err(archive(format!(
                "member `{name}` fails its CRC-32 check: the file is corrupt"
            )));
        }
        Ok(Some(data))
    }
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// The CRC-32 of zip (IEEE 802.3, reflected).
pub fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |c, &b| {
        CRC_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal stored archive with the given members, as Python's zipfile writes it.
    pub(crate) fn build(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in members {
            let offset = out.len() as u32;
            let crc = crc32(data);
            out.extend_from_slice(&LOCAL.to_le_bytes());
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&crc.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            central.extend_from_slice(&CENTRAL.to_le_bytes());
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&crc.to_le_bytes());
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&EOCD.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(members.len() as u16).to_le_bytes());
        out.extend_from_slice(&(members.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    #[test]
    fn crc_of_a_known_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn reads_members_and_rejects_every_truncation() {
        let zip = build(&[("a.json", b"{}"), ("b.bin", b"0123456789")]);
        let archive = Archive::parse(&zip).unwrap();
        assert_eq!(archive.member("b.bin").unwrap(), Some(&b"0123456789"[..]));
        assert_eq!(archive.member("c").unwrap(), None);
        for len in 0..zip.len() {
            let cut = &zip[..len];
            let got =
                Archive::parse(cut).and_then(|a| a.member("b.bin").map(|m| m.map(<[u8]>::to_vec)));
            assert!(
                !matches!(got, Ok(Some(_))),
                "truncated to {len} bytes still read"
            );
        }
    }

    #[test]
    fn a_flipped_data_bit_fails_the_crc() {
        let mut zip = build(&[("b.bin", b"0123456789")]);
        zip[30 + 5 + 3] ^= 0x10;
        let archive = Archive::parse(&zip).unwrap();
        assert!(archive.member("b.bin").is_err());
    }
}
