//! The HDF5 side: a thin layer over `hdf5-reader` that navigates groups without confusing
//! "absent" with "corrupt", reads string attributes of either string kind, and reads any float
//! dataset Keras writes (float16, bfloat16, float32, float64, and integers such as Normalization's
//! `count`) as f32.
//!
//! Every call into the reader goes through [`guard`], the one place that turns its errors (and,
//! should it ever panic on corrupt input, its panics) into this crate's [`Error`].

use hdf5_reader::group::Group;
use hdf5_reader::{ByteOrder, Dataset, Datatype, Hdf5File, OpenOptions};

use crate::error::Error;

/// The HDF5 file signature.
pub const SIGNATURE: &[u8] = b"\x89HDF\r\n\x1a\n";

/// Runs one reader call; `context` says where, for the message.
fn guard<T>(context: &str, f: impl FnOnce() -> hdf5_reader::error::Result<T>) -> Result<T, Error> {
    // The reader validates offsets and lengths and has its own corruption tests; fuzzing this
    // crate found no panic (see the fuzz/ directory). Were one found, this is where it would be
    // caught, at the boundary only.
    f().map_err(|e| Error::Hdf5 {
        context: context.to_string(),
        message: e.to_string(),
    })
}

/// An open HDF5 file.
pub struct H5 {
    file: Hdf5File,
    /// Bound on any single read whose size the declared model does not fix (strings, and the
    /// compile-time import's datasets): Keras never compresses, so nothing legitimate in the file
    /// is larger than the file.
    limit: usize,
}

impl H5 {
    /// Opens HDF5 bytes; `what` names them in messages (`model.weights.h5 in the archive`).
    pub fn parse(bytes: Vec<u8>, what: &str) -> Result<Self, Error> {
        if !bytes.starts_with(SIGNATURE) {
            return Err(Error::Hdf5 {
                context: what.to_string(),
                message: "no HDF5 signature at the start".into(),
            });
        }
        let limit = bytes.len().saturating_mul(4).max(1 << 20);
        let options = OpenOptions {
            max_read_bytes: limit,
            max_object_header_bytes: limit,
            ..OpenOptions::default()
        };
        let file = guard(what, || Hdf5File::from_vec_with_options(bytes, options))?;
        Ok(Self { file, limit })
    }

    /// The root group.
    pub fn root(&self) -> Result<Group, Error> {
        guard("/", || self.file.root_group())
    }

    /// The group at `path` (`a/b/c`, relative to the root), or `None` if any part is absent.
    pub fn group(&self, path: &str) -> Result<Option<Group>, Error> {
        let mut group = self.root()?;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            match child_group(&group, part, path)? {
                Some(g) => group = g,
                None => return Ok(None),
            }
        }
        Ok(Some(group))
    }

    /// The dataset at `path`, or `None` if it (or a group on the way) is absent.
    pub fn dataset(&self, path: &str) -> Result<Option<Dataset>, Error> {
        let (parent, name) = match path.rsplit_once('/') {
            Some((parent, name)) => (parent, name),
            None => ("", path),
        };
        let Some(group) = self.group(parent)? else {
            return Ok(None);
        };
        let (_, datasets) = guard(path, || group.member_names())?;
        if !datasets.iter().any(|d| d == name) {
            return Ok(None);
        }
        guard(path, || group.dataset(name)).map(Some)
    }

    /// Reads a float dataset as f32 values in row-major order. `expected` is the number of values
    /// the caller will accept; `None` accepts any size up to the file's own size.
    pub fn read_f32(
        &self,
        ds: &Dataset,
        path: &str,
        expected: Option<usize>,
    ) -> Result<Vec<f32>, Error> {
        let count = shape_len(ds.shape());
        let element = match ds.dtype() {
            Datatype::FloatingPoint { size, byte_order } if matches!(size, 2 | 4 | 8) => {
                Element::Float(*size, *byte_order)
            }
            Datatype::Opaque { size: 2, .. } if is_bfloat16(ds) => Element::BFloat16,
            // Integer variables (Normalization's `count`), converted as Keras's `float(...)`.
            Datatype::FixedPoint {
                size,
                signed,
                byte_order,
            } if matches!(size, 1 | 2 | 4 | 8) => Element::Int(*size, *signed, *byte_order),
            other => {
                return Err(Error::Dtype {
                    path: path.to_string(),
                    found: format!("{other:?}"),
                })
            }
        };
        let size = element.size();
        let fits = match expected {
            Some(n) => count == Some(n),
            None => count
                .and_then(|n| n.checked_mul(size))
                .is_some_and(|b| b <= self.limit),
        };
        let Some(count) = count.filter(|_| fits) else {
            return Err(Error::Hdf5 {
                context: path.to_string(),
                message: format!(
                    "dataset shape {:?} does not hold the expected number of values",
                    ds.shape()
                ),
            });
        };
        let mut raw = vec![0u8; count * size];
        guard(path, || ds.read_raw_bytes_into(&mut raw))?;
        Ok(element.decode(&raw))
    }

    /// A string attribute of `group` (fixed-length or variable-length), or `None` if absent.
    pub fn string_attr(
        &self,
        group: &Group,
        name: &str,
        context: &str,
    ) -> Result<Option<String>, Error> {
        Ok(self.strings_attr(group, name, context)?.and_then(|mut v| {
            if v.len() == 1 {
                v.pop()
            } else {
                None
            }
        }))
    }

    /// A string-array attribute of `group`, or `None` if absent. Keras writes an empty list as a
    /// float64 array of shape (0,), read here as no strings.
    pub fn strings_attr(
        &self,
        group: &Group,
        name: &str,
        context: &str,
    ) -> Result<Option<Vec<String>>, Error> {
        let attrs = guard(context, || group.attributes())?;
        let Some(attr) = attrs.into_iter().find(|a| a.name == name) else {
            return Ok(None);
        };
        let ctx = format!("{context} attribute `{name}`");
        if !matches!(
            attr.datatype,
            Datatype::String { .. } | Datatype::VarLen { .. }
        ) {
            let n = guard(&ctx, || attr.num_elements())?;
            if n == 0 {
                return Ok(Some(Vec::new()));
            }
        }
        guard(&ctx, || attr.read_strings()).map(Some)
    }
}

