"""Batched, seeded image augmentation on the training device [L].

One `strength` s in [0, 1] scales every op (docs/science.md, "Augmentation strength"): crop area lower bound
1 - 0.8 s (s=1 gives SimCLR's [0.2, 1]), aspect [3/4, 4/3], horizontal flip p=0.5 when s>0,
brightness and contrast ±0.4 s with p=0.8, Gaussian blur p=0.5 s, and for colour images
saturation ±0.4 s, hue ±0.1 s, random grayscale p=0.2 s. s=0 is the identity.

Every op works on the whole batch at once with tensor ops (affine_grid/grid_sample for the
crop and flip, per-image factor tensors for the jitter, a grouped convolution for the blur),
so no per-image Python runs and nothing leaves the device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentParams:
    """The concrete settings of every op; `from_strength` maps the one slider to all of them."""

    crop_min_area: float = 1.0  # lower bound of the crop's area share; 1 = no crop
    flip_p: float = 0.0
    brightness: float = 0.0  # factor drawn from [1 - b, 1 + b]
    contrast: float = 0.0
    saturation: float = 0.0  # colour images only
    hue: float = 0.0  # colour images only, in turns of the colour wheel
    jitter_p: float = 0.8
    gray_p: float = 0.0  # colour images only
    blur_p: float = 0.0
    blur_sigma: tuple[float, float] = (0.1, 1.5)  # pixels; [L] SimCLR's 0.1-2.0 scaled to 28-32 px images

    @classmethod
    def from_strength(cls, s: float, **overrides) -> AugmentParams:
        """The spec's mapping (section 2); keyword overrides set single ops on their own."""
        if not 0.0 <= s <= 1.0:
            raise ValueError(f"Augmentation strength must be in [0, 1]; got {s}.")
        p = cls(
            crop_min_area=1.0 - 0.8 * s,
            flip_p=0.5 if s > 0 else 0.0,
            brightness=0.4 * s,
            contrast=0.4 * s,
            saturation=0.4 * s,
            hue=0.1 * s,
            gray_p=0.2 * s,
            blur_p=0.5 * s,
        )
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            names = ", ".join(f.name for f in fields(cls))
            raise ValueError(f"Unknown augmentation op(s) {sorted(unknown)}. Choose from: {names}.")
        return replace(p, **overrides)


def _uniform(n: int, lo: float, hi: float, g: torch.Generator, device) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g, device=device)


def _coin(n: int, p: float, g: torch.Generator, device) -> torch.Tensor:
    return torch.rand(n, generator=g, device=device) < p


def random_resized_crop_and_flip(x: torch.Tensor, p: AugmentParams, g: torch.Generator) -> torch.Tensor:
    """Crop a random box (area share in [crop_min_area, 1], aspect in [3/4, 4/3]) and resize it back
    to full size, flipping horizontally with probability flip_p. x: float [B, C, H, W]."""
    b, device = x.shape[0], x.device
    area = _uniform(b, p.crop_min_area, 1.0, g, device)
    log_ratio = _uniform(b, math.log(3 / 4), math.log(4 / 3), g, device)
    ratio = torch.exp(log_ratio)
    w = torch.sqrt(area * ratio)  # box size as a share of the image side
    h = torch.sqrt(area / ratio)
    # A box that would leave the image keeps its area with a square aspect (torchvision falls back too),
    # so crop_min_area = 1 means no crop at all.
    square = (w > 1) | (h > 1)
    w = torch.where(square, torch.sqrt(area), w)
    h = torch.where(square, torch.sqrt(area), h)
    cx = (2 * torch.rand(b, generator=g, device=device) - 1) * (1 - w)  # box centre in [-1, 1] coords
    cy = (2 * torch.rand(b, generator=g, device=device) - 1) * (1 - h)
    flip = torch.where(_coin(b, p.flip_p, g, device), -1.0, 1.0)
    theta = torch.zeros(b, 2, 3, device=device, dtype=x.dtype)
    theta[:, 0, 0] = w * flip
    theta[:, 0, 2] = cx
    theta[:, 1, 1] = h
    theta[:, 1, 2] = cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def _gray(x: torch.Tensor) -> torch.Tensor:
    """Luma [B, 1, H, W] (ITU-R 601 weights for colour, the image itself for grayscale)."""
    if x.shape[1] == 1:
        return x
    w = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def color_jitter(x: torch.Tensor, p: AugmentParams, g: torch.Generator) -> torch.Tensor:
    """Brightness, contrast (and saturation, hue for colour), each image its own factors,
    applied to a random share jitter_p of the batch. x: float [B, C, H, W] in [0, 1]."""
    b, device = x.shape[0], x.device
    on = _coin(b, p.jitter_p, g, device).view(b, 1, 1, 1)
    bright = _uniform(b, 1 - p.brightness, 1 + p.brightness, g, device).view(b, 1, 1, 1)
    contrast = _uniform(b, 1 - p.contrast, 1 + p.contrast, g, device).view(b, 1, 1, 1)
    y = (x * bright).clamp(0, 1)
    mean = _gray(y).mean(dim=(1, 2, 3), keepdim=True)
    y = ((y - mean) * contrast + mean).clamp(0, 1)
    if x.shape[1] == 3:
        sat = _uniform(b, 1 - p.saturation, 1 + p.saturation, g, device).view(b, 1, 1, 1)
        y = ((y - _gray(y)) * sat + _gray(y)).clamp(0, 1)
        y = _rotate_hue(y, _uniform(b, -p.hue, p.hue, g, device))
    return torch.where(on, y, x)


