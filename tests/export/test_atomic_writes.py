"""Exports and downloads survive a real SIGKILL mid-write: the previous file stays as it was and no
partial file ever sits under the final name.

Each child process is killed the moment its temporary path (`kzoo.export.atomic_path`) holds the
file being written, so every kill lands mid-write; the tests assert that it did (the partial file
is left in the temporary folder and the child never printed "DONE").
"""

import glob
import http.server
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from kzoo.applications import Translator
from kzoo.commands.exports import export_all
from kzoo.export import atomic, atomic_path, load_model, load_signature, load_tflite

REPO = pathlib.Path(__file__).resolve().parents[2]
TEXTS = ["hola mundo .", "adios amigo ."]

# Loads the export in argv[1], gives the model other weights and exports it again over the old files.
EXPORT_AGAIN = textwrap.dedent(
    """
    import sys
    import numpy as np
    from kzoo.commands.exports import export_all
    from kzoo.export import load_model

    model = load_model(sys.argv[1] + "/translator.keras")
    rng = np.random.default_rng(1)
    # Random float weights; the integer ones (the decoding shortlist's word ids) stay as learned.
    model.set_weights([rng.normal(0, 2.0, w.shape).astype(w.dtype) if w.dtype.kind == "f" else w for w in model.get_weights()])
    print("EXPORTING", flush=True)
    export_all(model, sys.argv[1], "translator")
    print("DONE", flush=True)
    """
)

# Downloads the GloVe 6B archive from the URL in argv[1] into the cache folder argv[2].
DOWNLOAD = textwrap.dedent(
    """
    import sys
    from kzoo.text import load_word_vectors, pretrained_vectors

    pretrained_vectors.GLOVE_6B_URL = sys.argv[1]
    print("DOWNLOADING", flush=True)
    load_word_vectors("glove-6b-100d", cache_dir=sys.argv[2], progress=False)
    print("DONE", flush=True)
    """
)


def start(code, *args, log):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    with open(log, "wb") as out:  # a file, not a pipe: a full pipe would stall the child
        return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], stdout=out, stderr=subprocess.STDOUT,
                                env=env, cwd=REPO)


def kill_when(children, timeout=120):
    """SIGKILLs each `(process, ready)` child the moment `ready()` is true; returns what each
    `ready()` found (the partial file in its temporary folder)."""
    found = [None] * len(children)
    deadline = time.monotonic() + timeout
    try:
        while None in found and time.monotonic() < deadline:
            for i, (process, ready) in enumerate(children):
                if found[i] is None:
                    found[i] = ready()
                    if found[i]:
                        os.kill(process.pid, signal.SIGKILL)
                    elif process.poll() is not None:
                        pytest.fail(f"child {i} ended (status {process.returncode}) and never wrote a temporary path")
            time.sleep(0.001)
    finally:
        for process, _ in children:
            if process.poll() is None:
                process.kill()  # one that never reached its kill point (killed ones get it twice: harmless)
            process.wait(timeout=30)
    assert None not in found, f"no kill point reached within {timeout} s: {found}"
    return found


def partial(folder, name):
    """The path `name` inside a temporary folder of `atomic_path` in `folder`, once it holds some
    bytes (a file) or some file (a folder)."""
    for path in glob.glob(os.path.join(folder, ".kzoo-tmp-*", name)):
        if (os.path.isfile(path) and os.path.getsize(path) > 0) or any(files for _, _, files in os.walk(path)):
            return path
    return None


