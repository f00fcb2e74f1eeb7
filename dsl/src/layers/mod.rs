//! One file per Keras layer family, mirroring the runtime's `layers` module. Each family gives,
//! per layer: its Keras signature, how to build its spec from arguments (parse rule), its shape
//! rule, its parameter count, and the runtime type and code it becomes.

mod activation;
mod advanced_activation;
mod axes;
mod conv;
mod conv_transpose;
mod dense;
mod depthwise;
mod dropout;
mod embedding;
mod global_pool;
mod identity;
mod masking;
mod merge;
mod norm;
mod padding;
mod pool;
mod recurrent;
mod reshape;
mod upsampling;
mod wrappers;

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::args::{Args, Param};

/// A shape rule's complaint, spanned on the argument at fault (or the layer).
pub struct ShapeError {
    pub span: Span,
    pub message: String,
    /// The layer wanted a sequence `(timesteps, features)`: the checker then adds the previous
    /// layer's [`LayerSpec::sequence_hint`], if it has one.
    pub wants_sequence: bool,
}

impl ShapeError {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Self {
            span,
            message: message.into(),
            wants_sequence: false,
        }
    }

    /// Marks the error as "this layer needs a sequence input".
    pub fn wanting_sequence(mut self) -> Self {
        self.wants_sequence = true;
        self
    }
}

/// One input of a merge layer: its shape and where it came from, for messages.
pub struct Operand {
    pub shape: Vec<usize>,
    /// "the output of `conv2d`", "the model input `image`".
    pub origin: String,
}

/// What codegen hands a merge layer's backward pass (see [`LayerSpec::backward_merge`]).
pub struct MergeBackward<'a> {
    /// The layer's field, `self.name`.
    pub field: TokenStream,
    /// References to the inputs.
    pub xs: &'a [TokenStream],
    /// A reference to the output.
    pub y: TokenStream,
    /// A reference to the output's gradient.
    pub dy: TokenStream,
    /// `&mut` expressions of each input's gradient, `None` where none is wanted.
    pub dxs: &'a [Option<TokenStream>],
    pub inputs: &'a [Vec<usize>],
    pub output: &'a [usize],
}

/// What codegen hands a layer's forward pass ([`LayerSpec::forward`]).
pub struct Forward<'a> {
    /// The layer's field, `self.name`.
    pub field: TokenStream,
    /// A reference to the input tensor.
    pub x: TokenStream,
    /// A reference to the input's Keras mask, `&[bool; P]` (one per position), if it has one.
    pub mask: Option<TokenStream>,
    /// `&mut` to the layer's carried state, when it is stateful ([`LayerSpec::state_type`]).
    pub state: Option<TokenStream>,
    pub input: &'a [usize],
    pub output: &'a [usize],
}

/// A layer with its arguments resolved.
pub trait LayerSpec {
    /// The Keras class name (`Dense`).
    fn class(&self) -> &'static str;

    /// Keras output shape (no batch axis) for `input`, or why the layer cannot take it.
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError>;

    /// Number of parameters for this input (Keras `count_params()`).
    fn params(&self, _input: &[usize]) -> usize {
        0
    }

    /// How many of [`LayerSpec::params`] are non-trainable variables (BatchNormalization's
    /// moving statistics), which Keras's summary counts apart.
    fn non_trainable_params(&self, _input: &[usize]) -> usize {
        0
    }

    // --- Merge layers (`Add`, `Concatenate`, …) take their inputs as one list. The defaults fit
    // --- every other layer.

    /// Whether the layer merges a list of tensors.
    fn merge(&self) -> bool {
        false
    }

    /// A merge layer's output shape for its inputs, or why they do not fit together (the
    /// message names each offending input's shape and origin).
    fn merge_shape(&self, _inputs: &[Operand], span: Span) -> Result<Vec<usize>, ShapeError> {
        Err(ShapeError::new(span, "not a merge layer"))
    }

    /// A merge layer's forward pass: an expression over `xs` (references to the inputs).
    fn forward_merge(
        &self,
        _field: TokenStream,
        _xs: &[TokenStream],
        _inputs: &[Vec<usize>],
        _output: &[usize],
    ) -> TokenStream {
        quote!(::core::unreachable!())
    }

