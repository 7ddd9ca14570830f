//! Rewrites a weight-only int8 ONNX model so that its matrix products run in int8.
//!
//! The pack's MiniLM stores each MatMul weight as int8 with one scale per output column,
//! expanded to floats by a DequantizeLinear node; ONNX Runtime folds those into float weights
//! at load, so every product runs in f32. For a lone search query that pass is most of a
//! search's time. Here each `MatMul(A, DequantizeLinear(W, scale, zero))` becomes
//!
//! ```text
//! DynamicQuantizeLinear(A) -> (Aq, a_scale, a_zero)
//! Cast(MatMulInteger(Aq, W, a_zero, zero), float) * (a_scale * scale)
//! ```
//!
//! which ONNX Runtime fuses into its int8 kernel. The weights are the same numbers; only the
//! activations are quantised, one scale per product, so the result is close to the float
//! pass, not equal (measured in docs/benchmarks.md). Only the query side uses it: stored
//! embeddings keep the float pass.
//!
//! Which kernel depends on the CPU ([`Int8Form`]): with VNNI the weights stay int8; with AVX2
//! alone they are stored shifted by 128 as uint8 (the zero points too), because ONNX Runtime's
//! AVX2 uint8 x int8 kernel adds pairs of products in 16 bits and saturates on full-range
//! int8 weights, while its uint8 x uint8 kernel widens first and is exact.
//!
//! ONNX files are protobuf. This reads and writes the few fields it needs and copies every
//! other field's bytes as they are, so nothing else in the model changes.

use std::collections::{HashMap, HashSet};

use vx_model_store::protobuf::{
    LENGTH_DELIMITED, ProtobufError, VARINT, fields, put_bytes, put_field, put_u64, varint,
};

#[derive(Debug, thiserror::Error)]
#[error("not a readable ONNX model: {0}")]
pub struct EditError(&'static str);

impl From<ProtobufError> for EditError {
    fn from(e: ProtobufError) -> EditError {
        EditError(e.0)
    }
}

type Edit<T> = std::result::Result<T, EditError>;

// Field numbers of onnx.proto.
const MODEL_GRAPH: u32 = 7;
const GRAPH_NODE: u32 = 1;
const GRAPH_INITIALIZER: u32 = 5;
const GRAPH_OUTPUT: u32 = 12;
const NODE_INPUT: u32 = 1;
const NODE_OUTPUT: u32 = 2;
const NODE_NAME: u32 = 3;
const NODE_OP_TYPE: u32 = 4;
const NODE_ATTRIBUTE: u32 = 5;
const NODE_DOMAIN: u32 = 7;
const ATTRIBUTE_NAME: u32 = 1;
const ATTRIBUTE_I: u32 = 3;
const ATTRIBUTE_TYPE: u32 = 20;
const ATTRIBUTE_TYPE_INT: u64 = 2;
const TENSOR_DIMS: u32 = 1;
const TENSOR_DATA_TYPE: u32 = 2;
const TENSOR_NAME: u32 = 8;
const TENSOR_RAW_DATA: u32 = 9;
const VALUE_INFO_NAME: u32 = 1;
const DATA_TYPE_FLOAT: u64 = 1;
const DATA_TYPE_UINT8: u64 = 2;
const DATA_TYPE_INT8: u64 = 3;

/// How a product's integers are multiplied, chosen by what the CPU does exactly and fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int8Form {
    /// uint8 activations times the int8 weights as stored (VNNI's `vpdpbusd`).
    Signed,
    /// uint8 activations times the weights shifted to uint8 (AVX2's widening kernel).
    Unsigned,
}

fn text(value: &[u8]) -> Edit<&str> {
    std::str::from_utf8(value).map_err(|_| EditError("a name is not UTF-8"))
}

/// What the rewrite needs of a node.
struct Node<'a> {
    inputs: Vec<&'a str>,
    outputs: Vec<&'a str>,
    op_type: &'a str,
    domain: &'a str,
    /// The `axis` attribute, if set.
    axis: Option<i64>,
}

