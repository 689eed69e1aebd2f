"""Real speech data: the Free Spoken Digit Dataset, connected digit strings made from it, LJSpeech.

Free Spoken Digit Dataset (FSDD): English digits "zero" ... "nine" spoken in isolation, 8 kHz mono
16-bit WAV files named `{digit}_{speaker}_{take}.wav`, 50 takes of each digit per speaker. Cite:
Jakobovski et al., "Free Spoken Digit Dataset", https://github.com/Jakobovski/free-spoken-digit-dataset
(CC BY-SA 4.0; Zenodo DOI 10.5281/zenodo.1342401). `load_fsdd(path=None)` downloads the
repository's master-branch archive (`FSDD_URL`) into a cache folder once.

`connected_digits` joins FSDD clips of one speaker into digit strings ("four two nine"), the way
connected-digit corpora such as TIDIGITS (Leonard & Doddington 1993, LDC93S10) are read: each clip
trimmed to its speech by an energy threshold, pauses between the words, a little white noise over
the whole utterance.

LJSpeech 1.1: 13,100 clips of one reader (Linda Johnson) reading non-fiction books, 22,050 Hz mono
16-bit, with `metadata.csv` lines `id|raw transcript|normalized transcript`. Public domain. Cite:
Keith Ito and Linda Johnson, "The LJ Speech Dataset", 2017, https://keithito.com/LJ-Speech-Dataset/.
`load_ljspeech(path=None)` downloads and extracts the release (`LJSPEECH_URL`, 2.6 GB) once.

Example (needs the folder or the network):

    fsdd = load_fsdd("../shared/data/speech/fsdd")
    strings = connected_digits(fsdd, num_utterances=100, max_digits=4, seed=0)
    strings["transcripts"][0]  # e.g. "four two nine"
"""

import os
import re
import shutil
import tarfile
import urllib.request
import zipfile

import numpy as np

from kzoo.audio.waveforms import read_wav
from kzoo.export.atomic import atomic_path

__all__ = [
    "DIGIT_WORDS",
    "load_fsdd",
    "connected_digits",
    "load_ljspeech",
    "FSDD_URL",
    "LJSPEECH_URL",
]

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
FSDD_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/heads/master.zip"
LJSPEECH_URL = "https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2"
_CACHE = os.path.join(os.path.expanduser("~"), ".kzoo", "datasets")
_FSDD_NAME = re.compile(r"^(\d)_([^_/\\]+)_(\d+)\.wav$")  # {digit}_{speaker}_{take}.wav
_FSDD_RATE = 8000
_LJSPEECH_RATE = 22050
# Trimming: 10 ms frames; a frame is speech when its energy is within 35 dB of the clip's loudest
# frame. FSDD's own trimming leaves up to ~0.1 s of room noise at 30-60 dB below the word.
_TRIM_FRAME_S = 0.010
_TRIM_DB = 35.0
_EDGE_S = 0.010  # silence before the first and after the last word of a connected string


