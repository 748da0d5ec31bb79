import pytest

torch = pytest.importorskip("torch")

from digitrec.errors import ConfigError  # noqa: E402
from digitrec.train import models  # noqa: E402


def test_seed_has_exactly_the_notebooks_113898_parameters():
    assert models.count_parameters(models.build("seed")) == 113_898


def test_seed_layers_match_the_notebook():
    rows = models.layer_shapes(models.build("seed"))
    kinds = [kind for _, kind, _, _ in rows]
    assert kinds == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Dropout", "Flatten",
                     "Linear", "ReLU", "Linear"]  # fmt: skip
    assert rows[0][2] == (32, 24, 24) and rows[5][2] == (32, 5, 5) and rows[-1][2] == (10,)


def test_summary_table_has_shapes_and_totals():
    text = models.summarize(models.build("seed"), "seed")
    assert "(None, 32, 24, 24)" in text and "Total params: 113,898" in text and "Trainable params: 113,898" in text


def test_strong_model_maps_a_batch_to_ten_logits():
    out = models.build("strong").eval()(torch.zeros(3, 1, 28, 28))
    assert out.shape == (3, 10)


def test_unknown_architecture_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown architecture 'vgg99'"):
        models.build("vgg99")
