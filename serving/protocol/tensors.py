"""``tensorflow.TensorProto`` <-> numpy as TF Serving converts them: decoding as
``Tensor::FromProto`` (``tensor_content``, else ``*_val``: empty is zeros, short is padded with
its last value), encoding as ``Tensor::AsProtoField`` (typed ``*_val`` fields).
"""

import math
from typing import Dict, Optional, Tuple

import numpy as np

from tfx_kfp.serving.protocol.errors import InvalidArgument

__all__ = ["DTYPE_NAMES", "NUMPY_DTYPES", "dtype_name", "tensor_proto_to_ndarray",
           "ndarray_to_tensor_proto", "numpy_to_dtype_enum"]

# types.proto DataType numbers.
DT_FLOAT, DT_DOUBLE, DT_INT32, DT_UINT8, DT_INT16, DT_INT8, DT_STRING = 1, 2, 3, 4, 5, 6, 7
DT_COMPLEX64, DT_INT64, DT_BOOL, DT_BFLOAT16, DT_UINT16 = 8, 9, 10, 14, 17
DT_COMPLEX128, DT_HALF, DT_UINT32, DT_UINT64 = 18, 19, 22, 23

# Names as TensorFlow's DataTypeString() prints them in error messages.
DTYPE_NAMES: Dict[int, str] = {
    0: "INVALID", 1: "float", 2: "double", 3: "int32", 4: "uint8", 5: "int16",
    6: "int8", 7: "string", 8: "complex64", 9: "int64", 10: "bool", 11: "qint8",
    12: "quint8", 13: "qint32", 14: "bfloat16", 15: "qint16", 16: "quint16",
    17: "uint16", 18: "complex128", 19: "half", 20: "resource", 21: "variant",
    22: "uint32", 23: "uint64",
}

NUMPY_DTYPES: Dict[int, np.dtype] = {
    DT_FLOAT: np.dtype(np.float32), DT_DOUBLE: np.dtype(np.float64),
    DT_INT32: np.dtype(np.int32), DT_UINT8: np.dtype(np.uint8),
    DT_INT16: np.dtype(np.int16), DT_INT8: np.dtype(np.int8),
    DT_STRING: np.dtype(object), DT_COMPLEX64: np.dtype(np.complex64),
    DT_INT64: np.dtype(np.int64), DT_BOOL: np.dtype(np.bool_),
    DT_UINT16: np.dtype(np.uint16), DT_COMPLEX128: np.dtype(np.complex128),
    DT_HALF: np.dtype(np.float16), DT_UINT32: np.dtype(np.uint32),
    DT_UINT64: np.dtype(np.uint64),
}

_VALUE_FIELDS: Dict[int, str] = {
    DT_FLOAT: "float_val", DT_DOUBLE: "double_val", DT_INT32: "int_val",
    DT_UINT8: "int_val", DT_INT16: "int_val", DT_INT8: "int_val", DT_UINT16: "int_val",
    DT_STRING: "string_val", DT_INT64: "int64_val", DT_BOOL: "bool_val",
    DT_UINT32: "uint32_val", DT_UINT64: "uint64_val", DT_HALF: "half_val",
    DT_COMPLEX64: "scomplex_val", DT_COMPLEX128: "dcomplex_val",
}

_NUMPY_TO_ENUM = {np.dtype(v): k for k, v in NUMPY_DTYPES.items() if k != DT_STRING}


def dtype_name(dtype: int) -> str:
    """Returns TensorFlow's ``DataTypeString`` for a DataType enum value."""
    if dtype > 100:  # reference types
        return DTYPE_NAMES.get(dtype - 100, "unknown") + "_ref"
    return DTYPE_NAMES.get(dtype, f"unknown dtype enum ({dtype})")


def shape_string(shape) -> str:
    """A shape as TensorFlow's ``TensorShape::DebugString`` writes it: ``[2,3]``."""
    return "[" + ",".join(str(d) for d in shape) + "]"


def numpy_to_dtype_enum(array: np.ndarray) -> int:
    """Returns the DataType enum for a numpy array (object arrays are strings)."""
    if array.dtype.kind in ("O", "S", "U"):
        return DT_STRING
    return _NUMPY_TO_ENUM.get(array.dtype, 0)


# numpy's NPY_MAXDIMS (1.x): no array has more dimensions, so no session feed can either
# (TensorFlow's own TensorShape allows 254).
MAX_RANK = 32
# A TensorProto may list fewer values than its shape holds (padded with the last one);
# padding beyond this many bytes is refused rather than allocated.
_MAX_PADDED_BYTES = 1 << 31


