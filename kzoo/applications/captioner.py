"""Captioner: a CNN encoder and an LSTM decoder with spatial attention, images in, captions out.

Pixels (any size, grey, RGB or RGBA; files or JPEG/PNG bytes through `caption()` and the
SavedModel) -> resized to `image_size` inside the model -> CNN feature map `(B, h, w, C)` ->
memory `(B, h·w, C)` -> the shared attention decoder (`kzoo.seq2seq.AttentionDecoder`), started
from the mean annotation through `MeanBridge`, attends over the locations at every step ->
greedy or beam search -> words. Everything but the preprocessing and the encoder is the shared
core (`kzoo.applications.task.SequenceGenerator`).

`attention="soft"` is the deterministic soft attention of Xu et al. (2015), with the additive
("concat") score and, as an option, their doubly stochastic regulariser
`λ · Σ_i (1 − Σ_t α_ti)²`, which pushes every location to receive attention over the caption;
`"hard"` is kzoo's `HardAttention` (one location per step; straight-through Gumbel-softmax in
training); `None` has no attention: the mean-pooled features initialise the decoder and nothing
else passes (Vinyals et al. 2015, Show and Tell).

References:
    Xu et al. (2015), "Show, Attend and Tell: Neural Image Caption Generation with Visual
    Attention". Vinyals, Toshev, Bengio, Erhan (2015), "Show and Tell: A Neural Image Caption
    Generator". Jang, Gu, Poole (2017), "Categorical Reparameterization with Gumbel-Softmax".
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kzoo.applications.embeddings import check_embedding_trainable, initialize_embeddings, load_pretrained, start_embedding
from kzoo.applications.task import SequenceGenerator, TFLiteSequenceGenerator
from kzoo.data.captions import check_captions, make_captions_dataset
from kzoo.export import litert
from kzoo.seq2seq import schedules
from kzoo.seq2seq.bridge import MeanBridge
from kzoo.seq2seq.decoder import AttentionDecoder
from kzoo.text.tokenizer import Tokenizer
from kzoo.vision.encoders import ImageEncoder, restore_encoder_config
from kzoo.vision.images import check_image_size, check_images, decode_images, resize_to_model, to_model_pixels

__all__ = ["Captioner"]

litert.register_runner("captioner")(TFLiteSequenceGenerator)

_ATTENTION = {"soft": "global", "hard": "hard", None: None}


@keras.saving.register_keras_serializable(package="kzoo")
class Captioner(SequenceGenerator):
    """Image captioning with a CNN encoder and an attention LSTM decoder, trained with `fit`.

    Args:
        vocabulary: token list (see `kzoo.text.Tokenizer`), or None to build it with `adapt()`.
        encoder: "small_cnn" (from scratch), a `keras.applications` backbone name
            ("mobilenet_v3_small", "efficientnet_b0", "resnet50") or a Keras model that maps
            pixels `(B, H, W, 3)` in [0, 255] to a feature map.
        image_size: `(H, W)` the images are resized to.
        attention: "soft", "hard" or None (see the module docstring).
        score: the soft attention's score ("concat" is Xu et al.'s additive score).
        units: LSTM units; embedding_dim: word embedding size.
        encoder_weights: None or "imagenet" for a backbone (downloaded by Keras).
        trainable_encoder: whether the CNN is trained.
        filters: size of "small_cnn".
        blocks: size of "small_cnn".
        dropout: dropout before the output layer.
        attention_regularization: `λ` of the doubly stochastic regulariser (soft attention).
        max_vocabulary_size: largest vocabulary `adapt()` builds.
        max_caption_length: default and largest number of generated tokens.
        seed: seed of the hard attention's sampling.

    Examples:
        >>> import numpy as np
        >>> cap = Captioner(image_size=(16, 16), units=8, embedding_dim=8, filters=4, blocks=2)
        >>> cap.adapt(["a red circle", "a blue square"])
        >>> cap.compile()
        >>> isinstance(cap.caption(np.zeros((20, 30, 3), np.uint8)), str)
        True
    """

    output_name = "captions"
    tflite_kind = "captioner"

    def __init__(
        self,
        vocabulary=None,
        encoder="small_cnn",
        image_size=(224, 224),
        attention="soft",
        score="concat",
        units=256,
        embedding_dim=128,
        encoder_weights=None,
        trainable_encoder=True,
        filters=32,
        blocks=3,
        dropout=0.0,
        attention_regularization=0.0,
        max_vocabulary_size=10000,
        max_caption_length=30,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if attention not in _ATTENTION:
            raise ValueError(f"`attention` must be 'soft', 'hard' or None. Received: attention={attention!r}")
        if not isinstance(attention_regularization, (int, float)) or attention_regularization < 0:
            raise ValueError(
                "`attention_regularization` must be a float >= 0. "
                f"Received: attention_regularization={attention_regularization!r}"
            )
        self.image_size = check_image_size(image_size)
        self.attention, self.score, self.units, self.embedding_dim = attention, score, units, embedding_dim
        self.encoder_weights, self.trainable_encoder = encoder_weights, trainable_encoder
        self.filters, self.blocks, self.dropout = filters, blocks, dropout
        self.attention_regularization = float(attention_regularization)
        self.max_vocabulary_size = max_vocabulary_size
        self.max_target_length = max_caption_length
        self.seed = seed
        self.scheduled_sampling = schedules.get(None)
        self.encoder = ImageEncoder(
            encoder, self.image_size, encoder_weights, trainable_encoder, filters, blocks, name="encoder"
        )
        self.bridge = MeanBridge(units, name="bridge")
        self.target_tokenizer = Tokenizer(vocabulary, max_length=max_caption_length + 1, name="target_tokenizer")
        if vocabulary is not None:
            self._make_layers()

    # === Layers ===
    def _make_layers(self):
        self.decoder = AttentionDecoder(
            self.target_tokenizer.vocabulary_size,
            self.embedding_dim,
            self.units,
            attention=_ATTENTION[self.attention],
            score=self.score,
            dropout=self.dropout,
            seed=self.seed,
            name="decoder",
        )

    def adapt(self, captions, min_count=1, embeddings=None, embedding_trainable=True):
        """Builds the word vocabulary from training captions (strings, or lists per image).

        `embeddings` (pretrained word vectors, e.g. "glove-6b-50d") and `embedding_trainable`
        start the decoder's word embedding as `Translator.adapt`'s `target_embeddings` do.
        """
        if hasattr(self, "decoder"):
            raise ValueError("`adapt()` can only be called once, before training.")
        check_embedding_trainable(embedding_trainable)
        vectors = load_pretrained(embeddings, self.embedding_dim)
        flat = [c for texts in check_captions(captions) for c in texts] if not isinstance(captions, tf.data.Dataset) else captions
        self.target_tokenizer.adapt(flat, self.max_vocabulary_size, min_count)
        self._make_layers()
        self.build()
        embedding = start_embedding(self.decoder.embedding, vectors, self.target_tokenizer, flat, seed=self.seed or 0)
        self.embedding_schedule = initialize_embeddings([embedding], embedding_trainable)

    def build(self, input_shape=None):
        self._require_layers()
        pixels = self.preprocess(tf.zeros((1, *self.image_size, 3), tf.uint8))
        self.call((pixels, tf.constant([[4, 4]], "int32")))
        self.built = True

    # === Hooks of the shared core (kzoo.applications.task) ===
    @property
    def raw_input_spec(self):
        return tf.TensorSpec([None, None, None, None], tf.uint8, name="pixels")

    @property
    def tflite_input_spec(self):
        return tf.TensorSpec([1, *self.image_size, 3], tf.uint8)

    def preprocess(self, pixels):
        return to_model_pixels(pixels, self.image_size)

    def encode(self, pixels, training=None):
        return self.encoder(pixels, training=training)

    def check_raw(self, images):
        batch, single = check_images(images)
        return resize_to_model(batch, self.image_size), single

    def tflite_metadata(self):
        return {"image_size": list(self.image_size)}

    def tflite_input(self, pixels):
        return self.preprocess(pixels)  # uint8 at the model's size: a cast, no resize

    def serving_signatures(self):
        return {
            "serving_default": (
                tf.TensorSpec([None], tf.string, name="images"),
                lambda data: self.preprocess(decode_images(data, self.image_size)),
            ),
            "pixels": (self.raw_input_spec, self.preprocess),
        }

    def attention_penalty(self, weights, target_in):
        """Xu et al.'s doubly stochastic regulariser `λ · mean_b Σ_i (1 − Σ_t α_ti)²`."""
        if weights is None or self.attention_regularization == 0:
            return
        coverage = ops.sum(ops.cast(weights, "float32"), axis=1)  # (B, S); padded steps weigh 0
        self.add_loss(self.attention_regularization * ops.mean(ops.sum(ops.square(1.0 - coverage), axis=-1)))

    def make_dataset(self, images, captions, batch_size=64, shuffle=True):
        """`(image, caption)` batches from an image array `(N, H, W, C)` (or a list of images) and,
        per image, a caption or a list of captions (each caption is one example)."""
        if isinstance(images, np.ndarray) and images.ndim == 4 and images.dtype == np.uint8:
            pixels = images
        else:
            pixels = resize_to_model(check_images(list(images) if not isinstance(images, list) else images)[0], self.image_size)
        return make_captions_dataset(pixels, captions, batch_size, shuffle, self.seed)

    # === Captioning ===
    def caption(self, images, beam_width=1, length_penalty=0.0, max_length=None, return_attention=False):
        """Captions one image or a batch.

        Args:
            images: an image (array of any size: grey, RGB, RGBA; uint8 or floats in [0, 1]),
                a file path, encoded image bytes, or a list / 4-D array of them.
            beam_width: 1 for greedy decoding, more for beam search.
            length_penalty: GNMT `α >= 0` of beam search.
            max_length: most generated tokens; default `max_caption_length`.
            return_attention: if True also return, per image, `{"tokens": [...], "weights":
                (len(tokens), h, w)}`, the attention of each word over the feature map.

        Returns:
            A string for one image, a list of strings for a batch (and the attention list).
        """
        return self.generate(images, beam_width, max_length, length_penalty, return_attention)

    def attention_record(self, pixels, tokens, weights):
        words, end = self.output_tokens(tokens)
        return {"tokens": words, "weights": weights[:end].reshape(end, *self.encoder.grid)}

    # === Config ===
    def get_config(self):
        names = ("image_size", "attention", "score", "units", "embedding_dim", "encoder_weights", "trainable_encoder",
                 "filters", "blocks", "dropout", "attention_regularization", "max_vocabulary_size", "seed")
        return {
            **super().get_config(),
            **{name: getattr(self, name) for name in names},
            "vocabulary": self.target_tokenizer.vocabulary,
            "encoder": self.encoder.get_config()["encoder"],
            "max_caption_length": self.max_target_length,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**restore_encoder_config(config, "encoder_weights"))
