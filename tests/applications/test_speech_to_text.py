"""SpeechToText: CTC, attention and joint decoders on the shared core, transcribe, exports, errors."""

import base64
import contextlib
import io
import os
import wave

import keras
import numpy as np
import pytest
import tensorflow as tf

from kzoo.applications import SpeechToText
from kzoo.applications.evaluation import score_texts
from kzoo.audio.batches import pad_waveforms
from kzoo.export import load_tflite
from kzoo.seq2seq.ctc import ctc_beam_decode, ctc_prefix_beam_search
from kzoo.seq2seq.ctc_lexicon import ctc_lexicon_decode
from kzoo.seq2seq.losses import MaskedSparseCrossEntropy
from kzoo.testing.application_test import agreement, check_keras_roundtrip, check_savedmodel_standalone
from kzoo.text import CharacterLanguageModel

RATE = 8000
TONES = {"a": 500.0, "b": 1300.0, "c": 2300.0}  # each character is a tone; a space is a pause
TINY = dict(sample_rate=RATE, num_mel_bins=16, filters=4, encoder_units=16, encoder_layers=1, units=16,
            embedding_dim=8, spec_augment=False, seed=0)


def tone_speech(text, rng):
    """A toy utterance: 0.1 s of tone per character, 0.08 s of near-silence per space."""
    parts = [np.zeros(int(0.03 * RATE))]
    for ch in text:
        n = int(0.1 * RATE * rng.uniform(0.9, 1.1))
        if ch == " ":
            parts.append(np.zeros(int(0.08 * RATE)))
        else:
            t = np.arange(n) / RATE
            parts.append(0.5 * np.sin(2 * np.pi * TONES[ch] * t) * np.hanning(n))
            parts.append(np.zeros(int(0.02 * RATE)))
    audio = np.concatenate(parts)
    return (audio + 0.003 * rng.standard_normal(len(audio))).astype("float32")


def toy_corpus(count, seed):
    rng = np.random.default_rng(seed)
    texts = [" ".join("".join(rng.choice(list("abc"), rng.integers(1, 3))) for _ in range(rng.integers(1, 3)))
             for _ in range(count)]
    return [tone_speech(t, rng) for t in texts], texts


@contextlib.contextmanager
def decoding_with(model, head):
    """The model transcribing with `head` ("ctc" or "attention") inside the block."""
    before = model.decode_with
    model.decode_with = head
    try:
        yield model
    finally:
        model.decode_with = before


@pytest.fixture(scope="module")
def trained():
    """One small model per decoder, trained on the toy corpus (shared by the tests below)."""
    audio, texts = toy_corpus(160, seed=1)
    models = {}
    for decoder in ("ctc", "joint"):
        keras.utils.set_random_seed(0)
        model = SpeechToText(decoder=decoder, **TINY)
        model.adapt(texts)
        model.compile(learning_rate=1e-2)
        model.fit(audio, texts, batch_size=16, epochs=25 if decoder == "ctc" else 40, verbose=0)
        models[decoder] = model
    return models


def test_ctc_and_joint_models_learn_the_toy_corpus(trained):
    audio, texts = toy_corpus(40, seed=7)
    # Measured: CER 0.03 (ctc), joint 0.03 from its CTC head and 0.13 from its attention decoder;
    # untrained ~1.0. After 30 epochs the attention decoder scored 0.17 on one machine and 0.28 on
    # another (floating-point kernels differ), hence 40 epochs.
    for decoder, head, bar in (("ctc", "ctc", 0.1), ("joint", "ctc", 0.15), ("joint", "attention", 0.25)):
        with decoding_with(trained[decoder], head) as model:
            scores = score_texts(model.transcribe(audio), texts, metrics=("cer",))
        assert scores["cer"] < bar, (decoder, head, scores)


def test_joint_loss_is_the_weighted_sum_of_ctc_and_attention_losses():
    audio, texts = toy_corpus(4, seed=3)
    model = SpeechToText(decoder="joint", ctc_weight=0.3, **TINY)
    model.adapt(texts)
    model.compile()
    waves, lengths = pad_waveforms(audio)  # four utterances of unequal length
    (inputs, target_in), target_out = model.prepare((tf.constant(waves), tf.constant(lengths)), tf.constant(texts))
    out = model((inputs, target_in))
    labels = np.where(target_out.numpy() == 3, 0, target_out.numpy())
    label_lengths = (labels > 0).sum(axis=1)
    ctc = tf.nn.ctc_loss(labels, out["ctc_logits"], label_lengths, out["ctc_lengths"], logits_time_major=False, blank_index=0)
    ce = MaskedSparseCrossEntropy()(target_out, out["logits"])
    expected = 0.3 * float(tf.reduce_mean(ctc)) + 0.7 * float(ce)
    actual = float(model.compute_loss(y=target_out, y_pred=out, training=False))
    np.testing.assert_allclose(actual, expected, rtol=1e-5)


