"""DocumentClassifier: a Hierarchical Attention Network and its host-model comparisons.

Raw strings go in, class probabilities come out: tensorflow-text preprocessing
(`kzoo.text.DocumentTokenizer`: sentences, words, ids `(B, S, W)`) -> word embedding -> encoder
-> pooling -> softmax. The encoder and pooling are chosen by `architecture`:

| architecture        | encoder                                   | pooling                          |
|---------------------|-------------------------------------------|----------------------------------|
| "han"               | word BiGRU, word attention, sentence BiGRU, sentence attention (`kzoo.layers.HierarchicalAttention`) | (inside) |
| "bigru_last"        | BiGRU over the document's words           | last state (both directions)     |
| "bigru_mean"        | BiGRU                                     | mean of all states               |
| "bigru_attention"   | BiGRU                                     | attention pooling                |
| "cnn_max"           | convolutions of widths 3, 4, 5 (Kim 2014) | max over time                    |
| "cnn_attention"     | the same convolutions                     | attention pooling                |

The flat architectures read the words of all sentences as one sequence (padding removed), so
the only differences between them are the encoder and the pooling: one code path.

Small corpora (a few thousand documents) get these helps, all options of the same code path: the
embedding can start from pretrained vectors (`adapt(..., embeddings="glove-6b-50d")`, a vectors
file or a matrix: `kzoo.text.load_word_vectors`) or from skip-gram vectors trained on the training
documents (`adapt(..., embeddings="skipgram")`, `kzoo.text.skipgram_vectors`); each word
vector can carry its naive-Bayes log-count ratios (`label_features=True`,
`kzoo.text.log_count_ratios`); whole words can be dropped in training (`word_dropout`). Long
documents can keep their last sentences rather than their first (`truncate="tail"`). Training can
also be made adversarial on the word vectors (`adversarial_epsilon`).

References:
    Yang, Yang, Dyer, He, Smola, Hovy (2016), "Hierarchical Attention Networks for Document
    Classification", NAACL.
    Raffel & Ellis (2015), "Feed-Forward Networks with Attention Can Solve Some Long-Term Memory
    Problems" (attention pooling).
    Kim (2014), "Convolutional Neural Networks for Sentence Classification", EMNLP.
    Mikolov, Sutskever, Chen, Corrado, Dean (2013), "Distributed Representations of Words and
    Phrases and their Compositionality", NeurIPS (skip-gram).
    Wang & Manning (2012), "Baselines and Bigrams: Simple, Good Sentiment and Topic
    Classification", ACL (naive-Bayes log-count ratios).
    Iyyer, Manjunatha, Boyd-Graber, Daumé III (2015), "Deep Unordered Composition Rivals
    Syntactic Methods for Text Classification", ACL (word dropout).
    Miyato, Dai, Goodfellow (2017), "Adversarial Training Methods for Semi-Supervised Text
    Classification", ICLR (adversarial training on the embeddings).
    Pang & Lee (2004), "A Sentimental Education: Sentiment Analysis Using Subjectivity
    Summarization Based on Minimum Cuts", ACL (the movie-review corpus).
"""

import keras

from kzoo.applications.compile_defaults import CompileDefaultsMixin
from kzoo.applications.document_architectures import ARCHITECTURES, DocumentArchitecture
from kzoo.applications.document_inference import DocumentInference
from kzoo.applications.document_training import DocumentTraining
from kzoo.applications.tflite_document_classifier import TFLiteDocumentClassifier
from kzoo.layers import scores as scores_lib
from kzoo.text.documents import DocumentTokenizer
from kzoo.training.adversarial import check_epsilon
from kzoo.training.distribute import DistributedTrainStep

__all__ = ["DocumentClassifier", "TFLiteDocumentClassifier", "ARCHITECTURES"]


