//! Stage 1: the DSL's syntax. Layer calls are parsed as Rust expressions, which Keras's Python
//! call syntax happens to be (`Dense(32, activation = "relu")` is a call with an assignment
//! argument), so spans come for free and Keras code pastes in.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{braced, Attribute, Expr, Ident, Token, Visibility};

/// Everything between the braces of `keras_model! { … }`.
pub struct ModelInput {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    /// `input_shape: (…)` with the span of its key.
    pub input_shape: Option<(Ident, Expr)>,
    pub layers: Vec<LayerCall>,
    /// Errors found while reading the body; reported together with the later stages' errors.
    pub errors: Vec<syn::Error>,
}

/// One layer of the `layers: [...]` list.
pub struct LayerCall {
    /// The Keras class name as written (`Dense`), spanned.
    pub class: Ident,
    pub args: Vec<Arg>,
    /// The whole call, for errors about the layer as a whole.
    pub expr: Expr,
}

/// One argument of a layer call.
pub struct Arg {
    /// `Some(name)` for `name = value`.
    pub key: Option<Ident>,
    pub value: Expr,
    /// The whole argument.
    pub expr: Expr,
}

const FIELDS: &[&str] = &["input_shape", "layers"];

impl Parse for ModelInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        input.parse::<Token![struct]>()?;
        let ident: Ident = input.parse()?;
        let content;
        braced!(content in input);
        let mut model = ModelInput {
            attrs,
            vis,
            ident,
            input_shape: None,
            layers: Vec::new(),
            errors: Vec::new(),
        };
        let mut saw_layers = false;
        while !content.is_empty() {
            let key: Ident = content.parse()?;
            content.parse::<Token![:]>()?;
            let value: Expr = content.parse()?;
            match key.to_string().as_str() {
                "input_shape" if model.input_shape.is_some() => model
                    .errors
                    .push(syn::Error::new(key.span(), "duplicate `input_shape`")),
                "input_shape" => model.input_shape = Some((key, value)),
                "layers" if saw_layers => model
                    .errors
                    .push(syn::Error::new(key.span(), "duplicate `layers`")),
                "layers" => {
                    saw_layers = true;
                    model.layers = parse_layers(value, &mut model.errors);
                }
                other => model.errors.push(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown model field `{other}`: expected `input_shape` or `layers`{}",
                        crate::suggest::did_you_mean(other, FIELDS.iter().copied())
                    ),
                )),
            }
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        if !saw_layers {
            model.errors.push(syn::Error::new(
                model.ident.span(),
                "the model has no `layers: [...]` list",
            ));
        }
        Ok(model)
    }
}

fn parse_layers(value: Expr, errors: &mut Vec<syn::Error>) -> Vec<LayerCall> {
    let Expr::Array(array) = value else {
        errors.push(syn::Error::new_spanned(
            value,
            "`layers` must be a list in brackets: `layers: [Dense(10), ...]`",
        ));
        return Vec::new();
    };
    array
        .elems
        .into_iter()
        .filter_map(|expr| match layer_call(&expr) {
            Ok(call) => Some(call),
            Err(e) => {
                errors.push(e);
                None
            }
        })
        .collect()
}

fn layer_call(expr: &Expr) -> syn::Result<LayerCall> {
    let Expr::Call(call) = expr else {
        let hint = match expr {
            Expr::Path(p) if p.path.get_ident().is_some() => format!(
                "; write `{}()`",
                p.path.get_ident().map(Ident::to_string).unwrap_or_default()
            ),
            _ => String::new(),
        };
        return Err(syn::Error::new_spanned(
            expr,
            format!("expected a layer call such as `Dense(10)`{hint}"),
        ));
    };
    // `Dense`, `layers.Dense` and `keras.layers.Dense` all name the class `Dense`.
    let class = match &*call.func {
        Expr::Path(p) if p.path.segments.len() == 1 => p.path.segments[0].ident.clone(),
        Expr::Field(f) => match &f.member {
            syn::Member::Named(ident) => ident.clone(),
            syn::Member::Unnamed(_) => {
                return Err(syn::Error::new_spanned(&call.func, "expected a layer name"))
            }
        },
        other => return Err(syn::Error::new_spanned(other, "expected a layer name")),
    };
    let args = call
        .args
        .iter()
        .map(|arg| match arg {
            Expr::Assign(assign) => match &*assign.left {
                Expr::Path(p) if p.path.get_ident().is_some() => Ok(Arg {
                    key: p.path.get_ident().cloned(),
                    value: (*assign.right).clone(),
                    expr: arg.clone(),
                }),
                other => Err(syn::Error::new_spanned(other, "expected an argument name")),
            },
            value => Ok(Arg {
                key: None,
                value: value.clone(),
                expr: arg.clone(),
            }),
        })
        .collect::<syn::Result<Vec<_>>>()?;
    Ok(LayerCall {
        class,
        args,
        expr: expr.clone(),
    })
}

impl LayerCall {
    /// Span of the whole call (used where a message concerns the layer, not one argument).
    pub fn span(&self) -> Span {
        self.expr.span()
    }
}
