//! `static-keras inspect model.keras`: what a Keras file holds, as `model.summary()` prints it,
//! and the `keras_model!` declaration that matches it, ready to paste.
//!
//! The declaration is produced and checked by the macro's own pipeline (the `static-keras-dsl`
//! library), so what is printed is exactly what `keras_model!` accepts
//! and builds — including its errors for layers or options static-keras does not support.

use std::path::Path;
use std::process::ExitCode;

use static_keras_file::KerasFile;

const USAGE: &str = "\
Usage: static-keras inspect <FILE> [--name <StructName>]

Prints what a Keras file (.keras, .weights.h5 or legacy .h5) holds: the model summary as Keras
prints it, and the keras_model! declaration that matches it, to paste into your code.";

/// `my_model` / `sequential_1` → `MyModel` / `Sequential1`: a struct name from the model's name.
fn struct_name(name: &str) -> String {
    let mut out = String::new();
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "Model");
    }
    out
}

/// Whether `name` is one Keras gives a model by itself (`model`, `sequential_2`,
/// `functional_1`), which says nothing about the model.
fn automatic(name: &str) -> bool {
    let base = name
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches('_');
    matches!(base, "model" | "sequential" | "functional")
}

/// The struct's name: the model's, or the file's when Keras named the model by itself.
fn default_ident(model_name: Option<&str>, path: &Path) -> String {
    match model_name.filter(|n| !automatic(n)) {
        Some(name) => struct_name(name),
        None => {
            let file = path
                .file_name()
                .map(|f| f.to_string_lossy())
                .unwrap_or_default();
            struct_name(file.split('.').next().unwrap_or("model"))
        }
    }
}

/// The report for one file, or the reasons it cannot be declared.
fn inspect(path: &Path, name: Option<&str>) -> Result<String, Vec<String>> {
    let file = KerasFile::open(path).map_err(|e| vec![e.to_string()])?;
    let shown = path.display();
    let mut out = format!("{shown}: {}", file.format().describe());
    if let Some(version) = file.keras_version() {
        out += &format!(", written by Keras {version}");
    }
    out += "\n\n";
    let Some(config) = file.config() else {
        out += "This file holds weights only (no architecture). Its variables:\n";
        for (path, shape) in file.weight_shapes().map_err(|e| vec![e.to_string()])? {
            out += &format!("  {path:<40} {shape:?}\n");
        }
        out += "\nDeclare the layers with keras_model! and load the file with `Net::from_keras_file(path)`;\n\
                the loader checks every shape against the declaration.\n";
        return Ok(out);
    };
    let ident = name.map_or_else(
        || default_ident(config.name.as_deref(), path),
        str::to_string,
    );
    let inspection = static_keras_dsl::inspect(config, &ident)?;
    out += &inspection.summary;
    out += "\n\nThe declaration (paste into your code):\n\n";
    out += "use static_keras::keras_model;\n\n";
    out += &inspection.declaration;
    out += &embedding_hint(&ident, &shown.to_string(), inspection.embedded_const);
    Ok(out)
}

