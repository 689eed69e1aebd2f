"""Sentiment data sets: movie reviews (Pang & Lee 2004) and `sentence<TAB>label` files (Kotzias et al. 2015).

Movie reviews: sentiment polarity data set v2.0, 1,000 positive and 1,000 negative reviews from
rec.arts.movies.reviews, lower-cased and tokenized, one sentence per line, in ten folds
`cv0xx` ... `cv9xx` (the file name's first digit after "cv"). Cite: Pang & Lee (2004), "A
Sentimental Education: Sentiment Analysis Using Subjectivity Summarization Based on Minimum Cuts",
ACL. Public location: https://www.cs.cornell.edu/people/pabo/movie-review-data/.

Labelled sentences: 3 × 1,000 sentences from imdb.com, amazon.com and yelp.com, one
`sentence<TAB>0|1` per line. Cite: Kotzias, Denil, de Freitas, Smyth (2015), "From Group to
Individual Labels using Deep Features", KDD. Public location: the UCI Machine Learning Repository.
"""

import io
import os
import re
import tarfile
import urllib.request
import zipfile

from kzoo.export.atomic import atomic_path

__all__ = [
    "load_movie_reviews",
    "load_labelled_sentences",
    "read_labelled_sentences",
    "MOVIE_REVIEWS_URL",
    "LABELLED_SENTENCES_URL",
    "MOVIE_REVIEW_CLASSES",
]

MOVIE_REVIEWS_URL = "https://www.cs.cornell.edu/people/pabo/movie-review-data/review_polarity.tar.gz"
LABELLED_SENTENCES_URL = "https://archive.ics.uci.edu/static/public/331/sentiment+labelled+sentences.zip"
MOVIE_REVIEW_CLASSES = ("neg", "pos")  # label 0, label 1
_SOURCES = ("imdb", "amazon", "yelp")
_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "kzoo")
_FOLD = re.compile(r"^cv(\d)\d\d_")


