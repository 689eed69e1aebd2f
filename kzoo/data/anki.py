"""Tatoeba sentence pairs from the Anki releases of manythings.org (`LANG-eng.zip`).

Each line of the release is `english<TAB>other[<TAB>attribution]`. The pairs are CC-BY 2.0 (FR),
Tatoeba (https://tatoeba.org); manythings.org/anki packages them.
"""

import io
import os
import urllib.request
import zipfile

from kzoo.export.atomic import atomic_path

__all__ = ["load_anki", "read_pairs", "ANKI_URL"]

ANKI_URL = "https://www.manythings.org/anki/{language}-eng.zip"
_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "kzoo", "anki")


def read_pairs(path):
    """(english, other) pairs from a tab-separated file; blank and malformed lines are skipped."""
    pairs = []
    with open(path, encoding="utf-8", newline="\n") as f:
        for line in f:
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) >= 2 and fields[0].strip() and fields[1].strip():
                pairs.append((fields[0].strip(), fields[1].strip()))
    return pairs


def _download(language, cache_dir):
    path = os.path.join(cache_dir, f"{language}-eng.txt")
    if os.path.isfile(path):
        return path
    url = ANKI_URL.format(language=language)
    # manythings.org refuses urllib's default user agent.
    request = urllib.request.Request(url, headers={"User-Agent": "Mozilla/5.0 (kzoo data loader)"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            archive = zipfile.ZipFile(io.BytesIO(response.read()))
    except OSError as error:
        raise OSError(
            f"Could not download the Anki '{language}' pairs from {url} ({error}). Download the "
            "zip by hand and pass `path=` to the extracted .txt/.tsv file."
        ) from error
    member = f"{language}.txt"
    if member not in archive.namelist():
        raise ValueError(f"{url} has no {member}; it holds {archive.namelist()}")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(archive.read(member))
    return path


def load_anki(language="spa", path=None, direction="to_english", cache_dir=None):
    """Tatoeba/Anki sentence pairs as `(sources, targets)` lists of strings.

    Args:
        language: the Anki code of the other language ("spa", "fra", "deu", ...).
        path: a local file (`english<TAB>other[<TAB>...]` per line) to read instead of
            downloading; e.g. `../shared/data/translation/spa-eng/train.tsv`.
        direction: "to_english" (sources in `language`, targets English) or "from_english".
        cache_dir: where the download is kept; default `~/.cache/kzoo/anki`.

    Returns:
        `(sources, targets)`, lists of equal length in file order.

    Example (needs the file or the network):

        sources, targets = load_anki("spa", path="../shared/data/translation/spa-eng/train.tsv")
    """
    if not isinstance(language, str) or not language.isalpha():
        raise ValueError(f"`language` must be an Anki language code like 'spa'. Received: language={language!r}")
    if direction not in ("to_english", "from_english"):
        raise ValueError(
            f"`direction` must be 'to_english' or 'from_english'. Received: direction={direction!r}"
        )
    if path is None:
        path = _download(language, cache_dir or _CACHE)
    elif not os.path.isfile(path):
        raise FileNotFoundError(f"No file at `path`. Received: path={path!r}")
    pairs = read_pairs(path)
    english = [p[0] for p in pairs]
    other = [p[1] for p in pairs]
    return (other, english) if direction == "to_english" else (english, other)