/// How to load the weights, and the declaration that embeds them: its model is the `const`
/// `EMBEDDED` where the compiler can build every layer (`embedded_const`), else
/// `load_embedded()`.
fn embedding_hint(ident: &str, shown: &str, embedded_const: bool) -> String {
    let embedded = if embedded_const {
        format!(
            "`{ident}::EMBEDDED` is then a `const` model built by the compiler (no file system,\n\
             nothing checked or copied at run time; in a `static` the weights stay in read-only memory)"
        )
    } else {
        format!(
            "`{ident}::load_embedded()` then builds the model, no file system needed (a layer here\n\
             cannot be built by the compiler, so there is no `const` `{ident}::EMBEDDED`)"
        )
    };
    let mut out = format!(
        "\nload its weights with `let net = {ident}::from_keras_file(\"{shown}\")?;`\n\n\
         Or let the macro read the file at compile time (path relative to Cargo.toml) and embed its\n\
         weights: {embedded}:\n\n\
         keras_model! {{\n    pub struct {ident} from \"{shown}\" with weights;\n}}\n"
    );
    if embedded_const {
        out += &format!("static NET: {ident} = {ident}::EMBEDDED;\n");
    }
    out
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (file, name) = match args.as_slice() {
        [cmd, file] if cmd == "inspect" => (file, None),
        [cmd, file, flag, name] if cmd == "inspect" && flag == "--name" => {
            (file, Some(name.as_str()))
        }
        [flag] if flag == "--help" || flag == "-h" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match inspect(Path::new(file), name) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in errors {
                eprintln!("error: {file}: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/files/");

    #[test]
    fn prints_the_summary_and_a_declaration_that_matches() {
        let report = inspect(&Path::new(DIR).join("mlp.k3151.keras"), None).unwrap();
        assert!(
            report.contains(".keras archive, written by Keras 3.15.1"),
            "{report}"
        );
        assert!(report.contains("Model: \"Mlp\""), "{report}");
        assert!(report.contains("│ dense_1 (Dense)"), "{report}");
        assert!(report.contains(" Total params: 88 (352.00 B)"), "{report}");
        assert!(report.contains(
            "keras_model! {\n    pub struct Mlp {\n        input_shape: (6,),\n        layers: [\n            \
             Dense(units = 8, activation = \"relu\", use_bias = True, name = \"dense\"),\n            \
             Dropout(rate = 0.3, name = \"dropout\"),\n"
        ), "{report}");
        // The model `from "…" with weights` builds is the const `EMBEDDED`.
        assert!(
            report
                .contains("weights: `Mlp::EMBEDDED` is then a `const` model built by the compiler"),
            "{report}"
        );
        assert!(
            report.ends_with(
                "mlp.k3151.keras\" with weights;\n}\nstatic NET: Mlp = Mlp::EMBEDDED;\n"
            ),
            "{report}"
        );
        assert!(!report.contains("load_embedded"), "{report}");
    }

    /// Where a layer cannot be built by the compiler there is no `EMBEDDED`: the hint names
    /// `load_embedded()`.
    #[test]
    fn the_hint_names_load_embedded_without_a_const_model() {
        let hint = embedding_hint("Net", "net.keras", false);
        assert!(
            hint.contains(
                "weights: `Net::load_embedded()` then builds the model, no file system needed"
            ),
            "{hint}"
        );
        assert!(
            hint.contains("there is no `const` `Net::EMBEDDED`"),
            "{hint}"
        );
        assert!(!hint.contains("static NET"), "{hint}");
        let hint = embedding_hint("Net", "net.keras", true);
        assert!(
            hint.contains("weights: `Net::EMBEDDED` is then a `const` model"),
            "{hint}"
        );
        assert!(
            hint.ends_with("pub struct Net from \"net.keras\" with weights;\n}\nstatic NET: Net = Net::EMBEDDED;\n"),
            "{hint}"
        );
        assert!(!hint.contains("load_embedded"), "{hint}");
    }

    /// A graph: Keras's functional table ("Connected to") and the functional declaration, which
    /// binds the shared layer once and lists both inputs and both outputs.
    #[test]
    fn prints_a_graph_as_functional_statements() {
        let report = inspect(&Path::new(DIR).join("graph/two_in.k333.h5"), None).unwrap();
        assert!(
            report.contains("legacy .h5 model, written by Keras 3.3.3"),
            "{report}"
        );
        assert!(report.contains("Model: \"TwoIn\""), "{report}");
        assert!(report.contains("┃ Connected to "), "{report}");
        assert!(
            report.contains("│ shared (Dense)                │ (None, 3)                 │              18 │ a[0][0], b[0][0]           │"),
            "{report}"
        );
        assert!(report.contains(" Total params: 67 (268.00 B)"), "{report}");
        assert!(report.contains(
            "keras_model! {\n    pub struct TwoIn {\n        \
             a = Input(shape = (5,), name = \"a\");\n        \
             b = Input(shape = (5,), name = \"b\");\n        \
             shared = Dense(units = 3, activation = \"linear\", use_bias = True, name = \"shared\");\n        \
             shared_call0 = shared(a);\n        \
             shared_call1 = shared(b);\n"
        ), "{report}");
        assert!(
            report.contains(
                "        model = Model(inputs = [a, b], outputs = [o1, inner2]);\n    }\n}\n"
            ),
            "{report}"
        );
    }

    /// Keras named the model `model` by itself: the struct is named after the file.
    #[test]
    fn a_model_keras_named_by_itself_is_named_after_the_file() {
        let report = inspect(&Path::new(DIR).join("real/pretrainedResnet.h5"), None).unwrap();
        assert!(report.contains("pub struct PretrainedResnet {"), "{report}");
        assert!(
            report.contains(" Total params: 78,666 (307.29 KB)"),
            "{report}"
        );
        assert!(
            report.contains(
                "        add_1 = Add(name = \"add_1\")([conv2d_5, batch_normalization_4]);\n"
            ),
            "{report}"
        );
    }

    #[test]
    fn lists_the_weights_of_a_weights_only_file() {
        let report = inspect(&Path::new(DIR).join("mlp.tf2w.h5"), Some("Net")).unwrap();
        assert!(report.contains("weights only"), "{report}");
        assert!(report.contains("/dense/dense/kernel:0"), "{report}");
    }

    #[test]
    fn names_what_it_cannot_declare() {
        let errors = inspect(&Path::new(DIR).join("unsupported_layer.keras"), None).unwrap_err();
        assert!(
            errors[0].contains("static-keras has no Lambda layer"),
            "{errors:?}"
        );
    }

    #[test]
    fn struct_names() {
        assert_eq!(struct_name("mlp"), "Mlp");
        assert_eq!(struct_name("my_model_2"), "MyModel2");
        assert_eq!(struct_name("1x"), "Model1x");
        assert!(automatic("model") && automatic("sequential_3") && automatic("functional_1"));
        assert!(!automatic("model_a") && !automatic("resblock"));
        assert_eq!(
            default_ident(Some("model_2"), Path::new("d/ad01.h5")),
            "Ad01"
        );
        assert_eq!(default_ident(Some("two_in"), Path::new("x.keras")), "TwoIn");
    }
}
