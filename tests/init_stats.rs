//! `Net::init(seed)` against Keras's initial weights, statistically (Keras's threefry bits
//! cannot be reproduced, the distributions can): `tools/gen_init_stats.py` built the same models
//! in Keras with 16 seeds and recorded, per variable, the mean and the standard deviation across
//! seeds of each statistic (mean, variance, max|w|, and ‖W Wᵀ − I‖∞ for recurrent kernels). Here
//! the mean of each statistic over 16 seeds of ours must be within 4σ of Keras's (two-sample:
//! σ² = (σ²_keras + σ²_ours)/16); constants must be equal; the orthogonality error (f32
//! rounding, not a distribution) may only be smaller than Keras's + 4σ. Every variable Keras has
//! must be initialised.

use std::collections::HashMap;

use static_keras::{keras_model, Model, Weights};

keras_model! {
    struct Recurrent {
        input_shape: (5, 8),
        layers: [
            LSTM(16, return_sequences = True, name = "lstm"),
            GRU(12, return_sequences = True, name = "gru"),
            SimpleRNN(10, name = "rnn"),
            Dense(32, name = "dense"),
        ],
    }
}

keras_model! {
    struct Spatial {
        input_shape: (8, 8, 3),
        layers: [
            Conv2D(16, 3, name = "conv"),
            BatchNormalization(name = "bn"),
            DepthwiseConv2D(3, depth_multiplier = 2, name = "dw"),
            SeparableConv2D(8, 3, name = "sep"),
            Conv2DTranspose(6, 3, name = "convt"),
            PReLU(name = "prelu"),
            LayerNormalization(name = "ln"),
            Flatten(name = "flat"),
            Dense(5, name = "out"),
        ],
    }
}

keras_model! {
    struct Tokens {
        input_shape: (7,),
        layers: [
            Embedding(50, 8, name = "emb"),
            Conv1D(6, 3, name = "conv1d"),
        ],
    }
}

keras_model! {
    /// Named initializers given as strings (`kernel_initializer = "he_normal"`, …).
    struct Named {
        input_shape: (24,),
        layers: [
            Dense(40, kernel_initializer = "he_normal", bias_initializer = "ones", name = "he_n"),
            Dense(30, kernel_initializer = "lecun_uniform", bias_initializer = "random_uniform", name = "lecun_u"),
            Dense(20, kernel_initializer = "truncated_normal", bias_initializer = "random_normal", name = "trunc"),
            Dense(16, kernel_initializer = "glorot_normal", name = "glorot_n"),
            Dense(12, kernel_initializer = "he_uniform", name = "he_u"),
            Dense(10, kernel_initializer = "lecun_normal", name = "lecun_n"),
            Dense(8, kernel_initializer = "random_uniform", name = "rand_u"),
            Dense(6, kernel_initializer = "random_normal", name = "rand_n"),
        ],
    }
}

keras_model! {
    /// Initializers declared on wrapped layers (the backward layer of a Bidirectional copies the
    /// forward layer's unless it is given), and LSTM's `unit_forget_bias = False`.
    struct Wrappers {
        input_shape: (5, 8),
        layers: [
            Bidirectional(
                LSTM(16, return_sequences = True, kernel_initializer = "he_normal",
                     unit_forget_bias = False, bias_initializer = "random_normal"),
                name = "bi",
            ),
            Bidirectional(
                LSTM(8, return_sequences = True),
                backward_layer = LSTM(8, return_sequences = True, go_backwards = True,
                                      kernel_initializer = "lecun_uniform",
                                      bias_initializer = "random_normal"),
                name = "bi_given",
            ),
            TimeDistributed(
                Dense(12, kernel_initializer = "he_uniform", bias_initializer = "ones"),
                name = "td",
            ),
            LSTM(6, unit_forget_bias = False, name = "lstm"),
        ],
    }
}

const SEEDS: u64 = 16;

/// (model, layer, variable, stat) → (Keras's mean, Keras's std across seeds).
fn keras_stats() -> HashMap<(String, String, String, String), (f64, f64)> {
    include_str!("fixtures/init/stats.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let key = (f[0].into(), f[1].into(), f[2].into(), f[3].into());
            (key, (f[4].parse().unwrap(), f[5].parse().unwrap()))
        })
        .collect()
}

/// Our statistics of every variable of `net`: (layer, variable, stat) → value.
fn our_stats<M: Model>(net: &M) -> Vec<(String, String, String, f64)> {
    let mut out = Vec::new();
    net.visit_layers(&mut |info, layer: &dyn Weights| {
        // A Bidirectional has each name twice (forward, then backward layer): the second is
        // `name#1`, as tools/gen_init_stats.py names it.
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (index, variable) in layer.variables().iter().enumerate() {
            let k = seen.entry(variable.name).or_default();
            let key = match *k {
                0 => variable.name.to_string(),
                k => format!("{}#{k}", variable.name),
            };
            *k += 1;
            let mut w = Vec::new();
            layer.store_variable(index, &mut |v| w.push(f64::from(v)));
            let n = w.len() as f64;
            let mean = w.iter().sum::<f64>() / n;
            let var = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            let maxabs = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let mut push = |stat: &str, value: f64| {
                out.push((info.name.into(), key.clone(), stat.into(), value))
            };
            push("mean", mean);
            push("var", var);
            push("maxabs", maxabs);
            if variable.name == "recurrent_kernel" {
                let cols = *variable.shape.last().unwrap();
                let rows = w.len() / cols;
                // Vectors along the shorter side must be orthonormal: vector i's element j is
                // at i·vs + j·es.
                let (count, len, vs, es) = if rows <= cols {
                    (rows, cols, cols, 1)
                } else {
                    (cols, rows, 1, cols)
                };
                let mut err = 0.0f64;
                for a in 0..count {
                    for b in 0..count {
                        let dot: f64 = (0..len)
                            .map(|j| w[a * vs + j * es] * w[b * vs + j * es])
                            .sum();
                        err = err.max((dot - if a == b { 1.0 } else { 0.0 }).abs());
                    }
                }
                push("orth", err);
            }
        }
    });
    out
}