def test_ctc_greedy_transcript_is_the_collapsed_best_path(trained):
    model = trained["ctc"]
    audio, _ = toy_corpus(3, seed=4)
    texts, records = model.transcribe(audio, return_attention=True, language_model=False)
    vocabulary = model.target_tokenizer.vocabulary
    for text, record in zip(texts, records):
        best = record["posteriogram"].argmax(-1)
        collapsed = [t for i, t in enumerate(best) if t != 0 and (i == 0 or t != best[i - 1])]
        assert text == "".join(vocabulary[t] for t in collapsed)
        np.testing.assert_allclose(record["posteriogram"].sum(-1), 1.0, atol=1e-5)


def test_lexicon_decoding_is_the_best_path_through_the_lexicon(trained):
    model = trained["ctc"]
    audio, texts = toy_corpus(12, seed=8)
    lexicon = sorted({w for t in texts for w in t.split()})
    constrained, records = model.transcribe(audio, lexicon=lexicon, return_attention=True)
    vocabulary = model.target_tokenizer.vocabulary
    labels = [[vocabulary.index(c) for c in w] for w in lexicon]
    for text, record, posteriors in zip(constrained, records, model.ctc_posteriors(audio)):
        indices, _ = ctc_lexicon_decode(np.log(np.maximum(posteriors, 1e-30)), labels, vocabulary.index(" "))
        assert text == " ".join(lexicon[i] for i in indices) and text
        assert record["tokens"] == list(text)
    # A one-word lexicon: every transcript is made of that word, whatever was said.
    for text in model.transcribe(audio, lexicon=["b"]):
        assert text and set(text.split()) == {"b"}
    errors = [
        (dict(lexicon="ab"), "non-empty list of words"),
        (dict(lexicon=[]), "non-empty list of words"),
        (dict(lexicon=["a b"]), "one word"),
        (dict(lexicon=["ax"]), "'ax' has a character outside"),
        (dict(lexicon=["a"], beam_width=2), "beam_width=1"),
    ]
    for kwargs, message in errors:
        with pytest.raises(ValueError, match=message):
            model.transcribe(audio[0], **kwargs)
    with decoding_with(trained["joint"], "attention") as joint, pytest.raises(ValueError, match="decode_with='ctc'"):
        joint.transcribe(audio[0], lexicon=["a"])