    /// Whether the layer trains (`Net::compile`): its runtime type implements the runtime's
    /// `Train` (merge layers: [`LayerSpec::backward_merge`]). `Err` says why not; a model with
    /// such a layer has no training step, and calling `compile` on it is a compile error with
    /// that message.
    fn training(&self) -> Result<(), String> {
        Err(format!("{} has no training path yet", self.class()))
    }

    /// The type the training step views the layer's field as, when it trains as another type
    /// than its field's (`#[repr(transparent)]` over it, built with `from_ref` / `from_mut`): a
    /// fused `glu` activation trains as the layer then glu (the runtime's `train::ThenGlu`).
    fn train_adapter(
        &self,
        _ty: &TokenStream,
        _input: &[usize],
        _output: &[usize],
    ) -> Option<TokenStream> {
        None
    }

    /// Whether the layer's training pass reads its input's Keras mask: its runtime type
    /// implements the runtime's `MaskedTrain`, which the training step calls for a call whose
    /// input has a mask (a call without one trains through `Train`, per
    /// [`LayerSpec::training`]). Recurrent layers skip masked steps; `GlobalAveragePooling1D`
    /// averages the kept ones.
    fn masked_training(&self) -> bool {
        false
    }

    /// A merge layer's backward pass for one sample: statements adding `∂loss/∂input_i` into
    /// `b.dxs[i]` where one is wanted.
    fn backward_merge(&self, _b: MergeBackward) -> TokenStream {
        quote!(::core::unreachable!();)
    }

    /// The runtime type of the layer's field.
    fn field_type(&self, input: &[usize], output: &[usize]) -> TokenStream;

    /// An expression building the layer with zero weights.
    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let ty = self.field_type(input, output);
        quote!(<#ty as ::core::default::Default>::default())
    }

    /// Statements making `place` (a place expression of the field's type whose bytes are all
    /// zero, e.g. `(*model).dense`) equal to [`LayerSpec::init`] without building the layer by
    /// value: they set the few configuration fields that are not zero (activation, epsilon, …).
    /// How `Net::zeroed_boxed()` builds a model of many megabytes on the heap with no stack
    /// copy. `None` (the default) assigns `init`, which builds the layer on the stack: right for
    /// a layer without weights or with few, which every layer with weights overrides.
    fn init_zeroed(
        &self,
        _input: &[usize],
        _output: &[usize],
        _place: TokenStream,
    ) -> Option<TokenStream> {
        None
    }

    /// How the layer's output may share memory with its input in the planned workspace
    /// (`predict_in`): see [`Memory`].
    fn memory(&self) -> Memory {
        Memory::Own
    }

    /// The inference-relevant entries of the layer's Keras config, resolved to Keras defaults
    /// (what a loader compares with a saved `config.json`).
    fn config(&self) -> Vec<(&'static str, Cfg)> {
        Vec::new()
    }

    /// A `const` expression building the layer from `weights`, an expression of type `&[u8]`
    /// holding exactly its parameters as raw little-endian f32 in Keras order; `None` if the
    /// layer cannot be built at compile time (the model then has no `from_le_bytes_const`).
    fn init_const(
        &self,
        _input: &[usize],
        _output: &[usize],
        _weights: TokenStream,
    ) -> Option<TokenStream> {
        None
    }

    /// How the layer's forward pass runs for a call, given everything codegen knows about it:
    /// the input's mask, the layer's carried state ([`LayerSpec::state_type`]), the shapes.
    /// Every path of the generated code (`predict`, `predict_batch`, `predict_in`,
    /// `predict_stateful`) is derived from this one answer by the plan, so a layer cannot claim
    /// a batched or in-place kernel while running other code: see [`Pass`]. By default the
    /// runtime layer's own `Layer::forward`, one sample at a time, and the mask does not change
    /// the values (only recurrent layers and a few others consume it).
    ///
    /// The answer's kind ([`Pass`] without its tokens) must depend only on the call (whether
    /// its input has a mask, whether the layer has state), never on the token expressions
    /// given: codegen checks that.
    fn forward(&self, _f: Forward) -> Pass {
        Pass::Layer(Run::PerSample)
    }

    // --- Masks, token ids, states, several outputs. The defaults fit a layer that does not
    // --- take part (Keras's `supports_masking = False`), so most layers override nothing.

