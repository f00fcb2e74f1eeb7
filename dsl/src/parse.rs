//! Stage 1: the DSL's syntax. Two forms share one body, told apart by their first token:
//!
//! * the Sequential form, `input_shape: (…), layers: [Dense(10), …],`;
//! * the functional form, Keras's own functional style as statements:
//!   `x = Conv2D(16, 3)(image);`, ending with `Model(inputs = image, outputs = x);`.
//!
//! Layer calls are parsed as Rust expressions, which Keras's Python call syntax happens to be
//! (`Dense(32, activation = "relu")` is a call with an assignment argument), so spans come for
//! free and Keras code pastes in. What a call means (a new layer, a bound layer applied to a
//! tensor, an input) is decided by the model stage, which knows the names in scope.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{braced, bracketed, parenthesized, Attribute, Expr, Ident, Token, Visibility};

/// Everything between the braces of `keras_model! { … }`.
pub struct ModelInput {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    pub body: Body,
    /// Errors found while reading the body; reported together with the later stages' errors.
    pub errors: Vec<syn::Error>,
}

/// The two ways to write a model.
pub enum Body {
    Sequential(Sequential),
    Functional(Functional),
}

/// `input_shape: (…), layers: [...]`.
pub struct Sequential {
    /// `input_shape: (…)` with the span of its key.
    pub input_shape: Option<(Ident, Expr)>,
    pub layers: Vec<LayerCall>,
}

/// Statements in Keras's functional style.
pub struct Functional {
    pub statements: Vec<Statement>,
}

/// `targets = value;`, or a bare `value;` (the closing `Model(…)` line).
pub struct Statement {
    /// The names bound: one, or several for a layer returning several tensors
    /// (`out, h, c = LSTM(4, return_state = True)(x);`). Empty for a bare expression.
    pub targets: Vec<Ident>,
    pub value: Expr,
}

/// A layer constructor call: `Dense(10, activation = "relu")`.
pub struct LayerCall {
    /// The Keras class name as written (`Dense`), spanned.
    pub class: Ident,
    pub args: Vec<Arg>,
    /// The whole call, for errors about the layer as a whole.
    pub expr: Expr,
}

/// One argument of a call.
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
        let mut errors = Vec::new();
        // `name:` starts the Sequential form; anything else is a statement.
        let sequential = content.is_empty() || (content.peek(Ident) && content.peek2(Token![:]));
        let body = if sequential {
            Body::Sequential(parse_sequential(&content, &ident, &mut errors)?)
        } else {
            Body::Functional(parse_functional(&content)?)
        };
        Ok(ModelInput {
            attrs,
            vis,
            ident,
            body,
            errors,
        })
    }
}

fn parse_sequential(
    content: ParseStream,
    ident: &Ident,
    errors: &mut Vec<syn::Error>,
) -> syn::Result<Sequential> {
    let mut model = Sequential {
        input_shape: None,
        layers: Vec::new(),
    };
    let mut saw_layers = false;
    while !content.is_empty() {
        let key: Ident = content.parse()?;
        content.parse::<Token![:]>()?;
        let value: Expr = content.parse()?;
        match key.to_string().as_str() {
            "input_shape" if model.input_shape.is_some() => {
                errors.push(syn::Error::new(key.span(), "duplicate `input_shape`"))
            }
            "input_shape" => model.input_shape = Some((key, value)),
            "layers" if saw_layers => {
                errors.push(syn::Error::new(key.span(), "duplicate `layers`"))
            }
            "layers" => {
                saw_layers = true;
                model.layers = parse_layers(value, errors);
            }
            other => errors.push(syn::Error::new(
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
        errors.push(syn::Error::new(
            ident.span(),
            "the model has no `layers: [...]` list (or, in the functional form, no statements \
             such as `x = Input(shape = (4,));`)",
        ));
    }
    Ok(model)
}

fn parse_functional(content: ParseStream) -> syn::Result<Functional> {
    let mut statements = Vec::new();
    while !content.is_empty() {
        let targets = if starts_assignment(content) {
            let targets = parse_targets(content)?;
            content.parse::<Token![=]>()?;
            targets
        } else {
            Vec::new()
        };
        let mut value: Expr = content.parse()?;
        desugar(&mut value);
        if !content.is_empty() {
            content.parse::<Token![;]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected `;` after the statement (the functional form is one statement per `;`)",
                )
            })?;
        }
        statements.push(Statement { targets, value });
    }
    Ok(Functional { statements })
}

