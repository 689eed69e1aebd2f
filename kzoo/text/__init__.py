"""Text preprocessing with tensorflow-text: normalisation, splitting, word and wordpiece vocabularies."""

from kzoo.text.character_language_model import CharacterLanguageModel
from kzoo.text.character_tokenizer import CharacterTokenizer
from kzoo.text.documents import DocumentTokenizer, check_documents
from kzoo.text.pretrained_vectors import Coverage, WordVectors, load_word_vectors
from kzoo.text.tokenizer import END, PAD, RESERVED_TOKENS, START, UNK, Tokenizer, check_texts
from kzoo.text.word_vectors import log_count_ratios, skipgram_vectors

__all__ = [
    "CharacterLanguageModel",
    "CharacterTokenizer",
    "DocumentTokenizer",
    "check_documents",
    "Tokenizer",
    "check_texts",
    "PAD",
    "UNK",
    "START",
    "END",
    "RESERVED_TOKENS",
    "log_count_ratios",
    "skipgram_vectors",
    "load_word_vectors",
    "WordVectors",
    "Coverage",
]
