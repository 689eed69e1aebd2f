"""An embedded spoken-digit corpus: the ten English digit words from a small formant synthesiser.

Speech training and tests need audio that is there without a download. This corpus is generated
by our own code: a source-filter formant synthesiser after Klatt (1980), "Software for a
cascade/parallel formant synthesizer", JASA 67(3):971-995, reduced to what digits need.

- Source: a glottal pulse train at the fundamental frequency f0 (the derivative of a Rosenberg
  (1971) pulse, "Effect of glottal pulse shape on the quality of natural vowels", JASA 49:583-590:
  opening over 40% of the period, closing over 16%), with jitter (a slow random wobble of f0) and
  a falling pitch over the word; aspiration noise; frication noise.
- Filter: the voiced source and aspiration pass through three cascaded second-order resonators at
  the formants F1-F3 with their bandwidths (Klatt's cascade branch); frication noise passes
  through one resonator of its own at the fricative's centre frequency (his parallel branch).
- Each word is a short sequence of phoneme-like segments with formant targets, duration, and
  voicing / aspiration / frication levels ("six" = /s/ noise, vowel /ɪ/, /k/ closure and burst,
  /s/ noise). Formants move linearly between the middle 40% of neighbouring segments; levels
  change over 8 ms ramps. Vowel formants are male averages of Hillenbrand, Getty, Clark & Wheeler
  (1995), "Acoustic characteristics of American English vowels", JASA 97(5):3099-3111; consonant
  loci follow Klatt (1980), Table III.

A speaker is a pitch (f0 85-260 Hz), a speaking rate (0.8-1.25), a vocal-tract scale of all
formants (0.85-1.2, higher for higher voices, as for women and children), jitter, breathiness and
a background-noise level. Every token also varies: its pitch, rate, segment durations and formant
targets are perturbed by a few percent. "train" and "test" draw their speakers from different
random streams, so the test speakers are held out.

Utterances are 1 to 4 words (by default) separated by pauses of 30-250 ms, with 20-80 ms of
silence before and after, white noise at the speaker's signal-to-noise ratio, peak-normalised to
0.5-0.9. The corpus is a pure function of `(split, min_words, max_words, sample_rate, seed)`; the
first `n` utterances do not depend on `num_utterances`. 1,000 utterances (24 minutes of audio at
8 kHz) take about 2.5 seconds on one CPU core.

Examples:
    >>> corpus = load_spoken_digits("train", num_utterances=3, seed=0)
    >>> corpus["sample_rate"], len(corpus["audio"]), corpus["audio"][0].dtype
    (8000, 3, dtype('float32'))
    >>> all(w in DIGIT_WORDS for t in corpus["transcripts"] for w in t.split())
    True
"""

import random

import numpy as np

from kzoo.data.speech import DIGIT_WORDS

__all__ = ["load_spoken_digits"]

