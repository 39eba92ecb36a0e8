"""One training step of any method exactly as lab.core.train runs it, timed: the peer that the papers'
benchmarks (`python -m lab bench-paper sag2025 | sepp2023`) set their own costs beside."""

from __future__ import annotations

import time

import torch


def method_stepper(method_name: str, ds, batch: int, device: torch.device):
    """One training step of a method exactly as lab.core.train runs it; returns step() -> seconds."""
    from lab.core.augment import AugmentParams, augment, make_generator
    from lab.core.config import TrainConfig
    from lab.core.methods import Step, get_method
    from lab.core.train import build_model

    cfg = TrainConfig(dataset=ds.name, method=method_name, batch_size=batch)
    method = get_method(method_name)
    model = build_model(cfg, ds).to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    images, labels = ds.train_images.to(device), ds.train_labels.to(device)
    aug, gen = AugmentParams.from_strength(cfg.aug_strength), make_generator(0, device)
    state = method.setup(cfg, ds, device) if method.setup is not None else None
    count = [0]

    def step() -> float:
        idx = torch.randint(len(labels), (batch,), generator=gen, device=device)
        start = time.perf_counter()
        views = [
            augment(images[idx], aug, gen).contiguous(memory_format=torch.channels_last) for _ in range(2)
        ]
        s = Step(model, views, labels[idx], idx, count[0], 1000, dict(cfg.params), state)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss = method.loss(s)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        count[0] += 1
        return time.perf_counter() - start

    return step
