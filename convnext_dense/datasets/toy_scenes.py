"""Deterministic synthetic scenes: textured backgrounds with non-overlapping shapes.

A scene is an RGB image (H, W, 3) uint8 plus its objects, each a class index into
:data:`SHAPE_CLASSES` and an exact polygon (K, 2) in pixel coordinates (x, y). The same seed
gives the same scene on any machine: numpy's PCG64 and OpenCV's polygon fill are deterministic.
"""
import os
from dataclasses import dataclass
from typing import List, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

SHAPE_CLASSES = ('circle', 'square', 'triangle', 'cross')
SHAPE_PALETTE = [(220, 20, 60), (0, 128, 255), (60, 180, 75), (255, 200, 0)]

# Sub-pixel precision of the polygon fill (OpenCV `shift`).
_FILL_SHIFT = 4


@dataclass
class ToyObject:
    """One shape: its class index and polygon (K, 2) as float (x, y) pixel coordinates."""
    label: int
    polygon: np.ndarray


def shape_polygon(label: int, center: np.ndarray, radius: float, angle: float) -> np.ndarray:
    """The outline of a shape of class ``label`` as a (K, 2) polygon."""
    name = SHAPE_CLASSES[label]
    if name == 'circle':
        theta = np.linspace(0, 2 * np.pi, 40, endpoint=False)
        points = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    elif name == 'square':
        points = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * 0.75
    elif name == 'triangle':
        theta = np.array([-0.5, 1 / 6, 5 / 6]) * np.pi
        points = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    else:  # cross: a plus sign with arms 0.35 * radius wide
        a, b = 0.35, 1.0
        points = np.array([[-a, -b], [a, -b], [a, -a], [b, -a], [b, a], [a, a], [a, b], [-a, b],
                           [-a, a], [-b, a], [-b, -a], [-a, -a]])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return points @ rotation.T * radius + center


def polygon_mask(polygon: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W) uint8 mask, 1 inside the polygon."""
    mask = np.zeros((height, width), dtype=np.uint8)
    points = np.round(polygon * (1 << _FILL_SHIFT)).astype(np.int32)
    cv2.fillPoly(mask, [points], 1, lineType=cv2.LINE_8, shift=_FILL_SHIFT)
    return mask


def textured_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Two colours blended by smooth noise, optional stripes, pixel noise: (H, W, 3) float."""
    colours = rng.uniform(30, 225, size=(2, 3))
    blend = cv2.resize(rng.random((6, 6)), (size, size), interpolation=cv2.INTER_CUBIC)
    image = colours[0] * (1 - blend[..., None]) + colours[1] * blend[..., None]
    if rng.random() < 0.5:
        yy, xx = np.mgrid[0:size, 0:size]
        angle, period = rng.uniform(0, np.pi), rng.uniform(6, 20)
        stripes = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
        image += 18 * stripes[..., None]
    return image + rng.normal(0, 6, size=image.shape)


def material_pattern(label: int, center: np.ndarray, size: int, period: float = 8.0) -> np.ndarray:
    """A class-specific surface pattern in [-1, 1], (H, W), anchored at the shape's centre:
    rings (circle), checkerboard (square), horizontal stripes (triangle), vertical stripes
    (cross). Structurally different, so they stay apart under 0.5-2x resizing and flips."""
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    x, y = (xx - center[0]) * 2 * np.pi / period, (yy - center[1]) * 2 * np.pi / period
    patterns = {
        'circle': lambda: np.sin(np.hypot(x, y)),
        'square': lambda: np.sign(np.sin(x)) * np.sign(np.sin(y)),
        'triangle': lambda: np.sign(np.sin(y)),
        'cross': lambda: np.sign(np.sin(x)),
    }
    return patterns[SHAPE_CLASSES[label]]()


def _contrasting_colour(rng: np.random.Generator, under: np.ndarray) -> np.ndarray:
    for _ in range(20):
        colour = rng.uniform(0, 255, size=3)
        if np.abs(colour - under).sum() > 150:
            break
    return colour


def render_scene(rng: np.random.Generator, size: int, max_objects: int = 4,
                 radius_range: Tuple[float, float] = (0.09, 0.2),
                 materials: bool = False) -> Tuple[np.ndarray, List[ToyObject]]:
    """One image and its 1..max_objects non-overlapping objects, each with a radius drawn
    from ``radius_range`` (fractions of the image size). With ``materials``, each class also
    carries its surface pattern (:func:`material_pattern`), as stuff classes do in ADE20K."""
    image = textured_background(rng, size)
    occupied = np.zeros((size, size), dtype=np.uint8)
    objects: List[ToyObject] = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        for _attempt in range(30):
            label = int(rng.integers(len(SHAPE_CLASSES)))
            radius = rng.uniform(*radius_range) * size
            center = rng.uniform(radius + 1, size - radius - 1, size=2)
            polygon = shape_polygon(label, center, radius, rng.uniform(0, 2 * np.pi))
            mask = polygon_mask(polygon, size, size)
            margin = cv2.dilate(mask, np.ones((5, 5), np.uint8))
            if not (margin & occupied).any():
                break
        else:
            continue
        inside = mask.astype(bool)
        colour = _contrasting_colour(rng, image[inside].mean(axis=0))
        shading = np.linspace(0.8, 1.1, size)[None, :, None] if rng.random() < 0.5 else 1.0
        shaded = colour * np.broadcast_to(shading, image.shape) + rng.normal(0, 5, image.shape)
        if materials:
            shaded += 40 * material_pattern(label, center, size)[..., None]
        image[inside] = shaded[inside]
        occupied |= mask
        objects.append(ToyObject(label, polygon))
    return np.clip(image, 0, 255).astype(np.uint8), objects


def announce_toy_data(name: str, data_root: str, splits: dict) -> None:
    """Says, once, where a toy dataset is being generated: a relative ``data_root`` resolves
    against the current directory, so a config run from elsewhere writes there."""
    images = sum(num_images for num_images, _ in splits.values())
    print_log(f'Generating the toy {name} dataset ({images} images) in '
              f'{os.path.abspath(data_root)} (data_root={data_root!r}, relative to the current '
              f'directory); later runs from here reuse it.', logger='current')
