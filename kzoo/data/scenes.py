"""A generated image-captioning corpus: coloured shapes on a light background, with true captions.

Each square image (`image_size` pixels a side, 64 by default) shows 1 to 3 objects. An object is a
shape (circle, square, triangle, cross) in one of five clearly separable colours, small or large,
drawn with NumPy in its square box. Objects never overlap: any two boxes are apart by a gap along
at least one axis, so "to the left of", "to the right of", "above" or "below" between them is
well defined. The background is light grey with a little per-pixel noise; shapes are flat, so
every shape pixel has exactly the RGB value of its colour (`SCENE_COLOURS`).

Every image comes with five captions from a small grammar: lower-case words and the tokens ","
and ":", separated by single spaces, always ending with " .". The five are paraphrases (five
different sentence frames, a fresh object order, "large"/"big" and "small"/"little", a relation
stated either way round), each names every object with its size, colour and shape, and each is
true of the image (two of the five for the first "test_novel" image):

    "a big yellow cross to the left of a large blue triangle ."
    "there are two shapes : a large yellow cross and a big blue triangle ."

The compositional split follows ShapeWorld (Kuhnle & Copestake 2017, "ShapeWorld - A new test
methodology for multimodal language understanding", arXiv:1704.04517): one shape per colour
(`SCENE_NOVEL_PAIRS`) is held out. "train" and "test_seen" never draw those pairs; "test_novel"
draws only them, so every object there is a colour word and a shape word, each known from
training, in a combination never seen in training.

The corpus is a pure function of `(split, image_size, seed)`, and the first `n` images of a split
do not depend on `num_images`.

Examples:
    >>> scenes = load_scenes("test_novel", num_images=2)
    >>> scenes["images"].shape, scenes["images"].dtype
    ((2, 64, 64, 3), dtype('uint8'))
    >>> [len(captions) for captions in scenes["captions"]]
    [5, 5]
"""

import functools
import random

import numpy as np

__all__ = ["load_scenes", "describe_scene", "scenes_vocabulary", "SCENE_COLOURS", "SCENE_SHAPES", "SCENE_NOVEL_PAIRS"]

# === Lexicon ===
# Far apart from each other and from the grey background: every colour has a channel <= 60.
SCENE_COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (230, 200, 30),
    "purple": (140, 60, 180),
}
SCENE_SHAPES = ("circle", "square", "triangle", "cross")
# One shape per colour, every shape held out at least once, so training still shows each colour
# with three shapes and each shape with at least three colours.
SCENE_NOVEL_PAIRS = (("red", "circle"), ("green", "square"), ("blue", "triangle"), ("yellow", "cross"), ("purple", "circle"))
_SIZE_WORDS = {"small": ("small", "little"), "large": ("large", "big")}
_LEFT, _RIGHT, _ABOVE, _BELOW = "to the left of", "to the right of", "above", "below"
# Sentence frames per number of objects: {aK} is "a <size> <colour> <shape>" for the K-th object of
# a fresh random order, {tK} the same with "the", {rJK} a relation true of object J to object K.
_FRAMES = {
    1: (
        "{a0} .",
        "there is {a0} .",
        "a picture of {a0} .",
        "the image shows {a0} .",
        "there is one shape : {a0} .",
    ),
    2: (
        "{a0} {r01} {a1} .",
        "there is {a0} {r01} {a1} .",
        "{a0} is {r01} {a1} .",
        "the image shows {a0} {r01} {a1} .",
        "{a0} and {a1} .",
        "there are two shapes : {a0} and {a1} .",
    ),
    3: (
        "there are three shapes : {a0} , {a1} and {a2} .",
        "{a0} , {a1} and {a2} .",
        "the image shows {a0} , {a1} and {a2} .",
        "{a0} {r01} {a1} , and {a2} {r21} {t1} .",
        "there is {a0} {r01} {a1} , and {a2} is {r21} {t1} .",
        "{a0} is {r01} {a1} , and {t1} is {r12} {a2} .",
    ),
}
_CAPTIONS_PER_IMAGE = 5  # every frame list has at least five frames, so the five are distinct

# === Geometry ===
_SPLITS = {"train": 6000, "test_seen": 500, "test_novel": 500}  # default number of images
_MIN_IMAGE_SIZE = 32  # below it a small triangle or cross is 4 pixels wide and no longer reads as one
# Side of an object's square box as a fraction of the image side; the ranges are far apart so the
# size word can be read off the box.
_SIDES = {"small": (0.16, 0.20), "large": (0.30, 0.36)}
_BACKGROUND = (205, 235)  # grey level of the background, drawn per image
_NOISE = 6  # amplitude of the per-pixel, per-channel background noise, in grey levels
_PLACEMENT_TRIES = 100  # random positions tried for one object before the layout starts over