fn check<M: Model>(model: &str, init: fn(u64) -> M) {
    let keras = keras_stats();
    let expected = keras.keys().filter(|k| k.0 == model).count();
    assert!(expected > 0, "no Keras statistics for `{model}`");
    // Per statistic: our values over the seeds.
    let mut ours: HashMap<(String, String, String, String), Vec<f64>> = HashMap::new();
    for seed in 0..SEEDS {
        let stats = our_stats(&init(seed));
        assert_eq!(
            stats.len(),
            expected,
            "{model}: {} statistics here, {expected} from Keras",
            stats.len()
        );
        for (layer, var, stat, value) in stats {
            ours.entry((model.to_string(), layer, var, stat))
                .or_default()
                .push(value);
        }
    }
    let mut failures = Vec::new();
    let mut worst = 0.0f64;
    for (key, values) in &ours {
        let &(k_mean, k_std) = keras
            .get(key)
            .unwrap_or_else(|| panic!("{key:?} has no Keras statistic"));
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        // Two-sample z of the means over the seeds; constants must be equal.
        let sigma = ((k_std * k_std + std * std) / n).sqrt();
        // The orthogonality error is f32 rounding, not a distribution: ours may only be smaller.
        let diff = if key.3 == "orth" {
            (mean - k_mean).max(0.0)
        } else {
            (mean - k_mean).abs()
        };
        let z = if sigma == 0.0 {
            if diff <= 1e-7 {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            diff / sigma
        };
        worst = worst.max(z);
        if z > 4.0 {
            failures.push(format!(
                "{key:?}: ours {mean:.6e} ± {std:.3e}, Keras {k_mean:.6e} ± {k_std:.3e} ({z:.1}σ)"
            ));
        }
    }
    println!(
        "{model}: worst deviation {worst:.2}σ over {} statistics",
        ours.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn recurrent_layers() {
    check("recurrent", Recurrent::init);
}

#[test]
fn spatial_layers() {
    check("spatial", Spatial::init);
}

#[test]
fn embedding_and_conv1d() {
    check("tokens", Tokens::init);
}

#[test]
fn named_initializers() {
    check("named", Named::init);
}

#[test]
fn wrapped_initializers_and_unit_forget_bias() {
    check("wrappers", Wrappers::init);
}

#[test]
fn seeded() {
    let a = Spatial::init(3);
    let b = Spatial::init(3);
    let c = Spatial::init(4);
    let (mut wa, mut wb, mut wc) = (Vec::new(), Vec::new(), Vec::new());
    for (net, w) in [(&a, &mut wa), (&b, &mut wb), (&c, &mut wc)] {
        net.visit_layers(&mut |_, l| {
            for i in 0..l.variables().len() {
                l.store_variable(i, &mut |v| w.push(v));
            }
        });
    }
    assert_eq!(wa, wb);
    assert_ne!(wa, wc);
    let boxed = Spatial::init_boxed(3);
    let mut wbox = Vec::new();
    boxed.visit_layers(&mut |_, l| {
        for i in 0..l.variables().len() {
            l.store_variable(i, &mut |v| wbox.push(v));
        }
    });
    assert_eq!(wa, wbox);
}

keras_model! {
    /// Initializers `init` cannot honour: Keras's defaults are used, and `init` is marked so a
    /// call warns (the note lists them).
    struct Unsupported {
        input_shape: (6,),
        layers: [
            Dense(5, kernel_initializer = "variance_scaling", bias_initializer = "constant", name = "d"),
        ],
    }
}

#[test]
fn unsupported_initializers_fall_back_to_defaults() {
    // Without the `allow`, this call warns: "use of deprecated associated function
    // `Unsupported::init`: init() uses Keras's default initializer instead of
    // `kernel_initializer` of layer `d` (\"variance_scaling\"), …".
    #[allow(deprecated)]
    let net = Unsupported::init(1);
    let limit = (6.0f32 / 11.0).sqrt();
    net.visit_layers(&mut |_, l| {
        let mut kernel = Vec::new();
        l.store_variable(0, &mut |v| kernel.push(v));
        assert!(kernel.iter().all(|v| v.abs() <= limit) && kernel.iter().any(|&v| v != 0.0));
        l.store_variable(1, &mut |v| assert_eq!(v, 0.0));
    });
}