fn node(bytes: &[u8]) -> Edit<Node<'_>> {
    let mut n = Node {
        inputs: Vec::new(),
        outputs: Vec::new(),
        op_type: "",
        domain: "",
        axis: None,
    };
    for f in fields(bytes)? {
        match f.number {
            NODE_INPUT => n.inputs.push(text(f.value)?),
            NODE_OUTPUT => n.outputs.push(text(f.value)?),
            NODE_OP_TYPE => n.op_type = text(f.value)?,
            NODE_DOMAIN => n.domain = text(f.value)?,
            NODE_ATTRIBUTE => {
                let attribute = fields(f.value)?;
                let named_axis = attribute
                    .iter()
                    .any(|a| a.number == ATTRIBUTE_NAME && a.value == b"axis");
                if let Some(i) = attribute.iter().find(|a| a.number == ATTRIBUTE_I)
                    && named_axis
                {
                    n.axis = Some(i.uint()? as i64);
                }
            }
            _ => {}
        }
    }
    Ok(n)
}

/// What the rewrite needs of an initializer.
struct Tensor<'a> {
    name: &'a str,
    data_type: u64,
    dims: Vec<u64>,
    /// The values' bytes, when stored as raw data (as the pack's are).
    raw: Option<&'a [u8]>,
}

fn tensor(bytes: &[u8]) -> Edit<Tensor<'_>> {
    let mut t = Tensor {
        name: "",
        data_type: 0,
        dims: Vec::new(),
        raw: None,
    };
    for f in fields(bytes)? {
        match (f.number, f.wire) {
            (TENSOR_NAME, _) => t.name = text(f.value)?,
            (TENSOR_RAW_DATA, LENGTH_DELIMITED) => t.raw = Some(f.value),
            (TENSOR_DATA_TYPE, _) => t.data_type = f.uint()?,
            (TENSOR_DIMS, VARINT) => t.dims.push(f.uint()?),
            (TENSOR_DIMS, _) => {
                let mut at = 0;
                while at < f.value.len() {
                    t.dims.push(varint(f.value, &mut at)?);
                }
            }
            _ => {}
        }
    }
    Ok(t)
}

fn encode_node(op_type: &str, inputs: &[&str], outputs: &[&str], name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for i in inputs {
        put_bytes(&mut out, NODE_INPUT, i.as_bytes());
    }
    for o in outputs {
        put_bytes(&mut out, NODE_OUTPUT, o.as_bytes());
    }
    put_bytes(&mut out, NODE_NAME, name.as_bytes());
    put_bytes(&mut out, NODE_OP_TYPE, op_type.as_bytes());
    out
}

fn encode_tensor(name: &str, data_type: u64, dims: &[u64], raw: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    for d in dims {
        put_u64(&mut t, TENSOR_DIMS, *d);
    }
    put_u64(&mut t, TENSOR_DATA_TYPE, data_type);
    put_bytes(&mut t, TENSOR_NAME, name.as_bytes());
    put_bytes(&mut t, TENSOR_RAW_DATA, raw);
    t
}

/// An int8 tensor's values shifted by 128 into uint8, under a new name.
fn shifted_to_uint8(t: &Tensor) -> Vec<u8> {
    let raw: Vec<u8> = t.raw.unwrap_or_default().iter().map(|v| v ^ 0x80).collect();
    encode_tensor(&uint8_name(t.name), DATA_TYPE_UINT8, &t.dims, &raw)
}

fn uint8_name(int8_name: &str) -> String {
    format!("{int8_name}/uint8")
}

fn cast_to_float(input: &str, output: &str, name: &str) -> Vec<u8> {
    let mut out = encode_node("Cast", &[input], &[output], name);
    let mut to = Vec::new();
    put_bytes(&mut to, ATTRIBUTE_NAME, b"to");
    put_u64(&mut to, ATTRIBUTE_I, DATA_TYPE_FLOAT);
    put_u64(&mut to, ATTRIBUTE_TYPE, ATTRIBUTE_TYPE_INT);
    put_bytes(&mut out, NODE_ATTRIBUTE, &to);
    out
}

/// The form whose products this CPU computes exactly and fast, if any: with VNNI
/// (`vpdpbusd`) uint8 x int8; with AVX2 alone uint8 x uint8, since there ONNX Runtime adds
/// uint8 x int8 products in pairs in 16 bits (`vpmaddubsw`), which saturate on full-range
/// int8 weights such as the pack's. Elsewhere none: unmeasured, so the float pass stays.
pub fn int8_form() -> Option<Int8Form> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512vnni") || has!("avxvnni") {
            return Some(Int8Form::Signed);
        }
        if has!("avx2") {
            return Some(Int8Form::Unsigned);
        }
    }
    None
}

