"""preprocess: real images built with Pillow/numpy (no mocks) come out as MNIST-form 28x28 digits."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import IMAGES, center_of_mass, draw_seven
from PIL import Image, ImageDraw, ImageFilter

from digitrec.errors import BadImage
from digitrec.image.preprocess import (
    MNIST_STROKE,
    Prepared,
    find_ink,
    ink_box,
    ink_on_paper,
    limit_side,
    prepare,
    preprocess,
    recover_ink,
    soft_threshold,
    stroke_width,
)
from digitrec.io.decode import load_gray
from digitrec.read.strings import READ_SIDE, read_page
from digitrec.synth import paper as synth
from digitrec.synth.photos import write_photo_set

PHOTO_FLOOR = 0.90  # the seed model reads 0.94 of these 88 test-size photo-set images (README "Photos and scans")


def assert_mnist_like(image: np.ndarray) -> None:
    """28x28 float32 in [0, 1], ink bright, filling a 20x20 box, centre of mass at MNIST's centre."""
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() == pytest.approx(1.0, abs=1e-3)
    ys, xs = np.nonzero(image > 0.05)
    side = max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1)
    assert 17 <= side <= 21, f"digit is {side} px, MNIST's is 20"
    # NOTE: MNIST's mean centre of mass is (14.0, 14.0); integer placement leaves up to half a pixel.
    cy, cx = center_of_mass(image)
    assert abs(cy - 14.0) <= 0.75 and abs(cx - 14.0) <= 0.75, (cy, cx)
    assert 0.04 < image.mean() < 0.35, "ink coverage far from MNIST's (about 0.13)"
    assert 1.0 <= stroke_width(image) <= 4.0


def read(rec, image) -> tuple[Prepared, int, float]:
    prep = prepare(image)
    probs = rec.probabilities(prep.image[None, None])[0]
    return prep, int(probs.argmax()), float(probs[7])


def to_bytes(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


# ---------------------------------------------------------------- one digit, many looks


def rgba_seven() -> Image.Image:
    """Drawing-app export: black strokes on a transparent canvas whose hidden RGB is black too."""
    img = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(70, 60), (230, 60), (130, 250)], fill=(0, 0, 0, 255), width=18, joint="curve")
    return img


def shadowed_seven() -> np.ndarray:
    """A 7 on paper lit from the left, with a soft shadow across its lower half."""
    paper = np.asarray(draw_seven(size=(400, 300), box=(150, 60, 260, 240), width=9), np.float32) / 255
    ys, xs = np.mgrid[0:300, 0:400]
    light = (0.35 + 0.65 * xs / 399) * np.where(ys > 170, 0.55, 1.0)
    shaded = Image.fromarray(np.round(paper * light * 255).astype(np.uint8))
    return np.asarray(shaded.filter(ImageFilter.GaussianBlur(4)))


def lined_seven() -> Image.Image:
    img = Image.new("RGB", (640, 420), (245, 243, 235))
    draw = ImageDraw.Draw(img)
    for y in range(25, 420, 45):
        draw.line([(0, y), (640, y)], fill=(150, 180, 225), width=2)
    draw.line([(260, 120), (380, 120), (300, 300)], fill=(20, 30, 120), width=9, joint="curve")
    return img


def specked_seven() -> Image.Image:
    img = draw_seven(size=(500, 400), box=(200, 130, 290, 270), width=9)
    draw = ImageDraw.Draw(img)
    for x, y in [(20, 20), (470, 30), (30, 370), (460, 380), (480, 200)]:
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=30)
    return img


SEVENS = {
    "dark-on-light": lambda: draw_seven(),
    "light-on-dark": lambda: draw_seven(ink=255, paper=0),
    "chalk-on-board": lambda: draw_seven(size=(300, 240), box=(100, 40, 190, 200), ink=220, paper=40, width=12),
    "off-centre": lambda: draw_seven(size=(600, 400), box=(470, 250, 550, 380)),
    "non-square": lambda: draw_seven(size=(900, 160), box=(100, 20, 180, 140)),
    "rgba-transparent": rgba_seven,
    "thick-marker": lambda: draw_seven(size=(300, 300), box=(80, 60, 220, 250), width=38),
    "thin-pen": lambda: draw_seven(size=(500, 500), box=(150, 100, 330, 400), width=2),
    "shadow-gradient": shadowed_seven,
    "lined-paper": lined_seven,
    "specks-of-dirt": specked_seven,
    "jpeg-noise": lambda: Image.open(io.BytesIO(to_bytes(draw_seven(), "JPEG", quality=25))),
}