def _rotate_hue(x: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    """Hue shift as a rotation of the chroma plane in YIQ space (a cheap, batched stand-in for HSV)."""
    to_yiq = torch.tensor(
        [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]],
        device=x.device,
        dtype=x.dtype,
    )
    yiq = torch.einsum("ij,bjhw->bihw", to_yiq, x)
    a = 2 * math.pi * turns.view(-1, 1, 1)
    i, q = yiq[:, 1], yiq[:, 2]
    yiq = torch.stack(
        [yiq[:, 0], i * torch.cos(a) - q * torch.sin(a), i * torch.sin(a) + q * torch.cos(a)], 1
    )
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(to_yiq), yiq).clamp(0, 1)


def random_grayscale(x: torch.Tensor, p: AugmentParams, g: torch.Generator) -> torch.Tensor:
    on = _coin(x.shape[0], p.gray_p, g, x.device).view(-1, 1, 1, 1)
    return torch.where(on, _gray(x).expand_as(x), x)


def gaussian_blur(x: torch.Tensor, p: AugmentParams, g: torch.Generator, radius: int = 2) -> torch.Tensor:
    """Separable Gaussian blur, sigma per image, on a random share blur_p of the batch."""
    b, c, _, _ = x.shape
    device = x.device
    on = _coin(b, p.blur_p, g, device).view(b, 1, 1, 1)
    sigma = _uniform(b, *p.blur_sigma, g, device)
    t = torch.arange(-radius, radius + 1, device=device, dtype=x.dtype)
    k = torch.exp(-(t[None, :] ** 2) / (2 * sigma[:, None] ** 2))
    k = (k / k.sum(1, keepdim=True)).repeat_interleave(c, 0)  # [B*C, 2r+1]
    y = x.reshape(1, b * c, *x.shape[2:])
    y = F.pad(y, (radius, radius, radius, radius), mode="reflect")
    y = F.conv2d(y, k.view(b * c, 1, 1, -1), groups=b * c)
    y = F.conv2d(y, k.view(b * c, 1, -1, 1), groups=b * c)
    return torch.where(on, y.view_as(x), x)


def augment(images: torch.Tensor, params: AugmentParams, g: torch.Generator) -> torch.Tensor:
    """One augmented view of a whole batch.

    images: uint8 [B, C, H, W] on the training device. g: a torch.Generator on the same device,
    so that the same seed gives the same batch. Returns float32 [B, C, H, W] in [0, 1].
    Ops whose setting makes them a no-op are skipped, so strength 0 returns the input exactly.
    """
    x = images.float().div_(255.0)
    if params.crop_min_area < 1.0 or params.flip_p > 0:
        x = random_resized_crop_and_flip(x, params, g)
    if (
        params.brightness > 0
        or params.contrast > 0
        or (x.shape[1] == 3 and (params.saturation or params.hue))
    ):
        x = color_jitter(x, params, g)
    if x.shape[1] == 3 and params.gray_p > 0:
        x = random_grayscale(x, params, g)
    if params.blur_p > 0:
        x = gaussian_blur(x, params, g)
    return x


def make_generator(seed: int, device: torch.device | str) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def preview_views(images: torch.Tensor, strength: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two augmented views of a few uint8 images [n, C, H, W] at `strength`, as uint8 (the Train page's
    strip: what one training step shows the model)."""
    views = augment(
        torch.cat([images, images]), AugmentParams.from_strength(strength), make_generator(seed, "cpu")
    )
    views = (views * 255).round().to(torch.uint8)
    return views[: len(images)], views[len(images) :]


def describe_strength(strength: float) -> str:
    """The settings one strength gives, in words (section 2 of docs/science.md)."""
    p = AugmentParams.from_strength(strength)
    if strength == 0:
        return "No augmentation: both views are the image itself."
    return (f"Random crop keeping {p.crop_min_area:.0%}–100 % of the area · horizontal flip "
            f"{'p=0.5' if p.flip_p else 'off'} · brightness and contrast ±{p.brightness:.0%} (p=0.8) · "
            f"blur p={p.blur_p:.2f}.")  # fmt: skip
