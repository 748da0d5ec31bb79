"""Batched augmentation that mimics real handwriting and capture, on the tensor (no torchvision).

One `Augmenter` call transforms a whole batch (N, 1, 28, 28) float32 in [0, 1]:
random affine (rotation, scale, aspect, shear, translation) and elastic
distortion in a single grid_sample, then what other writers and cameras do to a
digit: resolution loss (down to 8-16 px and back up, as in low-resolution scans
such as UCI optdigits), thin and heavy pens (erosion / dilation by max-pooling),
broken and retraced strokes, blur, contrast, noise and small occlusions, each
applied to a random subset of the batch. A share of every batch (`clean`) is
left untouched so clean MNIST accuracy does not suffer. Everything runs on the
batch's device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class AugmentConfig:
    clean: float = 0.2  # share of each batch left as it is
    rotate_deg: float = 12.0
    scale: tuple[float, float] = (0.85, 1.12)
    aspect: float = 0.18  # log of the largest width/height stretch
    shear: float = 0.3
    translate_px: float = 2.5
    elastic_p: float = 0.5
    elastic_px: float = 1.6
    lowres_p: float = 0.2
    lowres_px: tuple[int, int] = (10, 20)  # canvas side; the digit spans about 70% of it
    dilate_p: float = 0.25
    heavy_p: float = 0.08  # a second dilation: marker pens
    erode_p: float = 0.12
    broken_p: float = 0.1
    retrace_p: float = 0.1
    blur_p: float = 0.15
    noise_p: float = 0.25
    noise_sigma: float = 0.08
    contrast_p: float = 0.3
    occlude_p: float = 0.15


class Augmenter:
    """Random, seeded, batched augmentation. Call with (N, 1, 28, 28) float32 in [0, 1]; returns the same shape."""

    def __init__(self, config: AugmentConfig = AugmentConfig(), seed: int = 0, device: str = "cpu") -> None:
        self.c = config
        self.g = torch.Generator(device=device).manual_seed(seed + 1)
        self.device = device

    def _u(self, n: int, lo: float = 0.0, hi: float = 1.0) -> torch.Tensor:
        return torch.rand(n, generator=self.g, device=self.device) * (hi - lo) + lo

    def _mask(self, n: int, p: float) -> torch.Tensor:
        return (self._u(n) < p).view(n, 1, 1, 1)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        c = self.c
        with torch.no_grad():
            original = x
            x = self._geometry(x)
            x = torch.where(self._mask(n, c.lowres_p), self._lowres(x), x)
            x = torch.where(self._mask(n, c.retrace_p), self._retrace(x), x)
            x = torch.where(self._mask(n, c.dilate_p), F.max_pool2d(x, 3, 1, 1), x)
            x = torch.where(self._mask(n, c.heavy_p), F.max_pool2d(x, 3, 1, 1), x)
            eroded = -F.max_pool2d(-x, 3, 1, 1)
            # NOTE: erosion is blended half-way: a full 3x3 erosion erases MNIST's thinnest strokes.
            x = torch.where(self._mask(n, c.erode_p), 0.5 * (x + eroded), x)
            x = torch.where(self._mask(n, c.blur_p), self._blur(x), x)
            contrast = self._u(n, 0.55, 1.0).view(n, 1, 1, 1)
            x = torch.where(self._mask(n, c.contrast_p), x * contrast, x)
            noise = torch.randn(x.shape, generator=self.g, device=self.device) * self._u(n, 0, c.noise_sigma).view(
                n, 1, 1, 1
            )
            x = torch.where(self._mask(n, c.noise_p), x + noise, x)
            x = torch.where(self._mask(n, c.broken_p), self._broken(x), x)
            x = self._occlude(x)
            return torch.where(self._mask(n, c.clean), original, x.clamp_(0.0, 1.0))

    def _geometry(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        c = self.c
        angle = self._u(n, -c.rotate_deg, c.rotate_deg) * math.pi / 180
        scale = self._u(n, *c.scale)
        aspect = torch.exp(self._u(n, -c.aspect, c.aspect))
        sx, sy = scale * aspect, scale / aspect
        shear = self._u(n, -c.shear, c.shear)
        tx = self._u(n, -c.translate_px, c.translate_px) * 2 / w
        ty = self._u(n, -c.translate_px, c.translate_px) * 2 / h
        cos, sin = torch.cos(angle), torch.sin(angle)
        # NOTE: theta maps output to input coordinates, so it is the inverse of rotate . shear . scale.
        theta = torch.stack(
            [
                torch.stack([cos / sx, (-sin + shear * cos) / sx, tx], 1),
                torch.stack([sin / sy, (cos + shear * sin) / sy, ty], 1),
            ],
            1,
        )
        grid = F.affine_grid(theta, (n, 1, h, w), align_corners=False)
        # Elastic distortion: a coarse random displacement field, smoothly upsampled.
        coarse = torch.randn(n, 2, 4, 4, generator=self.g, device=self.device)
        field = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False)
        field = field * (c.elastic_px * 2 / w) * self._mask(n, c.elastic_p).view(n, 1, 1, 1)
        grid = grid + field.permute(0, 2, 3, 1)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def _lowres(self, x: torch.Tensor) -> torch.Tensor:
        """Each image down to a random side in `lowres_px` (area average) and back up (bilinear)."""
        n, _, h, w = x.shape
        lo, hi = self.c.lowres_px
        sides = torch.randint(lo, hi + 1, (n,), generator=self.g, device=self.device)
        out = x.clone()
        for side in sides.unique().tolist():
            rows = sides == side
            small = F.interpolate(x[rows], size=(side, side), mode="area")
            out[rows] = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
        return out / out.amax((2, 3), keepdim=True).clamp_min(1e-3)

    def _retrace(self, x: torch.Tensor) -> torch.Tensor:
        """The stroke written twice, the second pass a pixel or two off the first."""
        n = x.shape[0]
        dy, dx = (int(v) for v in torch.randint(-2, 3, (2,), generator=self.g, device=self.device))
        second = torch.roll(x, (dy, dx), (2, 3)) * self._u(n, 0.6, 1.0).view(n, 1, 1, 1)
        return torch.maximum(x, second)

    def _broken(self, x: torch.Tensor) -> torch.Tensor:
        """Gaps in the stroke where the pen skipped: a smooth random mask cuts a few short pieces out."""
        n, _, h, w = x.shape
        coarse = torch.rand(n, 1, 7, 7, generator=self.g, device=self.device)
        field = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
        return x * (field > self._u(n, 0.08, 0.2).view(n, 1, 1, 1))

    def _blur(self, x: torch.Tensor) -> torch.Tensor:
        k = torch.tensor([1.0, 2.0, 1.0], device=x.device)
        k = (k[:, None] * k[None, :]) / 16
        return F.conv2d(x, k.view(1, 1, 3, 3), padding=1)

    def _occlude(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        size = self._u(n, 3, 8).view(n, 1, 1)
        cy = self._u(n, 4, h - 4).view(n, 1, 1)
        cx = self._u(n, 4, w - 4).view(n, 1, 1)
        ys = torch.arange(h, device=x.device).view(1, h, 1)
        xs = torch.arange(w, device=x.device).view(1, 1, w)
        box = ((ys - cy).abs() < size / 2) & ((xs - cx).abs() < size / 2)
        keep = ~(box & self._mask(n, self.c.occlude_p).view(n, 1, 1))
        return x * keep.unsqueeze(1)
