use static_keras_file::KerasFile;

use super::*;

fn config(text: &str) -> ModelConfig {
    ModelConfig::parse(text, "test").unwrap()
}

/// The saved architecture of a fixture under `tests/fixtures/files/`.
fn file_config(name: &str) -> ModelConfig {
    let path = format!(
        "{}/../tests/fixtures/files/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    KerasFile::open(path).unwrap().config().unwrap().clone()
}

fn statements(t: &Translation) -> &[String] {
    match &t.form {
        Form::Functional { statements } => statements,
        Form::Sequential { .. } => panic!("translated as a Sequential model"),
    }
}

#[test]
fn translates_keras3_config_entries_through_the_signature() {
    let c = config(
        r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [null, 6], "name": "input_layer"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 8, "activation": "relu", "use_bias": true,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "dtype": {"class_name": "DTypePolicy", "config": {"name": "float32"}}}},
        {"class_name": "Dropout", "config": {"name": "dropout", "rate": 0.3, "noise_shape": null, "seed": null}},
        {"class_name": "Reshape", "config": {"name": "Reshape-1", "target_shape": [-1, 2]}}]}}"#,
    );
    let t = translate(&c).unwrap();
    assert!(matches!(&t.form, Form::Sequential { input_shape } if *input_shape == [6]));
    assert_eq!(
        t.layers,
        vec![
            r#"Dense(units = 8, activation = "relu", use_bias = True, name = "dense")"#,
            r#"Dropout(rate = 0.3, name = "dropout")"#,
            // Not an identifier: the closest one.
            r#"Reshape(target_shape = (-1, 2), name = "reshape_1")"#,
        ]
    );
    let (model, shapes) = t.analyse(&c).unwrap();
    assert_eq!(model.layers.len(), 3);
    assert_eq!(shapes.calls.last().unwrap()[0], vec![4, 2]);
}

#[test]
fn names_the_unsupported_layer_and_the_bad_argument() {
    let c = config(
        r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [null, null, 6], "name": "steps"}},
        {"class_name": "Lambda", "config": {"name": "ln"}},
        {"class_name": "Dense", "config": {"name": "d", "units": 3, "activation": {"class_name": "Custom", "config": {"a": 1}}}}]}}"#,
    );
    let Err(errors) = translate(&c) else {
        panic!("must fail")
    };
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert_eq!(
        errors[0],
        "input `steps`: dimension 1 of its shape (None, 6) is variable (None); static-keras needs every dimension fixed: save the model with a fixed `keras.Input(shape)`"
    );
    assert!(
        errors[1].starts_with("layer 0 `ln` (Lambda): static-keras has no Lambda layer"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].starts_with("layer 1 `d` (Dense): `activation`"),
        "{}",
        errors[2]
    );
}

#[test]
fn argument_errors_name_the_saved_layer() {
    let c = config(
        r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [null, 6]}},
        {"class_name": "Dense", "config": {"name": "out", "units": 3, "activation": "softmaxx"}}]}}"#,
    );
    let Err(errors) = translate(&c) else {
        panic!("must fail")
    };
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("layer 0 `out` (Dense): unknown activation \"softmaxx\""),
        "{}",
        errors[0]
    );
}

