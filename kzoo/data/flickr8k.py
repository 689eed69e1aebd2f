"""Flickr8k captions (Hodosh, Young, Hockenmaier 2013): 8,000 photos with five captions each.

`load_flickr8k(path, split)` reads a local folder in the layout of the public release:

- `Flickr8k.token.txt`: one caption per line, `IMAGE.jpg#N<TAB>caption` (N = 0..4);
- `Flickr_8k.trainImages.txt`, `Flickr_8k.devImages.txt`, `Flickr_8k.testImages.txt`: the
  standard 6,000 / 1,000 / 1,000 split, one image name per line;
- the photos in `Flicker8k_Dataset/` (the release's own spelling) or `Flickr8k_Dataset/`, or
  beside the text files.

With `path=None` it downloads the two archives of the public mirror (`FLICKR8K_URLS`, about
1 GB) into a cache folder, each written atomically and extracted once. The captions are for
research use under the terms of the original release (University of Illinois).
"""

import collections
import os
import urllib.request
import zipfile

from kzoo.export.atomic import atomic_path

__all__ = ["load_flickr8k", "FLICKR8K_URLS"]

FLICKR8K_URLS = (
    "https://github.com/jbrownlee/Datasets/releases/download/Flickr8k/Flickr8k_Dataset.zip",
    "https://github.com/jbrownlee/Datasets/releases/download/Flickr8k/Flickr8k_text.zip",
)
_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "kzoo", "flickr8k")
_SPLITS = {"train": "Flickr_8k.trainImages.txt", "dev": "Flickr_8k.devImages.txt", "test": "Flickr_8k.testImages.txt"}
_IMAGE_FOLDERS = ("Flicker8k_Dataset", "Flickr8k_Dataset", "")


def _download(cache_dir):
    """Downloads and extracts both archives into `cache_dir` (once); returns the folder."""
    done = os.path.join(cache_dir, ".extracted")
    if os.path.isfile(done):
        return cache_dir
    os.makedirs(cache_dir, exist_ok=True)
    for url in FLICKR8K_URLS:
        archive = os.path.join(cache_dir, url.rsplit("/", 1)[1])
        if not os.path.isfile(archive):
            try:
                with urllib.request.urlopen(url, timeout=120) as response, atomic_path(archive) as tmp:
                    with open(tmp, "wb") as f:
                        while chunk := response.read(1 << 20):
                            f.write(chunk)
            except OSError as error:
                raise OSError(
                    f"Could not download Flickr8k from {url} ({error}). Download the archives by hand and "
                    f"pass their extracted folder as `path`."
                ) from error
        with zipfile.ZipFile(archive) as z:
            z.extractall(cache_dir)
    with atomic_path(done) as tmp:
        open(tmp, "w").close()
    return cache_dir


def load_flickr8k(path=None, split="test", limit=None, cache_dir=None):
    """`(image_paths, captions)`: the images of a split and, per image, its five captions.

    Args:
        path: the folder of the release (see the module docstring), or None to download it.
        split: "train", "dev" or "test" (the release's standard split).
        limit: at most this many images (in the split file's order).
        cache_dir: where `path=None` downloads to (default `~/.cache/kzoo/flickr8k`).

    Examples:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> _ = open(os.path.join(folder, "Flickr8k.token.txt"), "w").write("a.jpg#0\\tA dog runs .\\na.jpg#1\\tA dog .\\n")
        >>> _ = open(os.path.join(folder, "Flickr_8k.testImages.txt"), "w").write("a.jpg\\n")
        >>> paths, captions = load_flickr8k(folder)
        >>> os.path.basename(paths[0]), captions[0]
        ('a.jpg', ['A dog runs .', 'A dog .'])
    """
    if split not in _SPLITS:
        raise ValueError(f"`split` must be one of {sorted(_SPLITS)}. Received: split={split!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"`limit` must be a positive int or None. Received: limit={limit!r}")
    folder = _download(cache_dir or _CACHE) if path is None else os.fspath(path)
    tokens = os.path.join(folder, "Flickr8k.token.txt")
    names_file = os.path.join(folder, _SPLITS[split])
    for needed in (tokens, names_file):
        if not os.path.isfile(needed):
            raise FileNotFoundError(
                f"`path` must be a Flickr8k folder holding {os.path.basename(needed)}. Received: path={folder!r}"
            )
    captions = collections.defaultdict(list)
    with open(tokens, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            key, sep, caption = line.rstrip("\n").partition("\t")
            if not sep or "#" not in key:
                raise ValueError(f"{tokens}:{number} is not `IMAGE#N<TAB>caption`. Received: {line.strip()[:80]!r}")
            captions[key.rsplit("#", 1)[0]].append(caption.strip())
    with open(names_file, encoding="utf-8") as f:
        names = [line.strip() for line in f if line.strip()]
    names = [n for n in names if n in captions][:limit]
    images = next(
        (os.path.join(folder, sub) for sub in _IMAGE_FOLDERS if sub and os.path.isdir(os.path.join(folder, sub))),
        folder,
    )
    return [os.path.join(images, n) for n in names], [captions[n] for n in names]