# === Segments ===
# name: (voicing AV, aspiration AH, frication AF, (F1, F2, F3) Hz, (B1, B2, B3) Hz, (frication
# centre, bandwidth) Hz). Levels are linear amplitudes of the three sources; formants are for an
# adult male vocal tract (scale 1.0).
_V, _SIB, _FLAT = (60, 90, 150), (4500, 900), (2800, 3000)  # vowel bandwidths; /s/ and /f/ noise
_SEGMENTS = {
    "iy": (1.0, 0, 0, (340, 2320, 3000), _V, _FLAT),
    "ih": (1.0, 0, 0, (430, 2030, 2680), _V, _FLAT),
    "eh": (1.0, 0, 0, (580, 1800, 2600), _V, _FLAT),
    "ah": (1.0, 0, 0, (620, 1200, 2550), _V, _FLAT),
    "ax": (0.8, 0, 0, (500, 1400, 2500), _V, _FLAT),  # the reduced vowel of "seven"
    "ao": (1.0, 0, 0, (650, 1000, 2540), _V, _FLAT),
    "aa": (1.0, 0, 0, (770, 1330, 2520), _V, _FLAT),  # onset of /aɪ/
    "ay": (1.0, 0, 0, (450, 1950, 2600), _V, _FLAT),  # offset of /aɪ/
    "ey": (1.0, 0, 0, (480, 2000, 2650), _V, _FLAT),  # onset of /eɪ/
    "iy2": (0.9, 0, 0, (360, 2250, 2900), _V, _FLAT),  # offset of /eɪ/
    "ow": (1.0, 0, 0, (540, 1000, 2450), _V, _FLAT),  # onset of /oʊ/
    "uh": (0.9, 0, 0, (400, 850, 2350), _V, _FLAT),  # offset of /oʊ/
    "ux": (1.0, 0, 0, (360, 1450, 2350), _V, _FLAT),  # fronted onset of /u/ in "two"
    "uw": (0.9, 0, 0, (330, 950, 2300), _V, _FLAT),
    "er": (0.9, 0, 0, (470, 1350, 1700), _V, _FLAT),  # the r-coloured end of "four"
    "w": (0.7, 0, 0, (300, 650, 2200), (70, 90, 150), _FLAT),
    "r": (0.8, 0, 0, (340, 1100, 1500), (70, 100, 120), _FLAT),
    "n": (0.45, 0, 0, (260, 1500, 2500), (60, 300, 350), _FLAT),  # nasal murmur: low F1, damped F2/F3
    "v": (0.35, 0, 0.12, (300, 1200, 2300), (80, 150, 200), _FLAT),
    "z": (0.35, 0, 0.45, (250, 1400, 2500), (80, 150, 200), _SIB),
    "f": (0, 0, 0.2, (340, 1100, 2100), _V, _FLAT),
    "th": (0, 0, 0.16, (320, 1300, 2550), _V, (3300, 2200)),
    "s": (0, 0, 0.9, (320, 1400, 2550), _V, _SIB),
    "cl": (0, 0, 0, (250, 1800, 2700), _V, _FLAT),  # stop closure: silence
    "t": (0, 0, 1.0, (250, 1800, 2700), _V, (3800, 1500)),  # alveolar burst
    "k": (0, 0, 0.8, (300, 2000, 2400), _V, (2200, 800)),  # front velar burst
    "hu": (0, 0.5, 0, (380, 1450, 2350), (90, 120, 200), _FLAT),  # aspiration into "two"'s vowel
    "h": (0, 0.25, 0, (400, 1800, 2600), (90, 120, 200), _FLAT),  # release of a final /t/
}
# Each digit word as (segment, duration in ms at speaking rate 1.0).
_WORDS = (
    (("z", 80), ("ih", 70), ("r", 70), ("ow", 110), ("uh", 110)),  # zero
    (("w", 80), ("ah", 150), ("n", 100)),  # one
    (("t", 15), ("hu", 50), ("ux", 120), ("uw", 130)),  # two
    (("th", 110), ("r", 60), ("iy", 220)),  # three
    (("f", 120), ("ao", 170), ("er", 110)),  # four
    (("f", 110), ("aa", 120), ("ay", 100), ("v", 70)),  # five
    (("s", 130), ("ih", 100), ("cl", 60), ("k", 25), ("s", 140)),  # six
    (("s", 110), ("eh", 110), ("v", 60), ("ax", 60), ("n", 100)),  # seven
    (("ey", 110), ("iy2", 100), ("cl", 60), ("t", 15), ("h", 30)),  # eight
    (("n", 80), ("aa", 130), ("ay", 100), ("n", 110)),  # nine
)

# === Speakers and variation ===
_SPEAKERS = {"train": 40, "test": 10}  # speakers per split, each split from its own stream: 40 to generalise from, 10 held out
_F0 = (85.0, 260.0)  # Hz, drawn log-uniformly
_RATE = (0.8, 1.25)  # speaking rate: durations are divided by it
_SCALE = (0.85, 1.2)  # vocal-tract scale: formants and frication centres are multiplied by it
_SNR_DB = (20.0, 45.0)  # background white noise below the speech's mean power
_JITTER = (0.005, 0.02)  # standard deviation of the f0 wobble, relative
_BREATHINESS = (0.0, 0.15)  # aspiration level added in proportion to voicing
_TOKEN_SPREAD = 0.05  # relative spread of a token's pitch and rate
_SEGMENT_SPREAD = (0.10, 0.03)  # relative spread of each segment's duration and formants
_DECLINATION = (0.12, 0.25)  # f0 falls from (1 + d/2) to (1 - d/2) over a word
_PAUSE_S = (0.03, 0.25)  # between words, seconds: from run together to a clear break
_EDGE_S = (0.02, 0.08)  # silence before the first and after the last word, seconds
_PEAK = (0.5, 0.9)  # peak amplitude of an utterance: varied levels, never clipped
_FORMANT_SHARE = 0.3  # formants hold their target over the middle 40% of a segment
_RAMP_S = 0.008  # levels change over 8 ms
_TAIL_S = 0.03  # after a word's last segment, to let the resonators ring out
_CONTROL_S = 0.002  # filter coefficients are updated every 2 ms (Klatt used 5 ms frames)
_BATCH = 256  # words filtered together; longest first, so a batch holds words of similar length