#[test]
fn names_become_unique_identifiers() {
    use layer::identifier;
    assert_eq!(identifier("Reshape-1", "reshape"), "reshape_1");
    assert_eq!(identifier("bn_Conv1", "x"), "bn_conv1");
    assert_eq!(identifier("1st", "x"), "layer_1st");
    assert_eq!(identifier("--", "dense"), "dense");
    assert_eq!(identifier("type", "x"), "type_");
    assert_eq!(identifier("__a__b", "x"), "a_b");
    // Kept names win over made-up ones; a name already used (by an input, or by a layer of
    // another nested model) is made unique.
    let c = config(
        r#"{"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "name": "x", "config": {"batch_shape": [null, 4], "name": "x"}, "inbound_nodes": []},
        {"class_name": "Dense", "name": "Dense_1", "config": {"name": "Dense_1", "units": 2}, "inbound_nodes": [[["x", 0, 0, {}]]]},
        {"class_name": "Sequential", "name": "sub", "config": {"name": "sub", "layers": [
            {"class_name": "Dense", "config": {"name": "x", "units": 2}},
            {"class_name": "Dense", "config": {"name": "dense_1", "units": 2}}]},
         "inbound_nodes": [[["x", 0, 0, {}]]]},
        {"class_name": "Add", "name": "add", "config": {"name": "add"}, "inbound_nodes": [[["Dense_1", 0, 0, {}], ["sub", 0, 0, {}]]]}],
        "input_layers": [["x", 0, 0]], "output_layers": [["add", 0, 0]]}}"#,
    );
    let t = translate(&c).unwrap();
    // In Keras's order: the nested `x` is deeper than `Dense_1`.
    assert_eq!(t.names, ["x_2", "dense_1_2", "dense_1", "add"]);
    assert_eq!(
        statements(&t),
        [
            r#"x = Input(shape = (4,), name = "x")"#,
            r#"x_2 = Dense(units = 2, name = "x_2")(x)"#,
            r#"dense_1_2 = Dense(units = 2, name = "dense_1_2")(x)"#,
            r#"dense_1 = Dense(units = 2, name = "dense_1")(x_2)"#,
            r#"add = Add(name = "add")([dense_1_2, dense_1])"#,
            "model = Model(inputs = x, outputs = add)",
        ]
    );
    t.analyse(&c).unwrap();
}

