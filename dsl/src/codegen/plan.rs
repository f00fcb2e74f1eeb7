//! The per-layer plan every emitter reads: for each layer its field, runtime type, constructors,
//! parameters and config; for each call how its forward pass runs (the one place that decides
//! it, so the batched, in-place and per-sample paths cannot disagree with `forward`); the
//! layers in Keras's `model.layers` order (fields, visit order, weight order).

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use static_keras_file::graph::{keras_layer_order, Call as GraphCall};

use super::memory::{self, MemoryPlan};
use crate::check::Shapes;
use crate::layers::{dims, forward_expr, lit, rt, Cfg, Forward, LayerSpec, Pass, Run};
use crate::model::{Model, Value};

/// How one call's forward pass runs: the kind of the [`Pass`] its layer declares for the call
/// (its input's mask, its state), which every emitter follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// The layer passes its input on unchanged at inference (Dropout and friends): no code.
    Identity,
    /// `Layer::forward(&field, x)`, which the emitters write themselves, run as [`Run`] says.
    Layer(Run),
    /// `Layer::forward(&field, x)` then the glu step ([`Pass::Glu`]): one sample at a time.
    Glu,
    /// Another expression of the layer over its input: one sample at a time.
    Expr,
    /// A merge layer's expression over its inputs ([`LayerSpec::forward_merge`]).
    Merge,
}

impl Kernel {
    fn of(pass: &Pass) -> Self {
        match pass {
            Pass::Identity => Kernel::Identity,
            Pass::Layer(run) => Kernel::Layer(*run),
            Pass::Glu => Kernel::Glu,
            Pass::Expr(_) => Kernel::Expr,
        }
    }
}

pub struct LayerPlan {
    pub field: Ident,
    pub ty: TokenStream,
    pub init: TokenStream,
    /// The shapes of the layer's first call, which size its weights.
    pub input: Vec<usize>,
    pub output: Vec<usize>,
    pub params: usize,
    pub non_trainable: usize,
    pub config: Vec<(&'static str, Cfg)>,
    /// The runtime type of the state a stateful layer carries between `predict_stateful` calls.
    pub state: Option<TokenStream>,
}

pub struct InputPlan {
    /// `Tensor<F, P>`, or `TokenIds<N, VOCAB>` for the ids an Embedding reads.
    pub ty: TokenStream,
    /// `f32`, or `u32` for token ids.
    pub elem: TokenStream,
    pub len: usize,
}

/// A row of Keras's `model.layers` (a functional model lists its inputs as layers too).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Input(usize),
    Layer(usize),
}

pub struct Plan<'a> {
    pub model: &'a Model,
    pub shapes: &'a Shapes,
    /// Keras's `model.layers` order (functional models: inputs included).
    pub entries: Vec<Entry>,
    /// The layers alone in that order: struct fields, `visit_layers`, weight order.
    pub order: Vec<usize>,
    pub layers: Vec<LayerPlan>,
    pub inputs: Vec<InputPlan>,
    /// Per call, whether each of its outputs carries a Keras mask.
    pub masked: Vec<Vec<bool>>,
    /// Per call, how its forward pass runs.
    pub kernels: Vec<Kernel>,
    /// Keras prints this model's summary without the "Connected to" column.
    pub sequential_like: bool,
    /// Per call, the calls after it that its inference step runs in its store ([`Fusion`]),
    /// when it is a convolution starting such a chain.
    pub fusions: Vec<Option<Fusion>>,
    /// Per call, the convolution call whose step runs it (a call of a [`Fusion`]'s chain).
    pub fused_into: Vec<Option<usize>>,
    /// Where each activation lives in `predict_in`'s workspace, and the workspace's size.
    pub memory: MemoryPlan,
}