/// Whether the next tokens are `a =`, `a, b =`, `(a, b) =` or `[a, b] =`.
fn starts_assignment(input: ParseStream) -> bool {
    let fork = input.fork();
    parse_targets(&fork).is_ok() && fork.peek(Token![=]) && !fork.peek(Token![==])
}

/// `a`, `a, b, c`, `(a, b)`, `[a, b]`.
fn parse_targets(input: ParseStream) -> syn::Result<Vec<Ident>> {
    let list = |input: ParseStream| -> syn::Result<Vec<Ident>> {
        let names = input.parse_terminated(Ident::parse, Token![,])?;
        Ok(names.into_iter().collect())
    };
    if input.peek(syn::token::Paren) {
        let inner;
        parenthesized!(inner in input);
        return list(&inner);
    }
    if input.peek(syn::token::Bracket) {
        let inner;
        bracketed!(inner in input);
        return list(&inner);
    }
    let mut names = vec![input.parse::<Ident>()?];
    while input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
        names.push(input.parse::<Ident>()?);
    }
    Ok(names)
}

fn parse_layers(mut value: Expr, errors: &mut Vec<syn::Error>) -> Vec<LayerCall> {
    desugar(&mut value);
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

/// Rewrites Python's module paths, which Rust reads as method calls (`layers.Dense(2)`,
/// `keras.layers.Dense(2)`, `keras.Input(…)`), into plain calls of the last name, so every later
/// stage sees `Dense(2)`.
pub fn desugar(expr: &mut Expr) {
    match expr {
        Expr::MethodCall(m) if is_module_path(&m.receiver) => {
            let mut args = m.args.clone();
            args.iter_mut().for_each(desugar);
            let func: Expr = Expr::Path(syn::ExprPath {
                attrs: Vec::new(),
                qself: None,
                path: m.method.clone().into(),
            });
            *expr = Expr::Call(syn::ExprCall {
                attrs: m.attrs.clone(),
                func: Box::new(func),
                paren_token: m.paren_token,
                args,
            });
        }
        Expr::Call(c) => {
            desugar(&mut c.func);
            c.args.iter_mut().for_each(desugar);
        }
        Expr::Array(a) => a.elems.iter_mut().for_each(desugar),
        Expr::Tuple(t) => t.elems.iter_mut().for_each(desugar),
        Expr::Paren(p) => desugar(&mut p.expr),
        Expr::Group(g) => desugar(&mut g.expr),
        Expr::Assign(a) => desugar(&mut a.right),
        Expr::Index(i) => desugar(&mut i.expr),
        _ => {}
    }
}

/// `layers`, `keras`, `keras.layers`, `tf.keras.layers`: a module, not a value.
fn is_module_path(expr: &Expr) -> bool {
    match expr {
        Expr::Path(p) => p.path.get_ident().is_some_and(|i| {
            matches!(i.to_string().as_str(), "layers" | "keras" | "models" | "tf")
        }),
        Expr::Field(f) => is_module_path(&f.base),
        _ => false,
    }
}

/// The callee's last name: `Dense`, `layers.Dense` and `keras.layers.Dense` all name `Dense`.
pub fn callee_name(func: &Expr) -> Option<&Ident> {
    match func {
        Expr::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| &s.ident),
        Expr::Field(f) => match &f.member {
            syn::Member::Named(ident) => Some(ident),
            syn::Member::Unnamed(_) => None,
        },
        Expr::Group(g) => callee_name(&g.expr),
        _ => None,
    }
}

/// The arguments of a call, each positional or `name = value`.
pub fn call_args(call: &syn::ExprCall) -> syn::Result<Vec<Arg>> {
    call.args
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
        .collect()
}

/// A layer constructor call such as `Dense(10)`.
pub fn layer_call(expr: &Expr) -> syn::Result<LayerCall> {
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
    let class = callee_name(&call.func)
        .cloned()
        .ok_or_else(|| syn::Error::new_spanned(&call.func, "expected a layer name"))?;
    Ok(LayerCall {
        class,
        args: call_args(call)?,
        expr: expr.clone(),
    })
}

impl LayerCall {
    /// Span of the whole call (used where a message concerns the layer, not one argument).
    pub fn span(&self) -> Span {
        self.expr.span()
    }
}
