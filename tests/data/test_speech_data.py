"""Speech data: FSDD, connected digit strings, LJSpeech, and the generated spoken-digit corpus."""

import csv
import functools
import io
import tarfile
import urllib.request
import wave
import zipfile

import numpy as np
import pytest
from scipy import signal
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kzoo.data import DIGIT_WORDS, connected_digits, load_fsdd, load_ljspeech, load_spoken_digits
from kzoo.data import speech, spoken_digits


@functools.lru_cache(maxsize=1)
def _shared_fsdd(folder):
    return load_fsdd(folder)


@pytest.fixture
def fsdd(shared_data):
    """The shared FSDD copy, read once for the module."""
    return _shared_fsdd(str(shared_data / "speech" / "fsdd"))


def _wav_bytes(samples, rate, width=2, channels=1):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(np.asarray(samples, "<i2" if width == 2 else np.uint8).tobytes())
    return buffer.getvalue()


class _Response(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False


# === FSDD ===


def test_shared_fsdd_has_every_clip_with_its_word_and_speaker(shared_data, fsdd):
    assert len(fsdd["audio"]) == 2500 and fsdd["sample_rate"] == 8000
    assert sorted(set(fsdd["speakers"])) == ["george", "jackson", "lucas", "nicolas", "yweweler"]
    assert np.bincount(fsdd["digits"]).tolist() == [250] * 10
    assert [DIGIT_WORDS[d] for d in fsdd["digits"]] == fsdd["transcripts"]
    with open(shared_data / "speech" / "fsdd" / "transcripts.csv", newline="") as f:
        rows = {row["path"].split("/")[-1]: row for row in csv.DictReader(f)}
    for path, digit, word, speaker, audio in zip(fsdd["paths"], fsdd["digits"], fsdd["transcripts"], fsdd["speakers"], fsdd["audio"]):
        row = rows[path.split("/")[-1]]
        assert (int(row["digit"]), row["transcript"], row["speaker"]) == (digit, word, speaker)
        assert audio.dtype == np.float32 and len(audio) / 8000 == pytest.approx(float(row["duration_s"]), abs=1e-3)
    keys = [(s, d, int(p.rsplit("_", 1)[1][:-4])) for s, d, p in zip(fsdd["speakers"], fsdd["digits"], fsdd["paths"])]
    assert keys == sorted(keys)  # by speaker, digit, take number (take 10 after take 9)
    assert max(float(np.abs(a).max()) for a in fsdd["audio"]) <= 1.0


def test_fsdd_reads_a_folder_of_wavs_directly_and_says_when_there_are_none(tmp_path):
    (tmp_path / "3_ann_1.wav").write_bytes(_wav_bytes([0, 16384, -32768], 8000))
    (tmp_path / "3_ann_0.wav").write_bytes(_wav_bytes([1, 2], 8000))
    (tmp_path / "notes.txt").write_text("not a recording")
    data = load_fsdd(tmp_path)
    assert data["transcripts"] == ["three", "three"] and data["speakers"] == ["ann", "ann"]
    assert [p.rsplit("/", 1)[1] for p in data["paths"]] == ["3_ann_0.wav", "3_ann_1.wav"]
    np.testing.assert_array_equal(data["audio"][1], np.array([0, 0.5, -1], np.float32))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"holds no FSDD recordings.*Received: path=.*empty"):
        load_fsdd(empty)
    with pytest.raises(FileNotFoundError, match=r"`path` must be a folder of FSDD recordings. Received: path="):
        load_fsdd(tmp_path / "missing")
    (empty / "1_bob_0.wav").write_bytes(_wav_bytes([1, 2, 3, 4], 8000, channels=2))
    stereo = load_fsdd(empty)  # kzoo.audio.read_wav mixes channels: (1, 2) and (3, 4) -> 1.5, 3.5
    np.testing.assert_allclose(stereo["audio"][0], np.array([1.5, 3.5]) / 32768, rtol=1e-6)


