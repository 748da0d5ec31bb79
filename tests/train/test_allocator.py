"""glibc malloc tuning (issue 12): applied when training starts, checked by the allocator's own behaviour."""

import subprocess
import sys

import pytest

from digitrec.train import allocator

glibc = pytest.mark.skipif(allocator._glibc() is None, reason="mallopt is glibc only")

# In a fresh process: malloc then free a 48 MB block and report whether glibc served it with its own
# mmap (mallinfo2().hblks counts live mmapped blocks). With the defaults it does (and unmaps it
# on free, the churn of issue 12); after tune() it must come from the heap and stay there.
PROBE = r"""
import ctypes, sys
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "train":
    import numpy as np, torch
    from digitrec.train.loop import TrainConfig, fit
    from digitrec.io.mnist import Split
    rng = np.random.default_rng(0)
    split = Split(rng.integers(0, 255, (64, 28, 28), dtype=np.uint8), rng.integers(0, 10, 64).astype(np.uint8))
    fit(TrainConfig(epochs=1, limit=64, batch_size=32), data=(split, split), progress=False)
before = libc.mallinfo2().hblks
p = libc.malloc(48 << 20)
during = libc.mallinfo2().hblks
libc.free(p)
print(during - before)
"""


def probe(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


@glibc
def test_tune_records_mallopt_accepting_every_setting():
    codes = allocator.tune()
    assert codes == {name: 1 for name in allocator.SETTINGS}
    assert allocator.APPLIED == codes


@pytest.mark.slow
@glibc
def test_big_blocks_stay_in_the_heap_once_training_started():
    pytest.importorskip("torch")
    assert probe("plain") == 1  # the default glibc behaviour: its own mmap per big block
    assert probe("train") == 0  # fit() tuned malloc: served from the heap, kept for the next step
