"""Fuzzed inputs (Hypothesis): whatever bytes arrive, the readers answer or raise a DigitrecError, nothing else.

Inputs: random bytes; valid small PNG, JPEG, GIF, TIFF and WebP files with
bytes flipped, inserted and deleted; 1-pixel strips up to 50,000 long and 1x1
pictures; 16-bit and palette images; EXIF orientations out of range. Each goes
through `prepare`, `read_digits` (the shipped seed model) and the HTTP API's
input parsing (`create_app` on the TestClient). The examples are derandomized,
so a failure repeats; bench/fuzz.py runs 20,000 mutated files for speed and memory.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from PIL import Image

from digitrec.errors import BadImage, DigitrecError
from digitrec.image.preprocess import Prepared, prepare
from digitrec.read.strings import read_digits

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FUZZ = settings(
    max_examples=100,
    deadline=None,  # NOTE: no timing in tests; bench/fuzz.py measures time per file
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _digit() -> Image.Image:
    """A dark 7 on light paper, 40x40."""
    a = np.full((40, 40), 235, np.uint8)
    a[8:12, 10:30] = 20
    for y in range(12, 34):
        x = 28 - (y - 12) // 2
        a[y, x - 2 : x + 2] = 20
    return Image.fromarray(a)


DIGIT = _digit()
SEEDS = {
    "png": encode(DIGIT, "PNG"),
    "png-P": encode(DIGIT.convert("P"), "PNG"),
    "png-I16": encode(Image.fromarray(np.asarray(DIGIT).astype(np.uint16) * 257), "PNG"),
    "jpeg": encode(DIGIT.convert("RGB"), "JPEG", quality=85),
    "gif": encode(DIGIT.convert("P"), "GIF"),
    "tiff": encode(DIGIT, "TIFF"),
    "tiff-I16": encode(Image.fromarray(np.asarray(DIGIT).astype(np.uint16) * 257), "TIFF"),
    "webp": encode(DIGIT.convert("RGB"), "WEBP", quality=90),
}


@st.composite
def mutated(draw) -> bytes:
    """One of SEEDS with 1-4 bytes flipped, inserted or deleted, or cut short."""
    b = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        if not b:
            break
        i = draw(st.integers(0, len(b) - 1))
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "cut"]))
        if op == "flip":
            b[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            b[i] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]))
        elif op == "insert":
            b[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del b[i : i + draw(st.integers(1, 16))]
        else:
            del b[i:]
    return bytes(b)


@st.composite
def strips(draw) -> bytes:
    """A picture 1-3 pixels thick and up to 50,000 long (either way), or 1x1: blank, noise or a bar."""
    thin, long = draw(st.integers(1, 3)), draw(st.sampled_from([1, 2, 7, 500, 50_000]))
    fill = draw(st.sampled_from(["blank", "dark", "noise", "bar"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = np.full((thin, long), 0 if fill == "dark" else 255, np.uint8)
    if fill == "noise":
        a = rng.integers(0, 256, a.shape, dtype=np.uint8)
    elif fill == "bar":
        a[:, long // 3 : max(long // 2, long // 3 + 1)] = 0
    if draw(st.booleans()):
        a = np.ascontiguousarray(a.T)
    fmt = draw(st.sampled_from(["PNG", "TIFF", "GIF", "WEBP"] if long <= 16_383 else ["PNG", "TIFF", "GIF"]))
    return encode(Image.fromarray(a), fmt)


@st.composite
def odd_modes(draw) -> bytes:
    """16-bit gray, palette (with or without transparency), CIELAB and float images with random content."""
    side = draw(st.integers(1, 48)), draw(st.integers(1, 48))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["I;16", "P", "P-transparent", "LAB", "F"]))
    if kind == "I;16":
        img = Image.fromarray(rng.integers(0, 65536, side, dtype=np.uint16))
        return encode(img, draw(st.sampled_from(["PNG", "TIFF"])))
    if kind == "F":
        a = rng.normal(0, draw(st.sampled_from([1.0, 1e30])), side).astype(np.float32)
        a[rng.random(side) < 0.1] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        return encode(Image.fromarray(a), "TIFF")
    if kind == "LAB":
        bands = [Image.fromarray(rng.integers(0, 256, side, dtype=np.uint8)) for _ in range(3)]
        return encode(Image.merge("LAB", bands), "TIFF")
    img = Image.fromarray(rng.integers(0, 256, side, dtype=np.uint8)).convert("P")
    img.putpalette(rng.integers(0, 256, 768, dtype=np.uint8).tobytes())
    if kind == "P-transparent":
        img.info["transparency"] = int(rng.integers(0, 256))
        return encode(img, "PNG", transparency=img.info["transparency"])
    return encode(img, draw(st.sampled_from(["PNG", "GIF", "TIFF"])))


@st.composite
def odd_exif(draw) -> bytes:
    """The digit in JPEG, PNG, WebP or TIFF with an EXIF orientation anywhere in 0..65535."""
    exif = Image.Exif()
    exif[0x0112] = draw(st.one_of(st.integers(0, 9), st.integers(0, 65535)))
    fmt = draw(st.sampled_from(["JPEG", "PNG", "WEBP", "TIFF"]))
    img = DIGIT.convert("RGB") if fmt in ("JPEG", "WEBP") else DIGIT
    return encode(img.rotate(draw(st.sampled_from([0, 90])), expand=True), fmt, exif=exif.tobytes())


ANY_INPUT = st.one_of(st.binary(max_size=600), mutated(), strips(), odd_modes(), odd_exif())


def check_prepared(p: Prepared) -> None:
    assert p.image.shape == (28, 28) and p.image.dtype == np.float32
    assert np.isfinite(p.image).all() and p.image.min() >= 0 and p.image.max() <= 1
    assert p.blank == (p.box is None)


@pytest.fixture(autouse=True)
def quiet_pillow():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about corrupt EXIF and TIFF tags: expected here
        yield


# ---------------------------------------------------------------- preprocess and segment


@FUZZ
@given(ANY_INPUT)
def test_prepare_answers_or_raises_ours(data):
    try:
        p = prepare(data, "fuzz.bin")
    except DigitrecError as e:
        assert "fuzz.bin" in str(e) and "\n" not in str(e)
        event("refused")
        return
    event("blank" if p.blank else "read")
    check_prepared(p)


@FUZZ
@given(st.one_of(mutated(), strips(), odd_modes(), odd_exif()))
def test_read_digits_answers_or_raises_ours(seed_recognizer, data):
    try:
        reading = read_digits(seed_recognizer, data, "fuzz.bin")
    except DigitrecError as e:
        assert "fuzz.bin" in str(e)
        event("refused")
        return
    event("read" if reading.digits else "nothing read")
    assert reading.digits == " ".join(t for t in reading.lines if t)
    for b in reading.boxes:
        left, top, right, bottom = b.box
        assert 0 <= left <= right and 0 <= top <= bottom


@FUZZ
@given(st.sampled_from(["1x50000", "50000x1", "1x1"]), st.sampled_from(["L", "P", "I;16", "RGBA", "1"]))
def test_extreme_shapes_every_mode(shape, mode):
    w, h = (int(v) for v in shape.split("x"))
    img = Image.new("L", (w, h), 255)
    img.paste(0, (w // 3, h // 3, w // 2 + 1, h // 2 + 1))
    img = Image.fromarray(np.asarray(img).astype(np.uint16) * 257) if mode == "I;16" else img.convert(mode)
    check_prepared(prepare(encode(img, "PNG")))
    check_prepared(prepare(img))


# ---------------------------------------------------------------- regressions found by bench/fuzz.py


def test_cielab_tiff_is_read_by_its_lightness(seed_recognizer):
    """A CIELAB TIFF made Pillow's convert("L") raise ValueError out of prepare and read_digits."""
    flat = Image.new("L", DIGIT.size, 128)
    data = encode(Image.merge("LAB", (DIGIT, flat, flat)), "TIFF")
    assert Image.open(io.BytesIO(data)).mode == "LAB"
    p = prepare(data)
    assert not p.blank and np.array_equal(p.image, prepare(encode(DIGIT, "PNG")).image)
    read_digits(seed_recognizer, data)
    check_prepared(prepare(Image.new("La", (20, 20))))


