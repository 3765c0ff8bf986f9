"""Whether a file can be an image at all, from its first bytes: cheap enough to run over
every image of a dataset before a run starts, or over a tool's inputs."""
from typing import Optional

# First bytes of the formats OpenCV decodes: JPEG, PNG, BMP, TIFF (both byte orders), GIF,
# WebP (RIFF), JPEG 2000 (file and codestream), PNM / PFM, Sun raster, OpenEXR, Radiance HDR.
IMAGE_SIGNATURES = (b'\xff\xd8\xff', b'\x89PNG\r\n\x1a\n', b'BM', b'II*\x00', b'MM\x00*',
                    b'GIF87a', b'GIF89a', b'RIFF', b'\x00\x00\x00\x0cjP  ', b'\xffO\xffQ',
                    b'P1', b'P2', b'P3', b'P4', b'P5', b'P6', b'Pf', b'PF',
                    b'\x59\xa6\x6a\x95', b'\x76\x2f\x31\x01', b'#?')


def image_file_problem(path: str) -> Optional[str]:
    """Why ``path`` cannot be an image (empty; its first bytes match no image format), or
    None. Reads 12 bytes."""
    with open(path, 'rb') as stream:
        head = stream.read(12)
    if not head:
        return 'empty file, 0 bytes'
    if not head.startswith(IMAGE_SIGNATURES) and head[4:8] != b'ftyp':  # ftyp: AVIF / HEIF
        return f'not an image: starts with {head[:8]!r}'
    return None
