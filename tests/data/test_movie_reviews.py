"""Movie-review and labelled-sentence loaders: the shared copies, the download code, bad input."""

import collections
import io
import tarfile
import urllib.request
import zipfile

import pytest

from kzoo.data import load_labelled_sentences, load_movie_reviews
from kzoo.data import movie_reviews


def test_shared_movie_reviews_have_the_documented_folds(shared_data):
    path = shared_data / "docclass" / "movie_reviews"
    texts, labels, folds = load_movie_reviews(path, return_folds=True)
    assert len(texts) == 1800 and sum(labels) == 900
    assert collections.Counter(folds) == {k: 200 for k in range(9)}  # cv0xx-cv8xx, cv9xx withheld
    assert texts[0] == (path / "neg" / sorted(p.name for p in (path / "neg").iterdir())[0]).read_text()
    assert texts[0].count("\n") > 5  # one sentence per line
    some, some_labels = load_movie_reviews(path, folds=[0, 8])
    assert len(some) == 400 and collections.Counter(some_labels) == {0: 200, 1: 200}


def test_shared_labelled_sentences_split_on_newline_only(shared_data):
    folder = shared_data / "docclass" / "sentiment_labelled_sentences"
    texts, labels = load_labelled_sentences(folder)
    assert len(texts) == 3000 and sum(labels) == 1500
    assert sum("\u0085" in t for t in texts) == 2  # U+0085 stays inside its sentence
    imdb, imdb_labels = load_labelled_sentences(folder, source="imdb")
    assert len(imdb) == 1000
    assert imdb[0].startswith("A very, very, very slow-moving, aimless movie") and imdb_labels[0] == 0


def _tar_gz(files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class _Response(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False


def test_movie_review_download_extracts_the_release_layout(tmp_path, monkeypatch):
    release = _tar_gz({
        "txt_sentoken/pos/cv000_1.txt": "a fine film .\n",
        "txt_sentoken/neg/cv900_2.txt": "a dull film .\n",
        "txt_sentoken/neg/cv100_3.txt": "bad .\n",
        "poldata.README.2.0": "readme",
    })
    requested = []

    def urlopen(request, timeout):
        requested.append(request.full_url)
        return _Response(release)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    texts, labels, folds = load_movie_reviews(cache_dir=str(tmp_path), return_folds=True)
    assert requested == [movie_reviews.MOVIE_REVIEWS_URL]
    assert (texts, labels, folds) == (["bad .\n", "a dull film .\n", "a fine film .\n"], [0, 0, 1], [1, 9, 0])
    load_movie_reviews(cache_dir=str(tmp_path))  # cached: no second download
    assert len(requested) == 1


def test_labelled_sentences_download(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for source in ("imdb", "amazon_cells", "yelp"):
            archive.writestr(f"sentiment labelled sentences/{source}_labelled.txt", f"{source} good\t1\n{source} bad\t0\n")
        archive.writestr("__MACOSX/sentiment labelled sentences/._imdb_labelled.txt", "junk")
    monkeypatch.setattr(urllib.request, "urlopen", lambda request, timeout: _Response(buffer.getvalue()))
    texts, labels = load_labelled_sentences(cache_dir=str(tmp_path))
    assert texts == ["imdb good", "imdb bad", "amazon_cells good", "amazon_cells bad", "yelp good", "yelp bad"]
    assert labels == [1, 0, 1, 0, 1, 0]


def test_download_failure_says_what_to_do(tmp_path, monkeypatch):
    def fail(request, timeout):
        raise OSError("network unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", fail)
    with pytest.raises(OSError, match="Could not download the movie reviews from https://www.cs.cornell.edu.*pass `path=`"):
        load_movie_reviews(cache_dir=str(tmp_path))


def test_bad_paths_and_lines(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"`path` must be a folder with `pos/` and `neg/`.*Received: path="):
        load_movie_reviews(tmp_path)
    with pytest.raises(ValueError, match=r"`folds` must be fold numbers in 0-9. Received: folds=\[12\]"):
        (tmp_path / "pos").mkdir()
        (tmp_path / "neg").mkdir()
        load_movie_reviews(tmp_path, folds=[12])
    bad = tmp_path / "bad.txt"
    bad.write_text("fine\t1\nno label here\n")
    with pytest.raises(ValueError, match=r"`sentence<TAB>integer label`. Received: line 2 of .*'no label here'"):
        load_labelled_sentences(str(bad))
    with pytest.raises(ValueError, match="`source` must be one of"):
        load_labelled_sentences(str(tmp_path), source="twitter")
