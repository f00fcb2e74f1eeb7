//! The weights as Keras 3 lays them out in HDF5 (`saving_lib._save_state`):
//!
//! ```text
//! layers/<key>/vars/<i>          the layer's variables, i = 0, 1, … in Keras's order
//! layers/<key>/cell/vars/<i>     recurrent layers: the variables live in the cell
//! layers/<key>/vars              attr name = the layer's name (an empty group without variables)
//! vars                           attr name = the model's name (no variables)
//! ```
//!
//! `<key>` is `snake_case(class)` numbered per class over `model.layers` (`dense`, `dense_1`,
//! …), which for a functional model includes its `InputLayer`s. Keras writes empty groups for
//! layers without variables and the `name` attributes; neither is needed to load, but the file
//! is then the one Keras itself would write.

use hdf5_pure::{AttrValue, FileBuilder, GroupBuilder};

use super::{save_error, Entry, Snapshot};
use crate::weights::{snake_case, CELL_CLASSES};
use crate::Error;

/// A group to write: its attributes, datasets and subgroups.
#[derive(Default)]
struct Group {
    name: String,
    attr_name: Option<String>,
    datasets: Vec<Dataset>,
    groups: Vec<Group>,
}

struct Dataset {
    name: String,
    shape: Vec<u64>,
    values: Values,
}

enum Values {
    F32(Vec<f32>),
    /// Keras's integer variables (Normalization's `count`, an int64 scalar).
    I64(Vec<i64>),
}

impl Group {
    fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    fn named(name: impl Into<String>, layer: &str) -> Self {
        Self {
            attr_name: Some(layer.to_string()),
            ..Self::new(name)
        }
    }

    fn fill(&self, builder: &mut GroupBuilder) {
        if let Some(name) = &self.attr_name {
            builder.set_attr("name", AttrValue::VarLenString(name.clone()));
        }
        for d in &self.datasets {
            let ds = builder.create_dataset(&d.name);
            match &d.values {
                Values::F32(v) => ds.with_f32_data(v),
                Values::I64(v) => ds.with_i64_data(v),
            }
            .with_shape(&d.shape);
        }
        for g in &self.groups {
            let mut child = builder.create_group(&g.name);
            g.fill(&mut child);
            builder.add_group(child.finish());
        }
    }
}

/// The per-class counter Keras numbers groups with (`dense`, `dense_1`, …).
#[derive(Default)]
struct Keys(Vec<(String, usize)>);

impl Keys {
    fn next(&mut self, class: &str) -> String {
        let base = snake_case(class);
        match self.0.iter_mut().find(|(k, _)| *k == base) {
            Some((_, n)) => {
                *n += 1;
                format!("{base}_{n}")
            }
            None => {
                self.0.push((base.clone(), 0));
                base
            }
        }
    }
}

/// Whether Keras stores this variable as an integer: Normalization's `count` (int64).
fn integer(class: &str, variable: &str) -> bool {
    class == "Normalization" && variable == "count"
}

/// The `layers` group: one group per row of `model.layers`.
fn layers(snapshot: &Snapshot) -> Group {
    let mut keys = Keys::default();
    let mut layers = Group::new("layers");
    for entry in &snapshot.entries {
        match *entry {
            Entry::Input(i) => {
                let name = snapshot
                    .graph
                    .and_then(|g| g.inputs.get(i))
                    .map_or("input_layer", |input| input.name);
                let mut group = Group::new(keys.next("InputLayer"));
                group.groups.push(Group::named("vars", name));
                layers.groups.push(group);
            }
            Entry::Layer(l) => {
                let layer = &snapshot.layers[l];
                let class = layer.info.class;
                let mut vars = Group::new("vars");
                for (i, (var, values)) in layer.vars.iter().enumerate() {
                    let values = if integer(class, var.name) {
                        Values::I64(values.iter().map(|&v| v.round() as i64).collect())
                    } else {
                        Values::F32(values.clone())
                    };
                    vars.datasets.push(Dataset {
                        name: i.to_string(),
                        shape: var.shape.iter().map(|&d| d as u64).collect(),
                        values,
                    });
                }
                let mut group = Group::new(keys.next(class));
                let mut own = Group::named("vars", layer.info.name);
                if CELL_CLASSES.contains(&class) {
                    vars.name = "vars".into();
                    vars.attr_name = Some(format!("{}_cell", snake_case(class)));
                    let mut cell = Group::new("cell");
                    cell.groups.push(vars);
                    group.groups.push(own);
                    group.groups.push(cell);
                } else {
                    own.datasets = vars.datasets;
                    group.groups.push(own);
                }
                layers.groups.push(group);
            }
        }
    }
    layers
}

/// The bytes of the weights file.
pub(super) fn weights(snapshot: &Snapshot) -> Result<Vec<u8>, Error> {
    let mut file = FileBuilder::new();
    let mut top = vec![layers(snapshot)];
    let model_name = snapshot.graph.map_or("model", |g| g.name);
    top.push(Group::named("vars", model_name));
    for group in &top {
        let mut builder = file.create_group(&group.name);
        group.fill(&mut builder);
        file.add_group(builder.finish());
    }
    file.finish()
        .map_err(|e| save_error(format!("the HDF5 writer failed: {e}")))
}
