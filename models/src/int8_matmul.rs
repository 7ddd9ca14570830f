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
//! which ONNX Runtime fuses into its int8 kernel (VNNI where the CPU has it). The weights are
//! the same int8 numbers; only the activations are quantised, one scale per product, so the
//! result is close to the float pass, not equal (measured in docs/benchmarks.md). Only the
//! query side uses it: stored embeddings keep the float pass.
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
const VALUE_INFO_NAME: u32 = 1;
const DATA_TYPE_FLOAT: u64 = 1;
const DATA_TYPE_INT8: u64 = 3;

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
}

fn tensor(bytes: &[u8]) -> Edit<Tensor<'_>> {
    let mut t = Tensor {
        name: "",
        data_type: 0,
        dims: Vec::new(),
    };
    for f in fields(bytes)? {
        match (f.number, f.wire) {
            (TENSOR_NAME, _) => t.name = text(f.value)?,
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

fn cast_to_float(input: &str, output: &str, name: &str) -> Vec<u8> {
    let mut out = encode_node("Cast", &[input], &[output], name);
    let mut to = Vec::new();
    put_bytes(&mut to, ATTRIBUTE_NAME, b"to");
    put_u64(&mut to, ATTRIBUTE_I, DATA_TYPE_FLOAT);
    put_u64(&mut to, ATTRIBUTE_TYPE, ATTRIBUTE_TYPE_INT);
    put_bytes(&mut out, NODE_ATTRIBUTE, &to);
    out
}

/// Whether this CPU multiplies uint8 by int8 exactly and fast (VNNI's `vpdpbusd`, which
/// ONNX Runtime uses when present). Without it ONNX Runtime adds pairs of products in 16 bits
/// (`vpmaddubsw`), which saturate on full-range int8 weights such as the pack's.
pub fn fast_int8() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx512vnni")
        || std::arch::is_x86_feature_detected!("avxvnni");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The nodes that replace `MatMul(a, DequantizeLinear(w, scale, zero)) -> y`.
fn int8_product(a: &str, dq: &Node, y: &str) -> Vec<Vec<u8>> {
    let (w, scale) = (dq.inputs[0], dq.inputs[1]);
    let zero = dq.inputs.get(2).copied().unwrap_or("");
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
/// computed in integers, but those whose weight `keep_float` names, and how many were
/// rewritten (0: the model is returned unchanged).
pub fn int8_matmuls(model: &[u8], keep_float: impl Fn(&str) -> bool) -> Edit<(Vec<u8>, usize)> {
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
                && initializers
                    .get(n.inputs[0])
                    .is_some_and(|w| w.data_type == DATA_TYPE_INT8 && w.dims.len() == 2)
        })
        .map(|n| (n.outputs[0], n))
        .collect();
    let rewritten = |n: &Node| is_product(n) && int8.contains_key(n.inputs[1]);
    // A dequantisation goes only when nothing but rewritten products reads it.
    let mut other_readers: HashSet<&str> = graph_outputs;
    for n in nodes.iter().filter(|n| !rewritten(n)) {
        other_readers.extend(n.inputs.iter().copied());
    }
    let mut graph_out = Vec::with_capacity(graph.value.len());
    let mut count = 0;
    let mut node_index = 0;
    for f in &graph_fields {
        if f.number != GRAPH_NODE {
            put_field(&mut graph_out, f);
            continue;
        }
        let n = &nodes[node_index];
        node_index += 1;
        if rewritten(n) {
            count += 1;
            for replacement in int8_product(n.inputs[0], int8[n.inputs[1]], n.outputs[0]) {
                put_bytes(&mut graph_out, GRAPH_NODE, &replacement);
            }
        } else {
            let output = n.outputs.first().copied().unwrap_or("");
            if !int8.contains_key(output) || other_readers.contains(output) {
                put_field(&mut graph_out, f);
            }
        }
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

    fn tensor(name: &str, data_type: u64, dims: &[u64], raw: &[u8]) -> Vec<u8> {
        let mut t = Vec::new();
        for d in dims {
            put_u64(&mut t, TENSOR_DIMS, *d);
        }
        put_u64(&mut t, TENSOR_DATA_TYPE, data_type);
        put_bytes(&mut t, TENSOR_NAME, name.as_bytes());
        put_bytes(&mut t, 9, raw); // raw_data
        t
    }

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
        let w: [i8; 12] = [12, -7, 100, -128, 5, 64, 33, -90, 0, 127, -1, 9];
        let scale: Vec<u8> = [0.02f32, 0.5, 0.003]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let mut graph = Vec::new();
        let mut dq = encode_node("DequantizeLinear", &["w", "scale", "zero"], &["wf"], "dq");
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
            &tensor("w", DATA_TYPE_INT8, &[4, 3], &w_bytes),
        );
        put_bytes(
            &mut graph,
            GRAPH_INITIALIZER,
            &tensor("scale", DATA_TYPE_FLOAT, &[3], &scale),
        );
        put_bytes(
            &mut graph,
            GRAPH_INITIALIZER,
            &tensor("zero", DATA_TYPE_INT8, &[3], &[0, 0, 0]),
        );
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

    #[test]
    fn the_products_over_int8_weights_are_rewritten_and_the_rest_kept() {
        let (out, count) = int8_matmuls(&tiny_model(), |_| false).unwrap();
        assert_eq!(count, 1);
        let graph = fields(&out)
            .unwrap()
            .into_iter()
            .find(|f| f.number == MODEL_GRAPH)
            .unwrap();
        let graph = fields(graph.value).unwrap();
        let ops: Vec<String> = graph
            .iter()
            .filter(|f| f.number == GRAPH_NODE)
            .map(|f| node(f.value).unwrap().op_type.to_string())
            .collect();
        assert_eq!(
            ops,
            [
                "DynamicQuantizeLinear",
                "MatMulInteger",
                "Cast",
                "Mul",
                "Mul"
            ]
        );
        // Initializers, inputs, outputs and the name survive byte for byte.
        let kept = |g: &[Field]| {
            g.iter()
                .filter(|f| f.number != GRAPH_NODE)
                .map(|f| (f.number, f.value.to_vec()))
                .collect::<Vec<_>>()
        };
        let before = tiny_model();
        let before_graph = fields(&before)
            .unwrap()
            .into_iter()
            .find(|f| f.number == MODEL_GRAPH)
            .unwrap();
        assert_eq!(kept(&graph), kept(&fields(before_graph.value).unwrap()));
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
        let int8 = run(&int8_matmuls(&tiny_model(), |_| false).unwrap().0);
        assert_eq!(int8.len(), 3);
        for (f, i) in float.iter().zip(&int8) {
            // One activation scale for the row: an error of about 1/255 of its range.
            assert!(
                (f - i).abs() <= 0.02 * f.abs().max(1.0),
                "{float:?} {int8:?}"
            );
        }
    }

    #[test]
    fn a_product_kept_in_float_is_left_alone() {
        let (out, count) = int8_matmuls(&tiny_model(), |w| w == "w").unwrap();
        assert_eq!((out, count), (tiny_model(), 0));
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
        let (out, count) = int8_matmuls(&model, |_| false).unwrap();
        assert_eq!((out, count), (model, 0));
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        let model = tiny_model();
        for cut in [1, 7, model.len() / 2, model.len() - 1] {
            let _ = int8_matmuls(&model[..cut], |_| false);
        }
        assert!(int8_matmuls(&[0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f], |_| false).is_err());
        assert!(int8_matmuls(b"not a model", |_| false).is_err());
    }
}