def test_language_model_fusion_is_the_fused_prefix_search_over_the_posteriors(trained):
    model = trained["ctc"]
    audio, texts = toy_corpus(12, seed=8)
    lm = CharacterLanguageModel(order=3).fit(toy_corpus(200, seed=1)[1])
    vocabulary = model.target_tokenizer.vocabulary
    scorer = model.label_language_model(lm)
    scores = scorer((vocabulary.index("a"), vocabulary.index("b")))
    assert scores[0] == lm.next_log_prob(None, "ab")  # the blank's entry: the end of the transcript
    assert scores[vocabulary.index(" ")] == lm.next_log_prob(" ", "ab")
    assert np.isneginf(scores[1:4]).all()  # reserved tokens are never emitted
    fused, records = model.transcribe(audio, beam_width=8, language_model=lm, lm_weight=0.7, length_bonus=0.5,
                                      return_attention=True)
    for text, record, posteriors in zip(fused, records, model.ctc_posteriors(audio)):
        ids, _ = ctc_prefix_beam_search(np.log(np.maximum(posteriors, 1e-30)), 8, 0, scorer, 0.7, 0.5)[0]
        assert text == "".join(vocabulary[i] for i in ids)
        assert record["tokens"] == list(text)
    # The toy's texts are random letters, so a model of its training texts has little to add; one
    # that has read these very texts (an oracle prior) must remove errors of greedy decoding.
    oracle = model.transcribe(audio, beam_width=8, language_model=CharacterLanguageModel(order=4).fit(texts), lm_weight=1.0)
    greedy = model.transcribe(audio, language_model=False)
    cer = {name: score_texts(out, texts, metrics=("cer",))["cer"] for name, out in (("oracle", oracle), ("greedy", greedy))}
    assert cer["greedy"] > 0 and cer["oracle"] < cer["greedy"], cer
    # Weight and bonus 0: the plain prefix beam search (kzoo.seq2seq.ctc_beam_decode) of the posteriors.
    plain = model.transcribe(audio, beam_width=8, language_model=lm, lm_weight=0.0, length_bonus=0.0)
    for text, posteriors in zip(plain, model.ctc_posteriors(audio)):
        ids = ctc_beam_decode(np.log(np.maximum(posteriors, 1e-30))[None], [len(posteriors)], 8)[0]
        assert text == "".join(vocabulary[i] for i in ids if i)
    # A model that has read only "b" words, weighted heavily, hears only b's.
    only_b = CharacterLanguageModel(order=2).fit(["b", "bb b"])
    assert set("".join(model.transcribe(audio, beam_width=8, language_model=only_b, lm_weight=20.0))) <= {"b", " "}
    errors = [
        (dict(language_model="lm"), "or a kzoo.text.CharacterLanguageModel"),
        (dict(language_model=lm, lexicon=["a"], beam_width=8), "either `lexicon`"),
        (dict(language_model=lm, lm_weight=-0.5), "lm_weight=-0.5"),
        (dict(lm_weight=-0.5), "lm_weight=-0.5"),  # the model's own language model
        (dict(language_model=False, lm_weight=0.5), "decodes without one"),
        (dict(lexicon=["a"], length_bonus=1.0), "decodes without one"),
    ]
    for kwargs, message in errors:
        with pytest.raises(ValueError, match=message):
            model.transcribe(audio[0], **kwargs)
    with decoding_with(trained["joint"], "attention") as joint, pytest.raises(ValueError, match="decode_with='ctc'"):
        joint.transcribe(audio[0], language_model=lm)


def test_the_model_fits_its_own_language_model_and_decodes_with_it_by_default(trained, tmp_path):
    model = trained["ctc"]
    audio, _ = toy_corpus(12, seed=8)
    # `adapt` fitted an order-4 model on the training transcripts (the fixture's).
    assert model.language_model.get_config() == CharacterLanguageModel(order=4).fit(toy_corpus(160, seed=1)[1]).get_config()
    assert model.default_language_model is model.language_model
    with decoding_with(trained["joint"], "attention") as joint:  # the attention decoder decodes without it
        assert joint.default_language_model is None and joint.language_model is not None
    default, records = model.transcribe(audio, return_attention=True)
    assert default == model.transcribe(audio, beam_width=8, language_model=model.language_model, lm_weight=0.5, length_bonus=0.5)
    assert [r["tokens"] for r in records] == [list(t) for t in default]
    assert model.transcribe(audio, lm_weight=0.0, length_bonus=0.0, beam_width=3) == model.transcribe(
        audio, language_model=model.language_model, lm_weight=0.0, length_bonus=0.0, beam_width=3)
    # Without one (language_model_order=None) the default is greedy; an assigned one is used and saved.
    config = {**model.get_config(), "language_model_order": None, "language_model": None}
    bare = SpeechToText.from_config(config)
    bare.build()
    bare.set_weights(model.get_weights())
    assert bare.language_model is None and bare.get_config()["language_model"] is None
    assert bare.transcribe(audio) == model.transcribe(audio, language_model=False)
    only_b = CharacterLanguageModel(order=2).fit(["b", "bb b"])
    bare.language_model = only_b
    assert bare.transcribe(audio, lm_weight=20.0) == model.transcribe(audio, language_model=only_b, beam_width=8, lm_weight=20.0)
    bare.save(tmp_path / "b.keras")
    loaded = keras.saving.load_model(tmp_path / "b.keras")
    assert loaded.language_model.get_config() == only_b.get_config()
    assert loaded.transcribe(audio, lm_weight=20.0) == bare.transcribe(audio, lm_weight=20.0)
    # A given language model is kept by `adapt`, and the options are checked.
    given = SpeechToText(language_model=only_b, **TINY)
    given.adapt(["a b", "c"])
    assert given.language_model is only_b
    for kwargs, message in ((dict(language_model_order=0), "language_model_order=0"),
                            (dict(language_model_order=2.5), "language_model_order=2.5"),
                            (dict(language_model="lm"), "language_model=str")):
        with pytest.raises(ValueError, match=message):
            SpeechToText(**kwargs, **TINY)


