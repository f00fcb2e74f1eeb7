//! Merge layers, called on a list: `Add()([a, b])` (or Keras's functions, `add([a, b])`).
//! `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`, `Minimum`, `Concatenate(axis=-1)`,
//! `Dot(axes, normalize=False)`.

use proc_macro2::{Span, TokenStream};
use quote::quote;

use super::{
    dims, fmt_shape, lit, rt, Cfg, Entry, LayerSpec, Memory, MergeBackward, Operand, ShapeError,
};
use crate::args::{int_value, opt, req, tuple_items};

/// `(8, 8, 16) (the output of `conv2d`)`.
fn show(op: &Operand) -> String {
    format!("{} ({})", fmt_shape(&op.shape), op.origin)
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Subtract,
    Multiply,
    Average,
    Maximum,
    Minimum,
}

struct Elementwise {
    op: Op,
}

impl Op {
    fn class(self) -> &'static str {
        match self {
            Op::Add => "Add",
            Op::Subtract => "Subtract",
            Op::Multiply => "Multiply",
            Op::Average => "Average",
            Op::Maximum => "Maximum",
            Op::Minimum => "Minimum",
        }
    }
}

macro_rules! elementwise_entry {
    ($name:ident, $op:ident) => {
        pub const $name: Entry = Entry {
            class: stringify!($op),
            signature: &[],
            build: |_| Some(Box::new(Elementwise { op: Op::$op })),
        };
    };
}

elementwise_entry!(ADD, Add);
elementwise_entry!(SUBTRACT, Subtract);
elementwise_entry!(MULTIPLY, Multiply);
elementwise_entry!(AVERAGE, Average);
elementwise_entry!(MAXIMUM, Maximum);
elementwise_entry!(MINIMUM, Minimum);

