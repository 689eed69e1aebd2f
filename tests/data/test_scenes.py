"""The generated scenes corpus: deterministic, compositional splits, and pixels and captions true of the objects."""

import itertools
import re

import numpy as np
import pytest

from kzoo.data import SCENE_COLOURS, SCENE_NOVEL_PAIRS, SCENE_SHAPES, describe_scene, load_scenes, scenes_vocabulary

SIZE_WORDS = {"small": "small", "little": "small", "large": "large", "big": "large"}
NOUN_PHRASE = re.compile(rf"\b(a|the) ({'|'.join(SIZE_WORDS)}) ({'|'.join(SCENE_COLOURS)}) ({'|'.join(SCENE_SHAPES)})\b")
COUNT_WORDS = {"one": 1, "two": 2, "three": 3}


@pytest.fixture(scope="module")
def splits():
    return {split: load_scenes(split, num_images=n) for split, n in (("train", 300), ("test_seen", 100), ("test_novel", 100))}


def _pairs(scenes):
    return {(o["colour"], o["shape"]) for objects in scenes["objects"] for o in objects}


def _drawn_shape(mask):
    """The shape a box's mask shows, read off by hand: corners, bottom row and fill."""
    if mask.all():
        return "square"
    if mask[-1].all() and not mask[0, 0] and not mask[0, -1]:
        return "triangle"
    return "circle" if mask.mean() > 0.7 else "cross"  # a disc fills ~0.79 of its box, a cross <= 0.64


def test_pure_function_of_the_seed_and_prefix_stable():
    first, again = load_scenes("train", num_images=40, seed=3), load_scenes("train", num_images=40, seed=3)
    np.testing.assert_array_equal(first["images"], again["images"])
    assert first["captions"] == again["captions"] and first["objects"] == again["objects"]
    other = load_scenes("train", num_images=40, seed=4)
    assert not np.array_equal(first["images"], other["images"]) and first["captions"] != other["captions"]
    shorter = load_scenes("train", num_images=15, seed=3)
    np.testing.assert_array_equal(shorter["images"], first["images"][:15])
    assert shorter["captions"] == first["captions"][:15] and shorter["objects"] == first["objects"][:15]
    seen = load_scenes("test_seen", num_images=40, seed=3)
    assert not any((image == seen["images"]).all(axis=(1, 2, 3)).any() for image in first["images"])
    assert len(load_scenes("test_novel")["images"]) == len(load_scenes("test_seen")["captions"]) == 500


def test_novel_pairs_never_in_training_and_seen_pairs_all_in_training(splits):
    assert {colour for colour, _ in SCENE_NOVEL_PAIRS} == set(SCENE_COLOURS)  # one shape held out per colour
    assert {shape for _, shape in SCENE_NOVEL_PAIRS} == set(SCENE_SHAPES)  # every shape held out at least once
    every_pair = set(itertools.product(SCENE_COLOURS, SCENE_SHAPES))
    train = _pairs(splits["train"])
    assert train == every_pair - set(SCENE_NOVEL_PAIRS)
    assert _pairs(splits["test_seen"]) == train
    assert _pairs(splits["test_novel"]) == set(SCENE_NOVEL_PAIRS)
    assert not _pairs(load_scenes("train", num_images=500, seed=7)) & set(SCENE_NOVEL_PAIRS)