    /// The mask of the layer's output (Keras `compute_mask`), an expression of type
    /// `&[bool; P]`, given the input `x` and the input's mask. `None` drops the mask, Keras's
    /// default for layers that do not support masking (Conv, pooling, Flatten, Reshape).
    ///
    /// Reshape drops it even when its output shape equals its input shape: on JAX such a
    /// Reshape returns the very same array, so Keras's mask attribute survives it, but that is
    /// a backend accident (TensorFlow returns a new tensor and the mask is gone), not the
    /// documented `supports_masking = False`.
    fn output_mask(
        &self,
        _x: &TokenStream,
        _input_mask: Option<&TokenStream>,
    ) -> Option<TokenStream> {
        None
    }

    /// `Some(input_dim)` if the layer reads token ids below `input_dim` (Embedding): it must
    /// come first, and the model then takes `TokenIds` (`u32`) instead of floats.
    fn token_input(&self) -> Option<usize> {
        None
    }

    /// An input shape given by the layer's own arguments (Embedding's `input_length`), with the
    /// argument's span. Only meaningful on the first layer.
    fn implied_input_shape(&self) -> Option<(Vec<usize>, Span)> {
        None
    }

    /// Checks that depend on where the layer stands in the model (`index` of `count` layers),
    /// e.g. Embedding only first, `return_state` only last.
    fn check_position(&self, _index: usize, _count: usize) -> Result<(), ShapeError> {
        Ok(())
    }

    /// Keras `return_state`: the shapes of the outputs the layer returns after its main output.
    /// [`LayerSpec::forward`] then evaluates to a tuple `(output, extra…)`.
    fn extra_outputs(&self) -> Vec<Vec<usize>> {
        Vec::new()
    }

    /// [`LayerSpec::extra_outputs`] for this input, where their shapes depend on it
    /// (`Bidirectional(…, merge_mode = None)` returns the backward layer's sequence).
    fn extra_output_shapes(&self, _input: &[usize]) -> Vec<Vec<usize>> {
        self.extra_outputs()
    }

    /// The masks of the outputs past the first (Keras `compute_mask` of a layer returning
    /// several tensors), one per extra output, as [`LayerSpec::output_mask`] gives the first's;
    /// none by default.
    fn extra_output_masks(
        &self,
        _x: &TokenStream,
        _input_mask: Option<&TokenStream>,
    ) -> Vec<Option<TokenStream>> {
        Vec::new()
    }

    /// [`LayerSpec::output_mask`] knowing the call's input and output shapes (a wrapper passes
    /// the mask on only where its output keeps the input's positions). By default the same.
    fn output_mask_for(
        &self,
        x: &TokenStream,
        input_mask: Option<&TokenStream>,
        _input: &[usize],
        _output: &[usize],
    ) -> Option<TokenStream> {
        self.output_mask(x, input_mask)
    }

    /// The classes of the layers this one creates inside itself without a name (a wrapper's
    /// `TimeDistributed(Dense(4))`), in creation order: in Keras each takes a number from its
    /// class's counter of automatic names (`dense`, `dense_1`, …) before the wrapper is named.
    fn nested_auto_names(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// For a wrapper, whether the layers it wraps are trained: their own `trainable` flags. In
    /// Keras 3.15.1 a wrapper's own `trainable=False` given to its constructor leaves the wrapped
    /// layer's variables trainable (`model.trainable_variables` and the summary count them), while
    /// the wrapped layer's `trainable=False` freezes them. `None` for other layers (their
    /// `trainable` argument decides).
    fn wrapped_trainable(&self) -> Option<bool> {
        None
    }

    /// The runtime type of the state the layer carries from one `predict_stateful` call to the
    /// next (Keras `stateful = True`), or `None`.
    fn state_type(&self) -> Option<TokenStream> {
        None
    }

    /// When the layer reduced a sequence to one step (an RNN without `return_sequences`), how to
    /// keep the sequence: added to the error of a following layer that wanted one.
    fn sequence_hint(&self, _name: &str) -> Option<String> {
        None
    }
}

/// How a layer's output may share memory with its input in the planned workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Memory {
    /// The output needs a buffer of its own.
    Own,
    /// The output is the input's bytes unchanged (Reshape, Flatten): it shares the input's
    /// buffer and no code runs.
    View,
    /// The layer can write its output over its (first) input, computing the same bits, with
    /// the runtime's `InPlace::forward_in_place` (a merge layer: `MergeInPlace::merge_in_place`
    /// over its first input); the planner does so when nothing reads the input later. The
    /// output has the input's shape.
    InPlace,
}