def check_rank(rank: int, what: str) -> None:
    """Raises INVALID_ARGUMENT for a tensor of more than ``MAX_RANK`` dimensions."""
    if rank > MAX_RANK:
        raise InvalidArgument(f"{what} has {rank} dimensions; at most {MAX_RANK} are supported "
                              "(numpy's limit, which TensorFlow's session feeds share)")


def _shape_of(proto, alias: str) -> Optional[Tuple[int, ...]]:
    shape = proto.tensor_shape
    if shape.unknown_rank:
        return None
    check_rank(len(shape.dim), f"tensor parsing error: {alias}: the tensor")
    dims = tuple(d.size for d in shape.dim)
    if any(d < 0 for d in dims):
        return None
    return dims


def tensor_proto_to_ndarray(proto, alias: str) -> np.ndarray:
    """Decodes a TensorProto like ``Tensor::FromProto`` (strings: an object array of ``bytes``);
    ``tensor parsing error: <alias>`` where TensorFlow refuses it."""
    dtype = proto.dtype
    shape = _shape_of(proto, alias)
    np_dtype = NUMPY_DTYPES.get(dtype)
    if shape is None or np_dtype is None:
        if shape is not None and dtype == DT_BFLOAT16:
            return _decode_with_tensorflow(proto, alias)
        raise InvalidArgument(f"tensor parsing error: {alias}")
    count = math.prod(shape)
    content = proto.tensor_content
    if content:
        if dtype == DT_STRING:
            return _decode_with_tensorflow(proto, alias)
        if len(content) != count * np_dtype.itemsize:
            raise InvalidArgument(f"tensor parsing error: {alias}")
        return np.frombuffer(content, dtype=np_dtype).reshape(shape)
    if count == 0:
        return np.zeros(shape, dtype=np_dtype) if dtype != DT_STRING else np.empty(shape, object)
    values = getattr(proto, _VALUE_FIELDS[dtype])
    if dtype == DT_HALF:
        flat = np.array(values, dtype=np.uint16).view(np.float16)
    elif dtype in (DT_COMPLEX64, DT_COMPLEX128):
        pairs = np.array(values, dtype=np_dtype.type(0).real.dtype)
        flat = (pairs[0::2] + 1j * pairs[1::2]).astype(np_dtype) if len(pairs) else pairs
    elif dtype == DT_STRING:
        flat = np.array(list(values), dtype=object)
    else:
        flat = np.array(values, dtype=np_dtype) if dtype not in (
            DT_UINT8, DT_INT8, DT_INT16, DT_UINT16) else np.array(values).astype(np_dtype)
    available = len(flat)
    if available < count and count * np_dtype.itemsize > _MAX_PADDED_BYTES:
        raise InvalidArgument(f"tensor parsing error: {alias}")
    if available == 0:
        return np.full(shape, b"", object) if dtype == DT_STRING else np.zeros(shape, np_dtype)
    if available < count:
        flat = np.concatenate([flat, np.repeat(flat[-1:], count - available)])
    return flat[:count].reshape(shape)


def _decode_with_tensorflow(proto, alias: str) -> np.ndarray:
    import tensorflow as tf

    try:
        return tf.make_ndarray(proto)
    except Exception:  # noqa: BLE001 - any refusal is a parsing error for the caller
        raise InvalidArgument(f"tensor parsing error: {alias}") from None


def ndarray_to_tensor_proto(array: np.ndarray, proto) -> None:
    """Fills the empty TensorProto ``proto`` from ``array`` like ``Tensor::AsProtoField``."""
    dtype = numpy_to_dtype_enum(array)
    if dtype == 0:
        import tensorflow as tf

        proto.CopyFrom(tf.make_tensor_proto(array))
        return
    proto.dtype = dtype
    shape = proto.tensor_shape
    shape.SetInParent()
    for size in array.shape:
        shape.dim.add().size = size
    if array.size == 0:
        return
    flat = array.ravel()
    if dtype == DT_STRING:
        proto.string_val.extend([v if isinstance(v, bytes) else str(v).encode() for v in flat])
    elif dtype == DT_HALF:
        proto.half_val.extend(flat.view(np.uint16).tolist())
    elif dtype in (DT_COMPLEX64, DT_COMPLEX128):
        interleaved = np.stack([flat.real, flat.imag], axis=-1).ravel()
        getattr(proto, _VALUE_FIELDS[dtype]).extend(interleaved.tolist())
    else:
        getattr(proto, _VALUE_FIELDS[dtype]).extend(flat.tolist())
