"""Image loading that skips unreadable training images instead of ending the run."""
from typing import Optional

from mmcv.transforms import LoadImageFromFile
from mmengine.logging import print_log


class LoadImageOrSkip(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same arguments), except that a missing or undecodable file
    logs a warning naming it, with the number skipped so far by this process, and returns None,
    which makes mmengine's dataset draw another sample (training only: test-mode datasets treat
    None as an error, and an unreadable test image should stop an evaluation).
    """

    skipped = 0

    def transform(self, results: dict) -> Optional[dict]:
        try:
            return super().transform(results)
        except Exception as error:  # noqa: BLE001  (file systems and decoders raise anything)
            LoadImageOrSkip.skipped += 1
            print_log(f'Skipping unreadable image {results.get("img_path")}: '
                      f'{type(error).__name__}: {error} ({LoadImageOrSkip.skipped} skipped so '
                      f'far in this process).', logger='current', level=30)
            return None
