"""The lean paths of preprocessing (issue 12): MNIST-form crops read as they are, clean images near the edge."""

import importlib

import numpy as np
import pytest
from PIL import Image

from digitrec.errors import BadImage
from digitrec.io.mnist import load_split

P = importlib.import_module("digitrec.image.preprocess")  # the package exports a function of the same name
D = importlib.import_module("digitrec.io.decode")


@pytest.fixture(scope="module")
def digits():
    return load_split("test").images[:200]


def test_mnist_crops_are_read_as_they_are(digits):
    lean = [P.mnist_form(D.from_array(a)) for a in digits]
    assert sum(p is not None for p in lean) >= 190  # 99% of MNIST is in MNIST form
    a = digits[0]
    prepared = P.prepare(a)
    np.testing.assert_array_equal(prepared.image, a.astype(np.float32) / 255)
    assert not prepared.blank and prepared.box is not None


def test_off_centre_or_small_digits_take_the_full_path(digits):
    shifted = np.zeros((28, 28), np.uint8)
    shifted[:20, :20] = digits[0][4:24, 4:24]  # the same digit in the top-left corner
    assert P.mnist_form(D.from_array(shifted)) is None
    assert not np.array_equal(P.prepare(shifted).image, shifted / 255)  # re-centred
    small = np.zeros((28, 28), np.uint8)
    small[9:19, 9:19] = np.asarray(Image.fromarray(digits[0][4:24, 4:24]).resize((10, 10)))
    assert P.mnist_form(D.from_array(small)) is None
    dark_on_light = 255 - digits[0]
    assert P.mnist_form(D.from_array(dark_on_light)) is None


def test_clean_enlargement_with_ink_in_the_frame_skips_the_photo_clean_up(digits):
    # A digit whose ink reaches into the outer 4 px once enlarged 3x: the 1-px edge is still one tone.
    a = next(a for a in digits if a[1:3].any() or a[-3:-1].any() or a[:, 1:3].any() or a[:, -3:-1].any())
    big = 255 - np.asarray(Image.fromarray(a).resize((84, 84), Image.BILINEAR))
    gray = D.from_array(big)
    assert P._frame(gray).max() - P._frame(gray).min() > 0.02  # the plain frame test would refuse it
    assert P.clean_ink(gray) is not None
    shaded = gray * np.linspace(0.7, 1.0, 84, dtype=np.float32)[None, :]  # a lighting gradient: a photo
    assert P.clean_ink(shaded) is None


def test_median_matches_numpy():
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 10):
        a = rng.random(n).astype(np.float32)
        assert P._median(a) == pytest.approx(float(np.median(a)))


def test_fast_png_decoder_gives_pillows_pixels(tmp_path, digits):
    from digitrec.io import fastdecode

    path = tmp_path / "d.png"
    Image.fromarray(255 - digits[3]).resize((84, 84)).save(path)
    fast = fastdecode.decode_gray_png(str(path))
    np.testing.assert_array_equal(fast, D.to_gray(D.open_image(path)))
    assert P.prepare(path, fast_png=True).image.tobytes() == P.prepare(path).image.tobytes()


def test_fast_png_decoder_leaves_other_files_to_pillow(tmp_path, digits):
    from digitrec.io import fastdecode

    rgb = tmp_path / "rgb.png"
    Image.fromarray(digits[0]).convert("RGB").save(rgb)
    alpha = tmp_path / "la.png"
    Image.fromarray(digits[0]).convert("LA").save(alpha)
    gray = tmp_path / "g.png"
    Image.fromarray(digits[0]).save(gray)
    truncated = tmp_path / "t.png"
    truncated.write_bytes(gray.read_bytes()[:-20])
    for p in (rgb, alpha, truncated, tmp_path / "missing.png"):
        assert fastdecode.decode_gray_png(str(p)) is None, p
    assert fastdecode.decode_gray_png(str(gray)) is not None
    truncated.write_bytes(gray.read_bytes()[:60])
    with pytest.raises(BadImage, match="t.png"):  # Pillow still words the error for a broken file
        P.prepare(truncated, fast_png=True)


def test_enlarged_mnist_takes_one_shrink_and_reads_the_same(digits):
    a = digits[0]
    big = D.from_array(255 - np.asarray(Image.fromarray(a).resize((84, 84), Image.BILINEAR)))
    lean = P.scaled_mnist_form(big)
    assert lean is not None and lean.image.shape == (28, 28) and lean.image.max() == 1.0
    # the shrunk enlargement is the original crop again, up to two resamplings
    assert np.abs(lean.image - a / 255).mean() < 0.05
    off = np.ones((84, 84), np.float32)
    off[:60, :60] = big[12:72, 12:72]  # the digit pushed to a corner: full path
    assert P.scaled_mnist_form(off) is None
    specks = big.copy()
    specks[2:4, 80:82] = 0.0  # a speck of dirt far from the digit: full path (which leaves it out)
    assert P.scaled_mnist_form(specks) is None
