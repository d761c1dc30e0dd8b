"""Minimal reader for TensorFlow Lite flatbuffer models.

Only what the converter needs: tensors (shape, type, quantisation, data),
operators (builtin code, inputs, outputs, options) of the first subgraph.
Field numbers follow tensorflow/lite/schema/schema.fbs; we read the raw
flatbuffer tables with the `flatbuffers` runtime instead of generated code,
so the project carries no copy of TensorFlow's generated schema.
"""

import flatbuffers
import numpy as np
from flatbuffers import number_types as N

# TensorType enum values.
TENSOR_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 9: np.int8, 7: np.int16}

# BuiltinOperator enum values used by MobileNet models.
BUILTIN = {
    0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
    6: "DEQUANTIZE", 9: "FULLY_CONNECTED", 14: "LOGISTIC", 17: "MAX_POOL_2D", 19: "RELU",
    21: "RELU6", 22: "RESHAPE", 25: "SOFTMAX", 34: "PAD", 40: "MEAN", 114: "QUANTIZE",
}

# ActivationFunctionType and Padding enums.
ACTIVATIONS = {0: None, 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
PADDINGS = {0: "SAME", 1: "VALID"}


class _Table:
    def __init__(self, buf, pos):
        self.t = flatbuffers.table.Table(buf, pos)

    def _off(self, field):
        return self.t.Offset(4 + 2 * field)

    def scalar(self, field, flags, default=0):
        o = self._off(field)
        return self.t.Get(flags, o + self.t.Pos) if o else default

    def string(self, field):
        o = self._off(field)
        return self.t.String(o + self.t.Pos).decode() if o else ""

    def table(self, field):
        o = self._off(field)
        return _Table(self.t.Bytes, self.t.Indirect(o + self.t.Pos)) if o else None

    def vector_len(self, field):
        o = self._off(field)
        return self.t.VectorLen(o) if o else 0

    def numbers(self, field, dtype):
        o = self._off(field)
        if not o:
            return np.zeros(0, dtype=dtype)
        start, n = self.t.Vector(o), self.t.VectorLen(o)
        return np.frombuffer(self.t.Bytes, dtype=dtype, count=n, offset=start).copy()

    def tables(self, field):
        o = self._off(field)
        if not o:
            return []
        start, n = self.t.Vector(o), self.t.VectorLen(o)
        return [_Table(self.t.Bytes, self.t.Indirect(start + 4 * i)) for i in range(n)]


class Tensor:
    def __init__(self, t, buffers):
        self.shape = tuple(int(x) for x in t.numbers(0, np.int32))
        self.dtype = TENSOR_DTYPES[t.scalar(1, N.Uint8Flags)]
        self.name = t.string(3)
        q = t.table(4)
        self.scale = q.numbers(2, np.float32) if q else np.zeros(0, np.float32)
        self.zero_point = q.numbers(3, np.int64) if q else np.zeros(0, np.int64)
        self.quantized_dimension = q.scalar(6, N.Int32Flags) if q else 0
        raw = buffers[t.scalar(2, N.Uint32Flags)]
        self.data = raw.view(self.dtype).reshape(self.shape) if raw.size else None

    def dequantized(self):
        """Returns the tensor's constant data as float32 (scale * (q - zero_point))."""
        if self.data is None:
            raise ValueError(f"tensor {self.name} has no constant data")
        if self.dtype == np.float32 or self.scale.size == 0:
            return self.data.astype(np.float32)
        shape = [1] * len(self.shape)
        if self.scale.size > 1:
            shape[self.quantized_dimension] = -1
        scale = self.scale.reshape(shape)
        zp = self.zero_point.reshape(shape) if self.zero_point.size else 0
        return (scale * (self.data.astype(np.float32) - zp)).astype(np.float32)


class Operator:
    def __init__(self, o, codes):
        self.op = codes[o.scalar(0, N.Uint32Flags)]
        self.inputs = [int(i) for i in o.numbers(1, np.int32)]
        self.outputs = [int(i) for i in o.numbers(2, np.int32)]
        self.options = o.table(4)

    def option(self, field, flags, default=0):
        return self.options.scalar(field, flags, default) if self.options else default


class Model:
    """The first subgraph of a .tflite file."""

    def __init__(self, path):
        buf = bytearray(open(path, "rb").read())
        root = _Table(buf, flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0))
        codes = []
        for c in root.tables(1):
            code = max(c.scalar(0, N.Int8Flags), c.scalar(3, N.Int32Flags))
            codes.append(BUILTIN.get(code, f"OP{code}"))
        buffers = [b.numbers(0, np.uint8) for b in root.tables(4)]
        sub = root.tables(2)[0]
        self.tensors = [Tensor(t, buffers) for t in sub.tables(0)]
        self.inputs = [int(i) for i in sub.numbers(1, np.int32)]
        self.outputs = [int(i) for i in sub.numbers(2, np.int32)]
        self.operators = [Operator(o, codes) for o in sub.tables(3)]
