"""MS-COCO captions (Lin et al. 2014; Chen et al. 2015): image paths with their human captions.

`load_coco_captions(path)` reads a local folder, either

- a small layout `captions.tsv` (`image<TAB>caption`, image paths relative to the folder), as the
  project's `coco_mini` sample, or
- the official layout: `annotations/captions_<split>.json` and the images in `<split>/`;

or, with `path=None`, downloads the official caption annotations of COCO 2017 from
cocodataset.org into a cache folder (written atomically) and each image it returns from its
`coco_url` (a `limit` keeps that to a few images). Captions are CC BY 4.0 (COCO); images carry
their Flickr owners' licenses.
"""

import collections
import csv
import io
import json
import os
import urllib.request
import zipfile

from kzoo.export.atomic import atomic_path

__all__ = ["load_coco_captions", "COCO_ANNOTATIONS_URL"]

COCO_ANNOTATIONS_URL = "http://images.cocodataset.org/annotations/annotations_trainval2017.zip"
_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "kzoo", "coco")


def _fetch(url, path):
    if not os.path.isfile(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with urllib.request.urlopen(url, timeout=120) as response, atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                f.write(response.read())
    return path


def _from_tsv(folder):
    groups = collections.OrderedDict()
    with open(os.path.join(folder, "captions.tsv"), encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            groups.setdefault(os.path.join(folder, row["image"]), []).append(row["caption"].strip())
    return groups


def _from_annotations(annotations, image_folder):
    images = {i["id"]: i for i in annotations["images"]}
    groups = collections.OrderedDict()
    for note in sorted(annotations["annotations"], key=lambda a: (a["image_id"], a["id"])):
        image = images[note["image_id"]]
        groups.setdefault((image["file_name"], image.get("coco_url")), []).append(note["caption"].strip())
    out = collections.OrderedDict()
    for (name, url), captions in groups.items():
        out[os.path.join(image_folder, name)] = captions
    return out, {os.path.join(image_folder, name): url for (name, url) in groups}


def load_coco_captions(path=None, split="val2017", limit=None):
    """`(image_paths, captions)`: a list of image files and, per image, its list of captions.

    Args:
        path: a local folder (see the module docstring), or None to download (COCO 2017).
        split: "train2017" or "val2017" (official layout and downloads).
        limit: at most this many images (the first by image id).

    Examples:
        >>> import os
        >>> folder = os.path.join("..", "shared", "data", "captioning", "coco_mini")
        >>> paths, captions = load_coco_captions(folder) if os.path.isdir(folder) else (["x.jpg"], [["a"] * 5])
        >>> len(paths) == len(captions), all(len(c) >= 1 for c in captions)
        (True, True)
    """
    if split not in ("train2017", "val2017"):
        raise ValueError(f"`split` must be 'train2017' or 'val2017'. Received: split={split!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"`limit` must be a positive int or None. Received: limit={limit!r}")
    urls = {}
    if path is not None:
        if not os.path.isdir(path):
            raise FileNotFoundError(f"`path` must be a folder with captions.tsv or annotations/. Received: path={path!r}")
        if os.path.isfile(os.path.join(path, "captions.tsv")):
            groups = _from_tsv(path)
        else:
            notes = os.path.join(path, "annotations", f"captions_{split}.json")
            if not os.path.isfile(notes):
                raise FileNotFoundError(
                    f"`path` has neither captions.tsv nor annotations/captions_{split}.json. Received: path={path!r}"
                )
            with open(notes, encoding="utf-8") as f:
                groups, urls = _from_annotations(json.load(f), os.path.join(path, split))
    else:
        archive = _fetch(COCO_ANNOTATIONS_URL, os.path.join(_CACHE, "annotations_trainval2017.zip"))
        with zipfile.ZipFile(archive) as z:
            annotations = json.load(io.TextIOWrapper(z.open(f"annotations/captions_{split}.json"), encoding="utf-8"))
        groups, urls = _from_annotations(annotations, os.path.join(_CACHE, split))
    items = list(groups.items())[:limit]
    if path is None:
        for image_path, _ in items:
            _fetch(urls[image_path], image_path)
    return [p for p, _ in items], [c for _, c in items]
