//! Reads what Keras saves into [static-keras](https://docs.rs/static-keras) models, in pure Rust.
//!
//! Three formats, recognised by their first bytes whatever the file is called:
//!
//! * `.keras` archives (`model.save("m.keras")`): `config.json`, `model.weights.h5`,
//!   `metadata.json`. The saved architecture is checked against the declared model.
//! * Keras 3 weights (`model.save_weights("m.weights.h5")`): weights only.
//! * Legacy HDF5 (`model.save("m.h5")` of tf.keras 2 and Keras 3, and Keras 2's
//!   `save_weights("w.h5")`): the `model_config` attribute (checked like `config.json`) and the
//!   `model_weights` group.
//!
//! A saved architecture is read as a graph ([`ModelConfig`]): Sequential and Functional models of
//! any shape, nested models flattened, layers in Keras's `model.layers` order
//! ([`graph::keras_layer_order`]). Loading pairs the declared layers with the saved ones by
//! position in that order, checks classes, configs, the wiring of every call, the inputs and the
//! number of outputs, and reads each layer's variables from where the saved architecture puts
//! them. Files without one are matched as Keras matches them: by class and count (Keras 3), or
//! weighted layers in order (legacy).
//!
//! float16, bfloat16 and float64 weights are converted to f32. Every variable's shape is checked
//! before anything is written into the model, so a failed load leaves it untouched.
//!
//! Most users reach this through the facade: `Net::from_keras_file("net.keras")?`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod check;
mod config;
mod error;
pub mod graph;
mod h5;
mod locate;
mod save;
mod weights;
mod zip;

use std::path::Path;

use static_keras_runtime::{LayerInfo, Model, Variable, Zeroable};

pub use check::{same as same_config_value, show as show_config_value};
pub use config::{InputConfig, LayerConfig, ModelConfig, Source, WeightLocation};
pub use error::Error;
pub use save::{keras_bytes, save, save_weights, weights_h5_bytes, KERAS_VERSION};
pub use weights::{snake_case, LayerKey, CELL_CLASSES};

use weights::Layout;

/// Which of Keras's formats a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A `.keras` archive.
    Keras,
    /// A Keras 3 `.weights.h5` (weights only).
    WeightsH5,
    /// A legacy `.h5` written by `model.save` (architecture and weights).
    LegacyH5,
    /// A legacy weights-only `.h5` (Keras 2 `save_weights`).
    LegacyWeightsH5,
}

impl Format {
    /// How Keras users call it.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Keras => ".keras archive",
            Format::WeightsH5 => "Keras 3 .weights.h5",
            Format::LegacyH5 => "legacy .h5 model",
            Format::LegacyWeightsH5 => "legacy .h5 weights",
        }
    }
}

/// One variable read from a file: where it was, its shape, its values as f32 in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Its HDF5 path.
    pub path: String,
    /// Its shape as stored.
    pub shape: Vec<usize>,
    /// Its values, converted to f32.
    pub values: Vec<f32>,
}

/// A Keras file, parsed: its architecture (if it has one) and its weights, ready to be checked
/// against a model and loaded into it.
pub struct KerasFile {
    format: Format,
    keras_version: Option<String>,
    config: Option<ModelConfig>,
    h5: h5::H5,
    layout: Layout,
}

