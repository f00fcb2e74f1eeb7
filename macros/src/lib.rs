//! The `keras_model!` procedural macro of [static-keras](https://docs.rs/static-keras).
//!
//! Use it through the `static-keras` crate, which re-exports it together with the runtime the
//! generated code needs. The pipeline itself lives in `static-keras-dsl`; this crate is its entry.

use proc_macro::TokenStream;

/// Declares a Keras model as a Rust struct whose shapes are checked at compile time.
///
/// See the `static-keras` crate for the DSL and the generated API.
#[proc_macro]
pub fn keras_model(input: TokenStream) -> TokenStream {
    static_keras_dsl::expand(input.into()).into()
}