def _speakers(split, seed):
    """Parameters of the split's speakers, from the split's own random stream."""
    rng = random.Random(f"kzoo.data.spoken_digits/speakers/{split}/{seed}")
    speakers = []
    for k in range(_SPEAKERS[split]):
        height = rng.random()  # position of f0 in its range, log scale
        f0 = _F0[0] * (_F0[1] / _F0[0]) ** height
        scale_position = min(1.0, max(0.0, height + rng.gauss(0, 0.2)))  # higher voices, shorter tracts
        speakers.append({
            "id": f"{split}{k:02d}",
            "f0": f0,
            "rate": rng.uniform(*_RATE),
            "scale": _SCALE[0] + (_SCALE[1] - _SCALE[0]) * scale_position,
            "snr_db": rng.uniform(*_SNR_DB),
            "jitter": rng.uniform(*_JITTER),
            "breathiness": rng.uniform(*_BREATHINESS),
        })
    return speakers


def _rosenberg_derivative(size=4096):
    """One period of the derivative of a Rosenberg (1971) glottal pulse, sampled at `size` phases."""
    phase = np.arange(size) / size
    opening, closing = 0.40, 0.16  # shares of the period
    rising = np.pi / (2 * opening) * np.sin(np.pi * phase / opening)
    falling = -np.pi / (2 * closing) * np.sin(np.pi * (phase - opening) / (2 * closing))
    pulse = np.where(phase < opening, rising, np.where(phase < opening + closing, falling, 0.0))
    return pulse / np.sqrt(np.mean(pulse**2))  # unit power


_PULSE = _rosenberg_derivative()


def _glottal_pulses(f0, rng, jitter, sample_rate):
    """A glottal pulse train (unit power) following the per-sample contour `f0`, with jitter."""
    # Jitter: f0 times a smooth random factor, a new value every 10 ms, linearly interpolated.
    step = sample_rate / 100
    knots = rng.standard_normal(int(len(f0) / step) + 2) * jitter
    f0 = f0 * (1 + np.interp(np.arange(len(f0)) / step, np.arange(len(knots)), knots))
    phase = (np.cumsum(f0 / sample_rate) + rng.uniform()) % 1.0  # position in the period, 0 to 1
    return _PULSE[(phase * len(_PULSE)).astype(np.int64) % len(_PULSE)]