def files(folder):
    """Every file under `folder` (temporary folders left out) -> its bytes."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(pathlib.Path(folder).rglob("*"))
        if path.is_file() and not path.relative_to(folder).as_posix().startswith(".kzoo-tmp-")
    }


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two_renames"])
def test_a_folder_is_replaced_whole(tmp_path, monkeypatch, exchange):
    if exchange and not sys.platform.startswith("linux"):
        pytest.skip("renameat2 is Linux's")
    swapped = []
    real = atomic._exchange if exchange else lambda a, b: False  # False: the OS cannot swap folders
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: swapped.append(real(a, b)) or swapped[-1])
    target = tmp_path / "saved_model"
    (target / "variables").mkdir(parents=True)
    (target / "variables" / "old.bin").write_text("old")
    with atomic_path(target) as tmp:
        os.makedirs(os.path.join(tmp, "variables"))
        pathlib.Path(tmp, "saved_model.pb").write_text("new")
    assert files(target) == {"saved_model.pb": b"new"} and os.listdir(tmp_path) == ["saved_model"]
    assert swapped == [exchange]


def test_a_writer_that_writes_nothing_leaves_the_old_folder(tmp_path):
    target = tmp_path / "saved_model"
    target.mkdir()
    (target / "saved_model.pb").write_text("old")
    with pytest.raises(FileNotFoundError, match="Nothing was written"):
        with atomic_path(target):
            pass
    assert files(target) == {"saved_model.pb": b"old"} and os.listdir(tmp_path) == ["saved_model"]


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """The files of a first `export_all` of a tiny Translator (random weights, so that its output
    is not empty), its weights, and what its SavedModel and .tflite output."""
    model = Translator(units=8, embedding_dim=4, max_target_length=6, seed=0)
    model.adapt(TEXTS, ["hello world .", "bye friend ."])
    rng = np.random.default_rng(0)
    # Random float weights; the integer ones (the decoding shortlist's word ids) stay as learned.
    model.set_weights([rng.normal(0, 2.0, w.shape).astype(w.dtype) if w.dtype.kind == "f" else w for w in model.get_weights()])
    out = tmp_path_factory.mktemp("first")
    export_all(model, str(out), "translator")
    outputs = {
        "saved_model": load_signature(out / "saved_model")(TEXTS),
        "tflite": load_tflite(out / "translator.tflite").translate(TEXTS),
    }
    return files(out), model.get_weights(), outputs


def test_export_killed_mid_write_leaves_the_previous_export(first, tmp_path):
    before, weights, outputs = first
    folders = {target: tmp_path / target for target in ("keras", "saved_model")}
    for folder in folders.values():
        os.makedirs(folder)
        for name, data in before.items():
            os.makedirs((folder / name).parent, exist_ok=True)
            (folder / name).write_bytes(data)
    children = {target: start(EXPORT_AGAIN, folder, log=tmp_path / f"{target}.log")
                for target, folder in folders.items()}
    found = kill_when([
        (children["keras"], lambda: partial(folders["keras"], "translator.keras")),
        (children["saved_model"], lambda: partial(folders["saved_model"], "saved_model")),
    ])
    for (target, process), where in zip(children.items(), found):
        log = (tmp_path / f"{target}.log").read_text(errors="replace")
        assert process.returncode == -signal.SIGKILL and "EXPORTING" in log and "DONE" not in log, log[-2000:]
        assert os.path.exists(where), f"{target}: the kill landed after the write ({where} gone)"

    # Killed while writing the .keras file: every file as it was, and the old model loads.
    assert files(folders["keras"]) == before
    restored = load_model(folders["keras"] / "translator.keras", expected=Translator)
    for old, new in zip(weights, restored.get_weights(), strict=True):
        np.testing.assert_array_equal(new, old)

    # Killed while writing the SavedModel: the .keras written before it is the new model, whole;
    # the SavedModel and the .tflite are the old ones and give the old outputs.
    after = files(folders["saved_model"])
    assert {name: data for name, data in after.items() if name != "translator.keras"} == {
        name: data for name, data in before.items() if name != "translator.keras"
    }
    assert after["translator.keras"] != before["translator.keras"]
    replaced = load_model(folders["saved_model"] / "translator.keras").get_weights()
    assert not np.array_equal(replaced[0], weights[0])
    assert load_signature(folders["saved_model"] / "saved_model")(TEXTS) == outputs["saved_model"]
    assert load_tflite(folders["saved_model"] / "translator.tflite").translate(TEXTS) == outputs["tflite"]


def stalling_server(size, stall_after):
    """A local HTTP server sending `size` bytes that stops after `stall_after` of them until the
    returned event is set; `(server, event)`."""
    resume = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            try:
                self.wfile.write(b"\0" * stall_after)
                self.wfile.flush()
                resume.wait(60)
                self.wfile.write(b"\0" * (size - stall_after))
            except OSError:  # the client was killed
                pass

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, resume


def test_download_killed_mid_way_leaves_no_file(tmp_path):
    size = 3 << 20  # the download reads 1 MiB at a time: the first MiB reaches the file, then it waits
    server, resume = stalling_server(size, stall_after=size // 2)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/glove.6B.zip"
        cache = tmp_path / "cache"
        child = start(DOWNLOAD, url, cache, log=tmp_path / "download.log")

        (where,) = kill_when([(child, lambda: partial(cache / "glove", "glove.6B.zip"))])
    finally:
        resume.set()
        server.shutdown()
        server.server_close()
    log = (tmp_path / "download.log").read_text(errors="replace")
    assert child.returncode == -signal.SIGKILL and "DOWNLOADING" in log and "DONE" not in log, log[-2000:]
    assert 0 < os.path.getsize(where) < size  # killed mid-download
    assert not (cache / "glove" / "glove.6B.zip").exists()
    assert not (cache / "glove" / "glove.6B.100d.txt").exists()
