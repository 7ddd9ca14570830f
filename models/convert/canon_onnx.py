"""Rewrites a tf2onnx graph into a canonical form, so that every conversion gives the same bytes.

Usage: canon_onnx.py IN.onnx OUT.onnx "DOC STRING"

tf2onnx's output differs from run to run: its names carry counters, it keeps different copies of
duplicate constants and nodes, orders commutative inputs differently, and removes no-op reshapes
only sometimes. Here every tensor is named by a hash of how it is computed (constants by their
bytes, node outputs by op, attributes and input names, sub-graphs included), duplicates are
merged, Identity nodes and reshapes to the shape a tensor already has are dropped, nodes are
ordered topologically with ties broken by name, initializers are sorted by name, and each graph
output is given by one Identity node. What the graph computes is unchanged.
"""

import hashlib
import heapq
import sys

import onnx
from onnx import helper, numpy_helper, shape_inference

COMMUTATIVE = {"Add", "Mul", "Max", "Min", "Sum", "Equal", "And", "Or", "Xor"}


def digest(*parts):
    h = hashlib.sha256()
    for p in parts:
        b = p if isinstance(p, bytes) else str(p).encode()
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()[:16]


def static_shapes(model):
    """Tensor name -> fully known shape, from ONNX shape inference."""
    inferred = shape_inference.infer_shapes(model)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input):
        dims = vi.type.tensor_type.shape.dim
        if vi.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
            shapes[vi.name] = [d.dim_value for d in dims]
    for t in model.graph.initializer:
        shapes[t.name] = list(t.dims)
    return shapes


