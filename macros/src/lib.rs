//! The `keras_model!` procedural macro of [static-keras](https://docs.rs/static-keras).
//!
//! Use it through the `static-keras` crate, which re-exports it together with the runtime the
//! generated code needs. The pipeline is parse (DSL syntax) → model (typed layers with their
//! resolved Keras arguments) → check (shape inference and Keras's rules) → codegen.

mod args;
mod check;
mod codegen;
mod ctxt;
mod embed;
mod import;
mod layers;
mod model;
mod parse;
mod suggest;
mod summary;

use proc_macro::TokenStream;

/// Declares a Keras model as a Rust struct whose shapes are checked at compile time.
///
/// See the `static-keras` crate for the DSL and the generated API.
#[proc_macro]
pub fn keras_model(input: TokenStream) -> TokenStream {
    match syn::parse_macro_input!(input as import::Declaration) {
        import::Declaration::Inline(input) => codegen::expand(*input),
        import::Declaration::File(decl) => embed::expand(decl),
    }
    .into()
}