@pytest.mark.parametrize("image_size", [32, 64, 96])
def test_pixels_boxes_and_sizes_match_the_objects(image_size):
    scenes = load_scenes("test_seen", num_images=60, image_size=image_size, seed=1)
    images, all_objects = scenes["images"], scenes["objects"]
    assert images.dtype == np.uint8 and images.shape == (60, image_size, image_size, 3)
    assert {len(objects) for objects in all_objects} == {1, 2, 3}
    sides = {"small": [], "large": []}
    for image, objects in zip(images, all_objects):
        outside = np.ones((image_size, image_size), bool)
        for o in objects:
            x0, y0, x1, y1 = o["box"]
            assert 0 <= x0 < x1 <= image_size and 0 <= y0 < y1 <= image_size and x1 - x0 == y1 - y0
            colour = SCENE_COLOURS[o["colour"]]
            np.testing.assert_array_equal(image[(y0 + y1) // 2, (x0 + x1) // 2], colour)
            mask = (image[y0:y1, x0:x1] == colour).all(axis=-1)
            rows, columns = np.nonzero(mask)
            assert (rows.min(), rows.max(), columns.min(), columns.max()) == (0, y1 - y0 - 1, 0, x1 - x0 - 1)
            assert _drawn_shape(mask) == o["shape"]
            sides[o["size"]].append(x1 - x0)
            outside[y0:y1, x0:x1] = False
        assert image[outside].min() > 150  # a light background, no shape colour outside the boxes
        for a, b in itertools.combinations(objects, 2):
            (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = a["box"], b["box"]
            assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0  # disjoint boxes
            assert (a["colour"], a["shape"]) != (b["colour"], b["shape"])
    assert max(sides["small"]) < min(sides["large"])


def _check_relation(subject, phrase, other):
    (sx0, sy0, sx1, sy1), (ox0, oy0, ox1, oy1) = subject["box"], other["box"]
    centre_x, centre_y = (sx0 + sx1) / 2 - (ox0 + ox1) / 2, (sy0 + sy1) / 2 - (oy0 + oy1) / 2
    if phrase == "to the left of":
        assert sx1 <= ox0 and centre_x < 0
    elif phrase == "to the right of":
        assert ox1 <= sx0 and centre_x > 0
    elif phrase == "above":
        assert sy1 <= oy0 and centre_y < 0
    else:
        assert phrase == "below" and oy1 <= sy0 and centre_y > 0


def _assert_true(caption, objects, vocabulary, relations_seen):
    """`caption` is grammatical and true of `objects`; the relation phrases it uses go to `relations_seen`."""
    by_phrase = {(o["size"], o["colour"], o["shape"]): o for o in objects}
    assert caption == caption.lower() and caption.endswith(" .") and caption == " ".join(caption.split())
    assert set(caption.split()) <= vocabulary
    mentions = list(NOUN_PHRASE.finditer(caption))
    mentioned = [by_phrase[(SIZE_WORDS[m[2]], m[3], m[4])] for m in mentions]  # KeyError: a false object
    assert len({id(o) for o in mentioned}) == len(objects)  # every object described
    count = re.search(r"there (?:is|are) (\w+) shapes? :", caption)
    assert count is None or COUNT_WORDS[count[1]] == len(objects)
    for left, right, subject, other in zip(mentions, mentions[1:], mentioned, mentioned[1:]):
        between = caption[left.end():right.start()].strip().removeprefix("is ")
        if between in (",", "and", ", and"):
            continue
        _check_relation(subject, between, other)
        relations_seen.add(between)


@pytest.mark.parametrize("split", ["train", "test_novel"])
def test_every_caption_is_true_of_its_image(splits, split):
    vocabulary = set(scenes_vocabulary())
    relations_seen = set()
    for captions, objects in zip(splits[split]["captions"], splits[split]["objects"]):
        assert len(captions) == 5 and len(set(captions)) == 5
        for caption in captions:
            _assert_true(caption, objects, vocabulary, relations_seen)
    assert relations_seen == {"to the left of", "to the right of", "above", "below"}


def test_describe_scene_gives_fresh_true_captions(splits):
    vocabulary = set(scenes_vocabulary())
    relations_seen, fresh = set(), 0
    for captions, objects in zip(splits["test_novel"]["captions"], splits["test_novel"]["objects"]):
        most = 5 if len(objects) == 1 else 6
        described = describe_scene(objects, count=most, seed=7)
        assert len(described) == most and len({c.split(" ")[0] for c in described}) >= 2  # frames differ
        assert described == describe_scene(objects, count=most, seed=7)  # same seed, same captions
        for caption in described:
            _assert_true(caption, objects, vocabulary, relations_seen)
        fresh += len(set(described) - set(captions))
    assert relations_seen == {"to the left of", "to the right of", "above", "below"}
    assert fresh > 100  # not the corpus's own five again
    objects = splits["train"]["objects"][0]
    assert describe_scene(objects, count=2, seed=1) != describe_scene(objects, count=2, seed=2) or len(objects) == 1
    with pytest.raises(ValueError, match=r"`count` must be an int in \[1, 5\] for 1 object\(s\). Received: count=6"):
        describe_scene([objects[0]], count=6)
    with pytest.raises(ValueError, match=r"`objects` must be a list of 1 to 3 object dicts"):
        describe_scene([])


def test_vocabulary_is_exactly_what_the_grammar_produces(splits):
    words = {w for captions in splits["train"]["captions"] for caption in captions for w in caption.split()}
    assert words == set(scenes_vocabulary())
    assert scenes_vocabulary() == sorted(scenes_vocabulary())
    assert {"big", "large", "small", "little", "left", "right", "above", "below", ":", ","} <= words


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"`split` must be 'train', 'test_seen' or 'test_novel'. Received: split='test'"):
        load_scenes("test")
    with pytest.raises(ValueError, match=r"`image_size` must be an int >= 32 \(.*\). Received: image_size=16"):
        load_scenes(image_size=16)
    with pytest.raises(ValueError, match=r"`image_size` must be an int >= 32 \(.*\). Received: image_size=64.0"):
        load_scenes(image_size=64.0)
    with pytest.raises(ValueError, match=r"`num_images` must be a positive int or None .* Received: num_images=0"):
        load_scenes(num_images=0)
