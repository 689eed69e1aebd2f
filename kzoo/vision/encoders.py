"""CNN image encoders that follow the seq2seq encoder contract: memory, mask, no states.

An `ImageEncoder` turns float pixels `(B, H, W, 3)` in [0, 255] into a feature map `(B, h, w, C)`
and flattens it to the memory `(B, h·w, C)` that the attention decoder reads, one annotation
vector per location (Xu et al. 2015), with an all-true mask and no final states (the Captioner's
bridge initialises the decoder from the mean annotation).

References:
    Xu et al. (2015), "Show, Attend and Tell: Neural Image Caption Generation with Visual
    Attention". Vinyals et al. (2015), "Show and Tell: A Neural Image Caption Generator".
    Howard et al. (2019) MobileNetV3; Tan & Le (2019) EfficientNet; He et al. (2016) ResNet.
"""

import keras
import tensorflow as tf
from keras import ops

from kzoo.training.distribute import num_replicas, replica_sum

__all__ = ["SmallCNN", "ImageEncoder", "BACKBONES", "restore_encoder_config"]

# name -> (keras.applications constructor name, whether the model rescales [0, 255] itself)
BACKBONES = {
    "mobilenet_v3_small": "MobileNetV3Small",
    "efficientnet_b0": "EfficientNetB0",
    "resnet50": "ResNet50",
}


class GlobalBatchNormalization(keras.layers.BatchNormalization):
    """Batch normalization whose training statistics, under several `tf.distribute` replicas,
    are the global batch's, computed in two passes as on one device (mean, then the mean
    squared deviation from it). Keras' `synchronized=True` uses `E[x²] − E[x]²` in float32,
    which loses digits when the mean is large next to the spread, and moves the step away from
    the single-device one (measured: BN offsets 0.4% off after 3 SGD steps of a small CNN)."""

    def _moments(self, inputs, mask):
        if mask is not None or num_replicas() == 1:
            return super()._moments(inputs, mask)
        axes = self._reduction_axes
        count = replica_sum(tf.cast(tf.reduce_prod(tf.gather(tf.shape(inputs), axes)), inputs.dtype))
        mean = replica_sum(tf.reduce_sum(inputs, axes, keepdims=True)) / count
        variance = replica_sum(tf.reduce_sum(tf.square(inputs - mean), axes, keepdims=True)) / count
        return tf.squeeze(mean, axes), tf.squeeze(variance, axes)


