"""Fixtures for tests/parity_optimizers.rs: Keras's optimizers and learning-rate schedules, step by
step, from real Keras.

Run:  KERAS_BACKEND=jax JAX_PLATFORMS=cpu python tools/gen_optimizers.py

Every case builds one Keras optimizer, runs `optimizer.apply_gradients` on three variables
(shapes in SHAPES, named v0, v1, v2) from fixed initial values with fixed per-step gradients, and
records the variables after every step and `optimizer.variables` after the last one. Writes, under
tests/fixtures/optimizers/:

* inputs.bin: the initial values of v0, v1, v2, then the gradients of every step (MAX_STEPS of
  them), each step v0's, v1's and v2's, all raw little-endian f32 in Keras's row-major order;
* <case>.bin: the values of v0, v1, v2 after each step, then every optimizer variable in
  `optimizer.variables` order (the integer `iteration` stored as an f32);
* <case>.jit.bin: the same, from `jax.jit(optimizer.stateless_apply)`: the compiled step that
  `fit` and `train_on_batch` run. XLA contracts `a·b ± c` into fused multiply-adds there, so its
  last bits differ from the eager, op-by-op `apply_gradients`;
* cases.rs: the cases as Rust: the optimizer written as a struct literal (built from the same
  arguments the Keras object got), the step count, and the names of Keras's optimizer variables;
  then the configurations Keras rejects in its constructors, with Keras's message.

Deterministic: a fixed seed, and every file is rewritten from scratch.
"""

import os
import shutil

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "optimizers")
SHAPES = [(3, 2), (2,), (4, 3, 2)]
MAX_STEPS = 40
SEED = 20240615

