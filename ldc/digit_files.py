"""Digits from files: a ``.npy`` array or a 28x28 PNG, checked from the file's own bytes before they are trusted.

What ``python -m ldc compress`` reads. A ``.npy`` header is checked against
the file's size before any array is made, so a header cannot make ldc
allocate more than the file holds. A PNG is checked from its chunks before
Pillow decodes it: 28x28, 8 bits per channel (16-bit images are refused, not
squeezed into 8 bits; Pillow itself would quietly open some of them as
8-bit), one frame (an animated PNG is refused), every row present in its
image data (Pillow fills missing rows with zeros), and no transparent pixel
(what lies behind one is unknown). Every refusal is an
:class:`~ldc.errors.InputError` naming the file. Introduced in chapter 5.
"""
import io
import struct
import warnings
import zlib

import numpy as np

from ldc.container import MAX_COUNT
from ldc.data import DIGIT_SHAPE, as_digits
from ldc.errors import InputError, shown
from ldc.files import as_path, input_size, open_input, read_at_most

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_IMAGE_BYTES = 1 << 20  # a 28x28 PNG takes a few hundred bytes to a few KB; larger files are not read
# PNG colour types: channels per pixel, and the name of what they hold.
_COLOUR_TYPES = {0: (1, "grey"), 2: (3, "RGB"), 3: (1, "palette"), 4: (2, "grey+alpha"), 6: (4, "RGBA")}
_ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def read_digits(path):
    """Return uint8 digits (N, 28, 28) from a .npy array or a 28x28 PNG image; InputError names what is wrong.

    At most ``ldc.container.MAX_COUNT`` digits; only regular files are read
    (:func:`ldc.files.open_input`).
    """
    path = as_path(path, "input")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        array = _read_npy(path)
    elif suffix == ".png":
        array = _read_png(path)
    else:
        raise InputError(f"{path}: expected a .npy array of digits or a .png image, got a '{suffix or 'no'}' suffix")
    return as_digits(array, name=str(path))


def _read_npy(path):
    with open_input(path) as f:
        try:
            version = np.lib.format.read_magic(f)
            readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in readers:
                raise ValueError(f".npy format version {version[0]}.{version[1]} (ldc reads 1.0 and 2.0)")
            shape, fortran, dtype = readers[version](f)  # reads and checks the header only
        except Exception as err:  # numpy parses the header as Python literals: a bad one fails in many ways
            raise InputError(f"{path}: not a readable .npy array ({shown(str(err))})") from err
        if dtype.hasobject:
            raise InputError(f"{path}: the array holds Python objects (dtype {dtype}), not pixel values")
        if len(shape) < 2 or len(shape) > 4:
            raise InputError(f"{path}: expected digits shaped (N, 28, 28) or (N, 28, 28, 1), got {shape}")
        count = shape[0] if len(shape) > 2 else 1
        if count > MAX_COUNT:
            raise InputError(f"{path}: {count:,} digits; ldc compresses at most {MAX_COUNT:,} at a time")
        needed = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        held = input_size(f) - f.tell()
        if needed != held:
            raise InputError(f"{path}: its header announces {needed:,} bytes of {dtype} {shape}, but the file "
                             f"holds {held:,}")
        data = f.read(needed)
    try:
        array = np.frombuffer(data, dtype=dtype).copy()
        return array.reshape(shape, order="F" if fortran else "C")
    except (ValueError, TypeError) as err:
        raise InputError(f"{path}: not a readable .npy array ({shown(str(err))})") from err


def _png_chunks(data):
    """Yield (type, body) for each chunk of a PNG's bytes (after the signature); ValueError when one is cut."""
    at = len(PNG_SIGNATURE)
    while at < len(data):
        if at + 8 > len(data):
            raise ValueError("a chunk header is cut off")
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if at + 12 + length > len(data):
            raise ValueError(f"its {kind.decode('latin-1')!r} chunk is cut off")
        yield kind, data[at + 8:at + 8 + length]
        at += 12 + length
        if kind == b"IEND":
            return


def _raw_size(width, height, channels, depth, interlaced):
    """Bytes of a PNG's filtered image data: each row of each pass, its filter byte first."""
    passes = _ADAM7 if interlaced else [(0, 0, 1, 1)]
    total = 0
    for x0, y0, dx, dy in passes:
        columns, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and rows > 0:
            total += rows * (1 + -(-columns * channels * depth // 8))
    return total


def check_png(data, name):
    """Raise InputError (naming ``name``) unless ``data`` is a whole 28x28 PNG with 8 bits per channel and one frame.

    Read from the chunks themselves, not from what Pillow makes of them: the
    header's size, bit depth and colour type; no animation control chunk;
    and image data that inflates to every row of the image, no fewer.
    """
    if not data.startswith(PNG_SIGNATURE):
        raise InputError(f"{name}: not a readable PNG image (it does not start with PNG's signature)")
    try:
        chunks = list(_png_chunks(data))
    except ValueError as err:
        raise InputError(f"{name}: not a readable PNG image ({err})") from None
    if not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
        raise InputError(f"{name}: not a readable PNG image (no image header first)")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if (width, height) != DIGIT_SHAPE[::-1]:
        raise InputError(f"{name}: the image is {width}x{height} pixels, expected 28x28")
    if colour not in _COLOUR_TYPES:
        raise InputError(f"{name}: not a readable PNG image (colour type {colour})")
    channels, what = _COLOUR_TYPES[colour]
    if depth > 8:
        raise InputError(f"{name}: a {depth}-bit {what} image (more than 8 bits per pixel); expected an 8-bit "
                         "grayscale PNG, pixels 0..255 (16-bit images are refused, not squeezed into 8 bits)")
    frames = [body for kind, body in chunks if kind == b"acTL"]
    if frames:
        count = struct.unpack(">I", frames[0][:4])[0] if len(frames[0]) >= 4 else "several"
        raise InputError(f"{name}: an animated PNG ({count} frames); ldc compresses one still digit per PNG")
    expected = _raw_size(width, height, channels, depth, interlace == 1)
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"), expected + 1)
    except zlib.error as err:
        raise InputError(f"{name}: not a readable PNG image (its image data: {err})") from None
    if len(raw) < expected or not inflater.eof:
        rows = len(raw) * height // expected
        raise InputError(f"{name}: its image data holds {len(raw)} of the {expected} bytes of its "
                         f"{height} rows (about {rows}): the image is incomplete")


def _read_png(path):
    from PIL import Image, UnidentifiedImageError

    data = read_at_most(path, MAX_IMAGE_BYTES, "a PNG image")
    check_png(data, path)
    unreadable = (UnidentifiedImageError, SyntaxError, Image.DecompressionBombError, OSError, ValueError, EOFError)
    with warnings.catch_warnings():
        # Pillow warns about what it finds odd (truncated EXIF) before reading valid pixels: its warnings
        # would only add lines.
        warnings.simplefilter("ignore")
        try:
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                image.load()
                if "A" in image.mode or "transparency" in image.info:
                    alpha = np.asarray(image.convert("RGBA"))[..., 3]
                    if alpha.min() < 255:
                        raise InputError(f"{path}: {int((alpha < 255).sum())} of its pixels are transparent: "
                                         "what lies behind them is unknown; flatten the image onto its "
                                         "background first")
                return np.asarray(image.convert("L"))
        except InputError:
            raise
        except unreadable as err:
            raise InputError(f"{path}: not a readable PNG image ({shown(str(err))})") from err

