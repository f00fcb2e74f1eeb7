//! The pipeline behind `keras_model!` of [static-keras](https://docs.rs/static-keras), as plain
//! Rust over syn: parse (the DSL's syntax) → model (a graph of typed layers with their resolved
//! Keras arguments) → check (shape inference and Keras's rules) → codegen. The procedural macro
//! crate is a thin entry point over [`expand`]; the `static-keras` command-line tool uses the same
//! stages to print a file's summary and declaration, so both agree by construction.
//!
//! Not a public API of static-keras: it may change in any release.

mod args;
mod check;
mod codegen;
mod ctxt;
mod embed;
pub mod import;
mod layers;
mod model;
mod parse;
mod suggest;
mod summary;

use proc_macro2::TokenStream;

/// Expands the body of `keras_model! { … }` into the generated items, or into compile errors
/// spanned on the offending tokens.
pub fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<import::Declaration>(input) {
        Ok(import::Declaration::Inline(input)) => codegen::expand(*input),
        Ok(import::Declaration::File(decl)) => embed::expand(decl),
        Err(e) => e.to_compile_error(),
    }
}

/// What `static-keras inspect` prints for a saved architecture.
pub struct Inspection {
    /// The table Keras's `model.summary()` prints, for a model named `ident`.
    pub summary: String,
    /// The `keras_model!` declaration matching the file, ready to paste.
    pub declaration: String,
    /// Whether the compiler can build every layer, so that the declaration `from "…" with
    /// weights` has the `const` model `EMBEDDED` (otherwise only `load_embedded()`).
    pub embedded_const: bool,
}

/// Runs a saved architecture through the same stages as `keras_model!` (translation, model,
/// shape check) and renders its summary and declaration; the errors name each layer at fault.
pub fn inspect(
    config: &static_keras_file::ModelConfig,
    ident: &str,
) -> Result<Inspection, Vec<String>> {
    let translation = import::translate(config)?;
    let (model, shapes) = translation.analyse(config)?;
    let embedded_const =
        codegen::api::const_constructor(&codegen::Plan::new(&model, &shapes)).is_some();
    Ok(Inspection {
        summary: summary::render(ident, &import::rows(&model, &shapes)),
        declaration: translation.declaration("pub ", ident),
        embedded_const,
    })
}