/// The nodes that replace `MatMul(a, DequantizeLinear(w, scale, zero)) -> y`, reading the
/// weight and its zero point by the names given.
fn int8_product(a: &str, dq: &Node, w: &str, zero: &str, y: &str) -> Vec<Vec<u8>> {
    let scale = dq.inputs[1];
    let p = |suffix: &str| format!("{y}/int8_{suffix}");
    let (aq, a_scale, a_zero) = (p("a"), p("a_scale"), p("a_zero"));
    let (yi, yf, scales) = (p("product"), p("product_float"), p("scale"));
    let mut integer_inputs = vec![aq.as_str(), w, a_zero.as_str()];
    if !zero.is_empty() {
        integer_inputs.push(zero);
    }
    vec![
        encode_node(
            "DynamicQuantizeLinear",
            &[a],
            &[&aq, &a_scale, &a_zero],
            &p("quantize"),
        ),
        encode_node("MatMulInteger", &integer_inputs, &[&yi], &p("matmul")),
        cast_to_float(&yi, &yf, &p("cast")),
        encode_node("Mul", &[&a_scale, scale], &[&scales], &p("scales")),
        encode_node("Mul", &[&yf, &scales], &[y], &p("rescale")),
    ]
}

/// The model with every MatMul over an int8 per-column (or per-tensor) DequantizeLinear weight
/// computed in integers of the given form, but those whose weight `keep_float` names, and how
/// many were rewritten (0: the model is returned unchanged).
pub fn int8_matmuls(
    model: &[u8],
    form: Int8Form,
    keep_float: impl Fn(&str) -> bool,
) -> Edit<(Vec<u8>, usize)> {
    let top = fields(model)?;
    let graph = top
        .iter()
        .find(|f| f.number == MODEL_GRAPH && f.wire == LENGTH_DELIMITED)
        .ok_or(EditError("no graph"))?;
    let graph_fields = fields(graph.value)?;
    let mut initializers = HashMap::new();
    let mut graph_outputs = HashSet::new();
    let mut nodes = Vec::new();
    for f in &graph_fields {
        match f.number {
            GRAPH_INITIALIZER => {
                let t = tensor(f.value)?;
                initializers.insert(t.name, t);
            }
            GRAPH_OUTPUT => {
                for v in fields(f.value)? {
                    if v.number == VALUE_INFO_NAME {
                        graph_outputs.insert(text(v.value)?);
                    }
                }
            }
            GRAPH_NODE => nodes.push(node(f.value)?),
            _ => {}
        }
    }
    let is_product = |n: &Node| n.op_type == "MatMul" && n.domain.is_empty() && n.inputs.len() == 2;
    // Dequantised int8 matrices that some product reads, by the name of their float output.
    let matmul_weights: HashSet<&str> = nodes
        .iter()
        .filter(|n| is_product(n))
        .map(|n| n.inputs[1])
        .collect();
    // The unsigned form rewrites the values, so it needs them as raw bytes.
    let int8_tensor = |name: &str| {
        initializers.get(name).filter(|t| {
            t.data_type == DATA_TYPE_INT8 && (form == Int8Form::Signed || t.raw.is_some())
        })
    };
    let int8: HashMap<&str, &Node> = nodes
        .iter()
        .filter(|n| {
            n.op_type == "DequantizeLinear"
                && n.domain.is_empty()
                && n.inputs.len() >= 2
                && n.axis.unwrap_or(1) == 1
                && n.outputs
                    .first()
                    .is_some_and(|o| matmul_weights.contains(o))
                && !keep_float(n.inputs[0])
                && int8_tensor(n.inputs[0]).is_some_and(|w| w.dims.len() == 2)
                && n.inputs
                    .get(2)
                    .is_none_or(|z| z.is_empty() || int8_tensor(z).is_some())
        })
        .map(|n| (n.outputs[0], n))
        .collect();
    let rewritten = |n: &Node| is_product(n) && int8.contains_key(n.inputs[1]);
    // A dequantisation goes only when nothing but rewritten products reads it.
    let mut other_readers: HashSet<&str> = graph_outputs.clone();
    for n in nodes.iter().filter(|n| !rewritten(n)) {
        other_readers.extend(n.inputs.iter().copied());
    }
    let mut new_nodes = Vec::with_capacity(nodes.len());
    let mut new_initializers: HashMap<String, Vec<u8>> = HashMap::new();
    // What the kept nodes read: the unsigned form's products read only their new initializers.
    let mut read: HashSet<&str> = graph_outputs;
    let mut count = 0;
    for (n, f) in nodes
        .iter()
        .zip(graph_fields.iter().filter(|f| f.number == GRAPH_NODE))
    {
        if !rewritten(n) {
            let output = n.outputs.first().copied().unwrap_or("");
            if !int8.contains_key(output) || other_readers.contains(output) {
                new_nodes.push(f.value.to_vec());
                read.extend(n.inputs.iter().copied());
            }
            continue;
        }
        count += 1;
        let dq = int8[n.inputs[1]];
        let (w, zero) = (dq.inputs[0], dq.inputs.get(2).copied().unwrap_or(""));
        let (w, zero) = match form {
            Int8Form::Signed => (w.to_string(), zero.to_string()),
            Int8Form::Unsigned => {
                let shifted = |t: &str| (uint8_name(t), shifted_to_uint8(&initializers[t]));
                let (w_name, w_tensor) = shifted(w);
                new_initializers.insert(w_name.clone(), w_tensor);
                // No zero point is a zero point of 0: 128 once shifted.
                let (zero_name, zero_tensor) = if zero.is_empty() {
                    let name = uint8_name(&format!("{w}/zero"));
                    let scalar = encode_tensor(&name, DATA_TYPE_UINT8, &[], &[0x80]);
                    (name, scalar)
                } else {
                    shifted(zero)
                };
                new_initializers.insert(zero_name.clone(), zero_tensor);
                (w_name, zero_name)
            }
        };
        new_nodes.extend(int8_product(n.inputs[0], dq, &w, &zero, n.outputs[0]));
    }
    // The int8 weights and zero points the unsigned form replaced, unless a kept node reads them.
    let replaced: HashSet<&str> = match form {
        Int8Form::Signed => HashSet::new(),
        Int8Form::Unsigned => int8
            .values()
            .flat_map(|dq| [dq.inputs[0], dq.inputs.get(2).copied().unwrap_or("")])
            .filter(|name| !name.is_empty() && !read.contains(name))
            .collect(),
    };
    let mut graph_out = Vec::with_capacity(graph.value.len());
    let mut written_nodes = false;
    for f in &graph_fields {
        match f.number {
            GRAPH_NODE if !written_nodes => {
                written_nodes = true;
                for bytes in &new_nodes {
                    put_bytes(&mut graph_out, GRAPH_NODE, bytes);
                }
            }
            GRAPH_NODE => {}
            GRAPH_INITIALIZER if replaced.contains(tensor(f.value)?.name) => {}
            _ => put_field(&mut graph_out, f),
        }
    }
    let mut added: Vec<_> = new_initializers.into_iter().collect();
    added.sort();
    for (_, bytes) in added {
        put_bytes(&mut graph_out, GRAPH_INITIALIZER, &bytes);
    }
    if count == 0 {
        return Ok((model.to_vec(), 0));
    }
    let mut out = Vec::with_capacity(model.len());
    for f in &top {
        if f.number == MODEL_GRAPH {
            put_bytes(&mut out, MODEL_GRAPH, &graph_out);
        } else {
            put_field(&mut out, f);
        }
    }
    Ok((out, count))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use vx_model_store::protobuf::Field;

    fn value_info(name: &str, dims: &[u64]) -> Vec<u8> {
        // TypeProto { tensor_type (1): { elem_type (1): FLOAT, shape (2): { dim (1): { dim_value (1) } } } }
        let mut shape = Vec::new();
        for d in dims {
            let mut dim = Vec::new();
            put_u64(&mut dim, 1, *d);
            put_bytes(&mut shape, 1, &dim);
        }
        let mut tensor_type = Vec::new();
        put_u64(&mut tensor_type, 1, DATA_TYPE_FLOAT);
        put_bytes(&mut tensor_type, 2, &shape);
        let mut type_proto = Vec::new();
        put_bytes(&mut type_proto, 1, &tensor_type);
        let mut v = Vec::new();
        put_bytes(&mut v, VALUE_INFO_NAME, name.as_bytes());
        put_bytes(&mut v, 2, &type_proto);
        v
    }

    /// A model `y = x [1x4] @ DequantizeLinear(w [4x3] int8, scale [3], zero [3], axis 1)`.
    pub(crate) fn tiny_model() -> Vec<u8> {
        tiny_model_with(true)
    }

    /// The same, the zero point given (all 0) or left out (0 by default).
    fn tiny_model_with(zero_point: bool) -> Vec<u8> {
        let dq_inputs: &[&str] = if zero_point {
            &["w", "scale", "zero"]
        } else {
            &["w", "scale"]
        };
        let w: [i8; 12] = [12, -7, 100, -128, 5, 64, 33, -90, 0, 127, -1, 9];
        let scale: Vec<u8> = [0.02f32, 0.5, 0.003]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let mut graph = Vec::new();
        let mut dq = encode_node("DequantizeLinear", dq_inputs, &["wf"], "dq");
        let mut axis = Vec::new();
        put_bytes(&mut axis, ATTRIBUTE_NAME, b"axis");
        put_u64(&mut axis, ATTRIBUTE_I, 1);
        put_u64(&mut axis, ATTRIBUTE_TYPE, ATTRIBUTE_TYPE_INT);
        put_bytes(&mut dq, NODE_ATTRIBUTE, &axis);
        put_bytes(&mut graph, GRAPH_NODE, &dq);
        put_bytes(
            &mut graph,
            GRAPH_NODE,
            &encode_node("MatMul", &["x", "wf"], &["y"], "mm"),
        );
        put_bytes(&mut graph, 2, b"tiny");
        let w_bytes: Vec<u8> = w.iter().map(|v| *v as u8).collect();
        put_bytes(
            &mut graph,
            GRAPH_INITIALIZER,
            &encode_tensor("w", DATA_TYPE_INT8, &[4, 3], &w_bytes),
        );
        put_bytes(
            &mut graph,
            GRAPH_INITIALIZER,
            &encode_tensor("scale", DATA_TYPE_FLOAT, &[3], &scale),
        );
        if zero_point {
            put_bytes(
                &mut graph,
                GRAPH_INITIALIZER,
                &encode_tensor("zero", DATA_TYPE_INT8, &[3], &[0, 0, 0]),
            );
        }
        put_bytes(&mut graph, 11, &value_info("x", &[1, 4]));
        put_bytes(&mut graph, GRAPH_OUTPUT, &value_info("y", &[1, 3]));
        let mut model = Vec::new();
        put_u64(&mut model, 1, 8); // ir_version
        let mut opset = Vec::new();
        put_u64(&mut opset, 2, 17); // version (domain "" by default)
        put_bytes(&mut model, 8, &opset);
        put_bytes(&mut model, MODEL_GRAPH, &graph);
        model
    }

    fn graph_of(model: &[u8]) -> Vec<Field<'_>> {
        let graph = fields(model)
            .unwrap()
            .into_iter()
            .find(|f| f.number == MODEL_GRAPH)
            .unwrap();
        fields(graph.value).unwrap()
    }

    fn ops(graph: &[Field]) -> Vec<String> {
        graph
            .iter()
            .filter(|f| f.number == GRAPH_NODE)
            .map(|f| node(f.value).unwrap().op_type.to_string())
            .collect()
    }

    /// Initializers by name: data type and raw bytes.
    fn initializers(graph: &[Field]) -> HashMap<String, (u64, Vec<u8>)> {
        graph
            .iter()
            .filter(|f| f.number == GRAPH_INITIALIZER)
            .map(|f| {
                let t = tensor(f.value).unwrap();
                (t.name.to_string(), (t.data_type, t.raw.unwrap().to_vec()))
            })
            .collect()
    }

    const REWRITE: [&str; 5] = [
        "DynamicQuantizeLinear",
        "MatMulInteger",
        "Cast",
        "Mul",
        "Mul",
    ];

    /// The tiny model rewritten in `form`, checked to have its one product replaced.
    fn rewritten_tiny(form: Int8Form) -> Vec<u8> {
        let (out, count) = int8_matmuls(&tiny_model(), form, |_| false).unwrap();
        assert_eq!(count, 1);
        assert_eq!(ops(&graph_of(&out)), REWRITE);
        out
    }

    #[test]
    fn the_products_over_int8_weights_are_rewritten_and_the_rest_kept() {
        let out = rewritten_tiny(Int8Form::Signed);
        let graph = graph_of(&out);
        // Initializers, inputs, outputs and the name survive byte for byte.
        let kept = |g: &[Field]| {
            g.iter()
                .filter(|f| f.number != GRAPH_NODE)
                .map(|f| (f.number, f.value.to_vec()))
                .collect::<Vec<_>>()
        };
        let before = tiny_model();
        assert_eq!(kept(&graph), kept(&graph_of(&before)));
    }

    #[test]
    fn the_unsigned_form_reads_weights_and_zero_points_shifted_by_128() {
        let out = rewritten_tiny(Int8Form::Unsigned);
        let graph = graph_of(&out);
        let product = graph
            .iter()
            .filter(|f| f.number == GRAPH_NODE)
            .map(|f| node(f.value).unwrap())
            .find(|n| n.op_type == "MatMulInteger")
            .unwrap();
        assert_eq!(product.inputs[1], "w/uint8");
        assert_eq!(product.inputs[3], "zero/uint8");
        let init = initializers(&graph);
        // The int8 originals, read by nothing now, are gone; the scale stays.
        assert!(!init.contains_key("w") && !init.contains_key("zero"));
        assert!(init.contains_key("scale"));
        let (data_type, w) = &init["w/uint8"];
        assert_eq!(*data_type, DATA_TYPE_UINT8);
        assert_eq!(w[..4], [140, 121, 228, 0]); // 12, -7, 100, -128 plus 128
        assert_eq!(init["zero/uint8"], (DATA_TYPE_UINT8, vec![128; 3]));
    }

    #[test]
    fn onnx_runtime_runs_the_rewrite_close_to_the_float_product() {
        let runtime = crate::Runtime::get(&crate::RuntimeOptions::default())
            .expect("ONNX Runtime (scripts/setup.sh installs it)");
        let x = ndarray::arr2(&[[0.3f32, -1.2, 2.5, 0.7]]);
        let run = |model: &[u8]| {
            let mut session = runtime
                .session_from_bytes(model, std::path::Path::new("tiny.onnx"))
                .unwrap();
            let out = session
                .run(ort::inputs!["x" => ort::value::TensorRef::from_array_view(&x).unwrap()])
                .unwrap();
            out["y"].try_extract_tensor::<f32>().unwrap().1.to_vec()
        };
        let float = run(&tiny_model());
        let forms = [Int8Form::Signed, Int8Form::Unsigned];
        for (form, zero_point) in forms.into_iter().flat_map(|f| [(f, true), (f, false)]) {
            let model = tiny_model_with(zero_point);
            let int8 = run(&int8_matmuls(&model, form, |_| false).unwrap().0);
            assert_eq!(int8.len(), 3);
            for (f, i) in float.iter().zip(&int8) {
                // One activation scale for the row: an error of about 1/255 of its range.
                assert!(
                    (f - i).abs() <= 0.02 * f.abs().max(1.0),
                    "{form:?}, zero point {zero_point}: {float:?} {int8:?}"
                );
            }
        }
    }

    #[test]
    fn a_product_kept_in_float_is_left_alone() {
        for form in [Int8Form::Signed, Int8Form::Unsigned] {
            let (out, count) = int8_matmuls(&tiny_model(), form, |w| w == "w").unwrap();
            assert_eq!((out, count), (tiny_model(), 0));
        }
    }

    #[test]
    fn a_model_without_int8_weights_is_returned_as_is() {
        let mut graph = Vec::new();
        put_bytes(
            &mut graph,
            GRAPH_NODE,
            &encode_node("MatMul", &["x", "w"], &["y"], "mm"),
        );
        let mut model = Vec::new();
        put_bytes(&mut model, MODEL_GRAPH, &graph);
        let (out, count) = int8_matmuls(&model, Int8Form::Unsigned, |_| false).unwrap();
        assert_eq!((out, count), (model, 0));
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        let model = tiny_model();
        for cut in [1, 7, model.len() / 2, model.len() - 1] {
            for form in [Int8Form::Signed, Int8Form::Unsigned] {
                let _ = int8_matmuls(&model[..cut], form, |_| false);
            }
        }
        let damaged: &[&[u8]] = &[&[0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f], b"not a model"];
        for bytes in damaged {
            assert!(int8_matmuls(bytes, Int8Form::Signed, |_| false).is_err());
        }
    }
}
