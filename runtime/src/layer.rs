//! How layers compose and how their weights are filled.

use crate::Error;

/// A layer that maps an input of type `In` to [`Layer::Output`].
///
/// The input type is a type parameter, not an associated type, so one layer may accept several
/// shapes where Keras does (a `Dense` acts on the last axis of any rank), while a chain whose shapes
/// do not line up is a type error:
///
/// ```compile_fail
/// use static_keras_runtime::{Activation, Dense, Layer, Tensor};
/// let a: Dense<4, 8> = Dense::new(Activation::Relu);
/// let b: Dense<7, 2> = Dense::new(Activation::Linear); // expects 7 features, gets 8
/// let y = (a, b).forward(&Tensor::<4, 1>::zeros());
/// ```
pub trait Layer<In> {
    /// What the layer produces from an `In`.
    type Output;
    /// Runs the layer at inference (Keras `training=False`). Never allocates.
    fn forward(&self, input: &In) -> Self::Output;

    /// Runs the layer on a batch, `outputs[i] = forward(&inputs[i])`. Never allocates.
    ///
    /// Layers whose weights can serve the whole batch in one pass override this (`Dense` is
    /// one matrix-matrix product over the batch); by default it loops.
    ///
    /// # Panics
    /// When `inputs` and `outputs` have different lengths.
    fn forward_batch(&self, inputs: &[In], outputs: &mut [Self::Output]) {
        assert_eq!(inputs.len(), outputs.len(), "as many outputs as inputs");
        for (x, y) in inputs.iter().zip(outputs) {
            self.forward_into(x, y);
        }
    }

    /// Runs the layer into `output`, `*output = forward(input)`. Never allocates.
    ///
    /// Layers with large outputs (convolutions, pooling) override this to write in place, so
    /// that a chain of layers keeps every activation where it is, with no copy of a returned
    /// value; by default it assigns [`Layer::forward`]'s result.
    fn forward_into(&self, input: &In, output: &mut Self::Output) {
        *output = self.forward(input);
    }
}

/// Two layers in sequence are a layer: `(a, b).forward(x) == b.forward(&a.forward(x))`.
impl<In, A, B> Layer<In> for (A, B)
where
    A: Layer<In>,
    B: Layer<A::Output>,
{
    type Output = B::Output;
    #[inline]
    fn forward(&self, input: &In) -> Self::Output {
        self.1.forward(&self.0.forward(input))
    }
}

/// Three layers in sequence are a layer.
impl<In, A, B, C> Layer<In> for (A, B, C)
where
    A: Layer<In>,
    B: Layer<A::Output>,
    C: Layer<B::Output>,
{
    type Output = C::Output;
    #[inline]
    fn forward(&self, input: &In) -> Self::Output {
        self.2.forward(&self.1.forward(&self.0.forward(input)))
    }
}

/// One Keras variable of a layer: its name and its shape as Keras stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// Keras's name for it: `kernel`, `bias`, `recurrent_kernel`, `embeddings`.
    pub name: &'static str,
    /// Its shape in Keras (row-major) order, e.g. `(in, units)` for a Dense kernel.
    pub shape: &'static [usize],
}

impl Variable {
    /// Number of values in the variable.
    pub const fn len(&self) -> usize {
        let mut n = 1;
        let mut i = 0;
        while i < self.shape.len() {
            n *= self.shape[i];
            i += 1;
        }
        n
    }

    /// Whether the variable holds no value (a zero-sized dimension).
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Access to a layer's trainable variables in Keras order (`layer.weights`).
///
/// Object-safe so that loaders can walk any model's layers through `&mut dyn Weights`.
pub trait Weights {
    /// The layer's variables in Keras order. Empty for layers without weights.
    fn variables(&self) -> &'static [Variable];

    /// Fills variable `index` from `values`, given in Keras's row-major order. The caller provides
    /// exactly `variables()[index].len()` values; the layer converts them to whatever internal
    /// layout is fastest.
    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>);

    /// Writes variable `index` back out in Keras's row-major order (the inverse of
    /// [`Weights::load_variable`]).
    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32));

    /// Number of parameters (Keras `count_params()`).
    fn param_count(&self) -> usize {
        self.variables().iter().map(Variable::len).sum()
    }
}