def _fetch(url, what):
    request = urllib.request.Request(url, headers={"User-Agent": "Mozilla/5.0 (kzoo data loader)"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.read()
    except OSError as error:
        raise OSError(
            f"Could not download {what} from {url} ({error}). Download it by hand, extract it and "
            "pass `path=` to the extracted folder."
        ) from error


def _download_movie_reviews(cache_dir):
    folder = os.path.join(cache_dir, "review_polarity")
    if os.path.isdir(os.path.join(folder, "pos")):
        return folder
    archive = tarfile.open(fileobj=io.BytesIO(_fetch(MOVIE_REVIEWS_URL, "the movie reviews")), mode="r:gz")
    with atomic_path(folder) as tmp:
        for member in archive.getmembers():
            parts = member.name.split("/")  # txt_sentoken/pos/cv000_29590.txt
            if member.isfile() and len(parts) >= 3 and parts[-2] in MOVIE_REVIEW_CLASSES and parts[-1].endswith(".txt"):
                os.makedirs(os.path.join(tmp, parts[-2]), exist_ok=True)
                with open(os.path.join(tmp, parts[-2], parts[-1]), "wb") as f:
                    f.write(archive.extractfile(member).read())
    return folder


def load_movie_reviews(path=None, folds=None, return_folds=False, cache_dir=None):
    """The movie-review polarity corpus as `(texts, labels)` (label 1 = positive, 0 = negative).

    Args:
        path: a folder laid out as `pos/*.txt` and `neg/*.txt` (e.g.
            `../shared/data/docclass/movie_reviews`); None downloads the v2.0 release from its
            public location into `cache_dir` once.
        folds: None for all reviews, or an iterable of fold numbers 0-9 to keep (fold `k` is
            the files `cv{k}xx_*.txt`).
        return_folds: if True, also return the fold number of each review.
        cache_dir: where the download is kept; default `~/.cache/kzoo`.

    Returns:
        `(texts, labels)` or `(texts, labels, folds)`: lists in a fixed order (negative then
        positive, by file name). Each text keeps the corpus's one-sentence-per-line layout.

    Example (needs the folder or the network):

        texts, labels, folds = load_movie_reviews("../shared/data/docclass/movie_reviews", return_folds=True)
    """
    if path is None:
        path = _download_movie_reviews(cache_dir or _CACHE)
    path = os.fspath(path)
    missing = [c for c in MOVIE_REVIEW_CLASSES if not os.path.isdir(os.path.join(path, c))]
    if missing:
        raise FileNotFoundError(
            f"`path` must be a folder with `pos/` and `neg/` subfolders of .txt reviews; {missing} "
            f"missing. Received: path={path!r}"
        )
    if folds is not None:
        folds = {int(k) for k in folds}
        if not folds <= set(range(10)):
            raise ValueError(f"`folds` must be fold numbers in 0-9. Received: folds={sorted(folds)}")
    texts, labels, fold_of = [], [], []
    for label, name in enumerate(MOVIE_REVIEW_CLASSES):
        folder = os.path.join(path, name)
        for file in sorted(os.listdir(folder)):
            match = _FOLD.match(file)
            if not file.endswith(".txt") or match is None:
                continue
            fold = int(match.group(1))
            if folds is not None and fold not in folds:
                continue
            with open(os.path.join(folder, file), encoding="utf-8", errors="replace") as f:
                texts.append(f.read())
            labels.append(label)
            fold_of.append(fold)
    if not texts:
        raise ValueError(f"No reviews found under `path` for folds={folds}. Received: path={path!r}")
    return (texts, labels, fold_of) if return_folds else (texts, labels)


def read_labelled_sentences(path):
    """`(texts, labels)` from a `sentence<TAB>label` file; blank lines are skipped.

    Lines are split on `\\n` only: sentences may contain other line breaks such as U+0085.
    A line without a tab or with a label that is not an integer is an error naming the line.
    """
    with open(path, "rb") as f:
        raw = f.read().decode("utf-8", errors="replace")
    texts, labels = [], []
    for number, line in enumerate(raw.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        text, tab, label = line.rpartition("\t")
        if not tab or not label.strip().lstrip("-").isdigit():
            raise ValueError(
                f"Each line must be `sentence<TAB>integer label`. Received: line {number} of {path!r}: {line[:80]!r}"
            )
        texts.append(text.strip())
        labels.append(int(label))
    return texts, labels


def _download_labelled_sentences(cache_dir):
    folder = os.path.join(cache_dir, "sentiment_labelled_sentences")
    if os.path.isdir(folder):
        return folder
    outer = zipfile.ZipFile(io.BytesIO(_fetch(LABELLED_SENTENCES_URL, "the labelled sentences")))
    with atomic_path(folder) as tmp:
        os.makedirs(tmp)
        for name in outer.namelist():
            base = os.path.basename(name)
            if base.endswith("_labelled.txt") and "__MACOSX" not in name:
                with open(os.path.join(tmp, base), "wb") as f:
                    f.write(outer.read(name))
    return folder


def load_labelled_sentences(path=None, source="all", cache_dir=None):
    """Labelled sentences (`sentence<TAB>label` per line) as `(texts, labels)`.

    Args:
        path: a `sentence<TAB>label` file, or a folder holding `imdb_labelled.txt`,
            `amazon_labelled.txt` / `amazon_cells_labelled.txt` and `yelp_labelled.txt` (e.g.
            `../shared/data/docclass/sentiment_labelled_sentences`); None downloads the UCI
            release (Kotzias et al. 2015) into `cache_dir` once.
        source: for a folder: "imdb", "amazon", "yelp" or "all".
        cache_dir: where the download is kept; default `~/.cache/kzoo`.

    Returns:
        `(texts, labels)`, lists in file order.
    """
    if path is not None and os.path.isfile(path):
        return read_labelled_sentences(path)
    if source not in _SOURCES + ("all",):
        raise ValueError(f"`source` must be one of {_SOURCES + ('all',)}. Received: source={source!r}")
    if path is None:
        path = _download_labelled_sentences(cache_dir or _CACHE)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"No file or folder at `path`. Received: path={path!r}")
    texts, labels = [], []
    for name in _SOURCES if source == "all" else (source,):
        candidates = [f for f in sorted(os.listdir(path)) if f.startswith(name) and f.endswith("_labelled.txt")]
        if not candidates:
            raise FileNotFoundError(f"No {name}*_labelled.txt in `path`. Received: path={path!r}")
        more_texts, more_labels = read_labelled_sentences(os.path.join(path, candidates[0]))
        texts += more_texts
        labels += more_labels
    return texts, labels