def test_fsdd_download_extracts_the_recordings_once(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("free-spoken-digit-dataset-master/recordings/7_jackson_32.wav", _wav_bytes([5, 6, 7], 8000))
        archive.writestr("free-spoken-digit-dataset-master/recordings/0_theo_1.wav", _wav_bytes([1], 8000))
        archive.writestr("free-spoken-digit-dataset-master/README.md", "readme")
    requested = []

    def urlopen(request, timeout):
        requested.append(request.full_url)
        return _Response(buffer.getvalue())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    data = load_fsdd(cache_dir=str(tmp_path))
    assert requested == [speech.FSDD_URL]
    assert data["speakers"] == ["jackson", "theo"] and data["digits"].tolist() == [7, 0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recordings"]  # the archive is gone, no temporaries
    load_fsdd(cache_dir=str(tmp_path))
    assert len(requested) == 1

    def fail(request, timeout):
        raise OSError("network unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", fail)
    with pytest.raises(OSError, match="Could not download the Free Spoken Digit Dataset from https://github.com/Jakobovski.*pass `path=`"):
        load_fsdd(cache_dir=str(tmp_path / "elsewhere"))


# === Connected digits ===


def test_trim_silence_keeps_the_frames_within_35_db_of_the_loudest():
    clip = np.zeros(800, np.float32)  # 100 ms at 8 kHz: ten 10 ms frames
    clip[240:560] = np.sin(np.arange(320) * 0.3)
    clip[100:180] = 0.01  # -37 dB: trimmed
    clip[600:640] = 0.03  # -27 dB: kept
    np.testing.assert_array_equal(speech._trim_silence(clip, 8000), clip[240:640])
    assert len(speech._trim_silence(np.zeros(100, np.float32), 8000)) == 0


def test_connected_digits_are_deterministic_strings_of_one_speaker(fsdd):
    strings = connected_digits(fsdd, 60, min_digits=2, max_digits=5, seed=3)
    again = connected_digits(fsdd, 60, min_digits=2, max_digits=5, seed=3)
    for a, b in zip(strings["audio"], again["audio"]):
        np.testing.assert_array_equal(a, b)
    assert strings["transcripts"] == again["transcripts"] and strings["paths"] == again["paths"]
    assert strings["transcripts"] != connected_digits(fsdd, 60, min_digits=2, max_digits=5, seed=4)["transcripts"]
    assert strings["sample_rate"] == 8000 and len(strings["audio"]) == 60
    assert {len(d) for d in strings["digits"]} == {2, 3, 4, 5}
    assert len(set(strings["speakers"])) == 5
    clip_of = {path: audio for path, audio in zip(fsdd["paths"], fsdd["audio"])}
    for audio, transcript, digits, speaker, paths in zip(*(strings[k] for k in ("audio", "transcripts", "digits", "speakers", "paths"))):
        assert audio.dtype == np.float32
        assert transcript == " ".join(DIGIT_WORDS[d] for d in digits)
        names = [p.rsplit("/", 1)[1] for p in paths]
        assert [n.split("_")[1] for n in names] == [speaker] * len(digits)  # one speaker per string
        assert [int(n[0]) for n in names] == digits
        speech_length = sum(len(speech._trim_silence(clip_of[p], 8000)) for p in paths)
        pauses = len(audio) - speech_length - 2 * 80  # 10 ms of silence at each end
        assert 50 * 8 * (len(digits) - 1) - len(digits) <= pauses <= 400 * 8 * (len(digits) - 1) + len(digits)
    only = connected_digits(fsdd, 20, speakers=["lucas", "george"], seed=0)
    assert set(only["speakers"]) == {"lucas", "george"} and {len(d) for d in only["digits"]} <= set(range(1, 8))


def test_connected_digits_lay_clips_pauses_and_noise_out_exactly(fsdd):
    clean = connected_digits(fsdd, 5, min_digits=3, max_digits=3, pause_ms=(100, 100), noise_snr_db=None, seed=1)
    noisy = connected_digits(fsdd, 5, min_digits=3, max_digits=3, pause_ms=(100, 100), noise_snr_db=20.0, seed=1)
    clip_of = {path: audio for path, audio in zip(fsdd["paths"], fsdd["audio"])}
    for audio, noisy_audio, paths in zip(clean["audio"], noisy["audio"], clean["paths"]):
        clips = [speech._trim_silence(clip_of[p], 8000) for p in paths]
        gap = np.zeros(800, np.float32)  # 100 ms
        edge = np.zeros(80, np.float32)  # 10 ms
        np.testing.assert_array_equal(audio, np.concatenate([edge, clips[0], gap, clips[1], gap, clips[2], edge]))
        noise = noisy_audio - audio
        speech_power = np.mean(np.concatenate(clips).astype(np.float64) ** 2)
        assert 10 * np.log10(speech_power / np.mean(noise.astype(np.float64) ** 2)) == pytest.approx(20.0, abs=0.5)


def test_connected_digits_errors_name_the_argument():
    tiny = {"audio": [np.ones(80, np.float32)] * 2, "sample_rate": 8000, "digits": np.array([0, 1]), "speakers": ["ann", "ann"]}
    with pytest.raises(ValueError, match=r"`fsdd` must be the dict returned by `load_fsdd`.*Received: fsdd of type list"):
        connected_digits([], 3)
    with pytest.raises(ValueError, match=r"`num_utterances` must be a positive int. Received: num_utterances=0"):
        connected_digits(tiny, 0)
    with pytest.raises(ValueError, match=r"`min_digits` must be an int >= 1. Received: min_digits=0"):
        connected_digits(tiny, 3, min_digits=0)
    with pytest.raises(ValueError, match=r"`max_digits` must be an int >= min_digits=3. Received: max_digits=2"):
        connected_digits(tiny, 3, min_digits=3, max_digits=2)
    with pytest.raises(ValueError, match=r"`pause_ms` must be a pair `\(low, high\)`.*Received: pause_ms=\(400, 50\)"):
        connected_digits(tiny, 3, pause_ms=(400, 50))
    with pytest.raises(ValueError, match=r"`noise_snr_db` must be a finite number or None. Received: noise_snr_db='loud'"):
        connected_digits(tiny, 3, noise_snr_db="loud")
    with pytest.raises(ValueError, match=r"`seed` must be a non-negative int. Received: seed=-1"):
        connected_digits(tiny, 3, seed=-1)
    with pytest.raises(ValueError, match=r"FSDD speakers \(ann\) or None; unknown: \['bob'\]. Received: speakers=\['bob'\]"):
        connected_digits(tiny, 3, speakers=["bob"])
    with pytest.raises(ValueError, match=r"Speaker 'ann' has no recording of digit \d"):
        connected_digits(tiny, 20, min_digits=3, max_digits=3)


# === LJSpeech ===


def test_shared_ljspeech_sample(shared_data):
    folder = shared_data / "speech" / "ljspeech_sample"
    lj = load_ljspeech(folder)
    assert lj["sample_rate"] == 22050 and len(lj["audio"]) == len(lj["transcripts"]) == 8
    assert lj["ids"] == [f"LJ001-000{k}" for k in range(1, 9)]
    assert lj["transcripts"][1] == "in being comparatively modern."
    with open(folder / "metadata.csv", encoding="utf-8") as f:
        assert lj["transcripts"] == [line.rstrip("\n").split("|")[2] for line in f]
    for id_, audio in zip(lj["ids"], lj["audio"]):
        with wave.open(str(folder / "wavs" / f"{id_}.wav")) as f:
            assert len(audio) == f.getnframes()
        assert audio.dtype == np.float32 and 1.0 < len(audio) / 22050 < 12.0 and 0.05 < np.abs(audio).max() <= 1.0
    assert load_ljspeech(folder, limit=3)["ids"] == lj["ids"][:3]


def test_ljspeech_download_extracts_metadata_and_wavs_once(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:bz2") as archive:
        for name, data in {
            "LJSpeech-1.1/metadata.csv": b'LJ050-0001|"Dr. Smith|"Doctor Smith\n',
            "LJSpeech-1.1/wavs/LJ050-0001.wav": _wav_bytes([0, 100, -100], 22050),
            "LJSpeech-1.1/README": b"readme",
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    requested = []

    def urlopen(request, timeout):
        requested.append(request.full_url)
        return _Response(buffer.getvalue())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    lj = load_ljspeech(cache_dir=str(tmp_path))
    assert requested == [speech.LJSPEECH_URL] and speech.LJSPEECH_URL.endswith("/LJSpeech-1.1.tar.bz2")
    assert lj["ids"] == ["LJ050-0001"] and lj["transcripts"] == ['"Doctor Smith'] and len(lj["audio"][0]) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LJSpeech-1.1"]
    load_ljspeech(cache_dir=str(tmp_path))
    assert len(requested) == 1


def test_ljspeech_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"`path` must be a folder with `metadata.csv` and `wavs/`. Received: path="):
        load_ljspeech(tmp_path)
    (tmp_path / "metadata.csv").write_text("LJ001-0001|only two fields\n")
    with pytest.raises(ValueError, match=r"`id\|raw\|normalized`. Received: line 1: 'LJ001-0001\|only two fields"):
        load_ljspeech(tmp_path)
    with pytest.raises(ValueError, match=r"`limit` must be a positive int or None. Received: limit=0"):
        load_ljspeech(tmp_path, limit=0)


# === The generated spoken-digit corpus ===


def test_spoken_digits_are_deterministic_and_prefix_stable():
    corpus = load_spoken_digits("train", num_utterances=30, seed=5)
    again = load_spoken_digits("train", num_utterances=30, seed=5)
    shorter = load_spoken_digits("train", num_utterances=12, seed=5)
    for a, b in zip(corpus["audio"], again["audio"]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(corpus["audio"], shorter["audio"]):
        np.testing.assert_array_equal(a, b)
    assert corpus["transcripts"] == again["transcripts"] and corpus["transcripts"][:12] == shorter["transcripts"]
    assert corpus["speakers"][:12] == shorter["speakers"] and corpus["digits"][:12] == shorter["digits"]
    other = load_spoken_digits("train", num_utterances=30, seed=6)
    assert corpus["transcripts"] != other["transcripts"]


def test_spoken_digits_utterances_are_well_formed():
    corpus = load_spoken_digits("train", num_utterances=200, min_words=1, max_words=4, seed=0)
    assert corpus["sample_rate"] == 8000 and len(corpus["audio"]) == 200
    assert {len(d) for d in corpus["digits"]} == {1, 2, 3, 4}
    for audio, transcript, digits in zip(corpus["audio"], corpus["transcripts"], corpus["digits"]):
        assert audio.dtype == np.float32 and audio.ndim == 1
        assert transcript == " ".join(DIGIT_WORDS[d] for d in digits)
        assert 0.5 - 1e-6 <= np.abs(audio).max() <= 0.9 + 1e-6
        seconds = len(audio) / 8000
        # Words last ~0.25-0.75 s, pauses 30-250 ms, 20-80 ms of silence at each end.
        assert 0.25 * len(digits) + 0.03 * (len(digits) - 1) < seconds < 0.9 * len(digits) + 0.25 * (len(digits) - 1) + 0.16
        assert np.abs(audio[:80]).max() < 0.25 * np.abs(audio).max()  # the first 10 ms are silence and noise
    words = load_spoken_digits("test", num_utterances=100, min_words=1, max_words=1, seed=0)
    seconds = np.array([len(a) / 8000 for a in words["audio"]])
    assert 0.3 < seconds.min() and seconds.max() < 1.0 and 0.4 < np.median(seconds) < 0.7
    assert set(range(10)) == {d[0] for d in words["digits"]}
    wide = load_spoken_digits("test", num_utterances=3, min_words=2, max_words=2, sample_rate=16000, seed=0)
    narrow = load_spoken_digits("test", num_utterances=3, min_words=2, max_words=2, seed=0)
    assert wide["sample_rate"] == 16000 and wide["transcripts"] == narrow["transcripts"]
    for a, b in zip(wide["audio"], narrow["audio"]):
        assert len(a) / 16000 == pytest.approx(len(b) / 8000, abs=0.01)


def test_spoken_digit_speakers_are_held_out_between_splits():
    train = load_spoken_digits("train", num_utterances=300, min_words=1, max_words=1, seed=0)
    test = load_spoken_digits("test", num_utterances=100, min_words=1, max_words=1, seed=0)
    assert len(set(train["speakers"])) > 30 and len(set(test["speakers"])) == 10
    assert not set(train["speakers"]) & set(test["speakers"])
    train_voices = {(s["f0"], s["scale"]) for s in spoken_digits._speakers("train", 0)}
    test_voices = {(s["f0"], s["scale"]) for s in spoken_digits._speakers("test", 0)}
    assert not train_voices & test_voices
    f0 = [s["f0"] for s in spoken_digits._speakers("train", 0) + spoken_digits._speakers("test", 0)]
    assert 85 <= min(f0) < 110 and 200 < max(f0) <= 260


def _filter_by_scipy(sources, a, b, c):
    """The reference: frication resonator + F1-F3 cascade with `scipy.signal.lfilter`, constant coefficients."""
    fric = signal.lfilter([a[0]], [1, -b[0], -c[0]], sources[:, 0])
    voiced = sources[:, 1]
    for k in (1, 2, 3):
        voiced = signal.lfilter([a[k]], [1, -b[k], -c[k]], voiced)
    return fric + np.concatenate([[0, 0], voiced[:-2]])  # the batched cascade is two samples late


def test_resonator_recursion_matches_scipy_lfilter():
    rng = np.random.default_rng(0)
    hop, blocks, batch = 16, 20, 3
    sources = rng.standard_normal((hop * blocks, 2, batch))
    frequencies = np.array([[3500, 500, 1500, 2500], [2200, 300, 900, 2300], [3000, 700, 1200, 2600]], float).T  # (4, B)
    radius = np.exp(-np.pi * np.array([900, 60, 90, 150], float)[:, None] / 8000)
    b = 2 * radius * np.cos(2 * np.pi * frequencies / 8000)
    c = -(radius**2) * np.ones_like(b)
    a = 1 - b - c
    coefficients = np.broadcast_to(np.stack([a, b, c])[:, None], (3, blocks, 4, batch))
    out = spoken_digits._filter(sources, coefficients, hop)
    for k in range(batch):
        np.testing.assert_allclose(out[:, k], _filter_by_scipy(sources[:, :, k], a[:, k], b[:, k], c[:, k]), rtol=1e-9, atol=1e-9)


def _spectral_features(audio):
    """Mean and std of a log STFT magnitude in 8 log-spaced bands over the 3 thirds of the word."""
    frame, hop = 256, 80  # 32 ms and 10 ms at 8 kHz
    audio = np.pad(audio, (0, max(0, frame - len(audio))))
    frames = np.lib.stride_tricks.sliding_window_view(audio, frame)[::hop] * np.hanning(frame)  # (N, 256)
    spectrum = np.log(np.abs(np.fft.rfft(frames, axis=1)) + 1e-3)  # (N, 129)
    spectrum = spectrum[spectrum.mean(axis=1) > spectrum.mean(axis=1).max() - np.log(100)]  # frames of the word: within 40 dB
    edges = np.geomspace(2, 129, 9).astype(int)
    bands = np.stack([spectrum[:, lo:hi].mean(axis=1) for lo, hi in zip(edges[:-1], edges[1:])], axis=1)  # (N, 8)
    return np.concatenate([np.concatenate([third.mean(0), third.std(0)]) for third in np.array_split(bands, 3)])  # (48,)


def test_spoken_digit_words_are_learnable_across_held_out_speakers():
    train = load_spoken_digits("train", num_utterances=300, min_words=1, max_words=1, seed=0)
    test = load_spoken_digits("test", num_utterances=100, min_words=1, max_words=1, seed=0)
    x_train = np.stack([_spectral_features(a) for a in train["audio"]])
    x_test = np.stack([_spectral_features(a) for a in test["audio"]])
    y_train, y_test = [d[0] for d in train["digits"]], [d[0] for d in test["digits"]]
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x_train, y_train)
    accuracy = classifier.score(x_test, y_test)
    print(f"held-out-speaker accuracy of a logistic regression on isolated words: {accuracy:.2f}")
    assert accuracy >= 0.9


def test_spoken_digits_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"`split` must be 'train' or 'test'. Received: split='valid'"):
        load_spoken_digits("valid")
    with pytest.raises(ValueError, match=r"`num_utterances` must be a positive int. Received: num_utterances=0"):
        load_spoken_digits(num_utterances=0)
    with pytest.raises(ValueError, match=r"`min_words` must be an int >= 1. Received: min_words=0"):
        load_spoken_digits(min_words=0)
    with pytest.raises(ValueError, match=r"`max_words` must be an int >= min_words=3. Received: max_words=2"):
        load_spoken_digits(min_words=3, max_words=2)
    with pytest.raises(ValueError, match=r"`sample_rate` must be an int in \[8000, 48000\]. Received: sample_rate=4000"):
        load_spoken_digits(sample_rate=4000)
    with pytest.raises(ValueError, match=r"`seed` must be an int. Received: seed=1.5"):
        load_spoken_digits(seed=1.5)