/// Describes one layer of a generated model to a weight loader.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerInfo {
    /// The layer's name (Keras's automatic name such as `dense_1`, or the `name = "…"` given).
    pub name: &'static str,
    /// The Keras class name, e.g. `Dense`.
    pub class: &'static str,
    /// The inference-relevant Keras config entries as declared, resolved to Keras's defaults
    /// (e.g. `("units", Int(10))`, `("activation", Str("relu"))`, `("kernel_size", Ints(&[3, 3]))`),
    /// so a loader can check a saved `config.json` against the declaration.
    pub config: &'static [(&'static str, ConfigValue)],
    /// Each call of the layer in the model (a shared layer has several; a Sequential layer one),
    /// with the tensors it reads in argument order: how the layer is wired, which a loader
    /// checks against a saved functional config.
    pub calls: &'static [&'static [Source]],
}

/// Where a layer call reads one of its input tensors from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The model's input number `0, 1, …` (in the order of the model's inputs).
    Input(usize),
    /// Output `output` of call `call` of the model's layer number `layer` (in the order
    /// [`Model::visit_layers`] visits them, which is Keras's `model.layers` order).
    Layer {
        /// The producing layer's index.
        layer: usize,
        /// Which call of that layer (0 unless it is shared).
        call: usize,
        /// Which of the call's outputs (0 unless it returns several, e.g. `return_state`).
        output: usize,
    },
}

/// A value of a layer's Keras config.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConfigValue {
    /// An integer (`units`, `filters`, `groups`).
    Int(i64),
    /// A tuple of integers (`kernel_size`, `strides`, `target_shape`).
    Ints(&'static [i64]),
    /// A float (`rate`).
    Float(f64),
    /// A boolean (`use_bias`, `return_sequences`).
    Bool(bool),
    /// A string (`activation`, `padding`).
    Str(&'static str),
    /// Python's `None`.
    None,
    /// Axis indices (`axis` of the normalization layers) into an input of `rank` axes counting
    /// the batch axis, negative ones counting from the end: equal to any int or list naming the
    /// same set of axes (`-1`, `[3]` and `[-1]` on a rank-4 input).
    Axes {
        /// The axes as declared.
        axes: &'static [i64],
        /// The rank of the layer's input, batch axis included.
        rank: usize,
    },
    /// A list of floats (Normalization's `mean` and `variance`); a scalar is a list of one.
    Floats(&'static [f64]),
    /// A wrapped layer, saved as `{"class_name": …, "config": {…}}` (TimeDistributed's `layer`,
    /// Bidirectional's `layer` and `backward_layer`): its class and its own config entries.
    Layer {
        /// The Keras class name, e.g. `LSTM`.
        class: &'static str,
        /// The wrapped layer's inference-relevant entries, as [`LayerInfo::config`].
        config: &'static [(&'static str, ConfigValue)],
    },
}

/// How a generated model was declared, beyond its layers: what a writer of Keras's
/// `config.json` needs to rebuild it (`Net::save`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelGraph {
    /// The model's name in `config.json`: the struct's name in snake_case (a `name = "…"` on
    /// the model line is not kept).
    pub name: &'static str,
    /// Declared as a `layers: [...]` list (Keras's `Sequential`) rather than in the
    /// functional form.
    pub sequential: bool,
    /// The model's inputs, in order.
    pub inputs: &'static [GraphInput],
    /// The tensors the model returns, in order.
    pub outputs: &'static [Source],
    /// Keras's `trainable` of each layer, in [`Model::visit_layers`] order.
    pub trainable: &'static [bool],
    /// The shapes (batch axis excluded) of each call's outputs: per layer in
    /// [`Model::visit_layers`] order, per call, per output.
    pub call_shapes: &'static [&'static [&'static [&'static [usize]]]],
}

/// One input of a [`ModelGraph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphInput {
    /// Keras's name for its `InputLayer` (`input_layer`, or the `name = "…"` given).
    pub name: &'static str,
    /// Its Keras dtype: `float32`, or `int32` for token ids.
    pub dtype: &'static str,
}