@pytest.mark.parametrize("kind", sorted(SEVENS))
def test_seven_lands_centred_mnist_like_and_is_read(kind, seed_recognizer):
    prep, digit, p7 = read(seed_recognizer, SEVENS[kind]())
    assert not prep.blank
    assert_mnist_like(prep.image)
    assert digit == 7, f"read as {digit} (p7={p7:.3f})"


def test_lined_paper_lines_do_not_set_the_crop():
    prep = prepare(lined_seven())
    left, top, right, bottom = prep.box
    assert 240 <= left and right <= 400 and 100 <= top and bottom <= 320, prep.box


def test_specks_of_dirt_stay_outside_the_box():
    left, top, right, bottom = prepare(specked_seven()).box
    assert 185 <= left and right <= 300 and 120 <= top and bottom <= 285


def test_small_digit_in_large_photo_is_found_at_full_resolution(seed_recognizer, tmp_path):
    photo = Image.new("RGB", (3000, 2000), (238, 236, 228))
    ImageDraw.Draw(photo).line([(2500, 1700), (2560, 1700), (2520, 1790)], fill=(25, 35, 110), width=4, joint="curve")
    path = tmp_path / "photo.jpg"
    photo.filter(ImageFilter.GaussianBlur(1)).save(path, quality=80)
    prep, digit, _ = read(seed_recognizer, path)
    assert_mnist_like(prep.image)
    assert digit == 7
    left, top, right, bottom = prep.box
    assert abs(left - 2500) < 15 and abs(top - 1700) < 15 and abs(right - 2562) < 15 and abs(bottom - 1792) < 15


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_rotated_photo_is_read_upright(orientation, seed_recognizer, tmp_path):
    upright = draw_seven(size=(320, 240), box=(110, 40, 200, 200), width=10).convert("RGB")
    stored = upright.transpose({3: Image.ROTATE_180, 6: Image.ROTATE_90, 8: Image.ROTATE_270}[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "phone.jpg"
    stored.save(path, quality=90, exif=exif.tobytes())
    prep, digit, p7 = read(seed_recognizer, path)
    assert_mnist_like(prep.image)
    assert digit == 7 and p7 > 0.9
    _, raw_digit, raw_p7 = read(seed_recognizer, np.asarray(Image.open(path).convert("L")))  # pixels as stored
    assert raw_digit != 7 or raw_p7 < 0.5, "the test image needs EXIF to look like a 7"


def test_mnist_digits_pass_through_nearly_unchanged(test_split, seed_recognizer):
    images = test_split.images[:400]
    out = np.stack([prepare(to_bytes(Image.fromarray(a))).image for a in images])
    diff = np.abs(out - images / 255.0).mean()
    assert diff < 0.02, f"mean absolute change {diff:.4f}"
    acc = (seed_recognizer.predict_arrays(out).argmax(1) == test_split.labels[:400]).mean()
    raw = (seed_recognizer.predict_arrays(images).argmax(1) == test_split.labels[:400]).mean()
    assert acc >= raw - 0.01


def test_mnist_stroke_constant_matches_mnist(test_split):
    # NOTE: measured as to_mnist does: each digit's crop upsampled 4x (longest side 80 px), width / 4.
    from digitrec.image.preprocess import resize

    widths = []
    for a in test_split.images[:300] / 255.0:
        ys, xs = np.nonzero(a > 0)
        crop = a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        widths.append(stroke_width(resize(crop, (crop.shape[0] * 4, crop.shape[1] * 4))) / 4)
    assert abs(np.median(widths) - MNIST_STROKE) < 0.15


# ---------------------------------------------------------------- nothing to read


@pytest.mark.parametrize(
    "image",
    [
        np.full((200, 300), 255, np.uint8),
        np.full((200, 300), 90, np.uint8),
        np.zeros((28, 28), np.uint8),
    ],
    ids=["white", "grey", "black"],
)
def test_blank_image_is_blank(image):
    prep = prepare(image)
    assert prep.blank and prep.box is None and not prep.image.any()


def test_noise_only_image_is_blank():
    rng = np.random.default_rng(0)
    noisy = np.clip(rng.normal(150, 12, (240, 320)), 0, 255).astype(np.uint8)
    jpeg = Image.open(io.BytesIO(to_bytes(Image.fromarray(noisy), "JPEG", quality=50)))
    assert prepare(noisy).blank and prepare(jpeg).blank


def test_faint_digit_is_not_blank():
    img = draw_seven(ink=200, paper=235)  # pencil on paper: contrast 0.14
    assert not prepare(img).blank


# ---------------------------------------------------------------- steps


def test_steps_are_pure_and_keep_shape():
    gray = np.asarray(draw_seven(), np.float32) / 255
    before = gray.copy()
    ink = soft_threshold(ink_on_paper(gray) * -1 + 1)
    assert np.array_equal(gray, before)
    assert ink.shape == gray.shape and ink.dtype == np.float32 and 0 <= ink.min() and ink.max() <= 1
    left, top, right, bottom = ink_box(ink)
    assert (left, top) >= (50, 10) and (right, bottom) <= (150, 150)


def _callers(name: str) -> set[str]:
    """'wing/module.py:function' of every function in src/digitrec that calls `name` (plainly or as an attribute)."""
    package = Path(__file__).resolve().parents[2] / "src" / "digitrec"
    out = set()
    for path in sorted(package.rglob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text())):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for call in ast.walk(fn):
                if isinstance(call, ast.Call) and name in (
                    getattr(call.func, "id", None),
                    getattr(call.func, "attr", None),
                ):
                    out.add(f"{path.relative_to(package).as_posix()}:{fn.name}")
    return out


def test_one_ink_recovery_serves_digits_pages_and_training_lines():
    """Reading a digit, reading a page and drawing the line reader's training pictures recover ink one way."""
    assert _callers("ink_on_paper") == _callers("flatten_lighting") == {"image/preprocess.py:ink_strength"}
    assert {"image/preprocess.py:find_ink", "read/strings.py:_page", "synth/lines.py:capture"} <= _callers(
        "recover_ink"
    )
    # on a photo without rulings, both readers see exactly the ink `recover_ink` finds
    buf = io.BytesIO()
    synth.photo(np.asarray(draw_seven(ink=255, paper=0)), np.random.default_rng(0)).save(buf, "PNG")
    gray, _ = load_gray(io.BytesIO(buf.getvalue()))
    ink, strength = recover_ink(limit_side(gray, READ_SIDE))
    assert ink.any() and ink.shape == strength.shape and (ink > 0).sum() < (strength > 0).sum()
    assert np.array_equal(read_page(io.BytesIO(buf.getvalue())).ink, ink)
    assert np.array_equal(find_ink(limit_side(gray)), recover_ink(limit_side(gray))[0])


def test_preprocess_returns_the_image_of_prepare():
    img = draw_seven()
    assert np.array_equal(preprocess(img), prepare(img).image)


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"not an image at all", "not an image"), (None, "truncated")],
    ids=["not-an-image", "truncated"],
)
def test_unreadable_bytes_raise_bad_image_with_one_line(data, message):
    if data is None:
        data = to_bytes(draw_seven(), "PNG")[:200]
    with pytest.raises(BadImage, match=message) as e:
        prepare(data, name="upload.png")
    assert "\n" not in str(e.value) and "upload.png" in str(e.value)


