"""The web server, over real HTTP: a uvicorn server on 127.0.0.1 with the shipped seed model."""

from __future__ import annotations

import base64
import io
import os
import re
import socket
import struct
import subprocess
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the server needs the serve extra")
httpx = pytest.importorskip("httpx")

from conftest import IMAGES, draw_seven  # noqa: E402
from live_server import live_server  # noqa: E402
from PIL import Image  # noqa: E402

SEVEN = (IMAGES / "mnist-7.png").read_bytes()


@pytest.fixture(scope="module")
def base_url(seed_recognizer):
    from digitrec.server import create_app

    with live_server(create_app(seed_recognizer)) as url:
        yield url


@pytest.fixture(scope="module")
def small_url(seed_recognizer):
    from digitrec.server import create_app

    with live_server(create_app(seed_recognizer, max_bytes=2_000)) as url:
        yield url


@pytest.fixture
def client(base_url):
    with httpx.Client(base_url=base_url, timeout=30) as c:
        yield c


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims width x height gray pixels: a decompression bomb's calling card."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


# ---------------------------------------------------------------- good input


def test_predict_reads_uploaded_png(client):
    r = client.post("/api/predict", files={"file": ("mnist-7.png", SEVEN, "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["digit"] == 7 and body["confidence"] > 0.9
    assert body["path"] == "mnist-7.png"
    assert len(body["probabilities"]) == 10 and abs(sum(body["probabilities"]) - 1) < 1e-3
    image = np.array(body["preprocessed"])
    assert image.shape == (28, 28) and 0 <= image.min() and image.max() <= 1
    assert len(body["box"]) == 4


def test_predict_reads_pen_drawn_seven_as_base64_and_data_url(client):
    encoded = base64.b64encode(png_bytes(draw_seven())).decode()
    for value in (encoded, "data:image/png;base64," + encoded):
        r = client.post("/api/predict", json={"image": value, "name": "pen-7"})
        assert r.status_code == 200, r.text
        assert r.json()["digit"] == 7 and r.json()["path"] == "pen-7"


def test_predict_reads_array_in_either_range(client, test_split):
    digit = test_split.images[3]  # a 0
    assert test_split.labels[3] == 0
    for array in (digit.astype(float).tolist(), (digit / 255.0).tolist()):
        r = client.post("/api/predict", json={"array": array})
        assert r.status_code == 200, r.text
        assert r.json()["digit"] == 0


def test_predict_reads_raw_image_body(client):
    r = client.post("/api/predict", content=SEVEN, headers={"content-type": "image/png"})
    assert r.status_code == 200 and r.json()["digit"] == 7


def test_predict_blank_image_is_not_a_digit(client):
    blank = png_bytes(Image.new("L", (64, 64), 255))
    body = client.post("/api/predict", files={"file": ("blank.png", blank, "image/png")}).json()
    assert body["digit"] is None and body["reason"].startswith("blank")
    assert body["box"] is None


def test_activations_cover_every_layer_with_model_summary_shapes(client, seed_recognizer):
    r = client.post("/api/activations", files={"file": ("mnist-7.png", SEVEN, "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["digit"] == 7
    layers = {layer["name"]: layer for layer in body["layers"]}
    assert list(layers) == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "dense1", "relu3", "dense2"]
    assert layers["conv1"]["shape"] == [32, 24, 24] and layers["conv1"]["output_shape"] == [32, 24, 24]
    assert layers["pool2"]["shape"] == [32, 5, 5] and layers["dense2"]["shape"] == [10]
    assert layers["conv1"]["window"] == {
        "from": "input",
        "kernel": 5,
        "stride": 1,
        "padding": 0,
        "channels": "all",
        "bias": True,
    }
    assert layers["conv2"]["window"]["from"] == "pool1" and layers["conv2"]["window"]["kernel"] == 3
    assert layers["pool1"]["window"] == {
        "from": "relu1",
        "kernel": 2,
        "stride": 2,
        "padding": 0,
        "channels": "same",
        "op": "max",
    }
    assert all("data" not in layers[n] for n in ("relu1", "relu2", "relu3"))  # the page computes max(0, x)
    # uint8 quantisation: decoded values within one step of the real activations
    x = np.array(body["preprocessed"], np.float32)[None, None]
    real = seed_recognizer.activations(x)
    for name, key in (("conv1", "conv1"), ("pool2", "pool2"), ("dense2", "logits")):
        layer = layers[name]
        q = np.frombuffer(base64.b64decode(layer["data"]), np.uint8).reshape(layer["shape"])
        step = (layer["max"] - layer["min"]) / 255
        decoded = layer["min"] + q * step
        assert np.abs(decoded - real[key][0]).max() <= step + 2e-3
    assert len(r.content) < 120_000  # small enough to stream while drawing


@pytest.mark.slow
def test_concurrent_requests_all_succeed(base_url):
    def one(i: int) -> tuple[int, int | None]:
        with httpx.Client(base_url=base_url, timeout=60) as c:
            path = "/api/activations" if i % 4 == 0 else "/api/predict"
            r = c.post(path, files={"file": (f"{i}.png", SEVEN, "image/png")})
            return r.status_code, r.json().get("digit")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(20)))
    assert results == [(200, 7)] * 20


def test_health_model_docs_and_page(client):
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["model"] == "seed"
    assert set(health) == {"status", "version", "model"}  # no flags for endpoints that always exist
    model = client.get("/api/model").json()
    assert model["name"] == "seed" and model["parameters"] == 113_898
    assert [layer["name"] for layer in model["layers"]][:3] == ["conv1", "relu1", "pool1"]
    assert model["metrics"]["test_accuracy"] > 0.98
    assert client.get("/docs").status_code == 200
    assert "/api/predict" in client.get("/openapi.json").json()["paths"]
    page = client.get("/")
    assert page.status_code == 200 and '<canvas id="pad"' in page.text
    for asset in ("app.js", "style.css"):
        assert client.get(f"/{asset}").status_code == 200


def test_read_endpoint_reads_several_digits(client, test_split):
    pytest.importorskip("digitrec.read.strings", reason="digitrec.read.strings not built yet")
    strip = np.concatenate([np.pad(test_split.images[i], 8) for i in (0, 1, 2)], axis=1)  # 7 2 1
    r = client.post("/api/read", files={"file": ("strip.png", png_bytes(Image.fromarray(255 - strip)), "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["digits"] == "".join(str(test_split.labels[i]) for i in (0, 1, 2))
    assert len(body["boxes"]) == 3 and all(len(b["box"]) == 4 for b in body["boxes"])


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"this is not an image at all", 422, "not an image"),
        (SEVEN[: len(SEVEN) // 2], 422, "truncated"),
        (png_header(20_000, 20_000), 413, "too large"),
        (b"", 422, "empty"),
    ],
    ids=["not-an-image", "truncated-png", "decompression-bomb", "empty-file"],
)
def test_predict_rejects_bad_upload(client, body, status, words):
    r = client.post("/api/predict", files={"file": ("bad.png", body, "image/png")})
    assert r.status_code == status, r.text
    assert words in r.json()["error"]


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"json": {"array": [[0.5] * 28] * 27}}, 422, "(27, 28)"),
        ({"json": {"array": [[1, 2], [3]]}}, 422, "28 rows of 28"),
        ({"json": {"array": [[300.0] * 28] * 28}}, 422, "0..255"),
        ({"json": {"image": "@@not base64@@"}}, 422, "base64"),
        ({"json": {"image": base64.b64encode(b"plain text").decode()}}, 422, "not an image"),
        ({"json": {"picture": "x"}}, 422, "exactly one of"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
        ({"content": b"hello", "headers": {"content-type": "text/plain"}}, 415, "unsupported content type"),
        ({"content": SEVEN}, 415, "unsupported content type"),
        ({"files": {"other": ("x.png", SEVEN, "image/png")}}, 422, "field `file`"),
    ],
    ids=["short-array", "ragged-array", "array-range", "bad-base64", "base64-text", "no-field", "bad-json",
         "text-plain", "no-content-type", "wrong-form-field"],
)  # fmt: skip
def test_predict_rejects_bad_request(client, kwargs, status, words):
    r = client.post("/api/predict", **kwargs)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]


def test_body_limit_applies_to_declared_and_streamed_bodies(small_url):
    big = SEVEN + b"\0" * 3_000
    with httpx.Client(base_url=small_url, timeout=30) as c:
        r = c.post("/api/predict", files={"file": ("big.png", big, "image/png")})
        assert r.status_code == 413 and "2,000 bytes" in r.json()["error"]
        chunks = (big[i : i + 500] for i in range(0, len(big), 500))  # chunked: no Content-Length
        r = c.post("/api/predict", content=chunks, headers={"content-type": "image/png"})
        assert r.status_code == 413 and "too large" in r.json()["error"]
        small = png_bytes(Image.fromarray(np.pad(np.full((10, 4), 255, np.uint8), 9)))
        assert len(small) < 2_000
        assert c.post("/api/predict", content=small, headers={"content-type": "image/png"}).status_code == 200


def test_server_keeps_serving_after_bad_input(client):
    for body in (b"junk", png_header(50_000, 50_000), SEVEN[:40]):
        assert client.post("/api/activations", files={"file": ("x.png", body, "image/png")}).status_code >= 400
    assert client.get("/api/nope").json() == {"error": "Not Found"}
    assert client.get("/api/predict").status_code == 405
    r = client.post("/api/predict", files={"file": ("mnist-7.png", SEVEN, "image/png")})
    assert r.status_code == 200 and r.json()["digit"] == 7


# ---------------------------------------------------------------- CLI


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_command_prints_url_and_serves(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "digitrec", "serve", "--model", "seed", "--port", str(port)]
    # NOTE: cwd elsewhere: from the repository root `-m digitrec` would run the notebook script digitrec.py
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    try:
        line = proc.stdout.readline()
        assert re.search(rf"http://127\.0\.0\.1:{port}/", line), line
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "server did not come up"
                time.sleep(0.1)
        assert r.json()["model"] == "seed"
    finally:
        proc.terminate()
        proc.wait(10)


# ---------------------------------------------------------------- models, layers, API details


def test_models_lists_served_and_shipped_and_model_parameter_switches(client):
    models = client.get("/api/models").json()["models"]
    names = [m["name"] for m in models]
    assert names[0] == "seed" and models[0]["served"] and "strong" in names
    assert client.get("/api/model", params={"model": "strong"}).json()["name"] == "strong"
    r = client.post("/api/predict", params={"model": "strong"}, files={"file": ("7.png", SEVEN, "image/png")})
    assert r.status_code == 200 and r.json()["digit"] == 7
    acts = client.post(
        "/api/activations", params={"model": "strong"}, files={"file": ("7.png", SEVEN, "image/png")}
    ).json()
    assert acts["model"] == "strong" and acts["layers"][0]["name"] == "conv1" and acts["layers"][1]["name"] == "bn1"
    assert 0 <= acts["nondigit"] < 0.5  # strong's 11th output
    r = client.post("/api/predict", params={"model": "../../etc/passwd"}, files={"file": ("7.png", SEVEN, "image/png")})
    assert r.status_code == 404 and "unknown model" in r.json()["error"]


def test_model_explains_each_layer_with_parameter_arithmetic(client):
    shown = {v["name"]: v for v in client.get("/api/model").json()["shown"]}
    assert "5·5·1·32 weights + 32 biases = 832 parameters" in shown["conv1"]["explain"]["parameters"]
    assert "3·3·32·32 weights + 32 biases = 9,248" in shown["conv2"]["explain"]["parameters"]
    assert "800·128 weights + 128 biases = 102,528" in shown["dense1"]["explain"]["parameters"]
    assert shown["pool1"]["explain"]["shape"] == "Output: 32 maps of 12×12."
    assert "largest value of each 2×2 window" in shown["pool1"]["explain"]["what"]
    strong = {v["name"]: v for v in client.get("/api/model", params={"model": "strong"}).json()["shown"]}
    assert "3·3·1·32 weights (no bias" in strong["conv1"]["explain"]["parameters"]
    assert "2·32" in strong["bn1"]["explain"]["parameters"]


def test_windows_are_worked_out_for_any_conv_pool_bn_model(client):
    strong = {v["name"]: v for v in client.get("/api/model", params={"model": "strong"}).json()["shown"]}
    assert strong["conv1"]["window"] == {
        "from": "input",
        "kernel": 3,
        "stride": 1,
        "padding": 1,
        "channels": "all",
        "bias": False,
    }
    assert strong["bn1"]["window"]["kernel"] == 1 and strong["bn1"]["window"]["channels"] == "same"
    assert strong["conv2"]["window"]["from"] == "relu1"
    assert strong["pool2"]["window"] == {
        "from": "relu4",
        "kernel": 2,
        "stride": 2,
        "padding": 0,
        "channels": "same",
        "op": "max",
    }
    assert strong["gap"]["window"]["kernel"] == 7 and strong["gap"]["window"]["op"] == "mean"
    assert strong["dense"]["window"] is None


def test_model_carries_filters_and_history(client, seed_recognizer):
    from safetensors.numpy import load_file

    body = client.get("/api/model").json()
    assert body["filters"]["layer"] == "conv1" and body["filters"]["shape"] == [32, 1, 5, 5]
    real = load_file(str(seed_recognizer.path.with_suffix(".safetensors")))["conv1.weight"]
    assert np.allclose(np.array(body["filters"]["weights"]).reshape(32, 1, 5, 5), real, atol=1e-5)
    assert [e["epoch"] for e in body["metrics"]["history"]] == [1, 2, 3, 4, 5]
    assert body["outputs"] == 10 and body["snapshots"]["epochs"] == [0, 1, 2, 3, 4, 5]  # the shipped seed carries them


def test_activations_send_only_asked_layers_and_exact_values(client, seed_recognizer):
    files = {"file": ("7.png", SEVEN, "image/png")}
    body = client.post("/api/activations", params={"layers": "conv1,dense2", "bits": 32}, files=files).json()
    sent = [layer["name"] for layer in body["layers"] if "data" in layer]
    assert sent == ["conv1", "dense2"]
    conv1 = next(layer for layer in body["layers"] if layer["name"] == "conv1")
    exact = np.frombuffer(base64.b64decode(conv1["data"]), "<f4").reshape(conv1["shape"])
    from digitrec.image.preprocess import prepare

    real = seed_recognizer.activations(prepare(SEVEN).image[None, None])["conv1"][0]
    assert np.abs(exact - real).max() < 1e-5
    assert client.post("/api/activations", params={"bits": 16}, files=files).status_code == 422


def test_activations_are_gzipped_for_the_browser(base_url):
    with httpx.Client(base_url=base_url, timeout=30) as c:
        r = c.post(
            "/api/activations", files={"file": ("7.png", SEVEN, "image/png")}, headers={"accept-encoding": "gzip"}
        )
        assert r.headers.get("content-encoding") == "gzip"
        assert int(r.headers["content-length"]) < len(r.content) / 2


def test_wrong_method_is_405_with_allow_and_favicon_exists(client):
    r = client.get("/api/predict")
    assert r.status_code == 405 and r.headers["allow"] == "POST" and "method not allowed" in r.json()["error"]
    assert client.delete("/api/health").status_code == 405
    assert client.get("/api/nope").status_code == 404
    for path in ("/favicon.ico", "/favicon.svg"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg")


def test_openapi_documents_responses_and_errors(client):
    spec = client.get("/openapi.json").json()
    predict = spec["paths"]["/api/predict"]["post"]["responses"]
    assert predict["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Prediction")
    for status in ("413", "415", "422"):
        assert predict[status]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert spec["components"]["schemas"]["Error"]["required"] == ["error"]
    assert spec["paths"]["/api/activations"]["post"]["responses"]["200"]["content"]["application/json"]["schema"][
        "$ref"
    ].endswith("/Activations")
    assert "model" in [p["name"] for p in spec["paths"]["/api/predict"]["post"]["parameters"]]
    assert "/api/models" in spec["paths"]


def test_docs_and_redoc_use_bundled_assets(client):
    for path in ("/docs", "/redoc"):
        html = client.get(path).text
        assert "cdn." not in html and "googleapis" not in html
    assets = [
        m
        for m in re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', client.get("/docs").text + client.get("/redoc").text)
    ]
    assert len(assets) == 3
    for asset in assets:
        assert client.get(asset).status_code == 200


def test_activations_in_4_bits_pack_two_values_per_byte(client, seed_recognizer):
    from digitrec.image.preprocess import prepare

    body = client.post(
        "/api/activations", params={"layers": "conv1", "bits": 4}, files={"file": ("7.png", SEVEN, "image/png")}
    ).json()
    conv1 = body["layers"][0]
    packed = np.frombuffer(base64.b64decode(conv1["data"]), np.uint8)
    assert conv1["bits"] == 4 and len(packed) == 32 * 24 * 24 // 2
    q = np.stack([packed >> 4, packed & 15], 1).ravel().reshape(conv1["shape"])
    step = (conv1["max"] - conv1["min"]) / 15
    real = seed_recognizer.activations(prepare(SEVEN).image[None, None])["conv1"][0]
    assert np.abs(conv1["min"] + q * step - real).max() <= step / 2 + 1e-4


def test_page_modules_are_served_and_packaged(client):
    from fnmatch import fnmatch
    from pathlib import Path, PurePosixPath

    import tomllib

    import digitrec.server

    static = Path(digitrec.server.__file__).parent / "static"
    page = client.get("/").text
    assert '<script type="module" src="app.js">' in page and 'rel="icon"' in page
    modules = sorted(p.relative_to(static).as_posix() for p in static.rglob("*.js"))
    assert "js/api.js" in modules and "js/pad.js" in modules and "js/network.js" in modules
    for module in modules:
        r = client.get(f"/{module}")
        assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    globs = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["digitrec"]
    for path in static.rglob("*"):  # setuptools globs do not descend into folders
        rel = PurePosixPath(path.relative_to(static.parents[1]).as_posix())
        if path.is_file():
            assert any(
                rel.parent == PurePosixPath(g).parent and fnmatch(rel.name, PurePosixPath(g).name) for g in globs
            ), rel


def test_bad_image_status_follows_the_exception_type_not_its_words():
    from digitrec.errors import BadImage, ImageTooLarge
    from digitrec.server.inputs import bad_image_status

    assert bad_image_status(ImageTooLarge("x.png: image too large (decompression bomb)")) == 413
    assert bad_image_status(BadImage("too-large.png: not an image (unrecognised format)")) == 422
