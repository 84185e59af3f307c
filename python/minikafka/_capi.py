"""ctypes binding of libminikafka.so (include/minikafka/minikafka.h, ABI version 1).

Only what the header declares, with the same names; the Broker class in __init__ is the API.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Dict, Optional

ABI_VERSION = 1

MINIKAFKA_OK = 0
MINIKAFKA_ERR_UNKNOWN = -1
MINIKAFKA_ERR_INVALID_ARGUMENT = -2
MINIKAFKA_ERR_STATE = -3
MINIKAFKA_ERR_IO = -4
MINIKAFKA_ERR_NO_MEMORY = -5
MINIKAFKA_ERR_HTTP = -6


class PartitionLagStruct(ctypes.Structure):
    _fields_ = [
        ("topic", ctypes.c_char_p),
        ("partition", ctypes.c_int32),
        ("committed", ctypes.c_int64),
        ("end_offset", ctypes.c_int64),
        ("lag", ctypes.c_int64),
    ]


_c_str_array = ctypes.POINTER(ctypes.c_char_p)

_PROTOTYPES = {
    "minikafka_version": (ctypes.c_char_p, []),
    "minikafka_abi_version": (ctypes.c_int, []),
    "minikafka_error_name": (ctypes.c_char_p, [ctypes.c_int]),
    "minikafka_last_error": (ctypes.c_char_p, []),
    "minikafka_create": (ctypes.c_int, [_c_str_array, ctypes.POINTER(ctypes.c_void_p)]),
    "minikafka_destroy": (None, [ctypes.c_void_p]),
    "minikafka_start": (ctypes.c_int, [ctypes.c_void_p]),
    "minikafka_stop": (ctypes.c_int, [ctypes.c_void_p]),
    "minikafka_bootstrap": (ctypes.c_char_p, [ctypes.c_void_p]),
    "minikafka_port": (ctypes.c_int, [ctypes.c_void_p]),
    "minikafka_admin_url": (ctypes.c_char_p, [ctypes.c_void_p]),
    "minikafka_topic_create": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32, _c_str_array]),
    "minikafka_topic_delete": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p]),
    "minikafka_topics_list": (ctypes.c_int, [ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(ctypes.c_void_p)),
                                             ctypes.POINTER(ctypes.c_size_t)]),
    "minikafka_strings_free": (None, [ctypes.POINTER(ctypes.c_void_p)]),
    "minikafka_end_offset": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32,
                                            ctypes.POINTER(ctypes.c_int64)]),
    "minikafka_end_offsets": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int64),
                                             ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    "minikafka_group_lag": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p,
                                           ctypes.POINTER(ctypes.POINTER(PartitionLagStruct)),
                                           ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_int64)]),
    "minikafka_group_lag_free": (None, [ctypes.POINTER(PartitionLagStruct), ctypes.c_size_t]),
    "minikafka_admin_request": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                               ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_void_p)]),
    "minikafka_free": (None, [ctypes.c_void_p]),
}

_loaded: Dict[str, ctypes.CDLL] = {}
_lock = threading.Lock()


def load(path: str) -> ctypes.CDLL:
    """Loads libminikafka.so from `path` once per process and declares its functions.

    Raises OSError when it cannot be loaded or is not ABI version 1.
    """
    with _lock:
        lib = _loaded.get(path)
        if lib is not None:
            return lib
        lib = ctypes.CDLL(path)
        for name, (restype, argtypes) in _PROTOTYPES.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        if lib.minikafka_abi_version() != ABI_VERSION:
            raise OSError(f"{path} has C ABI version {lib.minikafka_abi_version()}, this package needs {ABI_VERSION}")
        _loaded[path] = lib
        return lib


def str_array(items) -> Optional[ctypes.Array]:
    """A NULL-terminated char*[] of UTF-8 strings (None for an empty list)."""
    items = [s.encode() for s in items]
    if not items:
        return None
    arr = (ctypes.c_char_p * (len(items) + 1))(*items, None)
    return ctypes.cast(arr, _c_str_array)