def test_joint_lexicon_rescoring_scores_and_search(trained):
    model = trained["joint"]
    audio, texts = toy_corpus(6, seed=9)
    lexicon = ["a", "b", "c", "ab", "ca"]
    vocabulary = model.target_tokenizer.vocabulary
    w = 0.6
    posteriors = model.ctc_posteriors(audio)
    # The joint score against its parts computed another way: TensorFlow's CTC loss on the
    # posteriors and the log-likelihood of the teacher-forced decoder of the full forward pass.
    waves, lengths = pad_waveforms([audio[0]])
    start = model.decoder_start(model.preprocess((waves, lengths)), training=False)
    log_post = np.log(np.maximum(posteriors[0], 1e-30))
    candidates = ["a b", "ca", "b b c"]

    def spell(texts):
        return [[vocabulary.index(c) for c in text] for text in texts]

    for text, actual in zip(candidates, model.joint_scores(start, log_post, spell(candidates), w)):
        labels = spell([text])
        log_ctc = -float(tf.nn.ctc_loss(labels, log_post[None], [len(labels[0])], [len(log_post)],
                                        logits_time_major=False, blank_index=0)[0])
        ids = [2] + [vocabulary.index(c) for c in text] + [3]
        logits = model(((tf.constant(waves), tf.constant(lengths)), tf.constant([ids[:-1]])))["logits"][0].numpy()
        log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        log_att = sum(log_softmax[t, token] for t, token in enumerate(ids[1:]))
        np.testing.assert_allclose(actual, (1 - w) * log_ctc + w * log_att, rtol=1e-4)
    # The rescored transcript scores at least as high as the best CTC path's, and no single
    # word edit of it scores higher (the search ends on a local maximum).
    plain = model.transcribe(audio, lexicon=lexicon)
    assert model.transcribe(audio, lexicon=lexicon, attention_weight=0.0) == plain
    joint, records = model.transcribe(audio, lexicon=lexicon, attention_weight=w, return_attention=True)
    for i, (text, before, record) in enumerate(zip(joint, plain, records)):
        waves, lengths = pad_waveforms([audio[i]])
        start = model.decoder_start(model.preprocess((waves, lengths)), training=False)
        log_post = np.log(np.maximum(posteriors[i], 1e-30))
        words = text.split()
        edits = {" ".join(words[:j] + [k] + words[j + 1 :]) for j in range(len(words)) for k in lexicon}
        edits |= {" ".join(words[:j] + [k] + words[j:]) for j in range(len(words) + 1) for k in lexicon}
        edits |= {" ".join(words[:j] + words[j + 1 :]) for j in range(len(words)) if len(words) > 1}
        own, previous, *others = model.joint_scores(start, log_post, spell([text, before, *sorted(edits - {text})]), w)
        assert own >= previous and own >= max(others) - 1e-6, (text, before)
        assert record["tokens"] == list(text) and set(words) <= set(lexicon)
    errors = [
        (dict(lexicon=["a"], attention_weight=1.0), r"`attention_weight` must be a float in \[0, 1\)"),
        (dict(lexicon=["a"], attention_weight=True), "`attention_weight` must be a float"),
        (dict(attention_weight=0.5), "needs a `lexicon` and a joint model"),
    ]
    for kwargs, message in errors:
        with pytest.raises(ValueError, match=message):
            model.transcribe(audio[0], **kwargs)
    with pytest.raises(ValueError, match="decoder='ctc'"):
        trained["ctc"].transcribe(audio[0], lexicon=["a"], attention_weight=0.5)


def test_joint_attention_records_and_beam_search(trained):
    audio, texts = toy_corpus(6, seed=5)
    with decoding_with(trained["joint"], "attention") as model:
        greedy, records = model.transcribe(audio, return_attention=True)
        beam = model.transcribe(audio, beam_width=3)
    for text, record in zip(greedy, records):
        assert record["weights"].shape[0] == len(record["tokens"])
        np.testing.assert_allclose(record["weights"].sum(-1), 1.0, atol=1e-4)
    assert score_texts(beam, texts, metrics=("cer",))["cer"] <= score_texts(greedy, texts, metrics=("cer",))["cer"] + 0.1
    with pytest.raises(ValueError, match="decode_with"):
        trained["ctc"].decode_with = "attention"