impl LayerSpec for Elementwise {
    fn class(&self) -> &'static str {
        self.op.class()
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        Ok(input.to_vec())
    }

    fn merge(&self) -> bool {
        true
    }

    fn merge_shape(&self, inputs: &[Operand], span: Span) -> Result<Vec<usize>, ShapeError> {
        let class = self.class();
        if matches!(self.op, Op::Subtract) && inputs.len() != 2 {
            return Err(ShapeError::new(
                span,
                format!(
                    "Subtract takes exactly 2 tensors, `a - b`; it is given {}",
                    inputs.len()
                ),
            ));
        }
        let first = &inputs[0];
        if let Some(other) = inputs[1..].iter().find(|o| o.shape != first.shape) {
            return Err(ShapeError::new(
                span,
                format!(
                    "{class} of {} and {}: the merged tensors must have the same shape (static-keras does not broadcast)",
                    show(first),
                    show(other)
                ),
            ));
        }
        Ok(first.shape.clone())
    }

    fn field_type(&self, _input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        let class = syn::Ident::new(self.class(), Span::call_site());
        quote!(#rt::#class)
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        self.field_type(input, output)
    }

    /// The fold starts from the first input, so it can run over it.
    fn memory(&self) -> Memory {
        Memory::InPlace
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(self.field_type(input, output))
    }

    fn forward_merge(
        &self,
        field: TokenStream,
        xs: &[TokenStream],
        _inputs: &[Vec<usize>],
        _output: &[usize],
    ) -> TokenStream {
        quote!(#field.merge(&[#(#xs),*]))
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn backward_merge(&self, b: MergeBackward) -> TokenStream {
        let MergeBackward {
            field,
            xs,
            y,
            dy,
            dxs,
            inputs,
            ..
        } = b;
        scratch_backward(
            inputs,
            dxs,
            |gs| quote!(#field.backward(&[#((#xs).as_slice()),*], (#y).as_slice(), (#dy).as_slice(), &mut [#(#gs),*]);),
        )
    }
}

/// Runs a merge's backward into zeroed scratch gradients (one per input, so that a tensor given
/// twice, `Multiply()([x, x])`, is no aliasing problem), then adds each into its input's
/// gradient where one is wanted. `call` gets the scratch slices (`&mut [f32]` expressions).
fn scratch_backward(
    inputs: &[Vec<usize>],
    dxs: &[Option<TokenStream>],
    call: impl FnOnce(&[TokenStream]) -> TokenStream,
) -> TokenStream {
    let rt = rt();
    let names: Vec<syn::Ident> = (0..inputs.len())
        .map(|i| quote::format_ident!("__g{}", i))
        .collect();
    let decls = names.iter().zip(inputs).map(|(n, shape)| {
        let (f, p) = dims(shape);
        let (f, p) = (lit(f), lit(p));
        quote!(let mut #n = #rt::zeros::<#f, #p>();)
    });
    let slices: Vec<TokenStream> = names.iter().map(|n| quote!(#n.as_mut_slice())).collect();
    let body = call(&slices);
    let adds = names.iter().zip(dxs).filter_map(|(n, dx)| {
        dx.as_ref()
            .map(|dx| quote!(#rt::train::add_into((#dx).as_mut_slice(), #n.as_slice());))
    });
    quote!({
        #(#decls)*
        #body
        #(#adds)*
    })
}

struct Concatenate {
    axis: i64,
    span: Span,
}

pub const CONCATENATE: Entry = Entry {
    class: "Concatenate",
    signature: &[opt("axis")],
    build: |args| {
        let axis = args.int("axis", Some(-1))?;
        if axis == 0 {
            args.cx.error_at(
                args.span_of("axis"),
                "Concatenate cannot join along axis 0, the batch axis; axis 1 is the first axis of a sample",
            );
            return None;
        }
        Some(Box::new(Concatenate {
            axis,
            span: args.span_of("axis"),
        }))
    },
};

impl Concatenate {
    /// The joined axis as an index into a sample's shape of rank `rank`.
    fn axis(&self, rank: usize) -> Option<usize> {
        let full = rank as i64 + 1;
        let a = if self.axis < 0 {
            self.axis + full
        } else {
            self.axis
        };
        (1..full).contains(&a).then(|| (a - 1) as usize)
    }
}

impl LayerSpec for Concatenate {
    fn class(&self) -> &'static str {
        "Concatenate"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        Ok(input.to_vec())
    }

    fn merge(&self) -> bool {
        true
    }

    fn merge_shape(&self, inputs: &[Operand], span: Span) -> Result<Vec<usize>, ShapeError> {
        let first = &inputs[0];
        let rank = first.shape.len();
        if let Some(other) = inputs.iter().find(|o| o.shape.len() != rank) {
            return Err(ShapeError::new(
                span,
                format!(
                    "Concatenate of {} and {}: the tensors must have the same rank",
                    show(first),
                    show(other)
                ),
            ));
        }
        let Some(axis) = self.axis(rank) else {
            return Err(ShapeError::new(
                self.span,
                format!(
                    "axis {} is out of range for inputs of shape {} (with the batch axis, rank {})",
                    self.axis,
                    fmt_shape(&first.shape),
                    rank + 1
                ),
            ));
        };
        let mut out = first.shape.clone();
        for other in &inputs[1..] {
            let differs = (0..rank).any(|d| d != axis && other.shape[d] != first.shape[d]);
            if differs {
                return Err(ShapeError::new(
                    span,
                    format!(
                        "Concatenate along axis {} of {} and {}: every other axis must match",
                        self.axis,
                        show(first),
                        show(other)
                    ),
                ));
            }
            out[axis] += other.shape[axis];
        }
        Ok(out)
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![("axis", Cfg::Int(self.axis))]
    }

    fn field_type(&self, input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        let axis = self.axis(input.len()).unwrap_or(0);
        let outer = lit(input[..axis].iter().product());
        quote!(#rt::Concatenate<#outer>)
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let rt = rt();
        let axis = self.axis(input.len()).unwrap_or(0);
        let outer = lit(input[..axis].iter().product());
        let _ = output;
        quote!(#rt::Concatenate::<#outer>)
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(self.init(input, output))
    }

    fn forward_merge(
        &self,
        field: TokenStream,
        xs: &[TokenStream],
        inputs: &[Vec<usize>],
        output: &[usize],
    ) -> TokenStream {
        let rt = rt();
        let axis = self.axis(output.len()).unwrap_or(0);
        let parts = xs.iter().zip(inputs).map(|(x, shape)| {
            let run = lit(shape[axis..].iter().product());
            quote!(((#x).as_slice(), #run))
        });
        let (f, p) = dims(output);
        let (f, p) = (lit(f), lit(p));
        quote!({
            let mut __y = #rt::zeros::<#f, #p>();
            #field.merge_into(&[#(#parts),*], __y.as_mut_slice());
            __y
        })
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn backward_merge(&self, b: MergeBackward) -> TokenStream {
        let MergeBackward {
            field,
            dy,
            dxs,
            inputs,
            output,
            ..
        } = b;
        let axis = self.axis(output.len()).unwrap_or(0);
        let runs: Vec<proc_macro2::Literal> = inputs
            .iter()
            .map(|shape| lit(shape[axis..].iter().product()))
            .collect();
        scratch_backward(
            inputs,
            dxs,
            |gs| quote!(#field.backward((#dy).as_slice(), &mut [#((#gs, #runs)),*]);),
        )
    }
}

struct Dot {
    /// Keras's axes (counting the batch axis), one per input.
    axes: [i64; 2],
    /// As written: one int or a pair (the saved config keeps the form).
    pair: bool,
    normalize: bool,
    span: Span,
}

pub const DOT: Entry = Entry {
    class: "Dot",
    signature: &[req("axes"), opt("normalize")],
    build: |args| {
        let expr = args.get("axes")?;
        let (axes, pair) = match (int_value(expr), tuple_items(expr)) {
            (Some(a), _) => ([a, a], false),
            (None, Some(items)) if items.len() == 2 => {
                match (int_value(items[0]), int_value(items[1])) {
                    (Some(a), Some(b)) => ([a, b], true),
                    _ => {
                        args.cx.error_spanned_by(
                            expr,
                            "`axes` of Dot expects an integer or a pair of integers",
                        );
                        return None;
                    }
                }
            }
            _ => {
                args.cx.error_spanned_by(
                    expr,
                    "`axes` of Dot expects an integer or a pair of integers",
                );
                return None;
            }
        };
        Some(Box::new(Dot {
            axes,
            pair,
            normalize: args.bool("normalize", false),
            span: args.span_of("axes"),
        }))
    },
};

impl Dot {
    /// Input `i`'s contracted axis as an index into its sample shape of rank `rank`.
    fn axis(&self, i: usize, rank: usize) -> Option<usize> {
        let full = rank as i64 + 1;
        let a = if self.axes[i] < 0 {
            self.axes[i].rem_euclid(full)
        } else {
            self.axes[i]
        };
        (1..full).contains(&a).then(|| (a - 1) as usize)
    }

    /// `(rows, cols, contracted axis of that view)` of a sample shape of rank 1 or 2.
    fn view(&self, i: usize, shape: &[usize]) -> (usize, usize, usize) {
        match shape {
            [d] => (1, *d, 1),
            [r, c] => (*r, *c, self.axis(i, 2).unwrap_or(0)),
            _ => (1, 1, 1),
        }
    }
}

impl LayerSpec for Dot {
    fn class(&self) -> &'static str {
        "Dot"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        Ok(input.to_vec())
    }

    fn merge(&self) -> bool {
        true
    }

    fn merge_shape(&self, inputs: &[Operand], span: Span) -> Result<Vec<usize>, ShapeError> {
        let [a, b] = inputs else {
            return Err(ShapeError::new(
                span,
                format!("Dot takes exactly 2 tensors; it is given {}", inputs.len()),
            ));
        };
        for op in [a, b] {
            if op.shape.len() > 2 {
                return Err(ShapeError::new(
                    span,
                    format!(
                        "Dot of {}: static-keras supports inputs of rank 1 or 2 (without the batch axis)",
                        show(op)
                    ),
                ));
            }
        }
        let (Some(ka), Some(kb)) = (self.axis(0, a.shape.len()), self.axis(1, b.shape.len()))
        else {
            return Err(ShapeError::new(
                self.span,
                format!(
                    "axes {:?} are out of range for inputs {} and {} (axis 0 is the batch axis)",
                    self.axes,
                    fmt_shape(&a.shape),
                    fmt_shape(&b.shape)
                ),
            ));
        };
        if a.shape[ka] != b.shape[kb] {
            return Err(ShapeError::new(
                span,
                format!(
                    "Dot over axes {:?} of {} and {}: the contracted axes differ ({} and {})",
                    self.axes,
                    show(a),
                    show(b),
                    a.shape[ka],
                    b.shape[kb]
                ),
            ));
        }
        let mut out: Vec<usize> = a
            .shape
            .iter()
            .enumerate()
            .filter(|&(d, _)| d != ka)
            .map(|(_, &n)| n)
            .collect();
        out.extend(
            b.shape
                .iter()
                .enumerate()
                .filter(|&(d, _)| d != kb)
                .map(|(_, &n)| n),
        );
        if out.is_empty() {
            out.push(1);
        }
        Ok(out)
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        let axes = if self.pair {
            Cfg::Ints(self.axes.to_vec())
        } else {
            Cfg::Int(self.axes[0])
        };
        vec![("axes", axes), ("normalize", Cfg::Bool(self.normalize))]
    }

    fn field_type(&self, _input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        quote!(#rt::Dot)
    }

    fn init(&self, _input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        let normalize = self.normalize;
        quote!(#rt::Dot::new(#normalize))
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(self.init(input, output))
    }

    fn forward_merge(
        &self,
        field: TokenStream,
        xs: &[TokenStream],
        inputs: &[Vec<usize>],
        output: &[usize],
    ) -> TokenStream {
        let rt = rt();
        let (f, p) = dims(output);
        let (f, p) = (lit(f), lit(p));
        let (ra, ca, xa) = self.view(0, &inputs[0]);
        let (rb, cb, xb) = self.view(1, &inputs[1]);
        let g = [ra, ca, rb, cb, xa, xb].map(lit);
        let (a, b) = (&xs[0], &xs[1]);
        quote!({
            let mut __y = #rt::zeros::<#f, #p>();
            #field.merge_into::<#(#g),*>((#a).as_slice(), (#b).as_slice(), __y.as_mut_slice());
            __y
        })
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn backward_merge(&self, m: MergeBackward) -> TokenStream {
        let (field, dy) = (&m.field, &m.dy);
        let (ra, ca, xa) = self.view(0, &m.inputs[0]);
        let (rb, cb, xb) = self.view(1, &m.inputs[1]);
        let g = [ra, ca, rb, cb, xa, xb].map(lit);
        let (a, b) = (&m.xs[0], &m.xs[1]);
        scratch_backward(m.inputs, m.dxs, |gs| {
            let (ga, gb) = (&gs[0], &gs[1]);
            quote!(#field.backward::<#(#g),*>((#a).as_slice(), (#b).as_slice(), (#dy).as_slice(), #ga, #gb);)
        })
    }
}
