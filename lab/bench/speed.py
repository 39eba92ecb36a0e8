"""`python -m lab bench`: training throughput of the default encoder with our batched pipeline,
beside a conventional per-sample pipeline (torchvision v2 transforms through a DataLoader, and
lightly's SimCLR transform when lightly is installed), the share of the measured float32 matmul
peak that training reaches, the time to load a stored run, and peak RSS. All in one process, one
machine, one run. Warm-up steps are excluded from every timing; CUDA timings synchronise.
"""

from __future__ import annotations

import resource
import tempfile
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from lab.core.augment import AugmentParams, augment, make_generator
from lab.core.config import TrainConfig, protocol_config
from lab.core.data import DatasetUnavailable, load_dataset
from lab.core.device import pick_device
from lab.core.losses import nt_xent
from lab.core.models import EMBED_BATCH, Encoder, embed
from lab.core.train import build_model


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul_peak_gflops(
    device: torch.device, n: int = 2048, repeats: int = 10, dtype: torch.dtype = torch.float32
) -> float:
    """Best-of-5 matmul throughput (GFLOP/s) in `dtype`: the ceiling training is compared with, in the
    precision training computes in (float32 on the CPU, bf16 under CUDA's autocast)."""
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    a @ b
    best = 0.0
    for _ in range(5):
        _sync(device)
        t = time.perf_counter()
        for _ in range(repeats):
            a @ b
        _sync(device)
        best = max(best, 2 * n**3 * repeats / (time.perf_counter() - t) / 1e9)
    return best


def _step(
    model: Encoder, opt, v1: torch.Tensor, v2: torch.Tensor, temperature: float, amp: bool
) -> torch.Tensor:
    with torch.autocast(v1.device.type, dtype=torch.bfloat16, enabled=amp):
        _, z = model(torch.cat([v1, v2]).contiguous(memory_format=torch.channels_last))
        loss = nt_xent(*z.chunk(2), temperature)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss


def step_flops(model: Encoder, images: torch.Tensor, batch: int, device) -> int:
    """FLOPs of one SimCLR step (forward and backward of both views), counted by torch."""
    params = AugmentParams.from_strength(0.6)
    g = make_generator(0, device)
    x = images[:batch].to(device)
    v1, v2 = augment(x, params, g), augment(x, params, g)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    with FlopCounterMode(display=False) as counter:
        _step(model, opt, v1, v2, 0.5, amp=False)
    return counter.get_total_flops()


def bench_ours(model, images, batch, seconds, device, amp) -> dict:
    """Our pipeline: uint8 dataset on the device, whole-batch augmentation there."""
    params = AugmentParams.from_strength(0.6)
    g = make_generator(0, device)
    data = images.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    n = len(data)

    def one_step():
        idx = torch.randint(0, n, (batch,), device=device, generator=g)
        x = data[idx]
        return _step(model, opt, augment(x, params, g), augment(x, params, g), 0.5, amp)

    for _ in range(3):  # warm-up (allocator, oneDNN/cuDNN algorithm choice), not timed
        one_step()
    _sync(device)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        one_step()
        steps += 1
    _sync(device)
    elapsed = time.perf_counter() - t0
    # augmentation alone, to check it is not the bottleneck
    x = data[:batch]
    augment(x, params, g)
    _sync(device)
    t = time.perf_counter()
    for _ in range(10):
        augment(x, params, g)
    _sync(device)
    aug_s = (time.perf_counter() - t) / 10
    step_s = elapsed / steps
    return {"images_per_s": steps * batch / elapsed, "step_s": step_s, "aug_view_s": aug_s,
            "aug_share": 2 * aug_s / step_s, "steps": steps}  # fmt: skip


class _TwoViews(torch.utils.data.Dataset):
    """A conventional per-sample dataset: each __getitem__ transforms one image twice."""

    def __init__(self, images: torch.Tensor, transform):
        self.images, self.transform = images, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = self.images[i]
        return self.transform(x), self.transform(x)


def torchvision_transform(size: int, s: float = 0.6):
    """The same ops as lab.core.augment at strength s, as torchvision v2 per-sample transforms."""
    from torchvision.transforms import v2

    return v2.Compose([
        v2.RandomResizedCrop(size, scale=(1 - 0.8 * s, 1.0), antialias=True),
        v2.RandomHorizontalFlip(),
        v2.RandomApply([v2.ColorJitter(brightness=0.4 * s, contrast=0.4 * s)], p=0.8),
        v2.RandomApply([v2.GaussianBlur(5, sigma=(0.1, 1.5))], p=0.5 * s),
        v2.ToDtype(torch.float32, scale=True),
    ])  # fmt: skip


def lightly_transform(size: int):
    try:
        from lightly.transforms import SimCLRTransform
    except ImportError:
        return None
    from torchvision.transforms import v2

    t = SimCLRTransform(input_size=size, normalize=None, rr_prob=0.0)
    to_pil = v2.ToPILImage()
    return lambda x: t(to_pil(x))[0]


def bench_per_sample(model, images, batch, seconds, device, transform, workers: int) -> dict:
    loader = torch.utils.data.DataLoader(
        _TwoViews(images, transform), batch_size=batch, shuffle=True, num_workers=workers, drop_last=True
    )
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    it = iter(loader)
    v1, v2 = next(it)
    _step(model, opt, v1.to(device), v2.to(device), 0.5, False)  # warm-up
    _sync(device)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        try:
            v1, v2 = next(it)
        except StopIteration:
            it = iter(loader)
            continue
        _step(model, opt, v1.to(device), v2.to(device), 0.5, False)
        steps += 1
    _sync(device)
    return {"images_per_s": steps * batch / (time.perf_counter() - t0), "steps": steps}


