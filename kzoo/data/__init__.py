"""Data: the embedded Zooish-English corpus, real-data loaders and `tf.data` pipelines."""

from kzoo.data.anki import load_anki
from kzoo.data.documents_corpus import DOCUMENT_CLASSES, generate_documents, load_documents_corpus
from kzoo.data.coco import load_coco_captions
from kzoo.data.flickr8k import load_flickr8k
from kzoo.data.embedded import generate_pairs, load_embedded
from kzoo.data.movie_reviews import MOVIE_REVIEW_CLASSES, load_labelled_sentences, load_movie_reviews
from kzoo.data.pipeline import make_pairs_dataset, padding_fraction, split_by_source
from kzoo.data.scenes import SCENE_COLOURS, SCENE_NOVEL_PAIRS, SCENE_SHAPES, describe_scene, load_scenes, scenes_vocabulary
from kzoo.data.speech import DIGIT_WORDS, connected_digits, load_fsdd, load_ljspeech
from kzoo.data.spoken_digits import load_spoken_digits

__all__ = ["load_coco_captions", "load_flickr8k", "DOCUMENT_CLASSES", "generate_documents", "load_documents_corpus", "MOVIE_REVIEW_CLASSES", "load_labelled_sentences", "load_movie_reviews", "load_anki", "generate_pairs", "load_embedded", "make_pairs_dataset", "padding_fraction", "split_by_source", "SCENE_COLOURS", "SCENE_NOVEL_PAIRS", "SCENE_SHAPES", "load_scenes", "describe_scene", "scenes_vocabulary", "DIGIT_WORDS", "load_fsdd", "connected_digits", "load_ljspeech", "load_spoken_digits"]