fn child_group(group: &Group, name: &str, path: &str) -> Result<Option<Group>, Error> {
    let (groups, _) = guard(path, || group.member_names())?;
    if !groups.iter().any(|g| g == name) {
        return Ok(None);
    }
    guard(path, || group.group(name)).map(Some)
}

/// The members of `group`: (subgroup names, dataset names).
pub fn members(group: &Group, context: &str) -> Result<(Vec<String>, Vec<String>), Error> {
    guard(context, || group.member_names())
}

/// The number of values of a shape, `None` on overflow.
pub fn shape_len(shape: &[u64]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(usize::try_from(d).ok()?))
}

fn is_bfloat16(ds: &Dataset) -> bool {
    ds.attributes()
        .iter()
        .any(|a| a.name == "dtype" && a.read_string().is_ok_and(|s| s == "bfloat16"))
}

enum Element {
    Float(u8, ByteOrder),
    BFloat16,
    /// Size in bytes, signed.
    Int(u8, bool, ByteOrder),
}

impl Element {
    fn size(&self) -> usize {
        match self {
            Element::Float(size, _) | Element::Int(size, _, _) => usize::from(*size),
            Element::BFloat16 => 2,
        }
    }

    fn decode(&self, raw: &[u8]) -> Vec<f32> {
        let little = !matches!(
            self,
            Element::Float(_, ByteOrder::BigEndian) | Element::Int(_, _, ByteOrder::BigEndian)
        );
        let word = |b: &[u8]| -> u64 {
            let mut v = 0u64;
            for (i, &byte) in b.iter().enumerate() {
                let shift = if little { i } else { b.len() - 1 - i };
                v |= u64::from(byte) << (8 * shift);
            }
            v
        };
        let size = self.size();
        raw.chunks_exact(size)
            .map(|b| {
                let bits = word(b);
                match self {
                    Element::Float(2, _) => f16_to_f32(bits as u16),
                    Element::Float(4, _) => f32::from_bits(bits as u32),
                    Element::Float(_, _) => f64::from_bits(bits) as f32,
                    // bfloat16 is the upper half of an f32.
                    Element::BFloat16 => f32::from_bits((bits as u32) << 16),
                    Element::Int(_, false, _) => bits as f32,
                    Element::Int(size, true, _) => {
                        // Sign-extend from `size` bytes.
                        let shift = 64 - 8 * u32::from(*size);
                        (((bits << shift) as i64) >> shift) as f32
                    }
                }
            })
            .collect()
    }
}

/// IEEE 754 binary16 to f32, exactly (every half value is an f32 value).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1F);
    let mant = u32::from(h & 0x3FF);
    let bits = match (exp, mant) {
        (0, 0) => sign,
        // Subnormal: mant · 2^-24, normalised for f32.
        (0, _) => {
            let shift = mant.leading_zeros() - 21; // bring the top set bit to bit 10
            let mant = (mant << shift) & 0x3FF;
            let exp = 127 - 15 + 1 - shift;
            sign | (exp << 23) | (mant << 13)
        }
        (0x1F, 0) => sign | 0x7F80_0000,
        (0x1F, _) => sign | 0x7FC0_0000 | (mant << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (mant << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::f16_to_f32;

    #[test]
    fn half_precision_values() {
        assert_eq!(f16_to_f32(0x3C00), 1.0);
        assert_eq!(f16_to_f32(0xC000), -2.0);
        assert_eq!(f16_to_f32(0x7BFF), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24)); // smallest subnormal
        assert_eq!(f16_to_f32(0x03FF), 1023.0 * 2f32.powi(-24)); // largest subnormal
        assert_eq!(f16_to_f32(0x0400), 2f32.powi(-14)); // smallest normal
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000);
        assert_eq!(f16_to_f32(0x7C00), f32::INFINITY);
        assert!(f16_to_f32(0x7E00).is_nan());
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
    }
}