/// How a layer's forward pass runs for one call ([`LayerSpec::forward`]): declared once, so the
/// per-sample, batched and in-place paths the plan derives from it cannot disagree.
pub enum Pass {
    /// The input passed on unchanged at inference (Dropout and the other inference
    /// identities): no code, not even a copy.
    Identity,
    /// The runtime layer's `Layer::forward(&field, x)` and nothing else; how else the plan may
    /// run it is [`Run`].
    Layer(Run),
    /// The runtime layer's `Layer::forward(&field, x)`, then Keras's `glu` over the last axis
    /// (`activation = "glu"` of Dense and the convolutions): the runtime layer holds a linear
    /// activation and returns twice the output's last axis, which the runtime's `Glu` halves.
    /// Runs one sample at a time and never in place.
    Glu,
    /// Any other expression over the input (masked or stateful code, several outputs, a
    /// wrapper's loop): runs one sample at a time, never batched nor written in place.
    Expr(TokenStream),
}

/// How codegen may run a [`Pass::Layer`]: each is `Layer::forward` computed another way by the
/// runtime layer, with the same result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    /// Only `Layer::forward`: a batch loops over its samples.
    PerSample,
    /// A batch runs `Layer::forward_batch` over a whole chunk of samples (layers that batch
    /// better than a loop: one matrix product for Dense, recurrent steps in lockstep).
    Batched,
    /// As `Batched`, and `predict` keeps the activation in its own binding written by
    /// `Layer::forward_into` rather than copying a returned value (large outputs:
    /// convolutions, pooling).
    BatchedInto,
}