class Canon:
    def __init__(self, shapes):
        self.shapes = shapes

    def graph(self, g, outer, salt, keep_inputs, input_names=None):
        """`salt` is "" for the main graph and unique per sub-graph, so that names made inside
        never repeat one made outside (ONNX wants each name assigned once, scopes included)."""
        names = dict(outer)  # old name -> canonical name, outer scope included
        consts, inits = {}, []
        for t in g.initializer:
            array = numpy_helper.to_array(t)
            name = "const_" + digest(t.data_type, list(t.dims), array.tobytes())
            names[t.name] = name
            if name not in consts:
                consts[name] = numpy_helper.from_array(array, name)
        for sparse in g.sparse_initializer:
            raise ValueError(f"sparse initializer {sparse.values.name} is not supported")
        inputs = []
        for i, vi in enumerate(g.input):
            new = onnx.ValueInfoProto()
            new.CopyFrom(vi)
            if input_names:
                new.name = input_names[i]
            elif not keep_inputs:
                new.name = f"in_{digest(salt, i)}_{i}"
            names[vi.name] = new.name
            inputs.append(new)
        for n in g.node:  # constants made by nodes are constants too
            if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value":
                t = n.attribute[0].t
                array = numpy_helper.to_array(t)
                name = "const_" + digest(t.data_type, list(t.dims), array.tobytes())
                names[n.output[0]] = name
                consts.setdefault(name, numpy_helper.from_array(array, name))
        nodes = {}
        pending = [n for n in g.node if not (n.op_type == "Constant" and n.output[0] in names)]
        while pending:  # resolve in dependency order; tf2onnx's own order is topological
            progress = False
            rest = []
            for n in pending:
                if not all((not x) or x in names for x in self.refs(n)):
                    rest.append(n)
                    continue
                progress = True
                self.node(n, names, consts, nodes, salt)
            if not progress:
                missing = sorted({x for n in rest for x in self.refs(n) if x and x not in names})
                raise ValueError(f"graph {g.name!r} reads undefined tensors {missing[:5]}")
            pending = rest
        outputs, tails = [], []
        for vi in g.output:
            src = names[vi.name]
            out = onnx.ValueInfoProto()
            out.CopyFrom(vi)
            if not keep_inputs:
                out.name = f"out_{digest(salt, src, len(outputs))}"
            tails.append(
                helper.make_node("Identity", [src], [out.name], name="id_out_" + digest(out.name)[:12])
            )
            outputs.append(out)
        ordered = self.topological(list(nodes.values()))
        used = {x for n in ordered + tails for x in self.refs(n)}
        inits = [consts[k] for k in sorted(consts) if k in used]
        graph = helper.make_graph(ordered + tails, g.name, inputs, outputs, inits, doc_string=g.doc_string)
        return graph

    def refs(self, n):
        """Every tensor a node reads, its sub-graphs' outer-scope reads included."""
        out = list(n.input)
        for a in n.attribute:
            for sub in subgraphs(a):
                out += self.outer_refs(sub)
        return out

    def outer_refs(self, g):
        local = {t.name for t in g.initializer} | {vi.name for vi in g.input}
        local |= {o for n in g.node for o in n.output}
        return [x for n in g.node for x in self.refs(n) if x and x not in local]

    def node(self, n, names, consts, nodes, scope):
        if n.op_type == "Loop":
            n = self.ordered_loop(n, names, scope)
        ins = [names[x] if x else "" for x in n.input]
        if n.op_type == "Identity" or self.noop_reshape(n, consts, names):
            names[n.output[0]] = ins[0]
            if n.input[0] in self.shapes:
                self.shapes.setdefault(n.output[0], self.shapes[n.input[0]])
            return
        if n.op_type in COMMUTATIVE and len(ins) == 2:
            ins.sort()
        salt = digest(scope, n.op_type, n.domain, *ins)
        attrs = []
        for a in sorted(n.attribute, key=lambda a: a.name):
            a2 = onnx.AttributeProto()
            a2.CopyFrom(a)
            a2.doc_string = ""
            if a.HasField("g"):
                a2.g.CopyFrom(self.graph(a.g, names, salt, keep_inputs=False))
            for i, sub in enumerate(a.graphs):
                a2.graphs[i].CopyFrom(self.graph(sub, names, digest(salt, i), keep_inputs=False))
            attrs.append(a2)
        h = digest(scope, n.op_type, n.domain, *ins, *[unnamed_dims(a) for a in attrs], len(n.output))
        outs = [f"t_{h}_{i}" if o else "" for i, o in enumerate(n.output)]
        for old, new in zip(n.output, outs):
            if old:
                names[old] = new
        if h not in nodes:
            node = helper.make_node(n.op_type, ins, outs, name="n_" + h, domain=n.domain or None)
            node.attribute.extend(attrs)
            nodes[h] = node

    def ordered_loop(self, n, names, scope):
        """tf2onnx orders a Loop's carried values and scan outputs differently from run to run.
        Sort them by what they compute: a signature per carried value, refined a few times from
        its initial value and the body's next value for it, and the scan outputs by theirs."""
        body = next(a.g for a in n.attribute if a.name == "body")
        carried = len(n.input) - 2
        scans = len(body.output) - 1 - carried
        sig = [digest(names.get(x, x)) for x in n.input[2:]]
        for _ in range(3):
            ins = ["iter_" + scope, "cond_" + scope] + [f"c_{s}" for s in sig]
            g = self.graph(body, names, digest(scope, "probe"), False, input_names=ins)
            src = {t.output[0]: t.input[0] for t in g.node if t.name.startswith("id_out_")}
            result = [src[o.name] for o in g.output]
            sig = [digest(sig[k], result[1 + k]) for k in range(carried)]
        sc = sorted(range(scans), key=lambda j: result[1 + carried + j])

        def role(k):
            """Values that always agree (same start, same step) tie; tell them apart by what
            the scan outputs become when this one alone is renamed."""
            probe = list(ins)
            probe[2 + k] = "probe"
            g = self.graph(body, names, digest(scope, "probe"), False, input_names=probe)
            src = {t.output[0]: t.input[0] for t in g.node if t.name.startswith("id_out_")}
            return [src[g.output[1 + carried + j].name] for j in sc]

        c = sorted(range(carried), key=lambda k: (sig[k], role(k)))
        loop = onnx.NodeProto()
        loop.CopyFrom(n)
        del loop.input[2:], loop.output[:]
        loop.input.extend([n.input[2 + k] for k in c])
        loop.output.extend([n.output[k] for k in c] + [n.output[carried + j] for j in sc])
        new_body = next(a.g for a in loop.attribute if a.name == "body")
        del new_body.input[2:], new_body.output[1:]
        new_body.input.extend([body.input[2 + k] for k in c])
        new_body.output.extend([body.output[1 + k] for k in c])
        new_body.output.extend([body.output[1 + carried + j] for j in sc])
        return loop

    def noop_reshape(self, n, consts, names):
        if n.op_type != "Reshape" or len(n.input) < 2:
            return False
        shape = self.shapes.get(n.input[0])
        target = consts.get(names.get(n.input[1], ""))
        if shape is None or target is None:
            return False
        t = numpy_helper.to_array(target).tolist()
        return len(t) == len(shape) and all(a == b for a, b in zip(t, shape))

    def topological(self, nodes):
        producer = {o: n for n in nodes for o in n.output if o}
        waiting = {}
        for n in nodes:
            deps = {x for x in self.refs(n) if x in producer}
            waiting[n.name] = len({producer[x].name for x in deps})
        users = {}
        for n in nodes:
            for p in {producer[x].name for x in self.refs(n) if x in producer}:
                users.setdefault(p, []).append(n)
        ready = [(n.name, n) for n in nodes if waiting[n.name] == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            _, n = heapq.heappop(ready)
            order.append(n)
            for u in users.get(n.name, []):
                waiting[u.name] -= 1
                if waiting[u.name] == 0:
                    heapq.heappush(ready, (u.name, u))
        if len(order) != len(nodes):
            raise ValueError("the graph has a cycle")
        return order


def unnamed_dims(attr):
    """An attribute's bytes with sub-graph dimension names (tf2onnx's counters) left out."""
    a = onnx.AttributeProto()
    a.CopyFrom(attr)
    for sub in subgraphs(a):
        rename_dims(sub, lambda _: "")
    return a.SerializeToString()


def subgraphs(attr):
    return ([attr.g] if attr.HasField("g") else []) + list(attr.graphs)


def rename_dims(graph, rename):
    """tf2onnx names unknown dimensions with a counter (unk__834); `rename` gives new names."""
    for vi in list(graph.input) + list(graph.output) + list(graph.value_info):
        for d in vi.type.tensor_type.shape.dim:
            if d.HasField("dim_param"):
                d.dim_param = rename(d.dim_param)
    for n in graph.node:
        for a in n.attribute:
            for sub in subgraphs(a):
                rename_dims(sub, rename)


def canonical(model, doc):
    canon = Canon(static_shapes(model))
    graph = canon.graph(model.graph, {}, "", keep_inputs=True)
    graph.doc_string = doc
    numbers = {}
    rename_dims(graph, lambda d: numbers.setdefault(d, f"dyn_{len(numbers)}"))
    out = onnx.ModelProto()
    out.CopyFrom(model)
    out.graph.CopyFrom(graph)
    out.doc_string = ""
    del out.metadata_props[:]
    onnx.checker.check_model(out)
    return out


if __name__ == "__main__":
    src, dst, doc = sys.argv[1:4]
    onnx.save(canonical(onnx.load(src), doc), dst)
