//! One file per Keras layer family, mirroring the runtime's `layers` module. Each family gives,
//! per layer: its Keras signature, how to build its spec from arguments (parse rule), its shape
//! rule, its parameter count, and the runtime type and code it becomes.

mod activation;
mod conv;
mod dense;
mod dropout;
mod pool;
mod reshape;

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::args::{Args, Param};

/// A shape rule's complaint, spanned on the argument at fault (or the layer).
pub struct ShapeError {
    pub span: Span,
    pub message: String,
}

impl ShapeError {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Self {
            span,
            message: message.into(),
        }
    }
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

    /// The runtime type of the layer's field.
    fn field_type(&self, input: &[usize], output: &[usize]) -> TokenStream;

    /// An expression building the layer with zero weights.
    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let ty = self.field_type(input, output);
        quote!(<#ty as ::core::default::Default>::default())
    }

    /// The inference-relevant entries of the layer's Keras config, resolved to Keras defaults
    /// (what a loader compares with a saved `config.json`).
    fn config(&self) -> Vec<(&'static str, Cfg)> {
        Vec::new()
    }

    /// Whether the layer is the identity at inference: codegen then passes its input on without
    /// even a copy.
    fn identity(&self) -> bool {
        false
    }

    /// The forward pass of this layer as an expression over `x` (a reference to the input).
    fn forward(
        &self,
        field: TokenStream,
        x: TokenStream,
        _input: &[usize],
        _output: &[usize],
    ) -> TokenStream {
        let rt = rt();
        quote!(#rt::Layer::forward(&#field, #x))
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
    conv::CONV1D,
    conv::CONV2D,
    conv::CONV3D,
    pool::MAX_POOLING1D,
    pool::MAX_POOLING2D,
    pool::MAX_POOLING3D,
    pool::AVERAGE_POOLING1D,
    pool::AVERAGE_POOLING2D,
    pool::AVERAGE_POOLING3D,
];

pub fn lookup(class: &str) -> Option<&'static Entry> {
    LAYERS.iter().find(|e| e.class == class)
}

/// The path generated code reaches the runtime through.
pub fn rt() -> TokenStream {
    quote!(::static_keras::__private)
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
