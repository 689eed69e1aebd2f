"""Data: the embedded Zooish-English corpus, real-data loaders and `tf.data` pipelines."""

from kzoo.data.anki import load_anki
from kzoo.data.embedded import generate_pairs, load_embedded
from kzoo.data.pipeline import make_pairs_dataset, padding_fraction

__all__ = ["load_anki", "generate_pairs", "load_embedded", "make_pairs_dataset", "padding_fraction"]
