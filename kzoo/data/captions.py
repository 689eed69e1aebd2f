"""Captions beside images: the checks and the `tf.data` pairing every captioning path shares."""

import numpy as np
import tensorflow as tf

from kzoo.text.tokenizer import check_texts

__all__ = ["check_captions", "make_captions_dataset"]


def check_captions(captions, name="captions"):
    """One list of caption strings per image (a string counts as a list of one).

    Examples:
        >>> check_captions(["a red circle", ["a cross", "a green cross"]])
        [['a red circle'], ['a cross', 'a green cross']]
    """
    if isinstance(captions, (str, bytes)) or not isinstance(captions, (list, tuple)):
        raise TypeError(
            f"`{name}` must be a list with, per image, a caption string or a list of them. "
            f"Received: {name} of type {type(captions).__name__}"
        )
    out = []
    for i, item in enumerate(captions):
        texts, _ = check_texts(item, f"{name}[{i}]")
        if not texts or not all(t.strip() for t in texts):
            raise ValueError(f"`{name}[{i}]` must hold at least one non-empty caption. Received: {item!r}")
        out.append(texts)
    return out


def make_captions_dataset(pixels, captions, batch_size=64, shuffle=True, seed=None):
    """Batches of `(image, caption)`: every caption of an image is one example.

    The images stay in one tensor and each example carries its image's index, so five captions
    of an image do not copy its pixels five times in the input pipeline.

    Args:
        pixels: uint8 images of one size `(N, H, W, 3)`.
        captions: per image, a caption string or a list of them (`check_captions`).
        batch_size: examples per batch.
        shuffle: shuffle the examples every epoch (with `seed`).
        seed: shuffle seed.
    """
    captions = check_captions(captions)
    if len(pixels) != len(captions):
        raise ValueError(
            "`images` and `captions` must have the same length (one list of captions per image). "
            f"Received: {len(pixels)} images and {len(captions)} caption lists"
        )
    index = np.array([i for i, texts in enumerate(captions) for _ in texts], np.int32)
    flat = [t for texts in captions for t in texts]
    table = tf.constant(pixels)
    ds = tf.data.Dataset.from_tensor_slices((index, flat))
    if shuffle:
        ds = ds.shuffle(len(flat), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).map(lambda i, t: (tf.gather(table, i), t)).prefetch(tf.data.AUTOTUNE)