/// A model generated by `keras_model!`.
pub trait Model {
    /// What `predict` takes: one sample, without the batch axis.
    type Input;
    /// The element type of the input: `f32`, or `u32` token ids for a model that starts with
    /// `Embedding`.
    type InputElem: Copy;
    /// What `predict` returns for one sample.
    type Output;
    /// The Keras input shape without the batch axis (the first input's, when there are several).
    const INPUT_SHAPE: &'static [usize];
    /// The shapes of every input, in the order of the model's inputs.
    const INPUT_SHAPES: &'static [&'static [usize]] = &[Self::INPUT_SHAPE];
    /// The Keras output shape without the batch axis (the first output's, when a recurrent last
    /// layer has `return_state = True`).
    const OUTPUT_SHAPE: &'static [usize];
    /// The shapes of every output: one, or the output followed by the final states of a last
    /// recurrent layer with `return_state = True`.
    const OUTPUT_SHAPES: &'static [&'static [usize]] = &[Self::OUTPUT_SHAPE];
    /// Number of parameters; equals Keras's `model.count_params()`.
    const PARAMS: usize;
    /// Number of values in one output (all outputs together when there are several).
    const OUTPUT_LEN: usize;
    /// How the model was declared (name, Sequential or functional, inputs, outputs), for
    /// writing Keras's `config.json`; `None` for a model that does not say (hand-written).
    const GRAPH: Option<ModelGraph> = None;

    /// One input sample from its values in Keras's row-major order; checks the length (and,
    /// for token ids, their range).
    fn input_from_slice(values: &[Self::InputElem]) -> Result<Self::Input, Error>;

    /// Copies an output into `out` (length [`Model::OUTPUT_LEN`]) in Keras's row-major order,
    /// several outputs one after the other.
    fn output_to_slice(output: &Self::Output, out: &mut [f32]);

    /// Runs the model on one sample (Keras `predict` on a batch of one). Never allocates.
    fn predict(&self, input: &Self::Input) -> Self::Output;

    /// The model with every weight zero (its layers configured as declared): what the loaders
    /// fill. Built by value; [`Model::zeroed_boxed`] builds it on the heap instead.
    fn zeroed() -> Self
    where
        Self: Sized;

    /// Makes a model whose bytes are all zero equal to [`Model::zeroed`], in place: sets the few
    /// configuration fields that are not zero (activations, epsilons, …) without building any
    /// layer by value. On any other model the result is unspecified (but a valid model).
    #[doc(hidden)]
    fn init_zeroed(&mut self)
    where
        Self: Sized,
    {
        *self = Self::zeroed();
    }

    /// [`Model::zeroed`] on the heap: allocated as zero bytes and set up in place, so even a
    /// model of many megabytes is never built on the stack.
    #[cfg(feature = "std")]
    fn zeroed_boxed() -> std::boxed::Box<Self>
    where
        Self: Sized + crate::Zeroable,
    {
        let mut model = crate::memory::zeroed_box::<Self>();
        model.init_zeroed();
        model
    }

    /// Runs the model on a batch: `outputs[i] = predict(&inputs[i])`. Never allocates.
    ///
    /// Models generated by `keras_model!` share each weight read across the batch where a layer
    /// allows (matrix-matrix products for Dense and the input projections of recurrent layers,
    /// one recurrent product per step for the whole batch), so a batch costs less per sample
    /// than single calls. This default simply loops.
    ///
    /// # Panics
    /// When `inputs` and `outputs` have different lengths.
    fn predict_batch(&self, inputs: &[Self::Input], outputs: &mut [Self::Output]) {
        assert_eq!(
            inputs.len(),
            outputs.len(),
            "predict_batch: as many outputs as inputs"
        );
        for (x, y) in inputs.iter().zip(outputs) {
            *y = self.predict(x);
        }
    }

    /// Calls `f` on every layer in order, with the layer's description and its weights.
    fn visit_layers_mut(
        &mut self,
        f: &mut dyn FnMut(LayerInfo, &mut dyn Weights) -> Result<(), Error>,
    ) -> Result<(), Error>;

    /// Calls `f` on every layer in order (read-only).
    fn visit_layers(&self, f: &mut dyn FnMut(LayerInfo, &dyn Weights));
}

/// A model whose activations `keras_model!` planned at compile time into one [`Workspace`]
/// (every generated model): each activation has its place in it, a buffer is reused once its
/// last reader has run, and layers that can overwrite their input (activations,
/// BatchNormalization, `Add` into its first input) do so when nothing reads the input later.
///
/// [`Workspace`]: crate::Workspace
pub trait Planned: Model {
    /// The peak activation memory of one sample, in bytes: the size of [`Planned::Workspace`].
    /// The model's inputs (borrowed) and its returned outputs are not part of it.
    const ACTIVATION_BYTES: usize;

    /// Whether [`Model::predict`] makes (and zeroes) a workspace on its stack at every call: a
    /// model whose activations, as one stack binding each, would take more than 256 KiB. Such
    /// a model saves that zeroing through [`Planned::predict_in`] with a workspace kept between
    /// calls; its `predict_batch` makes one workspace per batch (per part, across threads).
    const PREDICT_MAKES_WORKSPACE: bool;

