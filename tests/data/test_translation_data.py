import os

import pytest

from kzoo.data import generate_pairs, load_anki, load_embedded, make_pairs_dataset, padding_fraction
from kzoo.data.anki import read_pairs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_SPA = os.path.join(ROOT, "..", "shared", "data", "translation", "spa-eng", "train.tsv")


def test_embedded_corpus_is_deterministic_varied_and_split_without_overlap():
    assert generate_pairs(50, seed=1) == generate_pairs(50, seed=1)
    assert generate_pairs(50, seed=1) != generate_pairs(50, seed=2)
    train = load_embedded("train", size=4000)
    test = load_embedded("test", size=4000)
    assert not set(train[0]) & set(test[0])
    assert len(test[0]) > 50
    lengths = [len(t.split()) for t in train[1]]
    assert min(lengths) == 3 and max(lengths) > 30


def test_embedded_grammar_needs_agreement_and_reordering():
    pairs = dict(zip(*load_embedded("all", size=20000)))
    # pro-drop: the subject is only in the verb ending at the end of the clause
    assert pairs["dormas ."] == "you sleep ."
    assert pairs["dormamos ."] == "we sleep ."
    # verb-final order with an accusative object, adjectives after the noun
    found = [(s, t) for s, t in pairs.items() if s.startswith("lo hundo ") and s.endswith(" vidi .") and "," not in s]
    assert found, "expected a 'the dog ... saw ...' sentence"
    for source, target in found:
        assert target.startswith("the dog") and ("saw" in target.split() or "did not see" in target)


def test_bucketing_reduces_padding():
    sources, targets = load_embedded("train", size=3000)
    plain = make_pairs_dataset(sources, targets, batch_size=32, bucket_boundaries=None, seed=0)
    bucketed = make_pairs_dataset(sources, targets, batch_size=32, seed=0)
    assert padding_fraction(bucketed) < 0.5 * padding_fraction(plain)
    seen = sorted(s.decode() for batch, _ in bucketed for s in batch.numpy())
    assert seen == sorted(sources)  # nothing lost or duplicated


def test_pairs_dataset_errors():
    with pytest.raises(ValueError, match="same length"):
        make_pairs_dataset(["a"], ["b", "c"])
    with pytest.raises(TypeError, match="`targets` must be a string or a list of strings. Received: targets of type int"):
        make_pairs_dataset(["a"], 3)


def test_read_pairs_handles_attribution_columns_and_blank_lines(tmp_path):
    path = tmp_path / "spa.txt"
    path.write_text("Go.\tVe.\tCC-BY 2.0 (France) Attribution: tatoeba.org\n\nHi.\tHola.\nbroken line\n", encoding="utf-8")
    assert read_pairs(path) == [("Go.", "Ve."), ("Hi.", "Hola.")]
    assert load_anki("spa", path=str(path)) == (["Ve.", "Hola."], ["Go.", "Hi."])
    assert load_anki("spa", path=str(path), direction="from_english")[0] == ["Go.", "Hi."]
    with pytest.raises(ValueError, match="direction"):
        load_anki("spa", path=str(path), direction="both")
    with pytest.raises(FileNotFoundError, match="path"):
        load_anki("spa", path=str(tmp_path / "none.txt"))


@pytest.mark.skipif(not os.path.isfile(SHARED_SPA), reason="shared Spanish-English pairs (../shared/data) not present")
def test_shared_spanish_english_pairs():
    sources, targets = load_anki("spa", path=SHARED_SPA)
    assert len(sources) == len(targets) == 115964
    assert (sources[0], targets[0]) == ("Ve.", "Go.")