def _word_plan(digit, speaker, rng, sample_rate):
    """Per-sample sources and per-control-step resonator coefficients of one spoken word.

    Returns `(sources, coefficients)`: `sources` (T, 2), frication and voiced inputs;
    `coefficients` (3, ceil(T / hop), 4), the `a, b, c` of the frication resonator and F1-F3.
    """
    segments = _WORDS[digit]
    rate = speaker["rate"] * np.exp(rng.normal(0, _TOKEN_SPREAD))
    durations = np.array([d for _, d in segments]) / 1000 / rate * np.exp(rng.normal(0, _SEGMENT_SPREAD[0], len(segments)))
    table = [_SEGMENTS[name] for name, _ in segments]
    levels = np.array([t[:3] for t in table], np.float64)  # (S, 3): AV, AH, AF
    formants = np.array([t[3] + t[4] + t[5] for t in table], np.float64)  # (S, 8): F1-3, B1-3, Ffric, Bfric
    formants[:, :3] *= speaker["scale"] * np.exp(rng.normal(0, _SEGMENT_SPREAD[1], (len(segments), 3)))
    formants[:, 6] *= speaker["scale"]
    formants[:, [0, 1, 2, 6]] = np.minimum(formants[:, [0, 1, 2, 6]], 0.45 * sample_rate)
    ends = np.cumsum(durations)
    starts = ends - durations
    total = ends[-1] + _TAIL_S
    hop = max(1, round(_CONTROL_S * sample_rate))
    length = int(np.ceil(total * sample_rate / hop)) * hop
    t = np.arange(length) / sample_rate  # (T,)
    t_control = (np.arange(length // hop) + 0.5) * hop / sample_rate  # (T / hop,)

    # Levels: flat over each segment but for 8 ms ramps, from and to silence at the word's ends.
    ramp = np.minimum(_RAMP_S, durations / 2)
    level_times = np.concatenate([[0.0], np.ravel(np.stack([starts + ramp / 2, ends - ramp / 2], 1)), [ends[-1] + _RAMP_S / 2]])
    level_values = np.concatenate([np.zeros((1, 3)), np.repeat(levels, 2, axis=0), np.zeros((1, 3))])
    av, ah, af = (np.interp(t, level_times, level_values[:, k]) for k in range(3))
    ah = ah + speaker["breathiness"] * av

    # Formants: hold over the middle of each segment, linear transitions between.
    formant_times = np.ravel(np.stack([starts + _FORMANT_SHARE * durations, ends - _FORMANT_SHARE * durations], 1))
    tracks = np.stack([np.interp(t_control, formant_times, np.repeat(formants[:, k], 2)) for k in range(6)], 1)
    fric = np.stack([np.interp(t_control, level_times[1:-1], np.repeat(formants[:, k], 2)) for k in (6, 7)], 1)
    frequencies = np.concatenate([fric[:, :1], tracks[:, :3]], 1)  # (T / hop, 4)
    bandwidths = np.concatenate([fric[:, 1:], tracks[:, 3:]], 1)
    radius = np.exp(-np.pi * bandwidths / sample_rate)
    angle = 2 * np.pi * frequencies / sample_rate
    b = 2 * radius * np.cos(angle)
    c = -radius**2
    a = 1 - b - c  # unit gain at 0 Hz for the cascade (Klatt 1980, eq. 2)
    # Unit gain at the centre frequency for the frication resonator, so AF is its level there.
    a[:, 0] = (1 - radius[:, 0]) * np.sqrt(1 - 2 * radius[:, 0] * np.cos(2 * angle[:, 0]) + radius[:, 0] ** 2)

    f0 = speaker["f0"] * np.exp(rng.normal(0, _TOKEN_SPREAD))
    declination = rng.uniform(*_DECLINATION)
    f0 = f0 * (1 + declination / 2 - declination * t / total)
    noise = rng.standard_normal((2, length))
    voiced = av * _glottal_pulses(f0, rng, speaker["jitter"], sample_rate) + ah * noise[1]
    return np.stack([af * noise[0], voiced], 1), np.stack([a, b, c])  # (T, 2), (3, T / hop, 4)


def _filter(sources, coefficients, hop):
    """Run the resonators of a batch of words; returns the summed outputs, `(T, B)`.

    `sources` (T, 2, B): frication and voiced inputs; `coefficients` (3, T / hop, 4, B). The four
    resonators (frication, F1, F2, F3) run as one `(4, B)` recursion: F2 takes F1's output of the
    previous sample and F3 F2's, so one step updates every resonator of every word at once; the
    cascade is delayed by two samples, nothing else changes.
    """
    a, b, c = coefficients
    length, _, batch = sources.shape
    out = np.empty((length, batch))
    x = np.zeros((4, batch))
    y1 = np.zeros((4, batch))
    y2 = np.zeros((4, batch))
    for k in range(length // hop):
        ak, bk, ck = a[k], b[k], c[k]
        for n in range(k * hop, (k + 1) * hop):
            x[:2] = sources[n]
            x[2:] = y1[1:3]
            y = ak * x
            y += bk * y1
            y += ck * y2
            y1, y2 = y, y1
            np.add(y[0], y[3], out=out[n])
    return out


def _synthesise(words, sample_rate):
    """Audio of each `(digit, speaker, seed)` word, filtered in batches of similar length."""
    plans = [_word_plan(digit, speaker, np.random.default_rng(seed), sample_rate) for digit, speaker, seed in words]
    hop = max(1, round(_CONTROL_S * sample_rate))
    order = sorted(range(len(plans)), key=lambda i: -len(plans[i][0]))
    audio = [None] * len(plans)
    for first in range(0, len(order), _BATCH):
        batch = order[first : first + _BATCH]
        length = len(plans[batch[0]][0])
        sources = np.zeros((len(batch), length, 2))
        coefficients = np.zeros((len(batch), 3, length // hop, 4))  # zeros past a word's end: silence
        for row, i in enumerate(batch):
            source, coefficient = plans[i]
            sources[row, : len(source)] = source
            coefficients[row, :, : coefficient.shape[1]] = coefficient
        # (T, 2, B) and (3, T / hop, 4, B): one step of the recursion reads contiguous memory.
        out = _filter(np.ascontiguousarray(sources.transpose(1, 2, 0)), np.ascontiguousarray(coefficients.transpose(1, 2, 3, 0)), hop)
        for column, i in enumerate(batch):
            audio[i] = out[: len(plans[i][0]), column].copy()  # not a view holding the whole batch
    return audio


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def load_spoken_digits(split="train", num_utterances=1000, min_words=1, max_words=4, sample_rate=8000, seed=0):
    """Generated utterances of English digit words ("four two nine") from synthetic speakers.

    Args:
        split: "train" or "test"; the two splits have disjoint speakers drawn from different
            random streams.
        num_utterances: number of utterances, a positive int.
        min_words: least number of digit words in an utterance, an int >= 1.
        max_words: most number of digit words in an utterance, an int >= `min_words`.
        sample_rate: samples per second, an int in [8000, 48000].
        seed: seed of the generator; the same arguments give the same corpus.

    Returns:
        A dict with `audio` (list of 1-D float32 arrays, peak 0.5-0.9), `sample_rate`,
        `transcripts` (digit words separated by single spaces), `speakers` (speaker ids such as
        "train07" / "test03") and `digits` (list of lists of int).

    Examples:
        >>> words = load_spoken_digits("test", num_utterances=2, min_words=1, max_words=1, seed=1)
        >>> len(words["audio"]), len(words["transcripts"][0].split())
        (2, 1)
    """
    if split not in _SPEAKERS:
        raise ValueError(f"`split` must be 'train' or 'test'. Received: split={split!r}")
    if not _is_int(num_utterances) or num_utterances < 1:
        raise ValueError(f"`num_utterances` must be a positive int. Received: num_utterances={num_utterances!r}")
    if not _is_int(min_words) or min_words < 1:
        raise ValueError(f"`min_words` must be an int >= 1. Received: min_words={min_words!r}")
    if not _is_int(max_words) or max_words < min_words:
        raise ValueError(f"`max_words` must be an int >= min_words={min_words}. Received: max_words={max_words!r}")
    if not _is_int(sample_rate) or not 8000 <= sample_rate <= 48000:
        raise ValueError(f"`sample_rate` must be an int in [8000, 48000]. Received: sample_rate={sample_rate!r}")
    if not _is_int(seed):
        raise ValueError(f"`seed` must be an int. Received: seed={seed!r}")
    speakers = _speakers(split, seed)
    rng = random.Random(f"kzoo.data.spoken_digits/utterances/{split}/{seed}")
    plans, words = [], []
    for _ in range(num_utterances):  # every draw in utterance order: the first n never depend on the rest
        speaker = rng.choice(speakers)
        digits = [rng.randrange(10) for _ in range(rng.randint(min_words, max_words))]
        first = len(words)
        words += [(digit, speaker, rng.getrandbits(64)) for digit in digits]
        pauses = [rng.uniform(*_PAUSE_S) for _ in digits[1:]]
        plans.append((speaker, digits, first, pauses, rng.uniform(*_EDGE_S), rng.uniform(*_EDGE_S), rng.uniform(*_PEAK), rng.getrandbits(64)))
    spoken = _synthesise(words, sample_rate)
    out = {"audio": [], "sample_rate": sample_rate, "transcripts": [], "speakers": [], "digits": []}
    for speaker, digits, first, pauses, lead, trail, peak, noise_seed in plans:
        pieces = [np.zeros(round(lead * sample_rate))]
        for k, word in enumerate(spoken[first : first + len(digits)]):
            if k:
                pieces.append(np.zeros(round(pauses[k - 1] * sample_rate)))
            pieces.append(word)
        pieces.append(np.zeros(round(trail * sample_rate)))
        audio = np.concatenate(pieces)
        power = np.mean(np.concatenate(spoken[first : first + len(digits)]) ** 2)
        audio += np.random.default_rng(noise_seed).standard_normal(len(audio)) * np.sqrt(power * 10 ** (-speaker["snr_db"] / 10))
        out["audio"].append((audio * (peak / np.abs(audio).max())).astype(np.float32))
        out["transcripts"].append(" ".join(DIGIT_WORDS[d] for d in digits))
        out["speakers"].append(speaker["id"])
        out["digits"].append(digits)
    return out