impl std::fmt::Debug for KerasFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KerasFile")
            .field("format", &self.format)
            .field("keras_version", &self.keras_version)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl KerasFile {
    /// Reads and parses the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(bytes)
    }

    /// Parses a file's bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, Error> {
        if zip::is_zip(&bytes) {
            Self::from_archive(&bytes)
        } else if bytes.starts_with(h5::SIGNATURE) {
            Self::from_hdf5(bytes)
        } else {
            let head: String = bytes
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ");
            Err(Error::NotKerasFile {
                found: if bytes.is_empty() {
                    "an empty file".into()
                } else {
                    format!("bytes {head}")
                },
            })
        }
    }

    fn from_archive(bytes: &[u8]) -> Result<Self, Error> {
        let archive = zip::Archive::parse(bytes)?;
        let member = |name: &str| -> Result<&[u8], Error> {
            archive.member(name)?.ok_or_else(|| {
                error::archive(format!(
                    "no member `{name}` (members: {})",
                    archive.names().join(", ")
                ))
            })
        };
        let text = |name: &str, data: &[u8]| -> Result<String, Error> {
            String::from_utf8(data.to_vec()).map_err(|_| Error::Json {
                context: name.to_string(),
                message: "not UTF-8".into(),
            })
        };
        let config_json = text("config.json", member("config.json")?)?;
        let config = ModelConfig::parse(&config_json, "config.json")?;
        let keras_version = match archive.member("metadata.json")? {
            Some(data) => serde_json::from_str::<serde_json::Value>(&text("metadata.json", data)?)
                .ok()
                .and_then(|m| m.get("keras_version")?.as_str().map(str::to_string)),
            None => None,
        };
        if archive.member("model.weights.h5")?.is_none()
            && archive.member("model.weights.npz")?.is_some()
        {
            return Err(Error::Unsupported {
                message: "the archive stores its weights as model.weights.npz; re-save with the default weights format".into(),
            });
        }
        let h5 = h5::H5::parse(member("model.weights.h5")?.to_vec(), "model.weights.h5")?;
        let layout = Layout::detect(&h5)?;
        Ok(Self {
            format: Format::Keras,
            keras_version,
            config: Some(config),
            h5,
            layout,
        })
    }

    fn from_hdf5(bytes: Vec<u8>) -> Result<Self, Error> {
        let h5 = h5::H5::parse(bytes, "the HDF5 file")?;
        let layout = Layout::detect(&h5)?;
        let root = h5.root()?;
        let (format, config, keras_version) = match &layout {
            Layout::Keras3 { .. } => (Format::WeightsH5, None, None),
            Layout::Legacy { .. } => {
                let version = h5.string_attr(&root, "keras_version", "/")?;
                match h5.string_attr(&root, "model_config", "/")? {
                    Some(json) => (
                        Format::LegacyH5,
                        Some(ModelConfig::parse(&json, "the model_config attribute")?),
                        version,
                    ),
                    None => (Format::LegacyWeightsH5, None, version),
                }
            }
        };
        Ok(Self {
            format,
            keras_version,
            config,
            h5,
            layout,
        })
    }

    /// Which format the file is in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The Keras version that wrote the file, when it says (`.keras` metadata, legacy `.h5`).
    pub fn keras_version(&self) -> Option<&str> {
        self.keras_version.as_deref()
    }

    /// The saved architecture; `None` for weights-only files.
    pub fn config(&self) -> Option<&ModelConfig> {
        self.config.as_ref()
    }

    /// Checks the file against `model` (architecture, if saved; every variable's shape) and
    /// fills the model's weights. On error the model is left as it was.
    ///
    /// With a saved architecture, the declared layers (in Keras's `model.layers` order, which
    /// `visit_layers` follows) are paired by position with the file's (in the same order, nested
    /// models flattened); classes, configs, the wiring of every call, the inputs and the number
    /// of outputs must agree, and each layer's variables are read from where the file's own
    /// architecture says they are. Without one (a weights-only file), layers are matched as
    /// Keras matches them: by class and count (Keras 3), or weighted layers in order (legacy).
    pub fn load_into<M: Model>(&self, model: &mut M) -> Result<(), Error> {
        let mut declared: Vec<(LayerInfo, &'static [Variable])> = Vec::new();
        model.visit_layers(&mut |info, layer| declared.push((info, layer.variables())));
        let slots = match &self.config {
            Some(config) => {
                check_architecture(model, config)?;
                self.layout.config_slots(&self.h5, config)?
            }
            None => {
                let keys: Vec<LayerKey> = declared
                    .iter()
                    .map(|(info, vars)| LayerKey {
                        class: info.class,
                        weighted: !vars.is_empty(),
                    })
                    .collect();
                self.layout.slots(&self.h5, &keys)?
            }
        };
        let mut values: Vec<Vec<Vec<f32>>> = Vec::with_capacity(declared.len());
        for (index, ((info, vars), found)) in declared.iter().zip(slots).enumerate() {
            let slots = found.slots;
            if slots.len() > vars.len() {
                return Err(Error::ExtraWeights {
                    path: slots[vars.len()].path.clone(),
                    message: format!(
                        "layer {index} `{}` ({}) has {} variable(s) in the file but {} declared ({})",
                        info.name,
                        info.class,
                        slots.len(),
                        vars.len(),
                        vars.iter().map(|v| v.name).collect::<Vec<_>>().join(", ")
                    ),
                });
            }
            let mut layer_values = Vec::with_capacity(vars.len());
            for (i, var) in vars.iter().enumerate() {
                let Some(slot) = slots.get(i) else {
                    return Err(Error::MissingWeight {
                        index,
                        layer: info.name.to_string(),
                        variable: var.name,
                        path: weights::looked_for(&found.place, i),
                    });
                };
                let shape_matches = slot.shape.len() == var.shape.len()
                    && slot
                        .shape
                        .iter()
                        .zip(var.shape)
                        .all(|(&f, &d)| f == d as u64);
                if !shape_matches {
                    return Err(Error::Shape {
                        index,
                        layer: info.name.to_string(),
                        variable: var.name,
                        expected: var.shape.to_vec(),
                        found: slot.shape.clone(),
                        path: slot.path.clone(),
                    });
                }
                layer_values.push(
                    self.h5
                        .read_f32(&slot.dataset, &slot.path, Some(var.len()))?,
                );
            }
            values.push(layer_values);
        }
        let mut values = values.into_iter();
        model
            .visit_layers_mut(&mut |_, layer| {
                if let Some(layer_values) = values.next() {
                    for (i, v) in layer_values.into_iter().enumerate() {
                        layer.load_variable(i, &mut v.into_iter());
                    }
                }
                Ok(())
            })
            // The visitor above never fails.
            .map_err(|e| Error::Unsupported {
                message: e.to_string(),
            })
    }

    /// Every weight dataset of the file with its shape, in the file's layer order: for listing a
    /// weights-only file.
    pub fn weight_shapes(&self) -> Result<Vec<(String, Vec<u64>)>, Error> {
        self.layout.weight_shapes(&self.h5)
    }

    /// Reads every variable of the given layers (classes in Keras order), without a declared
    /// model to check shapes against: what the compile-time import embeds. With a saved
    /// architecture the layers must be its layers (same classes, same order) and are read from
    /// where it says; otherwise they are matched as Keras does (see [`KerasFile::load_into`]).
    pub fn read_weights(&self, layers: &[LayerKey<'_>]) -> Result<Vec<Vec<Array>>, Error> {
        let slots = match &self.config {
            Some(config) => {
                let saved: Vec<&str> = config.layers.iter().map(|l| l.class.as_str()).collect();
                let asked: Vec<&str> = layers.iter().map(|l| l.class).collect();
                if saved != asked {
                    return Err(Error::Architecture {
                        message: format!(
                            "the file's layers are [{}], not [{}]",
                            saved.join(", "),
                            asked.join(", ")
                        ),
                    });
                }
                self.layout.config_slots(&self.h5, config)?
            }
            None => self.layout.slots(&self.h5, layers)?,
        };
        self.read_slots(slots)
    }

    /// Reads every variable of every layer of the saved architecture (in [`ModelConfig::layers`]
    /// order), each from where the architecture says it is.
    pub fn layer_weights(&self) -> Result<Vec<Vec<Array>>, Error> {
        let Some(config) = &self.config else {
            return Err(Error::Unsupported {
                message: format!(
                    "this {} holds weights only, no architecture to locate them by",
                    self.format.describe()
                ),
            });
        };
        self.read_slots(self.layout.config_slots(&self.h5, config)?)
    }

    fn read_slots(&self, slots: Vec<weights::LayerSlots>) -> Result<Vec<Vec<Array>>, Error> {
        slots
            .into_iter()
            .map(|found| {
                found
                    .slots
                    .into_iter()
                    .map(|slot| {
                        let values = self.h5.read_f32(&slot.dataset, &slot.path, None)?;
                        Ok(Array {
                            shape: slot.shape.iter().map(|&d| d as usize).collect(),
                            path: slot.path,
                            values,
                        })
                    })
                    .collect()
            })
            .collect()
    }
}

/// Checks a saved architecture against a declared model, as [`KerasFile::load_into`] does before
/// reading any weight: the inputs' shapes, each layer's class and inference-relevant config in
/// Keras's order, how each call of each layer is wired, and the number of outputs.
pub fn check_architecture<M: Model>(model: &M, config: &ModelConfig) -> Result<(), Error> {
    let mut declared = Vec::new();
    model.visit_layers(&mut |info, _| declared.push(info));
    check::architecture(&declared, M::INPUT_SHAPES, M::OUTPUT_SHAPES.len(), config)
}

/// A model of type `M` with its weights from the Keras file at `path` (`.keras`, `.weights.h5`,
/// legacy `.h5`), checked against the declaration.
pub fn load<M: Model>(path: impl AsRef<Path>) -> Result<M, Error> {
    let mut model = M::zeroed();
    KerasFile::open(path)?.load_into(&mut model)?;
    Ok(model)
}

/// Like [`load`], with the model on the heap: allocated as zero bytes and filled in place, so
/// even a model of many megabytes is never built on the stack.
pub fn load_boxed<M: Model + Zeroable>(path: impl AsRef<Path>) -> Result<Box<M>, Error> {
    let file = KerasFile::open(path)?;
    let mut model = M::zeroed_boxed();
    file.load_into(&mut *model)?;
    Ok(model)
}

/// Like [`load`], from the file's bytes.
pub fn load_bytes<M: Model>(bytes: Vec<u8>) -> Result<M, Error> {
    let mut model = M::zeroed();
    KerasFile::from_bytes(bytes)?.load_into(&mut model)?;
    Ok(model)
}

/// Like [`load_boxed`], from the file's bytes.
pub fn load_bytes_boxed<M: Model + Zeroable>(bytes: Vec<u8>) -> Result<Box<M>, Error> {
    let file = KerasFile::from_bytes(bytes)?;
    let mut model = M::zeroed_boxed();
    file.load_into(&mut *model)?;
    Ok(model)
}
