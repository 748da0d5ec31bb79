"""Two or three plain sentences per shown layer: what it computes, its output shape, its parameter arithmetic.

>>> explain({"name": "conv1", "type": "Conv2d", "input_shape": [1, 28, 28], "output_shape": [32, 24, 24],
...          "parameters": 832, "window": {"kernel": 5, "stride": 1, "padding": 0, "bias": True}})["parameters"]
'5·5·1·32 weights + 32 biases = 832 parameters.'
"""

from __future__ import annotations

from typing import Any


def _shape(shape: list[int]) -> str:
    if len(shape) == 3:
        return f"{shape[0]} maps of {shape[1]}×{shape[2]}"
    return f"{shape[0]} numbers" if shape else "?"


def _conv(view: dict[str, Any]) -> tuple[str, str]:
    w = view.get("window") or {}
    c_in, c_out = view["input_shape"][0], view["output_shape"][0]
    k = w.get("kernel", "?")
    pad = " The input is padded with a border of zeros, so the maps keep their size." if w.get("padding") else ""
    what = (
        f"Slides {c_out} learned {k}×{k} filters over the {c_in} input map{'s' if c_in > 1 else ''}: "
        "each output cell is "
        f"the weighted sum of the {k}×{k} window below it{' in every input map' if c_in > 1 else ''}"
        f"{' plus a bias' if w.get('bias') else ''}.{pad}"
    )
    if w:
        bias = f" + {c_out} biases" if w.get("bias") else " (no bias: batch norm follows)"
        params = f"{k}·{k}·{c_in}·{c_out} weights{bias} = {view['parameters']:,} parameters."
    else:
        params = f"{view['parameters']:,} parameters."
    return what, params


def _pool(view: dict[str, Any]) -> tuple[str, str]:
    w = view.get("window") or {}
    k = w.get("kernel", 2)
    if view["type"].startswith("Adaptive") or view["output_shape"][1:] == [1, 1]:
        what = "Averages each whole map into one number: how much of that feature the image holds, wherever it is."
    else:
        what = (
            f"Keeps the largest value of each {k}×{k} window, map by map: the feature's strongest response nearby. "
            f"Halving each side makes the next layers see a wider area and tolerate small shifts."
        )
    return what, "No parameters: nothing to learn."


def _linear(view: dict[str, Any]) -> tuple[str, str]:
    n_in = 1
    for d in view["input_shape"]:
        n_in *= d
    n_out = view["output_shape"][0]
    last = view.get("last")
    what = f"A dense layer: each of its {n_out} outputs is a weighted sum of all {n_in:,} inputs plus a bias." + (
        " These are the logits; softmax turns them into probabilities that add up to 1." if last else ""
    )
    return what, f"{n_in:,}·{n_out} weights + {n_out} biases = {view['parameters']:,} parameters."


def explain(view: dict[str, Any]) -> dict[str, str]:
    """{"what", "shape", "parameters"}: sentences for one entry of `layers.shown_layers`."""
    kind = view.get("type", "")
    if kind.startswith("Conv"):
        what, params = _conv(view)
    elif "Pool" in kind:
        what, params = _pool(view)
    elif kind == "Linear":
        what, params = _linear(view)
    elif kind == "ReLU":
        what, params = (
            "Sets every negative value to 0 and keeps the rest: the non-linearity between layers.",
            "No parameters.",
        )
    elif kind.startswith("BatchNorm"):
        c = view["output_shape"][0]
        what = (
            "Rescales each map with a learned scale and shift, using statistics gathered in training, "
            "so values stay in a steady range."
        )
        params = (
            f"2·{c} (scale and shift per map) = {view['parameters']:,} parameters; "
            "its running means and variances are not learned."
        )
    else:
        what, params = f"A {kind} layer.", f"{view.get('parameters') or 0:,} parameters."
    return {"what": what, "shape": f"Output: {_shape(view['output_shape'])}.", "parameters": params}