@keras.saving.register_keras_serializable(package="kzoo")
class SmallCNN(keras.layers.Layer):
    """A small convolutional feature extractor trained from scratch: `blocks` stages of two 3x3
    convolutions (batch norm, ReLU) and a 2x2 max pool, doubling the filters each stage.

    Under `tf.distribute` the batch norms' statistics are those of the global batch
    (`GlobalBatchNormalization`), so that several replicas take the single-device step.

    Args:
        filters: filters of the first stage.
        blocks: number of stages; the map is `H / 2**blocks` on a side.

    Examples:
        >>> import numpy as np
        >>> tuple(SmallCNN(filters=4, blocks=2)(np.zeros((1, 16, 16, 3), "float32")).shape)
        (1, 4, 4, 8)
    """

    def __init__(self, filters=32, blocks=3, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.blocks = blocks
        self.stages = []
        for i in range(blocks):
            width = filters * 2**i
            self.stages.append([
                keras.layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv_{i}a"),
                GlobalBatchNormalization(name=f"norm_{i}a"),
                keras.layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv_{i}b"),
                GlobalBatchNormalization(name=f"norm_{i}b"),
            ])
        self.pool = keras.layers.MaxPooling2D(2)

    def compute_output_shape(self, input_shape):
        scale = 2**self.blocks
        return (input_shape[0], input_shape[1] // scale, input_shape[2] // scale, self.filters * 2 ** (self.blocks - 1))

    def call(self, pixels, training=None):
        x = pixels / 127.5 - 1.0  # [0, 255] -> [-1, 1]
        for conv_a, norm_a, conv_b, norm_b in self.stages:
            x = ops.relu(norm_a(conv_a(x), training=training))
            x = ops.relu(norm_b(conv_b(x), training=training))
            x = self.pool(x)  # (B, H / 2**(i+1), W / 2**(i+1), filters * 2**i)
        return x

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "blocks": self.blocks}


def _backbone(name, image_size, weights):
    import keras.applications as apps

    constructor = getattr(apps, BACKBONES[name])
    kwargs = {"include_top": False, "weights": weights, "input_shape": (*image_size, 3)}
    if name == "mobilenet_v3_small":
        kwargs["include_preprocessing"] = True
    return constructor(**kwargs)


@keras.saving.register_keras_serializable(package="kzoo")
class ImageEncoder(keras.layers.Layer):
    """Pixels -> `(memory (B, h·w, C), mask (B, h·w), None)`, the seq2seq encoder contract.

    Args:
        encoder: "small_cnn" (from scratch), a `keras.applications` backbone name (see
            `BACKBONES`), or any Keras model / layer mapping pixels `(B, H, W, 3)` in [0, 255]
            to a feature map `(B, h, w, C)`.
        image_size: `(H, W)` of the pixels.
        weights: the backbone's weights: None (random) or "imagenet" (downloaded by Keras).
        trainable: whether the CNN's weights are trained.
        filters: of "small_cnn".
        blocks: of "small_cnn".

    Examples:
        >>> import numpy as np
        >>> enc = ImageEncoder("small_cnn", image_size=(32, 32), filters=4, blocks=2)
        >>> memory, mask, states = enc(np.zeros((2, 32, 32, 3), "float32"))
        >>> tuple(memory.shape), tuple(mask.shape), states, enc.grid
        ((2, 64, 8), (2, 64), None, (8, 8))
    """

    def __init__(self, encoder="small_cnn", image_size=(224, 224), weights=None, trainable=True, filters=32, blocks=3, **kwargs):
        super().__init__(**kwargs)
        self.image_size = tuple(int(n) for n in image_size)
        self.encoder_name = encoder if isinstance(encoder, str) else None
        self.weights_name = weights
        self.filters, self.blocks = filters, blocks
        if encoder == "small_cnn":
            self.cnn = SmallCNN(filters, blocks, name="small_cnn")
        elif isinstance(encoder, str):
            if encoder not in BACKBONES:
                raise ValueError(
                    f"`encoder` must be 'small_cnn', one of {sorted(BACKBONES)} or a Keras model. "
                    f"Received: encoder={encoder!r}"
                )
            self.cnn = _backbone(encoder, self.image_size, weights)
        elif isinstance(encoder, keras.layers.Layer):
            self.cnn = encoder
        else:
            raise ValueError(
                f"`encoder` must be 'small_cnn', one of {sorted(BACKBONES)} or a Keras model. "
                f"Received: encoder of type {type(encoder).__name__}"
            )
        self.cnn.trainable = bool(trainable)
        self.train_cnn = bool(trainable)
        shape = self.cnn.compute_output_spec(keras.KerasTensor((1, *self.image_size, 3))).shape
        if len(shape) != 4:
            raise ValueError(
                f"`encoder` must output a feature map (batch, height, width, channels). "
                f"Received: an encoder with output shape {tuple(shape)}"
            )
        self.grid = (int(shape[1]), int(shape[2]))
        self.output_dim = int(shape[3])

    def call(self, pixels, training=None):
        x = pixels
        if self.encoder_name == "resnet50":
            from keras.applications import resnet50

            x = resnet50.preprocess_input(x)  # caffe: RGB -> BGR, ImageNet means subtracted
        features = self.cnn(x, training=training and self.train_cnn)  # (B, h, w, C)
        batch = ops.shape(features)[0]
        memory = ops.reshape(features, (batch, self.grid[0] * self.grid[1], self.output_dim))  # (B, h·w, C)
        mask = ops.ones((batch, self.grid[0] * self.grid[1]), "bool")
        return memory, mask, None

    def get_config(self):
        config = super().get_config()
        encoder = self.encoder_name or keras.saving.serialize_keras_object(self.cnn)
        config.update(
            encoder=encoder,
            image_size=self.image_size,
            weights=self.weights_name,
            trainable=self.train_cnn,
            filters=self.filters,
            blocks=self.blocks,
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**restore_encoder_config(config, "weights"))


def restore_encoder_config(config, weights_key):
    """A saved config made ready to rebuild an image model: a custom encoder deserialised, and
    no weight download (the trained weights come from the saved file)."""
    config = dict(config)
    if isinstance(config.get("encoder"), dict):
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
    config[weights_key] = None
    config["image_size"] = tuple(config["image_size"])
    return config