def test_non_finite_float_pixels_count_as_no_ink_in_a_file_and_are_refused_in_an_array():
    """NaN and inf in a float TIFF or array used to flow into the pipeline as NaN. A file's are no ink; an array
    handed to the Python API with them is bad input (issue 18: it was called "blank")."""
    a = np.asarray(DIGIT, np.float32) / 255
    spoiled = a.copy()
    spoiled[0, :5] = [np.nan, np.inf, -np.inf, np.nan, np.inf]
    p = prepare(encode(Image.fromarray(spoiled), "TIFF"))
    check_prepared(p)
    assert not p.blank
    with pytest.raises(BadImage, match="5 NaN or infinite values"):
        prepare(spoiled)


def test_huge_pictures_are_reduced_before_the_float_steps(seed_recognizer):
    """A 28 x 1,835,008 16-bit TIFF (a fuzzed header) took 4 s and 860 MB; now it is box-reduced first."""
    from digitrec.io.decode import REDUCE_PIXELS, load_gray

    img = Image.fromarray(np.full((700_000, 28), 65535, np.uint16))
    gray, factor = load_gray(encode(img, "TIFF"))
    assert factor == 2 and gray.shape == (350_000, 14) and gray.size <= REDUCE_PIXELS
    check_prepared(prepare(encode(img, "TIFF")))
    # a big picture's boxes are still in its own pixels
    big = Image.new("L", (5000, 3000), 230)
    big.paste(DIGIT.resize((400, 400)), (3000, 1000))
    rows, cols = np.nonzero(np.asarray(big) < 128)
    ink = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    assert load_gray(encode(big, "PNG"))[1] == 2
    p = prepare(encode(big, "PNG"))
    assert all(abs(a - b) <= 12 for a, b in zip(p.box, ink)), (p.box, ink)
    boxes = [b.box for b in read_digits(seed_recognizer, encode(big, "PNG")).boxes]
    assert boxes and min(b[0] for b in boxes) >= ink[0] - 12 and max(b[2] for b in boxes) <= ink[2] + 12, (boxes, ink)