/// The expression [`LayerSpec::forward`] evaluates to for this call (an inference identity: a
/// clone of its input).
pub fn forward_expr(spec: &dyn LayerSpec, f: Forward) -> TokenStream {
    let (field, x, output) = (f.field.clone(), f.x.clone(), f.output);
    let rt = rt();
    match spec.forward(f) {
        Pass::Identity => quote!(::core::clone::Clone::clone(#x)),
        Pass::Layer(_) => quote!(#rt::Layer::forward(&#field, #x)),
        Pass::Glu => {
            let fout = dims(output).0;
            let (fin, fout) = (lit(2 * fout), lit(fout));
            quote!(#rt::Layer::forward(&#rt::Glu::<#fin, #fout>, &#rt::Layer::forward(&#field, #x)))
        }
        Pass::Expr(expr) => expr,
    }
}

/// A Keras config value (mirrors the runtime's `ConfigValue`).
#[allow(dead_code)] // every variant is used by some layer family
pub enum Cfg {
    Int(i64),
    Ints(Vec<i64>),
    Float(f64),
    Bool(bool),
    Str(String),
    None,
    /// Axis indices and the rank of the input (batch axis included).
    Axes(Vec<i64>, usize),
    Floats(Vec<f64>),
    /// A wrapped layer's config, `{"class_name": …, "config": {…}}` (TimeDistributed's `layer`).
    Layer {
        class: &'static str,
        config: Vec<(&'static str, Cfg)>,
    },
}

impl quote::ToTokens for Cfg {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let rt = rt();
        tokens.extend(match self {
            Cfg::Int(v) => quote!(#rt::ConfigValue::Int(#v)),
            Cfg::Ints(v) => quote!(#rt::ConfigValue::Ints(&[#(#v),*])),
            Cfg::Float(v) => quote!(#rt::ConfigValue::Float(#v)),
            Cfg::Bool(v) => quote!(#rt::ConfigValue::Bool(#v)),
            Cfg::Str(v) => quote!(#rt::ConfigValue::Str(#v)),
            Cfg::None => quote!(#rt::ConfigValue::None),
            Cfg::Axes(axes, rank) => {
                quote!(#rt::ConfigValue::Axes { axes: &[#(#axes),*], rank: #rank })
            }
            Cfg::Floats(v) => quote!(#rt::ConfigValue::Floats(&[#(#v),*])),
            Cfg::Layer { class, config } => {
                let entries = config.iter().map(|(key, value)| quote!((#key, #value)));
                quote!(#rt::ConfigValue::Layer { class: #class, config: &[#(#entries),*] })
            }
        });
    }
}

/// One entry of the layer table.
pub struct Entry {
    pub class: &'static str,
    pub signature: &'static [Param],
    pub build: fn(&Args) -> Option<Box<dyn LayerSpec>>,
}

/// Every layer the DSL knows, by Keras class name.
pub const LAYERS: &[Entry] = &[
    dense::DENSE,
    activation::ACTIVATION,
    dropout::DROPOUT,
    reshape::FLATTEN,
    reshape::RESHAPE,
    embedding::EMBEDDING,
    recurrent::SIMPLE_RNN,
    recurrent::LSTM,
    recurrent::GRU,
    conv::CONV1D,
    conv::CONV2D,
    conv::CONV3D,
    pool::MAX_POOLING1D,
    pool::MAX_POOLING2D,
    pool::MAX_POOLING3D,
    pool::AVERAGE_POOLING1D,
    pool::AVERAGE_POOLING2D,
    pool::AVERAGE_POOLING3D,
    merge::ADD,
    merge::SUBTRACT,
    merge::MULTIPLY,
    merge::AVERAGE,
    merge::MAXIMUM,
    merge::MINIMUM,
    merge::CONCATENATE,
    merge::DOT,
    global_pool::GLOBAL_AVERAGE_POOLING1D,
    global_pool::GLOBAL_AVERAGE_POOLING2D,
    global_pool::GLOBAL_AVERAGE_POOLING3D,
    global_pool::GLOBAL_MAX_POOLING1D,
    global_pool::GLOBAL_MAX_POOLING2D,
    global_pool::GLOBAL_MAX_POOLING3D,
    padding::ZERO_PADDING1D,
    padding::ZERO_PADDING2D,
    padding::ZERO_PADDING3D,
    padding::CROPPING1D,
    padding::CROPPING2D,
    padding::CROPPING3D,
    upsampling::UP_SAMPLING1D,
    upsampling::UP_SAMPLING2D,
    upsampling::UP_SAMPLING3D,
    norm::BATCH_NORMALIZATION,
    norm::LAYER_NORMALIZATION,
    norm::GROUP_NORMALIZATION,
    norm::NORMALIZATION,
    norm::RESCALING,
    depthwise::DEPTHWISE_CONV1D,
    depthwise::DEPTHWISE_CONV2D,
    depthwise::SEPARABLE_CONV1D,
    depthwise::SEPARABLE_CONV2D,
    conv_transpose::CONV1D_TRANSPOSE,
    conv_transpose::CONV2D_TRANSPOSE,
    conv_transpose::CONV3D_TRANSPOSE,
    advanced_activation::RELU,
    advanced_activation::LEAKY_RELU,
    advanced_activation::PRELU,
    advanced_activation::ELU,
    advanced_activation::SOFTMAX,
    axes::REPEAT_VECTOR,
    axes::PERMUTE,
    masking::MASKING,
    identity::IDENTITY,
    identity::SPATIAL_DROPOUT1D,
    identity::SPATIAL_DROPOUT2D,
    identity::SPATIAL_DROPOUT3D,
    identity::GAUSSIAN_NOISE,
    identity::GAUSSIAN_DROPOUT,
    identity::ALPHA_DROPOUT,
    wrappers::TIME_DISTRIBUTED,
    wrappers::BIDIRECTIONAL,
];

/// The other names `keras.layers` exports for a class, `(alias, class)`: in Keras 3
/// `keras.layers.Convolution2D is keras.layers.Conv2D`, the same class object. An alias builds
/// exactly the class's layer, so automatic names (`conv2d`), the summary, the saved config's
/// `class_name` and the weight groups are the class's. A family adds its aliases here, one row
/// each (checked against `dir(keras.layers)` of Keras 3.15).
pub const ALIASES: &[(&str, &str)] = &[
    ("Convolution1D", "Conv1D"),
    ("Convolution2D", "Conv2D"),
    ("Convolution3D", "Conv3D"),
    ("MaxPool1D", "MaxPooling1D"),
    ("MaxPool2D", "MaxPooling2D"),
    ("MaxPool3D", "MaxPooling3D"),
    ("AvgPool1D", "AveragePooling1D"),
    ("AvgPool2D", "AveragePooling2D"),
    ("AvgPool3D", "AveragePooling3D"),
    ("Convolution1DTranspose", "Conv1DTranspose"),
    ("Convolution2DTranspose", "Conv2DTranspose"),
    ("Convolution3DTranspose", "Conv3DTranspose"),
    ("SeparableConvolution1D", "SeparableConv1D"),
    ("SeparableConvolution2D", "SeparableConv2D"),
    ("GlobalAvgPool1D", "GlobalAveragePooling1D"),
    ("GlobalAvgPool2D", "GlobalAveragePooling2D"),
    ("GlobalAvgPool3D", "GlobalAveragePooling3D"),
    ("GlobalMaxPool1D", "GlobalMaxPooling1D"),
    ("GlobalMaxPool2D", "GlobalMaxPooling2D"),
    ("GlobalMaxPool3D", "GlobalMaxPooling3D"),
];

/// The Keras class an alias stands for, or `name` itself.
pub fn canonical(name: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, class)| class)
}

/// Every layer name the DSL accepts: the classes, then the aliases of the classes it has. The
/// candidates of "did you mean" for an unknown layer (`Convolution2d` finds `Convolution2D`).
pub fn layer_names() -> impl Iterator<Item = &'static str> {
    LAYERS.iter().map(|e| e.class).chain(
        ALIASES
            .iter()
            .filter(|(_, class)| LAYERS.iter().any(|e| e.class == *class))
            .map(|(alias, _)| *alias),
    )
}

/// The layer a name stands for: a Keras class, or one of its aliases ([`ALIASES`]).
pub fn lookup(class: &str) -> Option<&'static Entry> {
    let class = canonical(class);
    LAYERS.iter().find(|e| e.class == class)
}

/// The path generated code reaches the runtime through.
pub fn rt() -> TokenStream {
    let krate = krate();
    quote!(#krate::__private)
}

thread_local! {
    /// The path of the `static-keras` crate in the code being generated: `::static_keras`, or
    /// what `#[static_keras(crate = "…")]` says (a renamed or re-exported dependency).
    static CRATE: std::cell::RefCell<Option<TokenStream>> = const { std::cell::RefCell::new(None) };
}

/// The path generated code names the facade crate by (see [`with_crate`]).
pub fn krate() -> TokenStream {
    CRATE.with(|c| c.borrow().clone().unwrap_or_else(|| quote!(::static_keras)))
}

/// Runs `f` with generated code naming the facade crate `path` (`None`: `::static_keras`).
pub fn with_crate<T>(path: Option<TokenStream>, f: impl FnOnce() -> T) -> T {
    let previous = CRATE.with(|c| c.replace(path));
    let out = f();
    CRATE.with(|c| *c.borrow_mut() = previous);
    out
}

/// `(F, P)`: the runtime tensor dimensions of a Keras shape (last axis, other axes folded).
pub fn dims(shape: &[usize]) -> (usize, usize) {
    match shape.split_last() {
        Some((last, rest)) => (*last, rest.iter().product()),
        None => (1, 1),
    }
}

/// `(3, 4)` / `(16,)`: a shape as Keras prints it, without the batch axis.
pub fn fmt_shape(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// An integer literal without a type suffix, for const generic arguments.
pub fn lit(n: usize) -> proc_macro2::Literal {
    proc_macro2::Literal::usize_unsuffixed(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_name_classes_and_are_not_classes() {
        for (alias, class) in ALIASES {
            let entry = lookup(alias).unwrap_or_else(|| panic!("{alias}: no layer {class}"));
            assert_eq!(entry.class, *class);
            assert!(
                LAYERS.iter().all(|e| e.class != *alias),
                "{alias} is a class"
            );
        }
        assert_eq!(lookup("Conv2D").map(|e| e.class), Some("Conv2D"));
        assert!(lookup("Convolution4D").is_none());
    }

    #[test]
    fn suggestions_know_the_aliases() {
        let did_you_mean_layer = |name| crate::suggest::did_you_mean(name, layer_names());
        assert_eq!(
            did_you_mean_layer("Convolution2d"),
            "; did you mean `Convolution2D`?"
        );
        assert_eq!(
            did_you_mean_layer("AvgPool2"),
            "; did you mean `AvgPool2D`?"
        );
        assert_eq!(did_you_mean_layer("Rellu"), "; did you mean `ReLU`?");
        let names: Vec<&str> = layer_names().collect();
        assert!(names.contains(&"MaxPool3D") && names.contains(&"Dense"));
    }
}
