"""A colour legend strip under a picture (segmentation overlays name their colours)."""
from typing import Sequence, Tuple

import cv2
import numpy as np

Colour = Tuple[int, int, int]
ROW_HEIGHT = 22
SWATCH = 14


def add_legend(rgb: np.ndarray, entries: Sequence[Tuple[str, Colour]]) -> np.ndarray:
    """``rgb`` (H, W, 3) uint8 with rows of (colour swatch, name) appended below it, packed
    left to right; returns (H + rows * 22, W, 3)."""
    if not entries:
        return rgb
    width = rgb.shape[1]
    widths = [SWATCH + 8 + cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)[0][0] + 16
              for name, _ in entries]
    rows, x = [[]], 6
    for entry, entry_width in zip(entries, widths):
        if x + entry_width > width and rows[-1]:
            rows.append([])
            x = 6
        rows[-1].append((entry, x))
        x += entry_width
    strip = np.full((ROW_HEIGHT * len(rows), width, 3), 255, np.uint8)
    for row_index, row in enumerate(rows):
        top = row_index * ROW_HEIGHT + (ROW_HEIGHT - SWATCH) // 2
        for (name, colour), left in row:
            cv2.rectangle(strip, (left, top), (left + SWATCH, top + SWATCH),
                          tuple(int(c) for c in colour), thickness=-1)
            cv2.rectangle(strip, (left, top), (left + SWATCH, top + SWATCH), (0, 0, 0), 1)
            cv2.putText(strip, name, (left + SWATCH + 6, top + SWATCH - 2),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([rgb, strip], axis=0)
