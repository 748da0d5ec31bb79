"""Network definitions (torch only; imported by training and export, never by inference).

"seed" is the original notebook's Keras network, layer for layer:

    Conv2D(32, 5x5, relu) -> MaxPool(2) -> Conv2D(32, 3x3, relu) -> MaxPool(2)
    -> Dropout(0.2) -> Flatten -> Dense(128, relu) -> Dense(10, softmax)

with 113,898 trainable parameters and Keras' initialisation (Glorot-uniform
weights, zero biases). The softmax is left to the loss and to inference, so the
module returns logits: (N, 10) float32.

"strong" is a small VGG-style network with batch norm, used as the shipped
default for real-world images.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import torch
from torch import nn

from ..errors import ConfigError

INPUT_SHAPE = (1, 28, 28)


def _keras_init(model: nn.Module) -> nn.Module:
    # NOTE: Keras defaults (glorot_uniform, zeros) rather than torch's kaiming, so "seed" trains like the notebook.
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def seed(dropout: float = 0.2) -> nn.Sequential:
    """The notebook's CNN. Input (N, 1, 28, 28) float32 in [0, 1]; output logits (N, 10)."""
    layers = OrderedDict(
        conv1=nn.Conv2d(1, 32, 5),
        relu1=nn.ReLU(),
        pool1=nn.MaxPool2d(2),
        conv2=nn.Conv2d(32, 32, 3),
        relu2=nn.ReLU(),
        pool2=nn.MaxPool2d(2),
        dropout=nn.Dropout(dropout),
        flatten=nn.Flatten(),
        dense1=nn.Linear(32 * 5 * 5, 128),
        relu3=nn.ReLU(),
        dense2=nn.Linear(128, 10),
    )
    return _keras_init(nn.Sequential(layers))


def _conv_bn(i: int, cin: int, cout: int) -> list[tuple[str, nn.Module]]:
    conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
    return [(f"conv{i}", conv), (f"bn{i}", nn.BatchNorm2d(cout)), (f"relu{i}", nn.ReLU())]


def strong(width: int = 32, dropout: float = 0.1, classes: int = 10) -> nn.Sequential:
    """VGG-style CNN with batch norm: 2x(conv-conv-pool), conv, global average pool, linear.

    Input (N, 1, 28, 28) float32 in [0, 1]; output logits (N, classes): the 10
    digits, plus an 11th "not a digit" class when `classes` is 11.
    """
    w = width
    layers = [
        *_conv_bn(1, 1, w), *_conv_bn(2, w, w), ("pool1", nn.MaxPool2d(2)),
        *_conv_bn(3, w, 2 * w), *_conv_bn(4, 2 * w, 2 * w), ("pool2", nn.MaxPool2d(2)),
        *_conv_bn(5, 2 * w, 4 * w), ("gap", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()),
        ("dropout", nn.Dropout(dropout)), ("dense", nn.Linear(4 * w, classes)),
    ]  # fmt: skip
    return nn.Sequential(OrderedDict(layers))


class LineNet(nn.Module):
    """CRNN-style line reader: a CNN over a (N, 1, 32, W) line, then 1-D convolutions along it.

    The CNN pools height 32 to 1 and width by 4, so each output step sees
    4 input columns (and, through its receptive field, about 60); the 1-D
    convolutions give each step the context of its neighbours. Output: logits
    (N, W // 4, classes) for CTC, class 0 the blank.
    """

    def __init__(self, classes: int = 16, width: int = 32, dropout: float = 0.1) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(OrderedDict([
            *_conv_bn(1, 1, w), ("pool1", nn.MaxPool2d(2)),
            *_conv_bn(2, w, 2 * w), ("pool2", nn.MaxPool2d(2)),
            *_conv_bn(3, 2 * w, 3 * w), *_conv_bn(4, 3 * w, 3 * w), ("pool3", nn.MaxPool2d((2, 1))),
            ("collapse", nn.Conv2d(3 * w, 4 * w, (4, 1))), ("relu5", nn.ReLU()),
        ]))  # fmt: skip
        self.context = nn.Sequential(
            nn.Conv1d(4 * w, 4 * w, 5, padding=2), nn.ReLU(), nn.Dropout(dropout),
            nn.Conv1d(4 * w, 4 * w, 5, padding=2), nn.ReLU(), nn.Dropout(dropout),
        )  # fmt: skip
        self.head = nn.Conv1d(4 * w, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x).squeeze(2)  # (N, C, 1, T) -> (N, C, T)
        return self.head(f + self.context(f)).transpose(1, 2)


def line(classes: int = 16, width: int = 32, dropout: float = 0.1) -> LineNet:
    """The line reader's network; see `LineNet`."""
    return LineNet(classes, width, dropout)


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {"seed": seed, "strong": strong, "line": line}


def build(name: str = "seed", **hparams) -> nn.Module:
    """Build an untrained network by architecture name ("seed", "strong" or "line"); ConfigError for any other."""
    if name not in ARCHITECTURES:
        raise ConfigError(f"unknown architecture {name!r}; choose one of {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name](**hparams)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def layer_shapes(model: nn.Sequential) -> list[tuple[str, str, tuple[int, ...], int]]:
    """(name, type, output shape without batch, parameter count) for each top-level layer."""
    rows = []
    x = torch.zeros(1, *INPUT_SHAPE)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for name, layer in model.named_children():
            x = layer(x)
            params = sum(p.numel() for p in layer.parameters())
            rows.append((name, type(layer).__name__, tuple(x.shape[1:]), params))
    model.train(was_training)
    return rows


def summarize(model: nn.Sequential, title: str = "") -> str:
    """A Keras-style `model.summary()` table: layer, output shape, parameter count, totals."""
    rows = layer_shapes(model)
    lines = [f'Model: "{title}"'] if title else []
    rule = "_" * 65
    lines += [rule, f"{'Layer (type)':<30}{'Output Shape':<22}{'Param #':>13}", "=" * 65]
    for i, (name, kind, shape, params) in enumerate(rows):
        lines.append(f"{f'{name} ({kind})':<30}{str((None, *shape)):<22}{params:>13,}")
        lines.append(rule if i == len(rows) - 1 else "")
    total = count_parameters(model, trainable_only=False)
    trainable = count_parameters(model)
    lines += [
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
        rule,
    ]
    return "\n".join(lines)
