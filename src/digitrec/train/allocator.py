"""Keep glibc malloc from returning training's big buffers to the kernel after every step.

By default glibc serves any request over its mmap threshold (128 KB, adapting up
to 32 MB) with a fresh mmap and unmaps it on free; it also trims the heap top
whenever 128 KB is free. A training step allocates and frees activations and
gradients of several MB each, so every step faulted its pages in again: on a
2-core AVX-512 EPYC one seed epoch spent 9.8 s of 15.7 s in the kernel (issue 12).
`tune()` raises both thresholds and pads the heap top, the same as running with
MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_/MALLOC_TOP_PAD_ set, but without
asking the user for environment variables. Freed memory then stays in the
process for reuse; the peak RSS is unchanged (the memory was needed at the peak).

A no-op (returns {}) where the C library is not glibc (macOS, Windows, musl), or
with DIGITREC_MALLOPT=0 in the environment (for measuring what the tuning buys).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# mallopt parameter numbers, from glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

# Values: mallopt takes a C int, so 1 GiB rather than the 4 GiB; a training
# step of any network here allocates far less than that in one block.
SETTINGS = {
    "M_MMAP_THRESHOLD": (M_MMAP_THRESHOLD, 1 << 30),
    "M_TRIM_THRESHOLD": (M_TRIM_THRESHOLD, 1 << 30),
    "M_TOP_PAD": (M_TOP_PAD, 512 << 20),
}

# What the last tune() got back from mallopt: name -> return code (1 = applied, 0 = refused).
APPLIED: dict[str, int] = {}


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _ = libc.gnu_get_libc_version  # only glibc has it (musl does not)
    except (OSError, AttributeError):
        return None
    return libc


def tune() -> dict[str, int]:
    """Apply SETTINGS through mallopt once per process; returns (and records in APPLIED) the return codes."""
    if APPLIED:
        return APPLIED
    libc = _glibc()
    if libc is None or os.environ.get("DIGITREC_MALLOPT") == "0":
        return {}
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    for name, (param, value) in SETTINGS.items():
        APPLIED[name] = int(libc.mallopt(param, value))
    return APPLIED
