"""Images for the screen: sharp, framed RGB thumbnails of uint8 dataset images."""

from __future__ import annotations

import numpy as np

FRAME_OTHER = (220, 38, 38)  # red frame: a neighbour from another class
FRAME_SAME = (200, 200, 200)  # light grey frame: same class


def thumbnail(image: np.ndarray, scale: int = 4, frame: tuple[int, int, int] | None = None, border: int = 3):
    """uint8 [C, H, W] image -> uint8 [H*scale, W*scale, 3] RGB, pixels kept sharp (nearest
    upscaling; the browser would blur a 28-pixel image), with an optional coloured frame."""
    img = np.asarray(image)
    img = np.repeat(img, 3, axis=0) if img.shape[0] == 1 else img[:3]
    img = img.transpose(1, 2, 0).repeat(scale, axis=0).repeat(scale, axis=1)
    if frame is not None:
        img = img.copy()
        img[:border], img[-border:], img[:, :border], img[:, -border:] = frame, frame, frame, frame
    return np.ascontiguousarray(img)


def neighbour_thumbnails(images: np.ndarray, nb, scale: int = 3) -> list[np.ndarray]:
    """RGB thumbnails of the neighbours (a lab.store.neighbours.Neighbours), other-class ones in a red
    frame. images: uint8 [N, C, H, W]."""
    return [
        thumbnail(images[r], scale, FRAME_OTHER if other else FRAME_SAME)
        for r, other in zip(nb.rows.tolist(), nb.other_class.tolist(), strict=True)
    ]