def _gap(image_size):
    """Least distance in pixels between two boxes along an axis that separates them."""
    return max(2, image_size // 16)


def _relations(box, other, gap):
    """The relation phrases true of `box` with respect to `other` (boxes as `(x0, y0, x1, y1)`)."""
    phrases = []
    if box[2] + gap <= other[0]:
        phrases.append(_LEFT)
    elif other[2] + gap <= box[0]:
        phrases.append(_RIGHT)
    if box[3] + gap <= other[1]:
        phrases.append(_ABOVE)
    elif other[3] + gap <= box[1]:
        phrases.append(_BELOW)
    return phrases


@functools.lru_cache(maxsize=None)
def _mask(shape, side):
    """Boolean `(side, side)` mask of `shape`, touching all four sides of its box."""
    offsets = np.arange(side) + 0.5 - side / 2  # pixel centres relative to the box centre
    x, y = offsets[None, :], offsets[:, None]
    if shape == "square":
        mask = np.ones((side, side), bool)
    elif shape == "circle":
        mask = x**2 + y**2 <= (side / 2) ** 2
    elif shape == "triangle":  # apex up: row r from the top is r + 1 pixels wide
        mask = np.abs(x) <= (np.arange(side)[:, None] + 1) / 2
    else:  # cross: arms about a third of the side wide, of the side's parity so they are centred
        arm = side // 3 + (side - side // 3) % 2
        mask = (np.abs(x) <= (arm - 1) / 2) | (np.abs(y) <= (arm - 1) / 2)
    mask.setflags(write=False)
    return mask


def _layout(rng, pairs, image_size, gap):
    """1 to 3 objects of distinct colour-shape `pairs`, placed without overlap."""
    chosen = rng.sample(pairs, rng.randint(1, 3))
    sizes = [rng.choice(("small", "large")) for _ in chosen]
    sides = [rng.randint(round(_SIDES[size][0] * image_size), round(_SIDES[size][1] * image_size)) for size in sizes]
    while True:
        boxes = []
        for side in sides:
            for _ in range(_PLACEMENT_TRIES):
                x0, y0 = rng.randint(1, image_size - 1 - side), rng.randint(1, image_size - 1 - side)
                box = (x0, y0, x0 + side, y0 + side)
                if all(_relations(box, placed, gap) for placed in boxes):
                    boxes.append(box)
                    break
            else:
                break
        if len(boxes) == len(sides):
            return [
                {"shape": shape, "colour": colour, "size": size, "box": box}
                for (colour, shape), size, box in zip(chosen, sizes, boxes)
            ]


def _captions(objects, rng, gap, count=_CAPTIONS_PER_IMAGE):
    """`count` distinct true captions of `objects`, each from its own frame."""
    captions = []
    for frame in rng.sample(_FRAMES[len(objects)], count):
        ordered = rng.sample(objects, len(objects))
        words = [f"{rng.choice(_SIZE_WORDS[o['size']])} {o['colour']} {o['shape']}" for o in ordered]
        fields = {f"a{k}": f"a {w}" for k, w in enumerate(words)} | {f"t{k}": f"the {w}" for k, w in enumerate(words)}
        for j, k in ((0, 1), (1, 2), (2, 1)):
            if f"{{r{j}{k}}}" in frame:
                fields[f"r{j}{k}"] = rng.choice(_relations(ordered[j]["box"], ordered[k]["box"], gap))
        captions.append(frame.format(**fields))
    return captions


def describe_scene(objects, image_size=64, count=5, seed=0):
    """`count` fresh true captions of a scene's `objects`, drawn from the corpus's grammar.

    The captions a sixth (seventh, ...) annotator could have written: the same frames, object
    orders, synonyms and relations `load_scenes` draws its five from, but from a generator of
    their own. Used to measure how far a perfect captioner can score against five random
    paraphrases (`benchmarks/captioner_quality.py --ceiling`).

    Args:
        objects: one image's list of object dicts, as in `load_scenes(...)["objects"][i]`.
        image_size: side of the image the boxes are in (decides the least gap for relations).
        count: number of captions, 1 to the number of frames for that many objects (5 or 6).
        seed: seed of the generator.

    Returns:
        A list of `count` distinct-frame caption strings.

    Examples:
        >>> objects = load_scenes("test_seen", num_images=1)["objects"][0]
        >>> len(describe_scene(objects, count=3, seed=1))
        3
    """
    if not isinstance(objects, (list, tuple)) or not 1 <= len(objects) <= 3:
        raise ValueError(f"`objects` must be a list of 1 to 3 object dicts from `load_scenes`. Received: {objects!r}")
    frames = len(_FRAMES[len(objects)])
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or not 1 <= count <= frames:
        raise ValueError(f"`count` must be an int in [1, {frames}] for {len(objects)} object(s). Received: count={count!r}")
    return _captions(objects, random.Random(f"kzoo.data.scenes/describe/{seed}"), _gap(int(image_size)), int(count))


def scenes_vocabulary():
    """Every word and punctuation token the caption grammar can produce, sorted.

    Returns:
        A sorted list of strings.

    Examples:
        >>> vocabulary = scenes_vocabulary()
        >>> "left" in vocabulary and "purple" in vocabulary and "." in vocabulary
        True
    """
    words = {"a", "the"} | set(SCENE_COLOURS) | set(SCENE_SHAPES)
    words |= {w for synonyms in _SIZE_WORDS.values() for w in synonyms}
    words |= {w for phrase in (_LEFT, _RIGHT, _ABOVE, _BELOW) for w in phrase.split()}
    words |= {w for frames in _FRAMES.values() for frame in frames for w in frame.split() if not w.startswith("{")}
    return sorted(words)


def load_scenes(split="train", num_images=None, image_size=64, seed=0):
    """Generated images of coloured shapes with five true captions each and the objects drawn.

    Args:
        split: "train", "test_seen" (new images of the colour-shape pairs of "train") or
            "test_novel" (only the held-out `SCENE_NOVEL_PAIRS`, never drawn in the other splits).
        num_images: number of images; `None` for the split's default (6000 for "train", 500
            for each test split).
        image_size: side of the square images in pixels, an int >= 32.
        seed: seed of the generator; each split draws from its own stream.

    Returns:
        A dict with
        `images`: uint8 array `(num_images, image_size, image_size, 3)`;
        `captions`: a list of `num_images` lists of 5 strings (words separated by single spaces,
        ending with " .");
        `objects`: a list of `num_images` lists of 1 to 3 dicts with `shape`, `colour`, `size`
        ("small" or "large") and `box`, `(x0, y0, x1, y1)` in pixels of the image: the object
        covers rows `y0 <= row < y1` and columns `x0 <= column < x1` and touches all four sides.

    Examples:
        >>> scenes = load_scenes("train", num_images=3, image_size=32)
        >>> scenes["images"].shape
        (3, 32, 32, 3)
        >>> sorted(scenes["objects"][0][0])
        ['box', 'colour', 'shape', 'size']
        >>> all(caption.endswith(" .") for captions in scenes["captions"] for caption in captions)
        True
    """
    if split not in _SPLITS:
        raise ValueError(f"`split` must be 'train', 'test_seen' or 'test_novel'. Received: split={split!r}")
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < _MIN_IMAGE_SIZE:
        raise ValueError(
            f"`image_size` must be an int >= {_MIN_IMAGE_SIZE} (the side of the square images in pixels). "
            f"Received: image_size={image_size!r}"
        )
    if num_images is not None and (isinstance(num_images, bool) or not isinstance(num_images, (int, np.integer)) or num_images < 1):
        raise ValueError(f"`num_images` must be a positive int or None (the split's default). Received: num_images={num_images!r}")
    image_size = int(image_size)
    novel = split == "test_novel"
    pairs = [(c, s) for c in SCENE_COLOURS for s in SCENE_SHAPES if ((c, s) in SCENE_NOVEL_PAIRS) == novel]
    rng = random.Random(f"kzoo.data.scenes/{split}/{seed}")
    noise = np.random.default_rng(rng.getrandbits(128))
    gap = _gap(image_size)
    images = np.empty((_SPLITS[split] if num_images is None else int(num_images), image_size, image_size, 3), np.uint8)
    captions, objects = [], []
    for image in images:  # (image_size, image_size, 3) views, filled in place
        scene = _layout(rng, pairs, image_size, gap)
        level = rng.randint(*_BACKGROUND)
        image[...] = noise.integers(level - _NOISE, level + _NOISE + 1, image.shape, dtype=np.uint8)
        for obj in scene:
            x0, y0, x1, y1 = obj["box"]
            image[y0:y1, x0:x1][_mask(obj["shape"], x1 - x0)] = SCENE_COLOURS[obj["colour"]]
        captions.append(_captions(scene, rng, gap))
        objects.append(scene)
    return {"images": images, "captions": captions, "objects": objects}