/// KERAS_GRAPHS §1.4: `short` is created first but listed after `c1`, and the statements follow
/// Keras's order.
#[test]
fn a_residual_block_in_keras_order() {
    let c = file_config("graph/resblock.k3151.keras");
    let t = translate(&c).unwrap();
    let s = statements(&t);
    assert_eq!(s[0], r#"img = Input(shape = (6, 6, 3), name = "img")"#);
    assert!(
        s[1].starts_with(
            "c1 = Conv2D(filters = 4, kernel_size = (3, 3), strides = (1, 1), padding = \"same\""
        ),
        "{}",
        s[1]
    );
    assert!(s[1].ends_with(r#"name = "c1")(img)"#), "{}", s[1]);
    assert!(
        s[2].starts_with("short = Conv2D(") && s[2].ends_with("(img)"),
        "{}",
        s[2]
    );
    assert!(
        s[3].starts_with("c2 = Conv2D(") && s[3].ends_with("(c1)"),
        "{}",
        s[3]
    );
    assert_eq!(s[4], r#"add = Add(name = "add")([short, c2])"#);
    assert_eq!(
        s[5],
        r#"act = Activation(activation = "relu", name = "act")(add)"#
    );
    assert_eq!(s[6], "model = Model(inputs = img, outputs = act)");
    t.analyse(&c).unwrap();
}

/// Two inputs, a shared Dense (bound once, called twice), the nested Sequential's layers
/// inline, two outputs; the same wiring from every writer.
#[test]
fn a_shared_layer_is_bound_once_and_called_at_each_use() {
    for file in [
        "k3151.keras",
        "k3151.h5",
        "k333.keras",
        "k333.h5",
        "tf2.keras",
        "tf2.h5",
    ] {
        let c = file_config(&format!("graph/two_in.{file}"));
        let t = translate(&c).unwrap();
        let short: Vec<String> = statements(&t)
            .iter()
            .map(|s| match (s.find('('), s.rfind(")(")) {
                // `x = Dense(…)(y)` → `x = Dense(y)`: the wiring only.
                (Some(open), Some(close)) if s[..open].contains(" = ") => {
                    format!("{}{}", &s[..open], &s[close + 1..])
                }
                _ => s.clone(),
            })
            .collect();
        assert_eq!(
            short,
            [
                r#"a = Input(shape = (5,), name = "a")"#,
                r#"b = Input(shape = (5,), name = "b")"#,
                "shared = Dense(units = 3, activation = \"linear\", use_bias = True, name = \"shared\")",
                "shared_call0 = shared(a)",
                "shared_call1 = shared(b)",
                "inner1 = Dense(shared_call1)",
                "cat = Concatenate([shared_call0, shared_call1])",
                "inner_bn = BatchNormalization(inner1)",
                "o1 = Dense(cat)",
                "inner2 = Dense(inner_bn)",
                "model = Model(inputs = [a, b], outputs = [o1, inner2])",
            ],
            "{file}"
        );
        t.analyse(&c).unwrap();
    }
}

/// A nested Functional called twice: each of its layers becomes a shared layer of the flat
/// graph, called once per call of the nested model, in order.
#[test]
fn a_nested_model_called_twice_shares_its_layers() {
    let c = file_config("graph/nested_fn.k3151.keras");
    let t = translate(&c).unwrap();
    let s = statements(&t);
    let heads: Vec<&str> = s.iter().map(|s| s.split(" = ").next().unwrap()).collect();
    assert_eq!(
        heads,
        [
            "x",
            "pre",
            "pre_call0",
            "sd",
            "sd_call0",
            "sbn",
            "sbn_call0",
            "post",
            "post_call0",
            "pre_call1",
            "sd_call1",
            "sbn_call1",
            "post_call1",
            "sum",
            "model"
        ]
    );
    assert_eq!(s[9], "pre_call1 = pre(post_call0)");
    assert_eq!(
        s[13],
        r#"sum = Add(name = "sum")([post_call0, post_call1])"#
    );
    assert_eq!(
        s[14],
        "model = Model(inputs = x, outputs = [sum, post_call1])"
    );
    t.analyse(&c).unwrap();
}

/// `LSTM(return_state = True)`: its three outputs unpacked, each used by name.
#[test]
fn several_outputs_are_unpacked() {
    let c = file_config("graph/lstm_state.k3151.keras");
    let t = translate(&c).unwrap();
    let s = statements(&t);
    assert!(
        s[1].starts_with("lstm_out, lstm_h, lstm_c = LSTM(units = 4,"),
        "{}",
        s[1]
    );
    assert!(s[1].ends_with(r#"name = "lstm")(seq)"#), "{}", s[1]);
    assert_eq!(
        s[2],
        r#"hc = Concatenate(axis = -1, name = "hc")([lstm_h, lstm_c])"#
    );
    assert_eq!(
        s[4],
        "model = Model(inputs = seq, outputs = [head, lstm_out])"
    );
    t.analyse(&c).unwrap();
}

#[test]
fn an_unused_state_starts_with_an_underscore() {
    let c = config(
        r#"{"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "name": "s", "config": {"batch_shape": [null, 3, 2], "name": "s"}, "inbound_nodes": []},
        {"class_name": "GRU", "name": "gru", "config": {"name": "gru", "units": 2, "return_state": true}, "inbound_nodes": [[["s", 0, 0, {}]]]},
        {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2}, "inbound_nodes": [[["gru", 0, 1, {}]]]}],
        "input_layers": [["s", 0, 0]], "output_layers": [["d", 0, 0]]}}"#,
    );
    let t = translate(&c).unwrap();
    assert!(statements(&t)[1].starts_with("_gru_out, gru_h = GRU("));
    t.analyse(&c).unwrap();
}

/// A chain keeps the Sequential form, whatever class saved it.
#[test]
fn a_functional_chain_is_declared_as_a_layer_list() {
    let c = file_config("mlp_functional.k3151.keras");
    assert_eq!(c.class, "Functional");
    let t = translate(&c).unwrap();
    assert!(matches!(t.form, Form::Sequential { .. }));
    let d = t.declaration("pub ", "Mlp");
    assert!(d.starts_with("keras_model! {\n    pub struct Mlp {\n        input_shape: (6,),\n        layers: [\n            Dense(units = 8,"), "{d}");
    t.analyse(&c).unwrap();
}

#[test]
fn a_layer_applied_to_two_tensors_is_refused_by_name() {
    let c = config(
        r#"{"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "name": "a", "config": {"batch_shape": [null, 4], "name": "a"}, "inbound_nodes": []},
        {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2}, "inbound_nodes": [[["a", 0, 0, {}], ["a", 0, 0, {}]]]}],
        "input_layers": [["a", 0, 0]], "output_layers": [["d", 0, 0]]}}"#,
    );
    let Err(errors) = translate(&c) else {
        panic!("must fail")
    };
    assert_eq!(
        errors,
        ["layer 0 `d` (Dense) reads 2 tensors: static-keras applies a layer to one tensor (a merge layer to a list)"]
    );
}

