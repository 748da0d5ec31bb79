"""digitrec: read handwritten digits with a small CNN trained on MNIST.

Reading digits needs only numpy, Pillow and ONNX Runtime; training needs the
`train` extra (torch). Public names:

    Recognizer, Prediction      load a model, read images            (digitrec.read.digits)
    read_digits, Reading        several digits in one image          (digitrec.read.strings)
    read_cells, CellReading     forms: comb fields and tables by cell (digitrec.read.cells)
    load_mnist, Split           MNIST as uint8 arrays                (digitrec.io.mnist)
    preprocess                  image -> 28x28 MNIST form: preprocess(image), and the module of the
                                steps (digitrec.image.preprocess.prepare returns the ink box too)
    DigitrecError and subclasses                                     (digitrec.errors)

and, with torch installed: digitrec.train.models.build, digitrec.train.loop.fit / save.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import (
    BadImage,
    CheckpointError,
    ConfigError,
    DataError,
    DigitrecError,
    ExportError,
    ImageTooLarge,
    MissingExtra,
    ModelError,
    ModelNotFound,
    OutputExists,
    TrainingError,
)
from .image import preprocess  # NOTE: the module, callable as its `preprocess` function (see the module's end)
from .io.mnist import Split, load_mnist
from .read.cells import CellReading, read_cells
from .read.digits import Prediction, Recognizer
from .read.strings import Reading, read_digits

__all__ = [
    "BadImage",
    "CellReading",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "DigitrecError",
    "ExportError",
    "ImageTooLarge",
    "MissingExtra",
    "ModelError",
    "ModelNotFound",
    "OutputExists",
    "Prediction",
    "Reading",
    "Recognizer",
    "Split",
    "TrainingError",
    "__version__",
    "load_mnist",
    "preprocess",
    "read_cells",
    "read_digits",
]