/// A convolution (Conv1D/2D/3D, DepthwiseConv1D/2D) whose inference step also runs the
/// BatchNormalization (over the last axis) and/or the ReLU reading its output, in its store
/// (the runtime's `FuseEpilogue::forward_into_then`): one step, one write of the activation,
/// the bits of the separate calls. Only along values with one reader that are not model
/// outputs; never in training.
#[derive(Clone, Debug, PartialEq)]
pub struct Fusion {
    /// The BatchNormalization call whose affine step the store applies (after the bias; only
    /// when the convolution's own activation is linear).
    pub norm: Option<usize>,
    /// The ReLU call (`Activation("relu")`, `Activation("relu6")`, `ReLU()`,
    /// `ReLU(max_value=6)`) and the upper bound of its clamp to `[0, hi]`.
    pub clamp: Option<(usize, f32)>,
}

impl Fusion {
    /// The calls the convolution's step runs after its own, in order.
    pub fn calls(&self) -> impl Iterator<Item = usize> + '_ {
        self.norm.into_iter().chain(self.clamp.map(|(k, _)| k))
    }
}

/// Above this many bytes of activation bindings, `predict` runs in the planned workspace (on
/// the stack, `ACTIVATION_BYTES` of it) instead, and `predict_batch` runs `predict_in` in one
/// workspace per part of the batch.
pub const BIG_MODEL_STACK_BYTES: usize = 256 * 1024;