def test_bad_image_is_ours():
    with pytest.raises(BadImage, match="fuzz.png"):
        prepare(SEEDS["png"][:40], "fuzz.png")


# ---------------------------------------------------------------- the HTTP API's input parsing


@pytest.fixture(scope="module")
def client(seed_recognizer):
    from starlette.testclient import TestClient

    from digitrec.server import create_app

    with TestClient(create_app(seed_recognizer, max_bytes=200_000)) as c:  # server errors raise here
        yield c


def check_answer(r) -> None:
    event(f"HTTP {r.status_code}")
    assert r.status_code in (200, 400, 413, 415, 422), (r.status_code, r.text[:200])
    body = r.json()
    if r.status_code != 200:
        assert isinstance(body["error"], str) and "\n" not in body["error"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=30) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=60,
)


@FUZZ
@given(ANY_INPUT, st.sampled_from(["/api/predict", "/api/read"]), st.sampled_from(["raw", "form", "json"]))
def test_api_answers_every_image_body(client, data, path, form):
    import base64

    if form == "raw":
        r = client.post(path, content=data, headers={"content-type": "image/png"})
    elif form == "form":
        r = client.post(path, files={"file": ("fuzz.png", data, "application/octet-stream")})
    else:
        r = client.post(path, json={"image": base64.b64encode(data).decode(), "name": "fuzz.png"})
    check_answer(r)


@FUZZ
@given(
    st.binary(max_size=400),
    st.sampled_from(["application/json", "multipart/form-data; boundary=x", "multipart/form-data", "image/png",
                     "text/plain", "", "application/octet-stream", "application/x+json"]),
)  # fmt: skip
def test_api_answers_any_body_and_type(client, body, kind):
    check_answer(client.post("/api/predict", content=body, headers={"content-type": kind}))


ROW = st.lists(st.floats(0, 1) | st.integers(0, 255), min_size=28, max_size=28)
ANY_ROW = st.lists(st.floats(-1, 300) | st.integers(-5, 300), min_size=1, max_size=29)
ARRAYS = st.lists(ROW, min_size=28, max_size=28) | st.lists(ANY_ROW | ROW, min_size=1, max_size=29)


@settings(FUZZ, max_examples=50)
@given(
    st.dictionaries(st.sampled_from(["image", "array", "name", "other"]), JSON_VALUES, max_size=3)
    | st.fixed_dictionaries({"array": ARRAYS})
)
def test_api_answers_any_json(client, doc):
    check_answer(client.post("/api/predict", json=doc))