def bench_embed(model: Encoder, images: torch.Tensor, device, sizes=(EMBED_BATCH, 1024)) -> dict:
    """Best of 2 seconds to embed `images` (eval mode, h and z) at each batch size, interleaved so a
    slow phase of a shared machine does not favour one size."""
    embed(model, images[:EMBED_BATCH], device)  # warm-up
    best = {b: float("inf") for b in sizes}
    for _ in range(2):
        for b in sizes:
            _sync(device)
            t = time.perf_counter()
            embed(model, images, device, batch_size=b)
            _sync(device)
            best[b] = min(best[b], time.perf_counter() - t)
    return best


def bench_store_load() -> dict:
    """Seconds to load a stored run and read its features (a tiny digits run in a temp store)."""
    from lab.store.runs import RunStore

    with tempfile.TemporaryDirectory() as d:
        store = RunStore(d)
        cfg = TrainConfig(dataset="digits", epochs=1, batch_size=256)
        store.get_or_train(cfg)
        t = time.perf_counter()
        run, stored = store.get_or_train(cfg)
        # force the reads (the arrays are memory-mapped) so the figure includes the disk I/O
        _ = np.array(run.features()).sum() + np.array(run.features("projector")).sum() + run.labels.sum()
        return {"seconds": time.perf_counter() - t, "stored": stored}


def main(args) -> int:
    device = pick_device(args.device)
    try:
        ds = load_dataset("fashion-mnist")
    except DatasetUnavailable:
        ds = load_dataset("digits")
    batch, seconds = args.batch_size, args.seconds
    amp = device.type == "cuda"
    print(f"SSL Lab benchmark on {device} ({torch.get_num_threads()} torch threads), data: {ds.describe()}")
    print(
        f"encoder cnn-16, SimCLR, batch {batch}, strength 0.6 (fixed, so that figures compare across versions; "
        f"the paper protocols' recipe); {seconds:.0f} s timed per pipeline\n"
    )

    def fresh_model():
        torch.manual_seed(0)
        model = build_model(protocol_config(dataset=ds.name), ds)  # the protocols' cnn-16
        return model.to(device).to(memory_format=torch.channels_last)

    peak_dtype = torch.bfloat16 if amp else torch.float32
    peak = matmul_peak_gflops(device, dtype=peak_dtype)
    flops = step_flops(fresh_model(), ds.train_images, batch, device)
    ours = bench_ours(fresh_model(), ds.train_images, batch, seconds, device, amp)
    achieved = flops * ours["steps"] / (ours["step_s"] * ours["steps"]) / 1e9
    rows = [("ours: batched on-device augmentation", ours["images_per_s"])]
    peer = bench_per_sample(
        fresh_model(), ds.train_images, batch, seconds, device, torchvision_transform(ds.shape[1]), 0
    )
    rows.append(("peer: torchvision v2 per-sample, DataLoader (0 workers)", peer["images_per_s"]))
    peer1 = bench_per_sample(
        fresh_model(), ds.train_images, batch, seconds, device, torchvision_transform(ds.shape[1]), 1
    )
    rows.append(("peer: torchvision v2 per-sample, DataLoader (1 worker)", peer1["images_per_s"]))
    lt = lightly_transform(ds.shape[1])
    if lt is not None:
        lp = bench_per_sample(fresh_model(), ds.train_images, batch, seconds, device, lt, 0)
        rows.append(("peer: lightly SimCLRTransform per-sample (0 workers)", lp["images_per_s"]))
    else:
        print(
            "(lightly is not installed: its per-sample SimCLR transform was not measured; pip install lightly)"
        )
    best_peer = max(r[1] for r in rows[1:])
    for name, ips in rows:
        print(f"  {name:58s} {ips:8,.0f} images/s")
    print(
        f"\n  ours / best per-sample peer:                              {ours['images_per_s'] / best_peer:8.2f}x"
    )
    print(f"  augmentation per view: {ours['aug_view_s'] * 1e3:.1f} ms = {ours['aug_share']:.1%} of a training step"
          f" ({ours['step_s'] * 1e3:.0f} ms)")  # fmt: skip
    print(f"  model FLOPs per step (fwd+bwd, both views): {flops / 1e9:.1f} GFLOP")
    print(
        f"  {str(peak_dtype).removeprefix('torch.')} matmul peak: {peak:.0f} GFLOP/s; "
        f"training reaches {achieved:.0f} GFLOP/s = {achieved / peak:.{2 if achieved < 0.01 * peak else 0}%}"
    )
    all_images = torch.cat([ds.train_images, ds.test_images])
    emb = bench_embed(fresh_model(), all_images, device)
    print(f"  embed all {len(all_images):,} images after training (h and z): "
          + ", ".join(f"{s:.2f} s at batch {b}" for b, s in emb.items()))  # fmt: skip
    load = bench_store_load()
    print(f"  stored config load (RunStore.get_or_train + features): {load['seconds']:.3f} s")
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"  peak RSS: {rss_gb:.2f} GB")
    return 0
