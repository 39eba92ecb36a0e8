"""lab.core.models: the encoders' shapes, a method's own projector, and embeddings that equal the
model's eval-mode output."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lab.core.models import Encoder, embed


@pytest.mark.parametrize(("name", "width", "feat"), [("cnn", 8, 64), ("resnet18", 8, 64)])
def test_h_has_the_backbones_width_and_z_the_embedding_size(name, width, feat):
    model = Encoder(name, 3, width, 32, 10).eval()
    h, z = model(torch.rand(4, 3, 32, 32))
    assert h.shape == (4, feat) and z.shape == (4, 32)
    assert model.classifier(h).shape == (4, 10)


def test_a_methods_projector_replaces_simclrs_head():
    model = Encoder("cnn", 1, 4, 16, 10, projector=lambda f, p: nn.Linear(f, p, bias=False))
    assert isinstance(model.projector, nn.Linear) and model.projector.weight.shape == (16, 32)


def test_embed_is_the_eval_mode_output_as_float32_on_the_cpu():
    torch.manual_seed(0)
    model = Encoder("cnn", 1, 4, 8, 10)
    images = torch.randint(0, 256, (37, 1, 28, 28), dtype=torch.uint8)
    h, z = embed(model, images, torch.device("cpu"), batch_size=10)
    assert h.dtype == torch.float32 and h.shape == (37, 32) and z.shape == (37, 8)
    assert model.training, "embed leaves the model as it found it"
    with torch.no_grad():
        ref_h, ref_z = model.eval()(images.float() / 255)
    torch.testing.assert_close(h, ref_h, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(z, ref_z, atol=1e-5, rtol=1e-5)


def test_an_unknown_encoder_lists_the_known_ones():
    with pytest.raises(ValueError, match="Unknown encoder 'vit'. Choose one of: cnn, resnet18"):
        Encoder("vit", 1, 4, 8, 10)
