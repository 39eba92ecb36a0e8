"""Encoders (backbone + projection head) for small images.

`h` = backbone output (what probes and maps use by default); `z` = projector output, whose
size is the run's **embedding size** (what the losses use). Both can be read out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
from torch import nn

ENCODERS = ("cnn", "resnet18")


class SmallCNN(nn.Module):
    """4 blocks of 3x3 conv, 2x2 max-pool, BatchNorm and ReLU; widths w, 2w, 4w, 8w; global average
    pool. The default encoder [L].

    The pool comes straight after the conv, so BatchNorm and ReLU (memory-bound on a CPU) run on a
    quarter of the activations: measured 17 % more images/s than conv-BN-ReLU-pool on 2 cores, at
    the same kNN accuracy (docs/performance.md, "Why the defaults are what they are")."""

    def __init__(self, in_channels: int, width: int = 16):
        super().__init__()
        layers, c = [], in_channels
        for i in range(4):
            out = width * 2**i
            layers += [
                nn.Conv2d(c, out, 3, padding=1, bias=False),
                nn.MaxPool2d(2, ceil_mode=True),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
            ]
            c = out
        self.features = nn.Sequential(*layers)
        self.out_dim = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [B, C, H, W] -> [B, 8w]
        return self.features(x).mean(dim=(2, 3))


def cifar_resnet18(in_channels: int, width: int = 64) -> nn.Module:
    """torchvision's ResNet-18 with the CIFAR stem (3x3 stride-1 conv, no max-pool) and no classifier.
    `width` scales the channel counts (64 is the standard network)."""
    from torchvision.models.resnet import BasicBlock, ResNet

    class _ResNet(ResNet):
        def __init__(self):
            super().__init__(BasicBlock, [2, 2, 2, 2])

    net = _ResNet()
    if width != 64:  # rebuild the stages at another width, keeping torchvision's block code
        net.inplanes = width
        net.layer1 = net._make_layer(BasicBlock, width, 2)
        net.layer2 = net._make_layer(BasicBlock, width * 2, 2, stride=2)
        net.layer3 = net._make_layer(BasicBlock, width * 4, 2, stride=2)
        net.layer4 = net._make_layer(BasicBlock, width * 8, 2, stride=2)
        net.bn1 = nn.BatchNorm2d(width)
    net.conv1 = nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False)
    net.maxpool = nn.Identity()
    net.fc = nn.Identity()
    net.out_dim = width * 8
    return net


def projection_head(in_dim: int, hidden: int, out_dim: int) -> nn.Sequential:
    """SimCLR's MLP head: Linear-BN-ReLU-Linear; out_dim is the embedding size."""
    return nn.Sequential(
        nn.Linear(in_dim, hidden, bias=False),
        nn.BatchNorm1d(hidden),
        nn.ReLU(inplace=True),
        nn.Linear(hidden, out_dim),
    )


class Encoder(nn.Module):
    """Backbone + projector (+ a linear classifier on h for the supervised baseline).

    Inputs are float images in [0, 1]; they are standardised with the dataset's pixel mean/std.
    `projector`: (backbone feature size, embedding size) -> the head; default SimCLR's MLP head."""

    def __init__(
        self,
        name: str,
        in_channels: int,
        width: int,
        embedding_size: int,
        num_classes: int,
        pixel_mean: float = 0.5,
        pixel_std: float = 0.25,
        projector: Callable[[int, int], nn.Module] | None = None,
    ):
        super().__init__()
        if name not in ENCODERS:
            raise ValueError(f"Unknown encoder '{name}'. Choose one of: {', '.join(ENCODERS)}.")
        self.backbone = SmallCNN(in_channels, width) if name == "cnn" else cifar_resnet18(in_channels, width)
        feat = self.backbone.out_dim
        if projector is None:
            self.projector = projection_head(feat, max(256, 2 * feat), embedding_size)
        else:  # a method's own head (e.g. VICReg's expander): (feature size, embedding size) -> module
            self.projector = projector(feat, embedding_size)
        self.classifier = nn.Linear(feat, num_classes)
        self.register_buffer("pixel_mean", torch.tensor(float(pixel_mean)))
        self.register_buffer("pixel_std", torch.tensor(float(pixel_std)))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """h: [B, F] backbone features."""
        return self.backbone((x - self.pixel_mean) / self.pixel_std)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (h [B, F], z [B, embedding_size])."""
        h = self.features(x)
        return h, self.projector(h)


# Batches of 256 embed the default run's 70,000 images about a third faster on 2 CPU cores than
# batches of 1,024 (`python -m lab bench` times both), probably because their activations stay in cache.
# On a GPU it is the other way round (H200, 2026-11-29: 0.28 s at 256, 0.10 s at 1,024).
EMBED_BATCH = 256
EMBED_BATCH_CUDA = 1024


def embed_batch(device: torch.device) -> int:
    """The embedding batch size measured fastest on this kind of device (MPS was never measured)."""
    return EMBED_BATCH_CUDA if device.type == "cuda" else EMBED_BATCH


def fast_bf16(device: torch.device) -> bool:
    """Whether bf16 autocast is the faster inference here: a CPU with AMX tiles (half a float32 snapshot's
    time on 2-core D, docs/performance.md); on a CPU without them bf16 is emulated and slower."""
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private in torch 2.14: absent means no
    return device.type == "cpu" and probe is not None and bool(probe())


@contextlib.contextmanager
def _no_tf32():
    """Plain float32 convolutions and matmuls on CUDA (PyTorch allows TF32 convolutions by default)."""
    old = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old


@torch.inference_mode()
def embed(
    model: Encoder,
    images: torch.Tensor,
    device: torch.device,
    batch_size: int | None = None,
    projector: bool = True,
    bf16: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Backbone features and projector outputs of un-augmented uint8 images [N, C, H, W], in eval mode.
    Returns float32 CPU tensors (h [N, F], z [N, p]); z is None with projector=False (h only: the
    snapshots during training).

    Full float32 on every device, TF32 convolutions off: the stored features are what every metric,
    map and neighbour list is computed from, so they must equal the stored weights' output on any
    device (bf16 autocast here gave features 2 decimal digits off those of the same weights on the
    CPU, seen on an H200). Training keeps bf16 autocast; embedding 70,000 images costs 0.1 s there.
    bf16=True: under bf16 autocast instead, for features that are not stored as the run's (the snapshots
    during training on CPUs with AMX, `fast_bf16`)."""
    batch_size = batch_size or embed_batch(device)
    was_training = model.training
    model.eval()
    model.to(memory_format=torch.channels_last)  # as in training; measured 3x faster than NCHW on CPU
    hs, zs = [], []
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size].to(device, non_blocking=True).float().div_(255.0)
        x = x.contiguous(memory_format=torch.channels_last)
        with _no_tf32(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            h = model.features(x)
            if projector:
                zs.append(model.projector(h).float().cpu())
        hs.append(h.float().cpu())
    model.train(was_training)
    return torch.cat(hs), (torch.cat(zs) if projector else None)