#[test]
fn the_declaration_of_a_graph_pastes_as_statements() {
    let c = file_config("graph/resblock.k3151.keras");
    let d = translate(&c).unwrap().declaration("pub ", "Resblock");
    assert!(d.starts_with("keras_model! {\n    pub struct Resblock {\n        img = Input(shape = (6, 6, 3), name = \"img\");\n        c1 = Conv2D("), "{d}");
    assert!(
        d.ends_with("        model = Model(inputs = img, outputs = act);\n    }\n}\n"),
        "{d}"
    );
}

/// Keras lists a shared layer at the depth of its deepest call, here before `d`, which its
/// second call reads: the statements wait for `d`, and the model still lists `s` first.
#[test]
fn a_shared_layer_listed_before_what_its_second_call_reads() {
    let c = config(
        r#"{"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "name": "a", "config": {"batch_shape": [null, 2], "name": "a"}, "inbound_nodes": []},
        {"class_name": "Dense", "name": "s", "config": {"name": "s", "units": 2}, "inbound_nodes": [[["a", 0, 0, {}]], [["d", 0, 0, {}]]]},
        {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2}, "inbound_nodes": [[["s", 0, 0, {}]]]},
        {"class_name": "Add", "name": "add", "config": {"name": "add"}, "inbound_nodes": [[["s", 0, 0, {}], ["s", 1, 0, {}]]]}],
        "input_layers": [["a", 0, 0]], "output_layers": [["add", 0, 0]]}}"#,
    );
    let t = translate(&c).unwrap();
    assert_eq!(t.names, ["s", "d", "add"]);
    assert_eq!(
        statements(&t),
        [
            r#"a = Input(shape = (2,), name = "a")"#,
            r#"s = Dense(units = 2, name = "s")"#,
            "s_call0 = s(a)",
            r#"d = Dense(units = 2, name = "d")(s_call0)"#,
            "s_call1 = s(d)",
            r#"add = Add(name = "add")([s_call0, s_call1])"#,
            "model = Model(inputs = a, outputs = add)",
        ]
    );
    t.analyse(&c).unwrap();
}

#[test]
fn wrapped_layers_are_nested_calls() {
    let c = config(
        r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [null, 5, 3]}},
        {"class_name": "TimeDistributed", "config": {"name": "td",
            "layer": {"class_name": "Dense", "config": {"name": "dense", "units": 2, "activation": "relu"}}}},
        {"class_name": "Bidirectional", "config": {"name": "bi", "merge_mode": null,
            "layer": {"class_name": "GRU", "config": {"name": "forward_gru", "units": 4, "return_sequences": true, "go_backwards": false, "reset_after": false}},
            "backward_layer": {"class_name": "GRU", "config": {"name": "backward_gru", "units": 4, "return_sequences": true, "go_backwards": true, "reset_after": false}}}}]}}"#,
    );
    let t = translate(&c).unwrap();
    assert_eq!(
        t.layers,
        vec![
            r#"TimeDistributed(layer = Dense(units = 2, activation = "relu"), name = "td")"#,
            "Bidirectional(layer = GRU(units = 4, return_sequences = True, go_backwards = False, reset_after = False), \
             merge_mode = None, backward_layer = GRU(units = 4, return_sequences = True, go_backwards = True, reset_after = False), name = \"bi\")",
        ]
    );
    let (model, shapes) = t.analyse(&c).unwrap();
    assert_eq!(model.layers.len(), 2);
    // merge_mode None: two outputs.
    assert_eq!(shapes.calls[1], vec![vec![5, 4], vec![5, 4]]);
    let c = config(
        r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [null, 5, 3]}},
        {"class_name": "TimeDistributed", "config": {"name": "td",
            "layer": {"class_name": "Lambda", "config": {"name": "f"}}}}]}}"#,
    );
    let Err(errors) = translate(&c) else {
        panic!("must fail")
    };
    assert!(
        errors[0].starts_with(
            "layer 0 `td` (TimeDistributed) → `layer` (Lambda): static-keras has no Lambda layer"
        ),
        "{}",
        errors[0]
    );
}