def test_missing_file_and_decompression_bomb_raise_bad_image(tmp_path):
    with pytest.raises(BadImage, match="no such file"):
        prepare(tmp_path / "nope.png")
    big = tmp_path / "bomb.png"
    Image.new("1", (12000, 12000)).save(big)  # 144 MP of zeros: a few kB on disk
    with pytest.raises(BadImage, match="too large"):
        prepare(big)


# ---------------------------------------------------------------- photo set, seed model


@pytest.mark.slow
def test_photo_set_accuracy_floor(tmp_path, seed_recognizer):
    # NOTE: canvases capped at 500 px so 88 images (8 per condition) build in seconds.
    rows = write_photo_set(tmp_path, n=88, seed=7, max_side=500)
    assert {r["condition"] for r in rows} == set(synth.CONDITIONS)
    preds = [seed_recognizer.predict(tmp_path / r["file"]) for r in rows]
    top = [int(np.argmax(p.probabilities)) if any(p.probabilities) else -1 for p in preds]
    acc = np.mean([t == int(r["label"]) for t, r in zip(top, rows)])
    assert acc >= PHOTO_FLOOR, f"photo-set accuracy {acc:.3f} below floor {PHOTO_FLOOR}"


def test_photo_set_is_deterministic_and_labelled(tmp_path):
    a = write_photo_set(tmp_path / "a", n=11, seed=3, max_side=400)
    b = write_photo_set(tmp_path / "b", n=11, seed=3, max_side=400)
    assert a == b
    assert all((tmp_path / "a" / r["file"]).read_bytes() == (tmp_path / "b" / r["file"]).read_bytes() for r in a)
    with open(tmp_path / "a" / "labels.csv") as f:
        assert list(csv.DictReader(f)) == a
    transparent = next(r for r in a if r["condition"] == "transparent")
    rgba = np.asarray(Image.open(tmp_path / "a" / transparent["file"]))
    assert rgba.shape[2] == 4 and not rgba[..., :3].any() and rgba[..., 3].any()
    exif = next(r for r in a if r["condition"] == "exif")
    assert Image.open(tmp_path / "a" / exif["file"]).getexif().get(0x0112) in (3, 6, 8)