@keras.saving.register_keras_serializable(package="kzoo")
class DocumentClassifier(
    CompileDefaultsMixin, DocumentArchitecture, DocumentTraining, DocumentInference, DistributedTrainStep, keras.Model
):
    """Classifies documents (strings) and explains the decision with attention weights.

    Args:
        num_classes: number of classes (>= 2); labels are integers in `[0, num_classes)`.
        architecture: "han" (Yang et al. 2016), "bigru_last", "bigru_mean",
            "bigru_attention", "cnn_max" or "cnn_attention" (see the module docstring).
        vocabulary: word list (see `kzoo.text.DocumentTokenizer`), or None to build it with
            `adapt()`.
        lowercase: whether text is case-folded.
        max_vocabulary_size: largest vocabulary `adapt()` builds.
        max_sentences: sentences kept per document (see `truncate`); the others are dropped.
        max_words: words kept per sentence: the first ones; later words are dropped.
        truncate: which sentences a document longer than `max_sentences` keeps: "head" (the
            first ones) or "tail" (the last ones: reviews tend to end with their verdict).
        embedding_dim: size of the word embeddings (random, or started by `adapt(...,
            embeddings=...)` from pretrained vectors, which must have this size, or from
            skip-gram vectors trained on the documents).
        units: GRU units per direction (HAN and BiGRU architectures); 50 as Yang et al.
        filters: filters per convolution width (CNN architectures).
        kernel_sizes: convolution widths (CNN architectures); (3, 4, 5) as Kim (2014).
        score: score of every attention ("concat": `vᵀ tanh(W h + b)`, as Yang et al.).
        dropout: dropout on the word embeddings, the encoders' outputs and the document vector.
        word_dropout: in training, the probability that each word occurrence is dropped whole
            (its vector zeroed, the kept ones scaled by `1 / (1 - word_dropout)`; Iyyer et al.
            2015), so that no single word decides.
        adversarial_epsilon: 0 (default), or the size of adversarial training's move: each
            training step also trains on the document's word vectors moved by this much (L2
            norm over the whole document, in units of the embedding matrix's standard deviation)
            in the direction that raises the loss the most (Miyato et al. 2017,
            `kzoo.training.adversarial`). About twice the compute per step.
        label_features: if True, each word vector is extended with its naive-Bayes log-count
            ratios (Wang & Manning 2012; 1 number for two classes, else one per class),
            computed by `adapt(documents, labels)` from the training labels and kept fixed.
        class_names: optional names of the classes (reports, `explain`, the command line).
        seed: dropout seed.

    Call arguments:
        inputs: int32 word ids `(batch_size, S, W)` from `self.document_tokenizer`.
        return_attention_scores: if True, also return word weights `(batch_size, S, W)` and
            sentence weights `(batch_size, S)` (attention architectures only).

    Returns:
        Class probabilities `(batch_size, num_classes)`.

    Examples:
        >>> model = DocumentClassifier(num_classes=2, embedding_dim=8, units=4)
        >>> model.adapt(["a good film .", "a bad film ."])
        >>> model.compile()
        >>> model.predict(["a good film ."]).shape
        (1, 2)
    """

    def __init__(
        self,
        num_classes=2,
        architecture="han",
        vocabulary=None,
        lowercase=True,
        max_vocabulary_size=30000,
        max_sentences=30,
        max_words=40,
        truncate="head",
        embedding_dim=100,
        units=50,
        filters=100,
        kernel_sizes=(3, 4, 5),
        score="concat",
        dropout=0.3,
        word_dropout=0.0,
        adversarial_epsilon=0.0,
        label_features=False,
        class_names=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"`num_classes` must be an int >= 2. Received: num_classes={num_classes!r}")
        if architecture not in ARCHITECTURES:
            raise ValueError(
                f"`architecture` must be one of {sorted(ARCHITECTURES)}. Received: architecture={architecture!r}"
            )
        for name, value in (("embedding_dim", embedding_dim), ("units", units), ("filters", filters)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
        for name, value in (("dropout", dropout), ("word_dropout", word_dropout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise ValueError(f"`{name}` must be a float in [0, 1). Received: {name}={value!r}")
        self.adversarial_epsilon = check_epsilon(adversarial_epsilon)
        if not isinstance(label_features, bool):
            raise ValueError(f"`label_features` must be True or False. Received: label_features={label_features!r}")
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(
                f"`class_names` must have num_classes={num_classes} names. Received: class_names={class_names!r}"
            )
        self.num_classes = num_classes
        self.architecture = architecture
        self.lowercase = lowercase
        self.max_vocabulary_size = max_vocabulary_size
        self.max_sentences = max_sentences
        self.max_words = max_words
        self.embedding_dim = embedding_dim
        self.units = units
        self.filters = filters
        self.kernel_sizes = tuple(int(k) for k in kernel_sizes)
        self.score = score
        self.dropout = float(dropout)
        self.word_dropout = float(word_dropout)
        self.label_features = label_features
        self.class_names = list(class_names) if class_names is not None else None
        self.seed = seed
        self.encoder_kind, self.pooling = ARCHITECTURES[architecture]
        self.document_tokenizer = DocumentTokenizer(
            vocabulary, lowercase, max_sentences, max_words, truncate, name="document_tokenizer"
        )
        self.truncate = self.document_tokenizer.truncate
        if vocabulary is not None:
            self._make_layers()

    # === Config ===
    def get_config(self):
        config = super().get_config()
        config.update(
            num_classes=self.num_classes,
            architecture=self.architecture,
            vocabulary=self.document_tokenizer.vocabulary,
            lowercase=self.lowercase,
            max_vocabulary_size=self.max_vocabulary_size,
            max_sentences=self.max_sentences,
            max_words=self.max_words,
            truncate=self.truncate,
            embedding_dim=self.embedding_dim,
            units=self.units,
            filters=self.filters,
            kernel_sizes=list(self.kernel_sizes),
            score=self.score if isinstance(self.score, str) else scores_lib.serialize(self.score),
            dropout=self.dropout,
            word_dropout=self.word_dropout,
            adversarial_epsilon=self.adversarial_epsilon,
            label_features=self.label_features,
            class_names=self.class_names,
            seed=self.seed,
        )
        return config
