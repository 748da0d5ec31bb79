"""digitrec: read handwritten digits with a small CNN trained on MNIST.

Reading digits needs only numpy, Pillow and ONNX Runtime; training needs the
`train` extra (torch). Public names:

    Recognizer, Prediction      load a model, read images            (digitrec.infer)
    read_digits, Reading        several digits in one image          (digitrec.segment)
    read_cells, CellReading     forms: comb fields and tables by cell (digitrec.cells)
    load_mnist, Split           MNIST as uint8 arrays                (digitrec.data)
    preprocess                  image -> 28x28 MNIST form: preprocess(image), and the module of the
                                steps (digitrec.preprocess.prepare returns the ink box too)
    DigitrecError and subclasses                                     (digitrec.errors)

and, with torch installed: digitrec.models.build, digitrec.train.fit / save.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import preprocess  # NOTE: the module, callable as its `preprocess` function (see the module's end)
from .cells import CellReading, read_cells
from .data import Split, load_mnist
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
from .infer import Prediction, Recognizer
from .segment import Reading, read_digits

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