def test_transcribe_accepts_int16_stereo_other_rates_and_wav_files(trained, tmp_path):
    model = trained["ctc"]
    (clip,), _ = toy_corpus(1, seed=6)
    expected = model.transcribe(clip)
    int16 = np.round(clip * 32767).astype(np.int16)
    assert model.transcribe(int16) == expected
    assert model.transcribe(np.stack([clip, clip], axis=1)) == expected
    path = tmp_path / "clip.wav"
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1), f.setsampwidth(2), f.setframerate(RATE), f.writeframes(int16.tobytes())
    assert model.transcribe(str(path)) == expected
    assert model.transcribe(path.read_bytes()) == expected
    # At twice the rate, resampled to the model's: the same words.
    from kzoo.audio import resample

    assert model.transcribe(resample(clip, RATE, 2 * RATE), sample_rate=2 * RATE) == expected


def test_long_recordings_are_cut_at_silences_and_joined(trained):
    model = trained["ctc"]
    rng = np.random.default_rng(8)
    clips = [tone_speech(t, rng) for t in ("ab", "ca b", "bc")]
    gap = np.zeros(int(0.4 * RATE), "float32")
    long = np.concatenate([clips[0], gap, clips[1], gap, clips[2]])
    chunked = SpeechToText.from_config({**model.get_config(), "max_chunk_seconds": 1.0})
    chunked.build()
    chunked.set_weights(model.get_weights())
    text, record = chunked.transcribe(long, return_attention=True)
    from kzoo.audio import split_at_silences

    spans = split_at_silences(long, RATE, 1.0)
    assert len(spans) >= 2 and len(record["chunks"]) == len(spans)
    assert sum(e - s for s, e in spans) == len(long)
    assert text == " ".join(t for t in (model.transcribe(long[s:e]) for s, e in spans) if t)