# ---------------------------------------------------------------- digitrec predict --show-preprocessed


def test_cli_show_preprocessed_writes_what_the_network_saw(tmp_path):
    from digitrec.cli import cli

    src = tmp_path / "in"
    src.mkdir()
    draw_seven().save(src / "seven.png")
    draw_seven(ink=255, paper=0).save(src / "chalk.jpg")
    Image.new("L", (64, 64), 255).save(src / "blank.png")
    out = tmp_path / "seen"
    result = CliRunner().invoke(cli, ["predict", str(src), "--model", "seed", "--show-preprocessed", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["blank.28x28.png", "chalk.28x28.png", "seven.28x28.png"]
    for name in ("seven", "chalk"):
        saved = np.asarray(Image.open(out / f"{name}.28x28.png"))
        assert saved.shape == (28, 28) and saved.dtype == np.uint8
        expected = np.round(prepare(next(src.glob(f"{name}.*"))).image * 255)
        assert np.abs(saved.astype(int) - expected).max() <= 1
        assert_mnist_like(saved.astype(np.float32) / 255)
    assert not np.asarray(Image.open(out / "blank.28x28.png")).any()
    assert "seven.png\t7" in result.output


def test_cli_show_preprocessed_skips_unreadable_files(tmp_path):
    from digitrec.cli import cli

    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    draw_seven().save(tmp_path / "ok.png")
    out = tmp_path / "seen"
    result = CliRunner().invoke(
        cli,
        [
            "predict",
            str(tmp_path / "broken.png"),
            str(tmp_path / "ok.png"),
            "--model",
            "seed",
            "--show-preprocessed",
            str(out),
        ],
    )
    assert result.exit_code == 1
    assert "broken.png" in result.output
    assert [p.name for p in out.iterdir()] == ["ok.28x28.png"]


def test_the_documented_preprocess_paths_both_work():
    import digitrec
    from digitrec.image.preprocess import prepare

    image = digitrec.image.preprocess(IMAGES / "mnist-7.png")
    assert image.shape == (28, 28) and image.dtype == np.float32
    prepared = digitrec.image.preprocess.prepare(IMAGES / "mnist-7.png")
    assert prepared.box is not None and np.array_equal(prepared.image, image)
    assert prepare is digitrec.image.preprocess.prepare and "preprocess" in digitrec.__all__


def test_thinning_a_blot_keeps_it_whole():
    # A 0 a marker filled in to a pinhole measures very wide on average; thinned to MNIST's width by that measure
    # it shrank towards a dot or fell apart into specks (a comb cell's blotted 0 read as 8). It is thinned only as
    # far as it stays in one piece, at nearly its height and width.
    import cv2

    from digitrec.image.preprocess import KEPT_EXTENT, MNIST_STROKE, normalize_stroke

    yy, xx = np.mgrid[:200, :160]
    ring = ((yy - 100) / 90) ** 2 + ((xx - 80) / 70) ** 2
    blot = ((ring <= 1) & (ring >= 0.03)).astype(np.float32)
    out = normalize_stroke(blot, MNIST_STROKE * 10) > 0.5  # a 200 px picture: 10 px per MNIST pixel
    assert cv2.connectedComponents(out.astype(np.uint8), connectivity=8)[0] - 1 == 1
    rows, cols = np.flatnonzero(out.any(1)), np.flatnonzero(out.any(0))
    assert rows[-1] - rows[0] + 1 >= KEPT_EXTENT * 180 and cols[-1] - cols[0] + 1 >= KEPT_EXTENT * 140
    assert out.sum() < blot.sum(), "thinned some"