    /// The workspace `predict_in` runs in (`Workspace<{ACTIVATION_BYTES / 4}>`).
    type Workspace: crate::Zeroable;

    /// A workspace on the heap, allocated zeroed (never on the stack).
    #[cfg(feature = "std")]
    fn boxed_workspace() -> std::boxed::Box<Self::Workspace> {
        crate::memory::zeroed_box()
    }

    /// Runs the model on one sample with every activation in `workspace`: no allocation, and
    /// no activation on the stack but the returned output (and the few small values a layer
    /// without an in-place form returns by value). Gives exactly the bits of [`Model::predict`].
    fn predict_in(&self, input: &Self::Input, workspace: &mut Self::Workspace) -> Self::Output;
}

/// A model whose recurrent layers set `stateful = True`: their final states can be carried from
/// one call to the next, so a stream is fed one chunk (the model's time steps) at a time.
///
/// Keras keeps the states inside a stateful layer (with a fixed batch size); here they live in a
/// separate [`StatefulModel::State`] value, so the model stays shareable (`&self`) and one model
/// can serve several streams. [`Model::predict`] on such a model starts from zero states every
/// time, like `predict_stateful` after `reset_state`.
pub trait StatefulModel: Model {
    /// The carried states of the stateful layers; `Default` is all zeros (Keras `reset_state`).
    type State: Default + Clone;

    /// Runs the model on one chunk from `state` and leaves the final states in it.
    fn predict_stateful(&self, state: &mut Self::State, input: &Self::Input) -> Self::Output;

    /// Zeroes the states (Keras `layer.reset_state()` on every stateful layer).
    fn reset_state(state: &mut Self::State) {
        *state = Self::State::default();
    }
}

/// Fills every variable of `model` from raw little-endian f32 values in Keras `model.weights` order.
///
/// The length must be exactly `M::PARAMS * 4` bytes.
pub fn load_le_bytes<M: Model>(model: &mut M, bytes: &[u8]) -> Result<(), Error> {
    let expected = M::PARAMS * 4;
    if bytes.len() != expected {
        return Err(Error::WeightBytes {
            expected,
            actual: bytes.len(),
        });
    }
    let mut rest = bytes;
    model.visit_layers_mut(&mut |_, layer| {
        for (index, var) in layer.variables().iter().enumerate() {
            // PARAMS and the variables come from the same macro; a mismatch is a bug, reported
            // as an error rather than a panic all the same.
            let Some((head, tail)) = rest.split_at_checked(var.len() * 4) else {
                return Err(Error::WeightBytes {
                    expected,
                    actual: bytes.len(),
                });
            };
            let mut values = head
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            layer.load_variable(index, &mut values);
            rest = tail;
        }
        Ok(())
    })
}

/// Like [`load_le_bytes`], and first checks every variable's shape against `shapes` (one entry
/// per variable, in `model.weights` order): for weights whose shapes were recorded elsewhere,
/// such as those `keras_model!` embeds from a `.keras` file.
pub fn load_le_bytes_checked<M: Model>(
    model: &mut M,
    bytes: &[u8],
    shapes: &[&'static [usize]],
) -> Result<(), Error> {
    let mut index = 0;
    let mut mismatch = None;
    model.visit_layers(&mut |info, layer| {
        for var in layer.variables() {
            let found = shapes.get(index).copied();
            if mismatch.is_none() && found != Some(var.shape) {
                mismatch = Some(Error::WeightShape {
                    layer: info.name,
                    variable: var.name,
                    expected: var.shape,
                    found: found.unwrap_or(&[]),
                });
            }
            index += 1;
        }
    });
    if let Some(error) = mismatch {
        return Err(error);
    }
    if index != shapes.len() {
        return Err(Error::WeightCount {
            expected: index,
            actual: shapes.len(),
        });
    }
    load_le_bytes(model, bytes)
}

/// Implements [`Weights`] for a layer without variables.
macro_rules! no_weights {
    ($($ty:tt)*) => {
        impl $($ty)* {
            fn variables(&self) -> &'static [$crate::Variable] {
                &[]
            }
            fn load_variable(&mut self, _: usize, _: &mut dyn Iterator<Item = f32>) {}
            fn store_variable(&self, _: usize, _: &mut dyn FnMut(f32)) {}
        }
    };
}
pub(crate) use no_weights;