/// `Tensor<F, P>` for a Keras shape.
pub fn tensor(shape: &[usize]) -> TokenStream {
    let rt = rt();
    let (f, p) = dims(shape);
    let (f, p) = (lit(f), lit(p));
    quote!(#rt::Tensor<#f, #p>)
}

impl<'a> Plan<'a> {
    pub fn new(model: &'a Model, shapes: &'a Shapes) -> Self {
        let (entries, sequential_like) = keras_order(model);
        let order = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Layer(l) => Some(*l),
                Entry::Input(_) => None,
            })
            .collect();
        let layers = (0..model.layers.len())
            .map(|l| layer_plan(model, shapes, l))
            .collect();
        let inputs = (0..model.inputs.len())
            .map(|i| input_plan(model, shapes, i))
            .collect();
        let masked = masked(model, shapes);
        let mut plan = Plan {
            model,
            shapes,
            entries,
            order,
            layers,
            inputs,
            masked,
            kernels: Vec::new(),
            sequential_like,
            fusions: Vec::new(),
            fused_into: Vec::new(),
            memory: MemoryPlan::default(),
        };
        // The kind of each call's pass, asked with stand-in expressions for its real context.
        plan.kernels = (0..model.calls.len())
            .map(|k| {
                let layer = &plan.layers[model.calls[k].layer];
                let mask = plan.input_masked(k).then(|| quote!(__mask));
                let state = layer.state.as_ref().map(|_| quote!(__state));
                plan.kernel_of(k, quote!(__x), mask, state)
            })
            .collect();
        plan.fusions = (0..model.calls.len()).map(|k| plan.fusion(k)).collect();
        plan.fused_into = vec![None; model.calls.len()];
        for (k, fusion) in plan.fusions.iter().enumerate() {
            for c in fusion.iter().flat_map(Fusion::calls) {
                plan.fused_into[c] = Some(k);
            }
        }
        plan.memory = memory::plan(&memory::graph(&plan));
        plan
    }

    /// The chain call `k` runs in its store, when it is a convolution whose output's only
    /// reader is a BatchNormalization over the last axis and/or a ReLU (each value along the
    /// chain read once and not a model output).
    fn fusion(&self, k: usize) -> Option<Fusion> {
        let model = self.model;
        let call = &model.calls[k];
        let spec = self.spec(call.layer);
        let class = spec.class();
        if !matches!(
            class,
            "Conv1D" | "Conv2D" | "Conv3D" | "DepthwiseConv1D" | "DepthwiseConv2D"
        ) || !matches!(self.kernels[k], Kernel::Layer(_))
            || self.input_masked(k)
            || self.layers[call.layer].state.is_some()
            || call.outputs != 1
        {
            return None;
        }
        let activation = config_str(&spec.config(), "activation")?;
        if activation != "linear" && activation != "relu" {
            return None;
        }
        // The only reader of `v`, when it has exactly one and `v` is not a model output.
        let reader = |v: Value| -> Option<usize> {
            if model.outputs.contains(&v) {
                return None;
            }
            let mut readers =
                model.calls.iter().enumerate().flat_map(|(c, call)| {
                    call.inputs.iter().filter(move |&&i| i == v).map(move |_| c)
                });
            let only = readers.next()?;
            (readers.next().is_none()
                && model.calls[only].inputs.len() == 1
                && model.calls[only].outputs == 1
                && !matches!(self.kernels[only], Kernel::Identity))
            .then_some(only)
        };
        let mut at = Value::Call { call: k, output: 0 };
        let mut fusion = Fusion {
            norm: None,
            clamp: None,
        };
        if let Some(r) = reader(at) {
            // BatchNormalization applies after the convolution's activation: fused when that
            // is linear (the store's order is affine, then clamp).
            if activation == "linear" && self.last_axis_norm(r) {
                fusion.norm = Some(r);
                at = Value::Call { call: r, output: 0 };
            }
        }
        if let Some(r) = reader(at) {
            if let Some(hi) = self.relu_bound(r) {
                fusion.clamp = Some((r, hi));
            }
        }
        (fusion.norm.is_some() || fusion.clamp.is_some()).then_some(fusion)
    }

    /// The `Epilogue` expression of call `k`'s fused chain.
    pub fn epilogue(&self, fusion: &Fusion) -> TokenStream {
        let rt = rt();
        let none = quote!(::core::option::Option::None);
        let affine = match fusion.norm {
            Some(n) => {
                let field = &self.layers[self.model.calls[n].layer].field;
                quote!(::core::option::Option::Some({
                    let (a, b) = #rt::BatchNorm::factors(&self.#field);
                    (&a[..], &b[..])
                }))
            }
            None => none.clone(),
        };
        let clamp = match fusion.clamp {
            Some((_, hi)) if hi == f32::INFINITY => {
                quote!(::core::option::Option::Some(f32::INFINITY))
            }
            Some((_, hi)) => quote!(::core::option::Option::Some(#hi)),
            None => none,
        };
        quote!(#rt::Epilogue { affine: #affine, clamp: #clamp })
    }

    /// Whether call `k` is a BatchNormalization over its input's last axis.
    fn last_axis_norm(&self, k: usize) -> bool {
        let spec = self.spec(self.model.calls[k].layer);
        if spec.class() != "BatchNormalization" {
            return false;
        }
        let rank = self.shapes.of(self.model.calls[k].inputs[0]).len() as i64;
        spec.config().iter().any(|(key, cfg)| {
            *key == "axis"
                && matches!(cfg, Cfg::Axes(axes, _) if axes[..] == [-1] || axes[..] == [rank])
        })
    }

    /// The upper bound of call `k`'s clamp to `[0, hi]` when it is Keras's `relu` (∞) or
    /// `relu6` (6): `Activation("relu")`, `Activation("relu6")`, `ReLU()`, `ReLU(max_value=6)`,
    /// with neither a negative slope nor a threshold.
    fn relu_bound(&self, k: usize) -> Option<f32> {
        let spec = self.spec(self.model.calls[k].layer);
        let config = spec.config();
        let float = |key: &str| {
            config.iter().find_map(|(k, c)| match c {
                Cfg::Float(v) if *k == key => Some(Some(*v)),
                Cfg::None if *k == key => Some(None),
                _ => None,
            })
        };
        match spec.class() {
            "Activation" => match config_str(&config, "activation")?.as_str() {
                "relu" => Some(f32::INFINITY),
                "relu6" => Some(6.0),
                _ => None,
            },
            "ReLU" if float("negative_slope")? == Some(0.0) && float("threshold")? == Some(0.0) => {
                match float("max_value")? {
                    None => Some(f32::INFINITY),
                    Some(6.0) => Some(6.0),
                    Some(_) => None,
                }
            }
            _ => None,
        }
    }

    /// Whether call `k`'s (first) input carries a Keras mask.
    pub fn input_masked(&self, k: usize) -> bool {
        match self.model.calls[k].inputs[0] {
            Value::Input(_) => false,
            Value::Call { call, output } => self.masked[call][output],
        }
    }

    /// Whether any value of the model carries a Keras mask.
    pub fn any_mask(&self) -> bool {
        self.masked.iter().flatten().any(|&m| m)
    }

    fn context(
        &self,
        k: usize,
        x: TokenStream,
        mask: Option<TokenStream>,
        state: Option<TokenStream>,
    ) -> Forward<'_> {
        let call = &self.model.calls[k];
        let field = &self.layers[call.layer].field;
        Forward {
            field: quote!(self.#field),
            x,
            mask,
            state,
            input: self.shapes.of(call.inputs[0]),
            output: self.shapes.output_of(k),
        }
    }

    fn kernel_of(
        &self,
        k: usize,
        x: TokenStream,
        mask: Option<TokenStream>,
        state: Option<TokenStream>,
    ) -> Kernel {
        let spec = self.spec(self.model.calls[k].layer);
        if spec.merge() {
            return Kernel::Merge;
        }
        Kernel::of(&spec.forward(self.context(k, x, mask, state)))
    }

    /// The expression of call `k`'s forward pass over `x` (a reference to its input), given its
    /// input's mask and its layer's state as the emitter has them. The layer's answer must be
    /// of the kind the plan recorded for the call, which every other path followed.
    pub fn forward_expr(
        &self,
        k: usize,
        x: TokenStream,
        mask: Option<TokenStream>,
        state: Option<TokenStream>,
    ) -> TokenStream {
        let kernel = self.kernel_of(k, x.clone(), mask.clone(), state.clone());
        assert_eq!(
            kernel,
            self.kernels[k],
            "layer `{}`: its forward pass changed kind with the expressions it was given, which the \
             batched and in-place paths cannot follow (a bug in static-keras)",
            self.model.layers[self.model.calls[k].layer].name,
        );
        let spec = self.spec(self.model.calls[k].layer);
        forward_expr(spec, self.context(k, x, mask, state))
    }

    /// The bytes of the activations `predict` binds on the stack, one binding per value a call
    /// computes (identities take none): what the stack holds at worst when the compiler does
    /// not reuse dead bindings' slots.
    pub fn stack_bytes(&self) -> usize {
        self.model
            .calls
            .iter()
            .enumerate()
            .filter(|&(k, _)| !matches!(self.kernels[k], Kernel::Identity))
            .flat_map(|(k, call)| {
                (0..call.outputs).map(move |o| Value::Call { call: k, output: o })
            })
            .map(|v| 4 * self.shapes.of(v).iter().product::<usize>())
            .sum()
    }

    /// Whether `predict` runs in a planned workspace on the stack rather than one binding per
    /// activation: when those bindings would take more than [`BIG_MODEL_STACK_BYTES`].
    pub fn big(&self) -> bool {
        !self.stateful() && self.stack_bytes() > BIG_MODEL_STACK_BYTES
    }

    pub fn spec(&self, layer: usize) -> &dyn LayerSpec {
        self.model.spec(layer)
    }

    /// The shapes of the model's outputs, in order.
    pub fn output_shapes(&self) -> Vec<&[usize]> {
        self.model
            .outputs
            .iter()
            .map(|&v| self.shapes.of(v))
            .collect()
    }

    /// `Input`: one tensor, or a tuple of them.
    pub fn input_ty(&self) -> TokenStream {
        match self.inputs.as_slice() {
            [one] => one.ty.clone(),
            many => {
                let tys = many.iter().map(|i| &i.ty);
                quote!((#(#tys,)*))
            }
        }
    }

    /// The element type of `input_from_slice`: the input's, or `f32` for several inputs.
    pub fn input_elem(&self) -> TokenStream {
        match self.inputs.as_slice() {
            [one] => one.elem.clone(),
            _ => quote!(f32),
        }
    }

    /// `Output`: one tensor, or a tuple of them.
    pub fn output_ty(&self) -> TokenStream {
        match self.output_shapes().as_slice() {
            [one] => tensor(one),
            many => {
                let tys = many.iter().map(|s| tensor(s));
                quote!((#(#tys,)*))
            }
        }
    }

    /// The type of a value inside the forward pass.
    pub fn value_ty(&self, value: Value) -> TokenStream {
        match value {
            Value::Input(i) => self.inputs[i].ty.clone(),
            Value::Call { .. } => tensor(self.shapes.of(value)),
        }
    }

    /// Whether any layer carries state between calls (the model is then a `StatefulModel`).
    pub fn stateful(&self) -> bool {
        self.layers.iter().any(|l| l.state.is_some())
    }

    pub fn params(&self) -> usize {
        self.layers.iter().map(|l| l.params).sum()
    }

    /// An estimate of one sample's multiply-adds, which `predict_batch` passes to the runtime
    /// to decide whether a batch is worth splitting across threads: per call, the layer's
    /// weights times the positions they apply at (a Dense on `(T, F)` or a recurrent layer over
    /// `T` steps reads its weights `T` times, a convolution once per output position), plus one
    /// per output value. An Embedding reads one row per token, so it counts its outputs only.
    pub fn macs_per_sample(&self) -> usize {
        let positions =
            |s: &[usize]| s.iter().product::<usize>() / s.last().map_or(1, |&d| d.max(1));
        let model = self.model;
        let mut macs = 0usize;
        for (k, call) in model.calls.iter().enumerate() {
            let spec = self.spec(call.layer);
            let input = self.shapes.of(call.inputs[0]);
            let output = self.shapes.of(Value::Call { call: k, output: 0 });
            let weights = if spec.token_input().is_some() {
                0
            } else {
                spec.params(input)
            };
            let reads = weights.saturating_mul(positions(input).max(positions(output)));
            macs = macs
                .saturating_add(reads)
                .saturating_add(output.iter().product::<usize>());
        }
        macs
    }
}

/// A string entry of a layer's config.
fn config_str(config: &[(&'static str, Cfg)], key: &str) -> Option<String> {
    config.iter().find_map(|(k, c)| match c {
        Cfg::Str(s) if *k == key => Some(s.clone()),
        _ => None,
    })
}

/// Per call, whether each of its outputs carries a Keras mask (`compute_mask`), from the
/// layers' [`LayerSpec::output_mask_for`] with stand-in expressions.
fn masked(model: &Model, shapes: &Shapes) -> Vec<Vec<bool>> {
    let mut masked: Vec<Vec<bool>> = Vec::with_capacity(model.calls.len());
    for (k, call) in model.calls.iter().enumerate() {
        let spec = model.spec(call.layer);
        if spec.merge() {
            masked.push(vec![false; call.outputs]);
            continue;
        }
        let input_masked = match call.inputs[0] {
            Value::Input(_) => None,
            Value::Call { call, output } => masked[call][output].then(|| quote!(__m)),
        };
        let (input, output) = (shapes.of(call.inputs[0]), shapes.output_of(k));
        let x = quote!(__x);
        let main = spec.output_mask_for(&x, input_masked.as_ref(), input, output);
        let extra = spec.extra_output_masks(&x, input_masked.as_ref());
        let mut outputs: Vec<bool> = std::iter::once(main)
            .chain(extra)
            .map(|m| m.is_some())
            .collect();
        outputs.resize(call.outputs, false);
        masked.push(outputs);
    }
    masked
}

fn layer_plan(model: &Model, shapes: &Shapes, l: usize) -> LayerPlan {
    let layer = &model.layers[l];
    let spec = model.spec(l);
    let first = model
        .calls
        .iter()
        .position(|c| c.layer == l)
        .expect("every layer is called (checked)");
    let input = shapes.input_of(model, first);
    let output = shapes.output_of(first);
    let params = spec.params(input);
    let non_trainable = if layer.trainable {
        spec.non_trainable_params(input)
    } else {
        params
    };
    LayerPlan {
        field: layer.field.clone(),
        ty: spec.field_type(input, output),
        init: spec.init(input, output),
        input: input.to_vec(),
        output: output.to_vec(),
        params,
        non_trainable,
        config: spec.config(),
        state: spec.state_type(),
    }
}

fn input_plan(model: &Model, shapes: &Shapes, i: usize) -> InputPlan {
    let rt = rt();
    let shape = &shapes.inputs[i];
    let len = shape.iter().product();
    // The vocabulary of the Embedding reading these ids (the checker allows no other reader).
    let vocab = model.calls.iter().find_map(|c| {
        (c.inputs.first() == Some(&Value::Input(i)))
            .then(|| model.spec(c.layer).token_input())
            .flatten()
    });
    match vocab {
        Some(vocab) if model.inputs[i].ids => {
            let n = lit(len);
            InputPlan {
                ty: quote!(#rt::TokenIds<#n, #vocab>),
                elem: quote!(u32),
                len,
            }
        }
        _ => InputPlan {
            ty: tensor(shape),
            elem: quote!(f32),
            len,
        },
    }
}

/// Keras's `model.layers` order for the graph, and whether Keras prints its summary as a
/// Sequential's (no "Connected to" column).
fn keras_order(model: &Model) -> (Vec<Entry>, bool) {
    let ni = model.inputs.len();
    let mut calls: Vec<GraphCall> = (0..ni)
        .map(|i| GraphCall {
            layer: i,
            inputs: Vec::new(),
        })
        .collect();
    let node = |v: &Value| match *v {
        Value::Input(i) => i,
        Value::Call { call, .. } => ni + call,
    };
    for call in &model.calls {
        calls.push(GraphCall {
            layer: ni + call.layer,
            inputs: call.inputs.iter().map(node).collect(),
        });
    }
    let outputs: Vec<usize> = model.outputs.iter().map(node).collect();
    let inputs: Vec<usize> = (0..ni).collect();
    let order = keras_layer_order(&calls, &outputs, &inputs)
        .expect("a declaration cannot express a cycle: every name is bound above its use");
    let mut entries: Vec<Entry> = order
        .into_iter()
        .map(|l| {
            if l < ni {
                Entry::Input(l)
            } else {
                Entry::Layer(l - ni)
            }
        })
        .collect();
    if !model.functional {
        // A Sequential model's `model.layers` has no InputLayer.
        entries.retain(|e| matches!(e, Entry::Layer(_)));
        return (entries, true);
    }
    (entries, sequential_like(model, &calls, &outputs))
}

/// Keras's test in `summary_utils.print_summary`: no depth of the graph holds more than one call,
/// no call reads more than one tensor, and no layer is called twice.
fn sequential_like(model: &Model, calls: &[GraphCall], outputs: &[usize]) -> bool {
    if calls.iter().any(|c| c.inputs.len() > 1) {
        return false;
    }
    for l in 0..model.layers.len() {
        if model.calls.iter().filter(|c| c.layer == l).count() > 1 {
            return false;
        }
    }
    // Call depths as `map_graph` computes them: 0 for the outputs' calls, 1 + the deepest
    // consumer for the others.
    let mut depth: Vec<Option<usize>> = vec![None; calls.len()];
    let mut stack: Vec<(usize, usize)> = outputs.iter().map(|&o| (o, 0)).collect();
    while let Some((c, d)) = stack.pop() {
        if depth[c].is_some_and(|old| old >= d) {
            continue;
        }
        depth[c] = Some(d);
        for &p in &calls[c].inputs {
            stack.push((p, d + 1));
        }
    }
    let mut seen = std::collections::HashSet::new();
    depth.into_iter().flatten().all(|d| seen.insert(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctxt::Ctxt;

    /// The plan of a declaration, handed to `check` (which sees the plan and the code
    /// `predict_batch` becomes).
    fn planned(tokens: TokenStream, check: impl FnOnce(&Plan, Option<String>)) {
        let input: crate::parse::ModelInput = syn::parse2(tokens).expect("parses");
        let cx = Ctxt::default();
        let model = crate::model::build(input, &cx);
        let shapes = crate::check::infer(&model, &cx);
        if let Err(e) = cx.check() {
            panic!("{e}");
        }
        let shapes = shapes.expect("checked");
        let plan = Plan::new(&model, &shapes);
        let batch = super::super::batch::predict_batch(&plan).map(|b| b.to_string());
        check(&plan, batch);
    }

    #[test]
    fn every_path_follows_the_declared_pass() {
        planned(
            quote! {
                struct Net {
                    input_shape: (6, 4),
                    layers: [
                        Dense(8, activation = "glu"),
                        Dropout(0.5),
                        Dense(6),
                        Conv1D(4, 3),
                        TimeDistributed(Dense(4, activation = "glu")),
                        TimeDistributed(Dense(2)),
                        LSTM(3),
                    ],
                }
            },
            |plan, batch| {
                assert_eq!(
                    plan.kernels,
                    [
                        Kernel::Glu,
                        Kernel::Identity,
                        Kernel::Layer(Run::Batched),
                        Kernel::Layer(Run::BatchedInto),
                        Kernel::Expr,
                        Kernel::Layer(Run::BatchedInto),
                        Kernel::Layer(Run::Batched),
                    ]
                );
                let batch = batch.expect("no masks, no state: a batched path");
                // Dense(6), Conv1D, TimeDistributed(Dense(2)) and LSTM run over the chunk; the
                // glu Dense and the wrapped glu Dense loop over its samples, glu step included.
                assert_eq!(batch.matches("forward_batch").count(), 4, "{batch}");
                assert!(batch.contains("Glu :: < 8 , 4 >"), "{batch}");
                assert!(batch.contains("Glu :: < 4 , 2 >"), "{batch}");
                assert!(batch.contains("set_slice"), "{batch}");
            },
        );
    }

    /// Under a mask a layer may run other code: the plan records the kind of its pass for
    /// the call as it is, and the model has no batched path.
    #[test]
    fn a_mask_changes_the_kind_of_the_calls_that_read_it() {
        planned(
            quote! {
                struct Net {
                    input_shape: (5,),
                    layers: [
                        Embedding(10, 4, mask_zero = True),
                        LSTM(3, return_sequences = True),
                        GlobalAveragePooling1D(),
                        Dense(2),
                    ],
                }
            },
            |plan, batch| {
                assert_eq!(
                    plan.kernels,
                    [
                        Kernel::Layer(Run::PerSample),
                        Kernel::Expr,
                        Kernel::Expr,
                        Kernel::Layer(Run::Batched),
                    ]
                );
                assert!(plan.input_masked(1) && plan.input_masked(2));
                assert!(!plan.input_masked(0) && !plan.input_masked(3));
                assert!(batch.is_none());
            },
        );
        // Without the mask, the same layers run as `Layer::forward`.
        planned(
            quote! {
                struct Net {
                    input_shape: (5,),
                    layers: [
                        Embedding(10, 4),
                        LSTM(3, return_sequences = True),
                        GlobalAveragePooling1D(),
                        Dense(2),
                    ],
                }
            },
            |plan, batch| {
                assert_eq!(
                    plan.kernels,
                    [
                        Kernel::Layer(Run::PerSample),
                        Kernel::Layer(Run::Batched),
                        Kernel::Layer(Run::BatchedInto),
                        Kernel::Layer(Run::Batched),
                    ]
                );
                assert_eq!(batch.expect("batched").matches("forward_batch").count(), 3);
            },
        );
    }

    /// A convolution runs the BatchNormalization (last axis) and the ReLU after it in its store:
    /// one step writing one buffer in `predict` and `predict_in`, and none for the calls it
    /// runs. Not across a value with a second reader (a residual `Add`) or that is a model
    /// output, not a BatchNormalization after a convolution's own ReLU, not an other axis,
    /// not a leaky or thresholded ReLU.
    #[test]
    fn convolutions_fuse_the_normalization_and_relu_after_them() {
        let fused = |tokens: TokenStream| {
            let mut out = None;
            planned(tokens, |plan, _| {
                let body = super::super::forward::body(plan, false).to_string();
                let body_in = super::super::forward::body_in(plan).to_string();
                out = Some((plan.fusions.clone(), plan.fused_into.clone(), body, body_in));
            });
            out.expect("planned")
        };
        // A Sequential chain: Conv2D → BN → ReLU6, DepthwiseConv2D → BN → Activation("relu"),
        // Conv2D(activation="relu") → ReLU(), Conv1D-free tail.
        let (fusions, into, body, body_in) = fused(quote! {
            struct Net {
                input_shape: (6, 6, 3),
                layers: [
                    Conv2D(8, 3, padding = "same", use_bias = False),
                    BatchNormalization(),
                    ReLU(max_value = 6.0),
                    DepthwiseConv2D(3, padding = "same"),
                    BatchNormalization(axis = 3),
                    Activation("relu"),
                    Conv2D(4, 1, activation = "relu"),
                    ReLU(),
                    Conv2D(4, 1),
                    BatchNormalization(),
                    Flatten(),
                    Dense(2),
                ],
            }
        });
        assert_eq!(
            fusions,
            [
                Some(Fusion {
                    norm: Some(1),
                    clamp: Some((2, 6.0)),
                }),
                None,
                None,
                Some(Fusion {
                    norm: Some(4),
                    clamp: Some((5, f32::INFINITY)),
                }),
                None,
                None,
                Some(Fusion {
                    norm: None,
                    clamp: Some((7, f32::INFINITY)),
                }),
                None,
                Some(Fusion {
                    norm: Some(9),
                    clamp: None,
                }),
                None,
                None,
                None,
            ]
        );
        assert_eq!(
            into,
            [
                None,
                Some(0),
                Some(0),
                None,
                Some(3),
                Some(3),
                None,
                Some(6),
                None,
                Some(8),
                None,
                None
            ]
        );
        for code in [&body, &body_in] {
            assert_eq!(code.matches("forward_into_then").count(), 4, "{code}");
            assert_eq!(code.matches("BatchNorm :: factors").count(), 3, "{code}");
            assert!(!code.contains("forward_in_place"), "{code}");
            assert!(code.contains("Some (6f32)"), "{code}");
        }
        // Four convolution bindings, the Flatten view and the Dense: no binding for the six
        // fused calls.
        assert_eq!(body.matches("let mut __v").count(), 4, "{body}");

        // The convolution's output read twice (a residual Add), or a model output: it runs
        // alone. A BatchNormalization after the convolution's own ReLU, or over another axis,
        // and a leaky ReLU stay separate; the ReLU after a BatchNormalization read twice too
        // (the convolution before it runs that BatchNormalization alone).
        let (fusions, _, body, _) = fused(quote! {
            struct Net {
                x = Input(shape = (6, 6, 4));
                a = Conv2D(4, 3, padding = "same")(x);
                b = BatchNormalization()(a);
                c = Add()([a, b]);
                d = Conv2D(4, 3, padding = "same")(c);
                e = ReLU()(d);
                f = Conv2D(4, 3, padding = "same", activation = "relu")(e);
                g = BatchNormalization()(f);
                h = Conv2D(4, 1)(g);
                i = BatchNormalization(axis = 1)(h);
                j = Conv2D(4, 1)(i);
                k = ReLU(negative_slope = 0.1)(j);
                l = Conv2D(4, 1)(k);
                m = BatchNormalization()(l);
                n = ReLU()(m);
                o = Add()([m, n]);
                model = Model(x, [o, d]);
            }
        });
        let mut want = vec![None; 15];
        want[11] = Some(Fusion {
            norm: Some(12),
            clamp: None,
        });
        assert_eq!(fusions, want);
        assert_eq!(body.matches("forward_into_then").count(), 1, "{body}");
    }
}
