"""Build an honest evaluation set: MNIST *test* digits (never train) made to look like photos and scans.

    python scripts/make_photo_set.py                      # 550 images (50 per condition) into build/photo-set/
    python scripts/make_photo_set.py --n 300 --seed 1 --out /tmp/photos

Each image is one MNIST test digit drawn as pen, marker or chalk on a canvas of
300-2000 px (small digits on photos up to 3000x2000), at a random scale and
off-centre position, on white, cream or coloured paper with texture, sometimes
ruled lines, a lighting gradient or a shadow, then blurred, given sensor noise
and saved as JPEG. Some are saved as transparent PNGs (black strokes on a
transparent *black* canvas, as drawing apps export them), some as JPEGs whose
pixels are stored rotated with an EXIF Orientation tag (only correct EXIF
handling shows the digit upright). Conditions are assigned in turn, so every
condition gets the same share. The same --seed gives the same files.

Writes the images and `labels.csv` (file, label, condition, mnist_index).
`--sklearn DIR` also renders scikit-learn's bundled UCI optdigits (1,797 8x8
handwritten digits by other writers than MNIST's) as upscaled PNGs.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

CONDITIONS = ("pen", "thin", "marker", "coloured", "lined", "shadow", "chalk", "transparent", "exif", "small", "specks")
PAPERS = {
    "white": (0.95, 0.95, 0.93),
    "cream": (0.96, 0.93, 0.82),
    "yellow": (0.98, 0.93, 0.55),
    "pink": (0.97, 0.80, 0.85),
    "blue": (0.75, 0.86, 0.97),
    "green": (0.78, 0.93, 0.78),
}
INKS = {"black": (0.08, 0.08, 0.1), "blue": (0.1, 0.15, 0.55), "graphite": (0.3, 0.3, 0.32), "red": (0.6, 0.08, 0.1)}


def _field(rng: np.random.Generator, h: int, w: int, cells: int = 5) -> np.ndarray:
    """Smooth random field float32 (h, w) with mean 0 and std about 1: paper texture, lighting."""
    small = rng.normal(0, 1, (cells, cells)).astype(np.float32)
    return np.asarray(Image.fromarray(small, "F").resize((w, h), Image.BICUBIC), np.float32)


def digit_mask(digit: np.ndarray, height: int, stroke: str, rng: np.random.Generator) -> np.ndarray:
    """MNIST uint8 (28, 28) -> pen coverage float32 (height, height) in [0, 1], strokes as `stroke` pen.

    The strokes are shaped at most 196 px tall (rank filters cost the square of
    their size), then enlarged and their edges sharpened again.
    """
    side = min(height, 196)
    up = np.asarray(Image.fromarray(digit).resize((side, side), Image.BICUBIC), np.float32) / 255.0
    level = {"pen": 0.55, "thin": 0.8, "marker": 0.3, "chalk": 0.5}[stroke]
    mask = np.clip((up - level) * (side / 28) / 2 + 0.5, 0.0, 1.0)  # edges about 2 px wide
    img = Image.fromarray(mask.astype(np.float32), "F")
    if stroke == "thin":
        img = img.filter(ImageFilter.MinFilter(max(3, (side // 60) | 1)))
    elif stroke == "marker":
        img = img.filter(ImageFilter.MaxFilter(max(3, (side // 16) | 1)))
    if height > side:
        img = img.resize((height, height), Image.BILINEAR)
    mask = np.asarray(img, np.float32)
    if height > side:
        mask = np.clip((mask - 0.5) * (height / side) / 2 + 0.5, 0.0, 1.0)
    if stroke == "chalk":  # grainy, broken chalk strokes
        mask = mask * np.clip(rng.uniform(0.35, 1.3, mask.shape), 0, 1).astype(np.float32)
    return mask


def render(digit: np.ndarray, condition: str, rng: np.random.Generator, max_side: int = 2000) -> tuple[bytes, str]:
    """One MNIST test digit uint8 (28, 28) -> (encoded image file, suffix) for `condition`.

    Canvases are 300 to `max_side` px a side; "small" puts a digit of 3-7% of the
    height on a canvas 1.2-1.5x `max_side` wide (3000x2000 at the default).
    """
    if condition == "transparent":
        side = int(rng.integers(280, 700))
        height = int(side * rng.uniform(0.5, 0.85))
        mask = digit_mask(digit, height, "pen", rng)
        alpha = np.zeros((side, side), np.float32)
        y, x = (int(rng.integers(0, side - height + 1)) for _ in range(2))
        alpha[y : y + height, x : x + height] = mask
        rgba = np.zeros((side, side, 4), np.uint8)
        rgba[..., 3] = np.round(alpha * 255).astype(np.uint8)  # NOTE: RGB stays black under zero alpha
        buf = io.BytesIO()
        Image.fromarray(rgba, "RGBA").save(buf, "PNG")
        return buf.getvalue(), ".png"

    if condition == "small":
        w, h = int(rng.integers(1.2 * max_side, 1.5 * max_side + 1)), int(rng.integers(0.8 * max_side, max_side + 1))
        height = int(h * rng.uniform(0.03, 0.07))
    else:
        w, h = (int(v) for v in rng.integers(300, max_side + 1, 2))
        height = int(min(w, h) * rng.uniform(0.25, 0.75))
    stroke = {"thin": "thin", "marker": "marker", "chalk": "chalk"}.get(condition, str(rng.choice(["pen", "pen", "thin", "marker"])))
    mask = digit_mask(digit, height, stroke, rng)
    y, x = int(rng.integers(0, h - height + 1)), int(rng.integers(0, w - height + 1))

    if condition == "chalk":
        paper = np.array([rng.uniform(0.08, 0.2), rng.uniform(0.12, 0.28), rng.uniform(0.1, 0.2)], np.float32)
        ink = np.full(3, rng.uniform(0.8, 0.95), np.float32)
    else:
        name = str(rng.choice(list(PAPERS)[2:])) if condition == "coloured" else str(rng.choice(["white", "white", "cream"]))
        paper = np.array(PAPERS[name], np.float32)
        ink = np.array(INKS[str(rng.choice(["black", "blue", "blue", "graphite", "red"]))], np.float32)
    # NOTE: texture and lighting are smooth, so they are made small and enlarged: a 3000x2000 photo stays cheap.
    shade = 1.0 + 0.02 * _field(rng, h, w, 24)
    if condition == "chalk":  # chalk dust smeared across the board
        shade += 0.3 * np.clip(_field(rng, h, w, 8), 0, None)
    sh, sw = max(2, h // 8), max(2, w // 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32) * 8
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * xx / w + np.sin(angle) * yy / h
    light = 1.0 - rng.uniform(0.0, 0.25) * (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    if condition == "shadow":  # a soft-edged shadow across the page, often over the digit
        a2 = rng.uniform(0, 2 * np.pi)
        side = np.cos(a2) * (xx - (x + height / 2)) + np.sin(a2) * (yy - (y + height / 2)) + rng.normal(0, height / 4)
        soft = max(4.0, height * rng.uniform(0.05, 0.3))
        light = light * (1.0 - rng.uniform(0.35, 0.6) / (1.0 + np.exp(-np.clip(side / soft, -50, 50))))
    shade *= np.asarray(Image.fromarray(light.astype(np.float32), "F").resize((w, h), Image.BILINEAR), np.float32)
    img = paper * shade[..., None]
    if condition == "lined":
        spacing = max(8, int(height * rng.uniform(0.55, 0.9)))
        thick = max(1, round(min(w, h) / 600))
        line = np.array([0.55, 0.7, 0.9], np.float32)
        for r in range(int(rng.integers(0, spacing)), h, spacing):
            img[r : r + thick] *= 0.4 + 0.6 * line / paper
    if condition == "specks":  # dirt: small dark dots anywhere on the page
        for _ in range(int(rng.integers(3, 9))):
            r = int(rng.integers(1, max(2, min(w, h) // 150) + 1))
            cy, cx = int(rng.integers(r, h - r)), int(rng.integers(r, w - r))
            img[cy - r : cy + r, cx - r : cx + r] *= 0.3
    region = img[y : y + height, x : x + height]
    region[:] = region * (1 - mask[..., None]) + (ink * shade[y : y + height, x : x + height, None]) * mask[..., None]
    photo = Image.fromarray(np.round(np.clip(img, 0, 1) * 255).astype(np.uint8), "RGB")
    photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2) * max(1.0, min(w, h) / 800)))
    noise = rng.standard_normal((h, w), dtype=np.float32) * rng.uniform(2, 8)
    photo = Image.fromarray(np.clip(np.asarray(photo, np.float32) + noise[..., None], 0, 255).astype(np.uint8), "RGB")

    buf = io.BytesIO()
    quality = int(rng.integers(40, 92))
    if condition == "exif":
        orientation = int(rng.choice([3, 6, 8]))
        # stored pixels are the upright photo turned the other way; the viewer applies the tag
        stored = {3: Image.ROTATE_180, 6: Image.ROTATE_90, 8: Image.ROTATE_270}[orientation]
        exif = Image.Exif()
        exif[0x0112] = orientation
        photo.transpose(stored).save(buf, "JPEG", quality=quality, exif=exif.tobytes())
    else:
        photo.save(buf, "JPEG", quality=quality)
    return buf.getvalue(), ".jpg"


def build(out: Path, n: int = 550, seed: int = 0, max_side: int = 2000) -> list[dict[str, str]]:
    """Write `n` photo-like images of MNIST test digits and labels.csv into `out`; returns the label rows."""
    from digitrec.data import load_split

    test = load_split("test")
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(test), size=n, replace=n > len(test))
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, idx in enumerate(picks):
        condition = CONDITIONS[i % len(CONDITIONS)]
        data, suffix = render(test.images[idx], condition, np.random.default_rng([seed, i]), max_side)
        name = f"{i:05d}-{condition}{suffix}"
        (out / name).write_bytes(data)
        rows.append({"file": name, "label": str(int(test.labels[idx])), "condition": condition, "mnist_index": str(int(idx))})
    with open(out / "labels.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, ["file", "label", "condition", "mnist_index"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def build_sklearn(out: Path, side: int = 112) -> list[dict[str, str]]:
    """Render scikit-learn's bundled optdigits (8x8, 0..16, ink bright) as dark-on-white PNGs of `side` px.

    Each 8x8 image (counts of ink in 4x4 blocks of a 32x32 bitmap) gets a
    2-cell white margin and is enlarged with bicubic interpolation.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (img, label) in enumerate(zip(digits.images, digits.target)):
        # NOTE: optdigits fill their 8x8 box; a 2-cell paper margin makes them a scan of a digit on a page.
        gray = np.pad(np.round(255 - img * (255 / 16)).astype(np.uint8), 2, constant_values=255)
        name = f"{i:05d}.png"
        Image.fromarray(gray).resize((side, side), Image.BICUBIC).save(out / name)
        rows.append({"file": name, "label": str(int(label)), "condition": "optdigits", "mnist_index": ""})
    with open(out / "labels.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, ["file", "label", "condition", "mnist_index"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("build/photo-set"))
    parser.add_argument("--n", type=int, default=550)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sklearn", type=Path, default=None, help="Also write the optdigits PNGs into this folder.")
    args = parser.parse_args()
    rows = build(args.out, args.n, args.seed)
    print(f"wrote {len(rows)} images and labels.csv to {args.out}")
    if args.sklearn:
        rows = build_sklearn(args.sklearn)
        print(f"wrote {len(rows)} optdigits images and labels.csv to {args.sklearn}")


if __name__ == "__main__":
    main()