# Keras class -> Rust type.
RUST_TYPE = {
    "SGD": "Sgd",
    "Adam": "Adam",
    "AdamW": "AdamW",
    "RMSprop": "RmsProp",
    "Adagrad": "Adagrad",
    "Adadelta": "Adadelta",
    "Adamax": "Adamax",
    "Nadam": "Nadam",
    "Lion": "Lion",
}
# Arguments that are `Option<_>` fields in Rust (None in Keras means "off").
OPTIONAL = {"weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "warmup_target"}
# Arguments Keras types as int (Rust integers).
INTEGER = {"decay_steps", "warmup_steps"}


class Case:
    def __init__(self, name, cls, steps=5, schedule=None, **kwargs):
        self.name, self.cls, self.steps, self.schedule, self.kwargs = name, cls, steps, schedule, kwargs

    def keras(self):
        kwargs = dict(self.kwargs)
        if self.schedule is not None:
            sched_cls, sched_kwargs = self.schedule
            kwargs["learning_rate"] = getattr(keras.optimizers.schedules, sched_cls)(**sched_kwargs)
        return getattr(keras.optimizers, self.cls)(**kwargs)

    def rust(self):
        fields = [f"{k}: {rust_value(k, v)}" for k, v in self.kwargs.items()]
        if self.schedule is not None:
            sched_cls, sched_kwargs = self.schedule
            # Every field of a schedule is written out: Keras's defaults for those not given.
            defaults = {
                "ExponentialDecay": {"staircase": False},
                "CosineDecay": {"alpha": 0.0, "warmup_target": None, "warmup_steps": 0},
            }[sched_cls]
            full = {**sched_kwargs, **{k: v for k, v in defaults.items() if k not in sched_kwargs}}
            inner = ", ".join(f"{k}: {rust_value(k, v)}" for k, v in full.items())
            fields.append(f"schedule: Some(Schedule::{sched_cls}({sched_cls} {{ {inner} }}))")
        body = ", ".join(fields + ["..Default::default()"])
        return f"{RUST_TYPE[self.cls]} {{ {body} }}"


def rust_value(key, v):
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "true" if v else "false"
    if key in INTEGER:
        assert isinstance(v, int), (key, v)
        text = str(v)
    else:
        assert isinstance(v, float), (key, v)  # Keras wants Python floats
        text = repr(v)
    return f"Some({text})" if key in OPTIONAL else text


def cases():
    out = []
    C = lambda *a, **k: out.append(Case(*a, **k))  # noqa: E731
    exp = lambda **k: ("ExponentialDecay", k)  # noqa: E731
    cos = lambda **k: ("CosineDecay", k)  # noqa: E731

    # SGD
    C("sgd_default", "SGD")
    C("sgd_plain", "SGD", learning_rate=0.1)
    C("sgd_momentum", "SGD", learning_rate=0.1, momentum=0.9)
    C("sgd_nesterov", "SGD", learning_rate=0.1, momentum=0.9, nesterov=True)
    C("sgd_weight_decay", "SGD", learning_rate=0.1, weight_decay=0.05)
    C("sgd_momentum_weight_decay", "SGD", learning_rate=0.1, momentum=0.5, weight_decay=0.05)
    # Adam, AdamW
    C("adam_default", "Adam")
    C("adam_lr", "Adam", learning_rate=0.1)
    C("adam_amsgrad", "Adam", learning_rate=0.1, amsgrad=True)
    C("adam_custom", "Adam", learning_rate=0.1, beta_1=0.8, beta_2=0.95, epsilon=1e-4)
    C("adam_weight_decay", "Adam", learning_rate=0.1, weight_decay=0.1)
    C("adam_long", "Adam", learning_rate=0.1, steps=MAX_STEPS)
    C("adamw_default", "AdamW")
    C("adamw_wd", "AdamW", learning_rate=0.1, weight_decay=0.3)
    C("adamw_amsgrad", "AdamW", learning_rate=0.1, weight_decay=0.3, amsgrad=True)
    # RMSprop
    C("rmsprop_default", "RMSprop")
    C("rmsprop_momentum", "RMSprop", learning_rate=0.1, momentum=0.9)
    C("rmsprop_centered", "RMSprop", learning_rate=0.1, centered=True)
    C("rmsprop_all", "RMSprop", learning_rate=0.05, rho=0.8, momentum=0.5, epsilon=1e-3, centered=True)
    C("rmsprop_weight_decay", "RMSprop", learning_rate=0.1, weight_decay=0.1)
    # Adagrad, Adadelta
    C("adagrad_default", "Adagrad")
    C("adagrad_init", "Adagrad", learning_rate=0.1, initial_accumulator_value=0.5)
    C("adadelta_default", "Adadelta")
    C("adadelta_custom", "Adadelta", learning_rate=1.0, rho=0.9)
    # Adamax, Nadam, Lion
    C("adamax_default", "Adamax")
    C("adamax_custom", "Adamax", learning_rate=0.1, beta_1=0.8, beta_2=0.95, epsilon=1e-4)
    C("nadam_default", "Nadam")
    C("nadam_custom", "Nadam", learning_rate=0.1, beta_1=0.8, beta_2=0.95)
    C("nadam_long", "Nadam", learning_rate=0.1, steps=MAX_STEPS)
    C("lion_default", "Lion")
    C("lion_custom", "Lion", learning_rate=0.1, beta_1=0.5, beta_2=0.9)
    # Clipping: v1's gradient is small, v2's large, and step 3 has an all-zero gradient for v1.
    for cls, extra in [("SGD", {}), ("Adam", {}), ("AdamW", {"weight_decay": 0.1})]:
        low = cls.lower()
        C(f"{low}_clipnorm", cls, learning_rate=0.1, clipnorm=1.5, **extra)
        C(f"{low}_clipvalue", cls, learning_rate=0.1, clipvalue=0.5, **extra)
        C(f"{low}_global_clipnorm", cls, learning_rate=0.1, global_clipnorm=3.0, **extra)
    C("nadam_clipnorm", "Nadam", learning_rate=0.1, clipnorm=0.7)
    C("rmsprop_global_clipnorm", "RMSprop", learning_rate=0.1, global_clipnorm=0.3)
    C("sgd_clipnorm_zero", "SGD", learning_rate=0.1, clipnorm=0.0)  # 0 means no clipping
    # Schedules (evaluated at the iteration count before the step).
    C("exponential_decay", "SGD", schedule=exp(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5))
    C("exponential_decay_staircase", "SGD",
      schedule=exp(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.7, staircase=True))
    C("cosine_decay", "SGD", schedule=cos(initial_learning_rate=0.1, decay_steps=3, alpha=0.2))
    C("cosine_decay_warmup", "SGD",
      schedule=cos(initial_learning_rate=0.01, decay_steps=2, warmup_target=0.2, warmup_steps=2))
    C("cosine_decay_long", "Adam", steps=MAX_STEPS,
      schedule=cos(initial_learning_rate=0.0, decay_steps=25, alpha=0.1, warmup_target=0.1, warmup_steps=7))
    C("schedule_adamw", "AdamW", weight_decay=0.2,
      schedule=exp(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.6))
    C("schedule_sgd_momentum", "SGD", momentum=0.9,
      schedule=cos(initial_learning_rate=0.1, decay_steps=4))
    C("schedule_nadam", "Nadam", schedule=exp(initial_learning_rate=0.05, decay_steps=1, decay_rate=0.9))
    C("schedule_rmsprop_clipvalue", "RMSprop", momentum=0.3, clipvalue=0.4,
      schedule=cos(initial_learning_rate=0.1, decay_steps=3, alpha=0.5))
    return out


def rejected():
    """Configurations Keras's constructors reject, each with the Rust struct that must fail too."""
    return [
        Case("clipnorm_and_clipvalue", "SGD", clipnorm=1.0, clipvalue=1.0),
        Case("clipnorm_and_global_clipnorm", "Adam", clipnorm=1.0, global_clipnorm=1.0),
        Case("all_three_clips", "RMSprop", clipnorm=1.0, clipvalue=0.5, global_clipnorm=1.0),
        Case("adamw_without_weight_decay", "AdamW", weight_decay=None),
        Case("sgd_momentum_above_one", "SGD", momentum=1.5),
        Case("sgd_momentum_negative", "SGD", momentum=-0.1),
        Case("lion_beta_1_zero", "Lion", beta_1=0.0),
        Case("lion_beta_1_above_one", "Lion", beta_1=1.5),
        Case("exponential_decay_zero_steps", "SGD",
             schedule=("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=0, decay_rate=0.5))),
        Case("cosine_decay_zero_steps", "Adam",
             schedule=("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=0))),
    ]


def inputs():
    rng = np.random.default_rng(SEED)
    init = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    scales = [1.0, 0.3, 2.0, 0.05, 1.0]
    grads = []
    for step in range(MAX_STEPS):
        scale = scales[step % len(scales)]
        g = [(rng.standard_normal(s) * scale).astype(np.float32) for s in SHAPES]
        g[1] *= np.float32(0.4)  # v1: small gradients (under the clip norms), v2: large ones
        g[2] *= np.float32(1.5)
        g[0].reshape(-1)[step % g[0].size] = 0.0  # exact zeros: Lion's sign(0), Adamax's max
        if step == 3:
            g[1][:] = 0.0  # an all-zero gradient: clip_by_norm's zero-norm branch
        grads.append(g)
    return init, grads


def run_eager(case, init, grads):
    opt = case.keras()
    variables = [keras.Variable(x, name=f"v{i}") for i, x in enumerate(init)]
    after = []
    for step in range(case.steps):
        opt.apply_gradients(list(zip(grads[step], variables)))
        after.append([np.asarray(v.value) for v in variables])
    return opt, after


def run_jit(case, init, grads):
    opt = case.keras()
    variables = [keras.Variable(x, name=f"v{i}") for i, x in enumerate(init)]
    opt.build(variables)
    apply = jax.jit(opt.stateless_apply)
    opt_vars = [v.value for v in opt.variables]
    train = [v.value for v in variables]
    after = []
    for step in range(case.steps):
        train, opt_vars = apply(opt_vars, grads[step], train)
        after.append([np.asarray(v) for v in train])
    return after, [np.asarray(v, dtype=np.float32) for v in opt_vars]


def f32_bytes(arrays):
    return b"".join(np.asarray(a, dtype=np.float32).reshape(-1).astype("<f4").tobytes() for a in arrays)


def main():
    keras.utils.set_random_seed(SEED)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    init, grads = inputs()
    with open(os.path.join(OUT, "inputs.bin"), "wb") as f:
        f.write(f32_bytes(init))
        for g in grads:
            f.write(f32_bytes(g))

    lines = [
        f"// @generated by tools/gen_optimizers.py from real Keras {keras.__version__}; do not edit.",
        f'const KERAS_VERSION: &str = "{keras.__version__}";',
        f"const SHAPES: &[&[usize]] = &[{', '.join('&[' + ', '.join(map(str, s)) + ']' for s in SHAPES)}];",
        f"const MAX_STEPS: usize = {MAX_STEPS};",
        "",
        "optimizer_cases! {",
    ]
    worst_jit = (0.0, "")
    for case in cases():
        opt, after = run_eager(case, init, grads)
        jit_after, jit_saved = run_jit(case, init, grads)
        diff = max(float(np.max(np.abs(a - b))) for s, t in zip(after, jit_after) for a, b in zip(s, t))
        if diff >= worst_jit[0]:
            worst_jit = (diff, case.name)
        saved = [np.asarray(v.value, dtype=np.float32) for v in opt.variables]
        names = [v.name for v in opt.variables]
        assert int(np.asarray(opt.iterations)) == case.steps
        with open(os.path.join(OUT, f"{case.name}.bin"), "wb") as f:
            for step in after:
                f.write(f32_bytes(step))
            f.write(f32_bytes(saved))
        with open(os.path.join(OUT, f"{case.name}.jit.bin"), "wb") as f:
            for step in jit_after:
                f.write(f32_bytes(step))
            f.write(f32_bytes(jit_saved))
        quoted = ", ".join(f'"{n}"' for n in names)
        lines.append(f"    {case.name} {{ steps: {case.steps}, optimizer: {case.rust()}, saved: [{quoted}] }},")
        print(f"{case.name:34} {case.steps:2} steps, {len(names):2} optimizer variables, jit vs eager {diff:.3g}")
    lines += ["}", "", "rejected_cases! {"]
    for case in rejected():
        try:
            case.keras()
        except ValueError as e:
            message = " ".join(str(e).split()).replace("\\", "\\\\").replace('"', '\\"')
        else:
            raise SystemExit(f"Keras accepted {case.name}")
        lines.append(f'    {case.name} {{ optimizer: {case.rust()}, keras: "{message}" }},')
    lines += ["}", ""]
    with open(os.path.join(OUT, "cases.rs"), "w") as f:
        f.write("\n".join(lines))
    print(f"largest jit-vs-eager difference: {worst_jit[0]:.3g} ({worst_jit[1]})")


if __name__ == "__main__":
    main()
