"""Image input: from whatever a user has (arrays of any size, grey or RGBA, floats, files, encoded
bytes) to the model's pixels.

Two halves, so that training, `caption()` and the exported SavedModel agree:

- `check_images` (eager, Python): validates and normalises user input into a list of uint8 RGB
  arrays `(h, w, 3)`, decoding files and JPEG/PNG bytes, with errors that name the bad item;
- `to_model_pixels` (graph): a batch `(B, h, w, C)` of uint8 or float pixels, `C` in 1, 3, 4,
  -> float32 `(B, H, W, 3)` in [0, 255] at the model's size (bilinear with antialiasing), and
  `decode_images` (graph): JPEG/PNG bytes `(B,)` -> uint8 `(B, H, W, 3)`, what the SavedModel's
  `serving_default` runs.
"""

import os

import numpy as np
import tensorflow as tf

__all__ = ["check_image_size", "check_images", "to_model_pixels", "decode_images", "resize_to_model"]


def check_image_size(image_size, smallest=8):
    """`(height, width)` as a tuple of ints >= `smallest`; `ValueError` naming `image_size` otherwise."""
    if (
        not isinstance(image_size, (list, tuple))
        or len(image_size) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= smallest for n in image_size)
    ):
        raise ValueError(
            f"`image_size` must be a pair of ints >= {smallest} (height, width). Received: image_size={image_size!r}"
        )
    return tuple(image_size)


def _decode(data, position):
    try:
        image = tf.io.decode_image(data, channels=3, expand_animations=False).numpy()
    except (tf.errors.InvalidArgumentError, ValueError) as error:
        raise ValueError(
            f"`images[{position}]` could not be decoded as a JPEG, PNG, GIF or BMP image "
            f"({str(error).splitlines()[0][:120]}). Received: {len(data)} bytes starting {data[:8]!r}"
        ) from None
    return image


def _as_rgb(array, position):
    """A uint8 `(h, w, 3)` array from a grey, RGB or RGBA array of uint8 or floats in [0, 1]."""
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4) or min(array.shape[:2]) < 1:
        raise ValueError(
            f"`images[{position}]` must be an image array (height, width), (height, width, 1), "
            f"(height, width, 3) or (height, width, 4). Received: shape={array.shape}"
        )
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise ValueError(f"`images[{position}]`: float images must hold values in [0, 1]. Received: NaN or inf")
        if array.min() < 0.0 or array.max() > 1.0:
            raise ValueError(
                f"`images[{position}]`: float images must hold values in [0, 1]. "
                f"Received: values in [{array.min():.3g}, {array.max():.3g}]"
            )
        array = np.round(array * 255.0)
    elif array.dtype.kind not in ("u", "i") or array.min(initial=0) < 0 or array.max(initial=0) > 255:
        raise ValueError(
            f"`images[{position}]` must be uint8 pixels (or floats in [0, 1]). "
            f"Received: dtype={array.dtype}"
        )
    array = array.astype(np.uint8)
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return array[:, :, :3]  # RGBA: the alpha channel is dropped


def check_images(images):
    """Normalises user input to `(list of uint8 (h, w, 3) arrays, was_single)`.

    Args:
        images: one image or a list of them; an image is a NumPy array (grey `(h, w)` or
            `(h, w, 1)`, RGB, RGBA; uint8 or floats in [0, 1]), a file path, or the bytes of a
            JPEG / PNG / GIF / BMP file. A 4-D array is a batch.

    Examples:
        >>> batch, single = check_images(np.zeros((5, 7), np.uint8))
        >>> batch[0].shape, single
        ((5, 7, 3), True)
    """
    single = isinstance(images, (str, bytes, os.PathLike)) or (isinstance(images, np.ndarray) and images.ndim <= 3)
    if isinstance(images, tf.Tensor):
        images = images.numpy()  # a 0-d string tensor gives bytes
        single = isinstance(images, bytes) or (images.ndim <= 3 and images.dtype != object)
    if single:
        images = [images]
    elif isinstance(images, np.ndarray) and images.ndim == 4:
        images = list(images)
    elif not isinstance(images, (list, tuple)):
        raise TypeError(
            "`images` must be an image array, a file path, encoded image bytes or a list of them. "
            f"Received: images of type {type(images).__name__}"
        )
    out = []
    for i, image in enumerate(images):
        if isinstance(image, (str, os.PathLike)):
            if not os.path.isfile(image):
                raise FileNotFoundError(f"`images[{i}]` is not a file. Received: {os.fspath(image)!r}")
            with open(image, "rb") as f:
                image = f.read()
        if isinstance(image, bytes):
            image = _decode(image, i)
        if not isinstance(image, np.ndarray):
            image = np.asarray(image) if isinstance(image, (list, tf.Tensor)) else image
        if not isinstance(image, np.ndarray) or image.dtype == object:
            raise TypeError(
                f"`images[{i}]` must be an image array, a file path or encoded image bytes. "
                f"Received: {type(image).__name__}"
            )
        out.append(_as_rgb(image, i))
    return out, single


def to_model_pixels(images, size):
    """uint8 or float `(B, h, w, C)` pixels, `C` in (1, 3, 4) -> float32 `(B, H, W, 3)` in [0, 255].

    Values are read on the 0-255 scale, as decoded images in a `tf.data` pipeline are
    (`check_images` scales floats in [0, 1] first). Input already at the model's size passes
    through unchanged, so the TFLite loop (static shapes) holds no resize op.
    """
    images = tf.convert_to_tensor(images)
    pixels = tf.cast(images, tf.float32)
    if images.shape[-1] == 1:
        pixels = tf.repeat(pixels, 3, axis=-1)
    elif images.shape[-1] in (3, 4):
        pixels = pixels[..., :3]
    else:  # channels unknown when traced: decided at run time
        pixels = tf.cond(
            tf.equal(tf.shape(pixels)[-1], 1),
            lambda: tf.repeat(pixels[..., :1], 3, axis=-1),
            lambda: pixels[..., :3],
        )
        pixels = tf.ensure_shape(pixels, [None, None, None, 3])
    height, width = size
    if images.shape[1] == height and images.shape[2] == width:
        return pixels  # already the model's size (what `caption()` and the TFLite runner pass)

    def resize():
        resized = tf.image.resize(pixels, (height, width), method="bilinear", antialias=True)
        return tf.clip_by_value(resized, 0.0, 255.0)

    if images.shape[1] is not None and images.shape[2] is not None:
        return resize()
    same = tf.logical_and(tf.equal(tf.shape(pixels)[1], height), tf.equal(tf.shape(pixels)[2], width))
    return tf.ensure_shape(tf.cond(same, lambda: pixels, resize), [None, height, width, 3])


def decode_images(data, size):
    """Encoded JPEG/PNG/GIF/BMP bytes `(B,)` -> uint8 `(B, H, W, 3)` at the model's size, in graph."""

    def one(item):
        image = tf.io.decode_image(item, channels=3, expand_animations=False)
        image = tf.image.resize(tf.cast(image[None], tf.float32), size, method="bilinear", antialias=True)[0]
        return tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)

    return tf.map_fn(one, data, fn_output_signature=tf.TensorSpec([size[0], size[1], 3], tf.uint8))


def resize_to_model(images, size):
    """`check_images` output -> one uint8 batch `(N, H, W, 3)` at the model's size."""
    if not images:
        return np.zeros((0, size[0], size[1], 3), np.uint8)
    return np.stack(
        [np.round(to_model_pixels(image[None], size)[0].numpy()).astype(np.uint8) for image in images]
    )