def _fetch(url, path, what):
    """Stream `url` into the file `path` (atomically); an error says how to do without the network."""
    request = urllib.request.Request(url, headers={"User-Agent": "Mozilla/5.0 (kzoo data loader)"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response, atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                shutil.copyfileobj(response, f, 1 << 20)
    except OSError as error:
        raise OSError(
            f"Could not download {what} from {url} ({error}). Download it by hand, extract it and "
            "pass `path=` to the extracted folder."
        ) from error


def _download_fsdd(cache_dir):
    folder = os.path.join(cache_dir, "recordings")
    if os.path.isdir(folder):  # written by one rename: present means complete
        return cache_dir
    archive_path = os.path.join(cache_dir, "free-spoken-digit-dataset-master.zip")
    _fetch(FSDD_URL, archive_path, "the Free Spoken Digit Dataset")
    with zipfile.ZipFile(archive_path) as archive, atomic_path(folder) as tmp:
        os.makedirs(tmp)
        for name in archive.namelist():
            parts = name.split("/")  # free-spoken-digit-dataset-master/recordings/7_jackson_32.wav
            if len(parts) >= 2 and parts[-2] == "recordings" and _FSDD_NAME.match(parts[-1]):
                with open(os.path.join(tmp, parts[-1]), "wb") as f:
                    f.write(archive.read(name))
    os.remove(archive_path)
    return cache_dir


def load_fsdd(path=None, cache_dir=None):
    """The Free Spoken Digit Dataset: every recording with its digit, word and speaker.

    Args:
        path: a folder holding `recordings/*.wav`, or the `{digit}_{speaker}_{take}.wav` files
            themselves (e.g. `../shared/data/speech/fsdd`); None downloads the dataset from its
            public GitHub location (`FSDD_URL`) into `cache_dir` once.
        cache_dir: where the download is kept; default `~/.kzoo/datasets/fsdd`.

    Returns:
        A dict with `audio` (list of 1-D float32 arrays in [-1, 1]), `sample_rate` (8000),
        `digits` (int array), `transcripts` (list of words, e.g. "seven"), `speakers` (list of
        str) and `paths` (list of str), sorted by speaker, then digit, then take number.

    Example (needs the folder or the network):

        fsdd = load_fsdd("../shared/data/speech/fsdd")
        fsdd["transcripts"][0], fsdd["speakers"][0]  # ("zero", "george")
    """
    if path is None:
        path = _download_fsdd(cache_dir or os.path.join(_CACHE, "fsdd"))
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"`path` must be a folder of FSDD recordings. Received: path={path!r}")
    folder = os.path.join(path, "recordings") if os.path.isdir(os.path.join(path, "recordings")) else path
    found = []
    for name in os.listdir(folder):
        match = _FSDD_NAME.match(name)
        if match:
            digit, speaker, take = match.groups()
            found.append((speaker, int(digit), int(take), os.path.join(folder, name)))
    if not found:
        raise FileNotFoundError(
            "`path` holds no FSDD recordings: expected `{digit}_{speaker}_{take}.wav` files in it or in "
            f"its `recordings/` folder. Received: path={path!r}"
        )
    found.sort()
    audio = []
    for *_, file in found:
        samples, rate = read_wav(file)
        if rate != _FSDD_RATE:
            raise ValueError(f"FSDD recordings are {_FSDD_RATE} Hz; {file!r} is {rate} Hz.")
        audio.append(samples)
    return {
        "audio": audio,
        "sample_rate": _FSDD_RATE,
        "digits": np.array([digit for _, digit, _, _ in found], np.int64),
        "transcripts": [DIGIT_WORDS[digit] for _, digit, _, _ in found],
        "speakers": [speaker for speaker, *_ in found],
        "paths": [file for *_, file in found],
    }


def _trim_silence(samples, sample_rate):
    """`samples` from the first to the last 10 ms frame within `_TRIM_DB` of the loudest frame."""
    frame = max(1, round(_TRIM_FRAME_S * sample_rate))
    count = -(-len(samples) // frame)
    padded = np.zeros(count * frame, np.float64)
    padded[: len(samples)] = samples
    energy = (padded.reshape(count, frame) ** 2).mean(axis=1)  # (count,)
    if energy.max() == 0:
        return samples[:0]
    loud = np.flatnonzero(energy >= energy.max() * 10 ** (-_TRIM_DB / 10))
    return samples[loud[0] * frame : min(len(samples), (loud[-1] + 1) * frame)]


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def connected_digits(
    fsdd,
    num_utterances,
    min_digits=1,
    max_digits=7,
    speakers=None,
    pause_ms=(50, 400),
    noise_snr_db=30.0,
    seed=0,
):
    """Connected digit strings ("four two nine") made of FSDD clips, one speaker per string.

    Each string picks a speaker at random, a number of digits uniformly in
    `[min_digits, max_digits]`, each digit uniformly, and for each digit one of that speaker's
    takes. Each clip is trimmed to the 10 ms frames within 35 dB of its loudest frame; the clips are
    joined with pauses of uniform random length in `pause_ms`, with 10 ms of silence before the
    first and after the last, and white noise at `noise_snr_db` below the speech's mean power is
    added over the whole string.

    Args:
        fsdd: the dict of `load_fsdd`.
        num_utterances: number of strings, a positive int.
        min_digits: least number of digits in a string, an int >= 1.
        max_digits: most number of digits in a string, an int >= `min_digits`.
        speakers: the FSDD speakers to draw from (e.g. the training speakers); None for all.
        pause_ms: `(low, high)` bounds of the pause between two digits, in milliseconds.
        noise_snr_db: signal-to-noise ratio of the added white noise in dB; None adds none.
        seed: seed of the generator; the same seed gives the same strings.

    Returns:
        A dict with `audio` (list of 1-D float32 arrays), `sample_rate`, `transcripts` (words
        separated by single spaces), `speakers` (list of str), `digits` (list of lists of int) and
        `paths` (for each string, the FSDD clips it is made of).

    Example (needs the folder):

        fsdd = load_fsdd("../shared/data/speech/fsdd")
        strings = connected_digits(fsdd, 10, min_digits=2, max_digits=4, speakers=["george", "lucas"])
        strings["digits"][0], strings["transcripts"][0]  # e.g. ([4, 2, 9], "four two nine")
    """
    if not isinstance(fsdd, dict) or not {"audio", "digits", "speakers", "sample_rate"} <= set(fsdd):
        raise ValueError(
            "`fsdd` must be the dict returned by `load_fsdd` (keys audio, digits, speakers, sample_rate). "
            f"Received: fsdd of type {type(fsdd).__name__}"
        )
    if not _is_int(num_utterances) or num_utterances < 1:
        raise ValueError(f"`num_utterances` must be a positive int. Received: num_utterances={num_utterances!r}")
    if not _is_int(min_digits) or min_digits < 1:
        raise ValueError(f"`min_digits` must be an int >= 1. Received: min_digits={min_digits!r}")
    if not _is_int(max_digits) or max_digits < min_digits:
        raise ValueError(
            f"`max_digits` must be an int >= min_digits={min_digits}. Received: max_digits={max_digits!r}"
        )
    if (
        not isinstance(pause_ms, (tuple, list))
        or len(pause_ms) != 2
        or not all(isinstance(p, (int, float, np.number)) and not isinstance(p, bool) for p in pause_ms)
        or not 0 <= pause_ms[0] <= pause_ms[1]
    ):
        raise ValueError(f"`pause_ms` must be a pair `(low, high)` with 0 <= low <= high. Received: pause_ms={pause_ms!r}")
    if noise_snr_db is not None and (
        not isinstance(noise_snr_db, (int, float, np.number)) or isinstance(noise_snr_db, bool) or not np.isfinite(noise_snr_db)
    ):
        raise ValueError(f"`noise_snr_db` must be a finite number or None. Received: noise_snr_db={noise_snr_db!r}")
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative int. Received: seed={seed!r}")
    available = sorted(set(fsdd["speakers"]))
    chosen = available if speakers is None else [speakers] if isinstance(speakers, str) else list(speakers)
    unknown = sorted(set(chosen) - set(available))
    if not chosen or unknown:
        raise ValueError(
            f"`speakers` must be a non-empty list of FSDD speakers ({', '.join(available)}) or None; "
            f"unknown: {unknown}. Received: speakers={speakers!r}"
        )
    chosen = sorted(set(chosen))
    rate = fsdd["sample_rate"]
    takes = {}  # (speaker, digit) -> indices of the clips
    for index, (speaker, digit) in enumerate(zip(fsdd["speakers"], fsdd["digits"])):
        takes.setdefault((speaker, int(digit)), []).append(index)
    paths = fsdd.get("paths")
    rng = np.random.default_rng([seed, 0x5EEC4])
    noise_rng = np.random.default_rng([seed, 0x5EEC4, 1])  # its own stream: the same strings with or without noise
    edge = np.zeros(round(_EDGE_S * rate), np.float32)
    trimmed = {}
    out = {"audio": [], "sample_rate": rate, "transcripts": [], "speakers": [], "digits": [], "paths": []}
    for _ in range(num_utterances):
        speaker = chosen[rng.integers(len(chosen))]
        digits = rng.integers(0, 10, size=rng.integers(min_digits, max_digits + 1)).tolist()
        clips, used = [], []
        for digit in digits:
            candidates = takes.get((speaker, digit))
            if not candidates:
                raise ValueError(f"Speaker {speaker!r} has no recording of digit {digit} in `fsdd`.")
            index = candidates[rng.integers(len(candidates))]
            if index not in trimmed:
                trimmed[index] = _trim_silence(fsdd["audio"][index], rate)
            clips.append(trimmed[index])
            used.append(paths[index] if paths is not None else index)
        pauses = rng.uniform(pause_ms[0], pause_ms[1], size=len(digits) - 1)
        pieces = [edge]
        for clip, pause in zip(clips, list(pauses) + [None]):
            pieces.append(clip)
            if pause is not None:
                pieces.append(np.zeros(round(pause * rate / 1000), np.float32))
        pieces.append(edge)
        audio = np.concatenate(pieces)
        if noise_snr_db is not None:
            power = np.mean(np.concatenate(clips).astype(np.float64) ** 2)
            noise = noise_rng.standard_normal(len(audio)) * np.sqrt(power * 10 ** (-noise_snr_db / 10))
            audio = audio + noise.astype(np.float32)
        out["audio"].append(np.clip(audio, -1.0, 1.0).astype(np.float32))
        out["transcripts"].append(" ".join(DIGIT_WORDS[d] for d in digits))
        out["speakers"].append(speaker)
        out["digits"].append(digits)
        out["paths"].append(used)
    return out


def _download_ljspeech(cache_dir):
    folder = os.path.join(cache_dir, "LJSpeech-1.1")
    if os.path.isdir(folder):  # written by one rename: present means complete
        return folder
    archive_path = os.path.join(cache_dir, "LJSpeech-1.1.tar.bz2")
    _fetch(LJSPEECH_URL, archive_path, "LJSpeech 1.1")
    with tarfile.open(archive_path, "r:bz2") as archive, atomic_path(folder) as tmp:
        os.makedirs(os.path.join(tmp, "wavs"))
        for member in archive:  # LJSpeech-1.1/metadata.csv, LJSpeech-1.1/wavs/LJ001-0001.wav
            parts = member.name.split("/")
            if not member.isfile():
                continue
            if parts[-1] == "metadata.csv" or (len(parts) >= 2 and parts[-2] == "wavs" and parts[-1].endswith(".wav")):
                target = os.path.join(tmp, "wavs" if parts[-2] == "wavs" else "", parts[-1])
                with archive.extractfile(member) as source, open(target, "wb") as f:
                    shutil.copyfileobj(source, f, 1 << 20)
    os.remove(archive_path)
    return folder


def load_ljspeech(path=None, cache_dir=None, limit=None):
    """LJSpeech 1.1 clips with their normalized transcripts.

    Args:
        path: a folder with `metadata.csv` (`id|raw|normalized` per line) and `wavs/{id}.wav`
            (e.g. `../shared/data/speech/ljspeech_sample`); None downloads and extracts the
            release (`LJSPEECH_URL`, 2.6 GB) into `cache_dir` once.
        cache_dir: where the download is kept; default `~/.kzoo/datasets/ljspeech`.
        limit: read only the first `limit` clips of the metadata (the full set is ~24 hours,
            7.6 GB as float32); None reads all.

    Returns:
        A dict with `audio` (list of 1-D float32 arrays in [-1, 1]), `sample_rate` (22050),
        `transcripts` (the normalized column: numbers and abbreviations spelled out) and `ids`,
        in metadata order.

    Example (needs the folder or the network):

        lj = load_ljspeech("../shared/data/speech/ljspeech_sample")
        lj["ids"][0], lj["transcripts"][1]  # ("LJ001-0001", "in being comparatively modern.")
    """
    if limit is not None and (not _is_int(limit) or limit < 1):
        raise ValueError(f"`limit` must be a positive int or None. Received: limit={limit!r}")
    if path is None:
        path = _download_ljspeech(cache_dir or os.path.join(_CACHE, "ljspeech"))
    path = os.fspath(path)
    metadata = os.path.join(path, "metadata.csv")
    if not os.path.isfile(metadata):
        raise FileNotFoundError(f"`path` must be a folder with `metadata.csv` and `wavs/`. Received: path={path!r}")
    out = {"audio": [], "sample_rate": _LJSPEECH_RATE, "transcripts": [], "ids": []}
    # Not the csv module: transcripts hold unbalanced quotes; fields are separated by "|" only.
    with open(metadata, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            fields = line.rstrip("\r\n").split("|")
            if len(fields) != 3:
                raise ValueError(f"Each line of metadata.csv must be `id|raw|normalized`. Received: line {number}: {line[:80]!r}")
            samples, rate = read_wav(os.path.join(path, "wavs", fields[0] + ".wav"))
            if rate != _LJSPEECH_RATE:
                raise ValueError(f"LJSpeech clips are {_LJSPEECH_RATE} Hz; {fields[0]}.wav is {rate} Hz.")
            out["audio"].append(samples)
            out["transcripts"].append(fields[2])
            out["ids"].append(fields[0])
            if limit is not None and len(out["ids"]) == limit:
                break
    return out
