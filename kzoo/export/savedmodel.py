"""SavedModel export with string-in / string-out serving signatures.

The SavedModel holds only TensorFlow and tensorflow-text ops, so it loads with
`tf.saved_model.load` in a process that imports `tensorflow` and `tensorflow_text` (for its op
kernels) and not kzoo.
"""

import tensorflow as tf

from kzoo.export.atomic import atomic_path

__all__ = ["save_translator", "load_signature"]


class _TranslatorServing(tf.Module):
    def __init__(self, translator, beam_sampler, max_length):
        super().__init__()
        self.translator = translator
        self._beam_sampler = beam_sampler
        self._max_length = max_length

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def greedy(self, texts):
        return {"translations": self.translator.decode_texts(texts, self._max_length, "greedy")}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def beam(self, texts):
        return {"translations": self.translator.decode_texts(texts, self._max_length, self._beam_sampler)}


def save_translator(translator, path, beam_width=4, length_penalty=0.0, max_length=100):
    """Writes `translator` as a SavedModel at `path` (atomically).

    Signatures: `serving_default` (greedy) and `beam` (beam search with `beam_width` and
    `length_penalty`); each takes `texts`, a string tensor `(batch,)`, and returns
    `{"translations": string tensor (batch,)}`.
    """
    from kzoo.seq2seq.samplers import BeamSampler

    module = _TranslatorServing(translator, BeamSampler(beam_width, length_penalty), max_length)
    signatures = {
        "serving_default": module.greedy.get_concrete_function(),
        "beam": module.beam.get_concrete_function(),
    }
    with atomic_path(path) as tmp:
        tf.saved_model.save(module, tmp, signatures=signatures)
    return path


def load_signature(path, name="serving_default"):
    """A SavedModel's signature as a Python function `texts -> list of str`."""
    import tensorflow_text  # noqa: F401  (registers the tensorflow-text op kernels)

    function = tf.saved_model.load(path).signatures[name]

    def call(texts):
        out = function(texts=tf.constant(list(texts)))
        return [t.decode("utf-8") for t in out["translations"].numpy()]

    return call
