"""The ONNX graph of one fixed-point logistic-regression step (`fedchain.zk.fixed.logreg`), built node by node.

Inputs: ``theta`` (1 x F+1, the global model) and ``batch`` (1 x packed length: features, labels, salt). Outputs:
``theta_in`` (the input weights again, so that they become public values: EZKL gives every input the same
visibility, and the batch's must be hashed) and ``theta_out`` (the weights after the step). The graph is written
with onnx's helpers rather than exported from PyTorch, so each operation, and hence the circuit's arithmetic, is
exactly the one :func:`fedchain.zk.fixed.logreg.sgd_step` mirrors; the same spec always gives the same bytes.
"""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

from fedchain.zk.fixed.logreg import LogRegStep

OPSET = 13
"""The ONNX operator set the graph is written in (Clip with tensor bounds, Slice with tensor starts)."""

PRODUCER = "fedchain.zk"

INPUTS = ("theta", "batch")
OUTPUTS = ("theta_in", "theta_out")


def _ints(name: str, values: list[int]) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(f"{name}_value", TensorProto.INT64,
                                                                            [len(values)], values))


def _float(name: str, shape: list[int], values: list[float]) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(f"{name}_value", TensorProto.FLOAT,
                                                                            shape, values))


def logreg_step_graph(spec: LogRegStep) -> onnx.ModelProto:
    """The ONNX model of one SGD step for ``spec`` (checked by onnx's checker)."""
    f, b, p = spec.features, spec.batch, spec.parameters
    logit = float(spec.logit_bound)
    nodes = [
        _ints("zero", [0]), _ints("x_end", [b * f]), _ints("y_end", [b * f + b]), _ints("axis", [1]),
        _ints("f_end", [f]), _ints("p_end", [p]), _ints("axis0", [0]),
        _ints("x_shape", [b, f]), _ints("y_shape", [b, 1]), _ints("w_shape", [p, 1]), _ints("out_shape", [1, p]),
        helper.make_node("Slice", ["batch", "zero", "x_end", "axis"], ["x_flat"]),
        helper.make_node("Reshape", ["x_flat", "x_shape"], ["x"]),
        helper.make_node("Slice", ["batch", "x_end", "y_end", "axis"], ["y_flat"]),
        helper.make_node("Reshape", ["y_flat", "y_shape"], ["y"]),
        helper.make_node("Reshape", ["theta", "w_shape"], ["w"]),
        helper.make_node("Slice", ["w", "zero", "f_end", "axis0"], ["weights"]),
        helper.make_node("Slice", ["w", "f_end", "p_end", "axis0"], ["bias"]),
        helper.make_node("MatMul", ["x", "weights"], ["xw"]),
        helper.make_node("Add", ["xw", "bias"], ["z_raw"]),
        _float("low", [], [-logit]), _float("high", [], [logit]),
        helper.make_node("Clip", ["z_raw", "low", "high"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["prob"]),
        helper.make_node("Sub", ["prob", "y"], ["err"]),
        helper.make_node("Transpose", ["x"], ["x_t"], perm=[1, 0]),
        helper.make_node("MatMul", ["x_t", "err"], ["grad_w"]),
        helper.make_node("ReduceSum", ["err", "axis0"], ["grad_b"], keepdims=1),
        helper.make_node("Concat", ["grad_w", "grad_b"], ["grad"], axis=0),
        _float("rate", [], [spec.step_size / 2.0**spec.scale]),
        helper.make_node("Mul", ["grad", "rate"], ["delta"]),
        helper.make_node("Sub", ["w", "delta"], ["w_new"]),
        helper.make_node("Reshape", ["w_new", "out_shape"], ["theta_out"]),
        helper.make_node("Identity", ["theta"], ["theta_in"]),
    ]
    graph = helper.make_graph(
        nodes, "fedchain_logreg_sgd_step",
        [helper.make_tensor_value_info("theta", TensorProto.FLOAT, [1, p]),
         helper.make_tensor_value_info("batch", TensorProto.FLOAT, [1, spec.packed_length])],
        [helper.make_tensor_value_info("theta_in", TensorProto.FLOAT, [1, p]),
         helper.make_tensor_value_info("theta_out", TensorProto.FLOAT, [1, p])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=PRODUCER)
    onnx.checker.check_model(model)
    return model


def logreg_step_onnx(spec: LogRegStep) -> bytes:
    """The serialized ONNX model of :func:`logreg_step_graph`: what EZKL compiles, and what the cache is keyed on."""
    serialized: bytes = logreg_step_graph(spec).SerializeToString(deterministic=True)
    return serialized