def test_keras_roundtrip_and_same_seed_same_model(trained, tmp_path):
    audio, texts = toy_corpus(5, seed=9)
    check_keras_roundtrip(trained["joint"], lambda m: m.transcribe(audio), tmp_path / "stt.keras")
    weights = []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        model = SpeechToText(decoder="joint", **{**TINY, "spec_augment": True})
        model.adapt(texts)
        model.compile()
        model.fit(audio, texts, batch_size=5, epochs=1, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def _wav_bytes(samples):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(1), f.setsampwidth(2), f.setframerate(RATE)
        f.writeframes(np.round(np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize("decoder, head", [("ctc", "ctc"), ("joint", "attention")])
def test_savedmodel_and_tflite_agree_with_transcribe(trained, tmp_path, decoder, head):
    with decoding_with(trained[decoder], head) as model:
        runner = check_exports(model, tmp_path)
    if head == "attention":  # no CTC posteriors in the file: nothing to fuse a language model into
        with pytest.raises(ValueError, match="needs decode_with='ctc'"):
            runner.transcribe(np.zeros(800, "float32"), language_model=CharacterLanguageModel(order=2).fit(["ab"]))


def test_tflite_runner_fuses_the_model_language_model_as_transcribe_does(trained, tmp_path):
    """The `.tflite` file of a CTC model returns the posteriors beside its greedy tokens and its
    sidecar carries the model's language model: the runner's prefix beam search fused with it
    gives `transcribe`'s transcripts, with the model's own and with a given language model."""
    model = trained["ctc"]
    audio, _ = toy_corpus(12, seed=10)
    skewed = CharacterLanguageModel(order=2).fit(["c c c", "cc", "a b c"])  # pulls transcripts towards "c"
    own = model.language_model
    model.language_model = skewed
    try:
        path = model.export(tmp_path / "fused.tflite", format="litert", beam_width=1)
        expected = model.transcribe(audio, lm_weight=8.0)
    finally:
        model.language_model = own
    greedy = model.transcribe(audio, language_model=False)
    assert sum(e != g for e, g in zip(expected, greedy)) >= 6  # the language model changes most transcripts
    runner = load_tflite(path)
    assert runner.language_model.get_config() == skewed.get_config()
    assert runner.transcribe(audio, lm_weight=8.0) == expected
    assert runner.transcribe(audio[0], lm_weight=8.0) == expected[0]
    assert runner.transcribe(audio, language_model=False) == greedy
    given = runner.transcribe(audio, language_model=own, beam_width=4, lm_weight=8.0, length_bonus=0.0)
    assert given == model.transcribe(audio, language_model=own, beam_width=4, lm_weight=8.0, length_bonus=0.0)
    for options, message in (
        ({"language_model": False, "beam_width": 4}, "decodes greedily in its graph: pass beam_width=None or 1"),
        ({"language_model": False, "lm_weight": 1.0}, "decodes without one"),
        ({"language_model": "digits"}, "kzoo.text.CharacterLanguageModel. Received: language_model=str"),
        ({"lm_weight": -1.0}, "lm_weight=-1.0"),
    ):
        with pytest.raises(ValueError, match=message):
            runner.transcribe(audio[0], **options)


def check_exports(model, tmp_path):
    audio, _ = toy_corpus(12, seed=10)
    audio = [np.round(a * 32767) / 32767 for a in audio]  # exactly representable as 16-bit WAV
    expected = model.transcribe(audio, language_model=False)  # the exports decode greedily in the graph
    assert [model.transcribe(a, language_model=False) for a in audio] == expected  # padding in a batch changes nothing
    saved = model.export(tmp_path / "saved")
    loaded = tf.saved_model.load(str(saved))
    served = loaded.signatures["serving_default"]
    out = served(audio=tf.constant([_wav_bytes(a) for a in audio]))["transcripts"].numpy()
    assert [t.decode() for t in out] == expected
    check_savedmodel_standalone(  # WAV bytes in, without kzoo
        saved, "serving_default", {"audio": {"base64": [base64.b64encode(_wav_bytes(a)).decode() for a in audio[:3]]}},
        {"transcripts": expected[:3]},
    )
    wrong_rate = tf.audio.encode_wav(tf.zeros((RATE, 1)), 2 * RATE)
    with pytest.raises(tf.errors.InvalidArgumentError, match=rf"WAV audio must be at the model\\*'s rate of {RATE} Hz.*\[{2 * RATE}\]"):
        served(audio=tf.stack([wrong_rate]))
    waves = np.zeros((2, max(len(a) for a in audio[:2])), "float32")
    for row, a in zip(waves, audio[:2]):
        row[: len(a)] = a
    check_savedmodel_standalone(
        saved, "waveforms", {"waveforms": waves.tolist(), "lengths": [len(a) for a in audio[:2]]},
        {"transcripts": model.transcribe(audio[:2], language_model=False)},  # the same batch (padding) as the signature's
    )
    beam = loaded.signatures["beam"](waveforms=tf.constant(waves), lengths=tf.constant([len(a) for a in audio[:2]], tf.int32))
    assert [t.decode() for t in beam["transcripts"].numpy()] == model.transcribe(audio[:2], beam_width=4, language_model=False)
    path = model.export(tmp_path / "stt.tflite", format="litert", beam_width=1)
    runner = load_tflite(path)
    assert agreement(runner.transcribe(audio, language_model=False), expected) >= 0.99
    # By default the runner decodes as `transcribe` does: with the model's own language model,
    # fused into a prefix beam search over the posteriors the file returns beside its greedy tokens.
    assert agreement(runner.transcribe(audio), model.transcribe(audio)) >= 0.99
    return runner


def test_quantized_tflite_files_against_the_float_file(trained, tmp_path):
    """float16 weights keep the float file's transcripts; int8 weights shrink the file more but
    can cost a speech model much of its accuracy (on this toy model most characters; on FSDD
    models from nothing to most words: docs/benchmarks/speech.md), so the int8 file is only
    checked to run and to transcribe every recording."""
    model = trained["ctc"]
    audio, truth = toy_corpus(24, seed=10)
    paths = {q: model.export(tmp_path / f"{q}.tflite", format="litert", beam_width=1, quantize=q or False)
             for q in (None, "float16", "int8")}
    sizes = {q: os.path.getsize(p) for q, p in paths.items()}
    assert sizes["int8"] < sizes["float16"] < sizes[None]
    outputs = {q: load_tflite(p).transcribe(audio, language_model=False) for q, p in paths.items()}
    assert agreement(outputs["float16"], outputs[None]) >= 0.99
    assert score_texts(outputs[None], truth, metrics=("cer",))["cer"] < 0.1
    assert len(outputs["int8"]) == len(audio) and all(isinstance(t, str) for t in outputs["int8"])


def test_convolutional_encoder_learns_the_toy_corpus_saves_and_exports(tmp_path):
    """The "conv" context with frequency pooling: trains (CER on held-out toy utterances), comes
    back from `.keras` with its options and the same transcripts, and its SavedModel and TFLite
    exports (Conv1D, LayerNorm and max-pool in builtin ops) agree with `transcribe`."""
    audio, texts = toy_corpus(160, seed=1)
    keras.utils.set_random_seed(0)
    model = SpeechToText(decoder="ctc", **{**TINY, "encoder_context": "conv", "encoder_layers": 2,
                                           "conv_layers": 1, "frequency_pooling": True})
    model.adapt(texts)
    model.compile(learning_rate=1e-2)
    model.fit(audio, texts, batch_size=16, epochs=25, verbose=0)
    held_out, truth = toy_corpus(40, seed=7)
    assert score_texts(model.transcribe(held_out), truth, metrics=("cer",))["cer"] < 0.1
    model.save(tmp_path / "conv.keras")
    loaded = keras.saving.load_model(tmp_path / "conv.keras")
    config = loaded.get_config()
    assert (config["encoder_context"], config["context_kernel"], config["frequency_pooling"]) == ("conv", 5, True)
    assert loaded.transcribe(held_out[:8]) == model.transcribe(held_out[:8])
    check_exports(model, tmp_path)
    with pytest.raises(ValueError, match=r"`encoder_context` must be one of \('bilstm', 'conv'\). Received: encoder_context='gru'"):
        SpeechToText(**{**TINY, "encoder_context": "gru"})


def test_bad_input_gets_clear_errors(trained):
    model = trained["ctc"]
    with pytest.raises(ValueError, match="no samples"):
        model.transcribe(np.zeros(0, "float32"))
    bad = np.zeros(800, "float32")
    bad[17] = np.nan
    with pytest.raises(ValueError, match="17"):
        model.transcribe(bad)
    with pytest.raises(ValueError, match="sample_rate"):
        model.transcribe(np.zeros(800, "float32"), sample_rate=0)
    with pytest.raises(TypeError, match="audio"):
        model.transcribe({"not": "audio"})
    with pytest.raises(ValueError, match="RIFF|WAV"):
        model.transcribe(b"this is not a wav file")
    with pytest.raises(ValueError, match="`return_attention` must be True or False"):
        model.transcribe(np.zeros(800, "float32"), return_attention=np.array([1, 2]))
    with pytest.raises(ValueError, match="decoder"):
        SpeechToText(decoder="rnnt")
    with pytest.raises(ValueError, match="ctc_weight"):
        SpeechToText(ctc_weight=1.5)
    fresh = SpeechToText(**TINY)
    with pytest.raises(ValueError, match="empty"):
        fresh.adapt(["ab", "  "])
    with pytest.raises(TypeError, match="transcripts"):
        fresh.adapt(["ab", 3])
    with pytest.raises(ValueError, match="empty"):
        model.fit([np.zeros(800, "float32")] * 2, ["ab", " "], epochs=1, verbose=0)
    with pytest.raises(TypeError, match="transcripts"):
        model.fit([np.zeros(800, "float32")] * 2, ["ab", 7], epochs=1, verbose=0)
    # One sample and pure silence give no words; clipped audio is read as it is.
    assert model.transcribe(np.zeros(1, "float32"), language_model=False) == ""
    assert model.transcribe(np.zeros(RATE, "float32"), language_model=False) == ""  # also with no space left over
    assert model.transcribe(np.zeros(RATE, "float32")) == ""  # the language model's beam search
    clipped = np.clip(4 * tone_speech("ab c", np.random.default_rng(3)), -1, 1)
    assert model.transcribe(clipped, language_model=False) == model.transcribe(clipped.astype("float64"), language_model=False)
    assert model.transcribe(np.round(clipped * 32767).astype(np.int16), language_model=False) == (
        model.transcribe(np.round(clipped * 32767) / 32768, language_model=False))


def test_ten_minutes_of_speech_are_transcribed_whole(trained):
    """Ten minutes of toy utterances and pauses: cut at silences into pieces of at most
    `max_chunk_seconds`, every piece transcribed, nothing dropped at the cuts."""
    model = trained["ctc"]
    rng = np.random.default_rng(21)
    words, parts = [], []
    while sum(len(p) for p in parts) < 600 * RATE:
        word = "".join(rng.choice(list("abc"), rng.integers(1, 3)))
        words.append(word)
        pause = 0.003 * rng.standard_normal(int(rng.uniform(0.3, 0.6) * RATE))  # the corpus's background noise
        parts += [tone_speech(word, rng), pause.astype("float32")]
    long = np.concatenate(parts)
    text, record = model.transcribe(long, language_model=False, return_attention=True)
    assert len(record["chunks"]) >= 600 / model.max_chunk_seconds
    assert score_texts([text], [" ".join(words)], metrics=("wer",))["wer"] < 0.1
    assert abs(len(text.split()) - len(words)) <= 0.05 * len(words)


def test_attention_only_model_trains_and_transcribes_with_its_decoder():
    audio, texts = toy_corpus(8, seed=12)
    model = SpeechToText(decoder="attention", **TINY)
    model.adapt(texts)
    model.compile()
    history = model.fit(audio, texts, batch_size=4, epochs=1, verbose=0)
    assert model.ctc_head is None and model.decode_with == "attention"
    assert {"loss", "wer", "cer", "token_accuracy"} <= set(history.history)
    text, record = model.transcribe(audio[0], return_attention=True)
    assert record["weights"].shape[0] == len(record["tokens"])
    with pytest.raises(ValueError, match="no CTC head"):
        model.ctc_posteriors(audio[0])


@pytest.mark.parametrize("option", ["speed_perturbation", "frequency_warp"])
def test_training_augmentations_train_and_leave_inference_unchanged(option, tmp_path):
    audio, texts = toy_corpus(8, seed=13)
    model = SpeechToText(decoder="ctc", **{**TINY, option: (0.9, 1.1)})
    model.adapt(texts)
    model.compile()
    history = model.fit(audio, texts, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    plain = SpeechToText.from_config({**model.get_config(), option: None})
    plain.build()
    plain.set_weights(model.get_weights())
    waves, lengths = pad_waveforms(audio[:3])
    np.testing.assert_array_equal(plain.ctc_posteriors(audio[:3])[0], model.ctc_posteriors(audio[:3])[0])
    memory, _, _ = model.encoder(waves, lengths, training=True)
    still, _, _ = model.encoder(waves, lengths, training=False)
    assert memory.shape[1] != still.shape[1] or not np.allclose(memory, still)  # training hears another voice
    model.save(tmp_path / "s.keras")
    assert getattr(keras.saving.load_model(tmp_path / "s.keras").encoder, option) == (0.9, 1.1)
    with pytest.raises(ValueError, match=f"`{option}` must be None or a pair of numbers"):
        SpeechToText(**{**TINY, option: (0.9, 1.0, 1.1)})


def test_fit_on_datasets_of_single_and_batched_waveforms():
    audio, texts = toy_corpus(8, seed=11)
    model = SpeechToText(decoder="ctc", **TINY)
    model.adapt(texts)
    model.compile()
    lengths = [len(a) for a in audio]
    ragged = tf.RaggedTensor.from_row_lengths(np.concatenate(audio), lengths)
    single = tf.data.Dataset.from_tensor_slices((ragged, texts)).map(lambda w, t: (w, t))  # (N,), ()
    history = model.fit(single, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    int16 = [np.round(a * 32767).astype(np.int16) for a in audio]
    waves, _ = pad_waveforms([a.astype("float32") for a in int16])
    batched = tf.data.Dataset.from_tensor_slices((waves.astype(np.int16), texts)).batch(4)  # (B, N) int16
    history = model.fit(batched, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and "cer" in history.history


def test_ljspeech_clip_at_22050_hz_is_resampled_and_transcribed(shared_data):
    from kzoo.audio import audio_inputs
    from kzoo.data import load_ljspeech

    clips = load_ljspeech(shared_data / "speech" / "ljspeech_sample")
    clip = clips["audio"][0]
    (resampled,), single = audio_inputs(clip, clips["sample_rate"], RATE)
    assert single and len(resampled) == -(-len(clip) * 320 // 882)  # 8000 / 22050 = 320 / 882
    model = SpeechToText(decoder="ctc", **{**TINY, "max_chunk_seconds": 2.0})
    model.adapt(clips["transcripts"])
    text, record = model.transcribe(clip, sample_rate=clips["sample_rate"], return_attention=True)
    from kzoo.audio import split_at_silences

    spans = split_at_silences(resampled, RATE, 2.0)
    assert len(spans) >= len(resampled) / RATE / 2.0
    assert isinstance(text, str) and len(record.get("chunks", [record])) == len(spans)
