"""A truncated or corrupt `.keras`, SavedModel or `.tflite` (or its `.json` sidecar) gives a clear
error naming the file, from the library's loaders and as one line from the command line."""

import json
import os
import shutil
import zipfile

import pytest

import kzoo_cli
from kzoo.applications import Captioner, Translator
from kzoo.commands.exports import export_all
from kzoo.export import load_model, load_saved_model, load_signature, load_tflite


def damaged(data, how):
    """`data` cut to half, to 10 bytes, to nothing, or with 64 bytes flipped in the middle."""
    middle = len(data) // 2
    return {
        "half": data[:middle],
        "ten_bytes": data[:10],
        "empty": b"",
        "flipped": data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64]) + data[middle + 64 :],
    }[how]


DAMAGE = ["half", "ten_bytes", "empty", "flipped"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """`translator.keras`, `saved_model/` and `translator.tflite` (+ `.json`) of a tiny Translator."""
    model = Translator(units=8, embedding_dim=4, max_target_length=6, seed=0)
    model.adapt(["hola mundo .", "adios amigo ."], ["hello world .", "bye friend ."])
    out = tmp_path_factory.mktemp("exported")
    export_all(model, str(out), "translator")
    return out


def copy_with(exported, tmp_path, relative, data):
    """A copy of the whole export in `tmp_path` with the file `relative` replaced by `data`."""
    out = tmp_path / "copy"
    shutil.copytree(exported, out)
    (out / relative).write_bytes(data)
    return out


def assert_names(info, path):
    assert os.fspath(path) in str(info.value), str(info.value)


# === .keras ===

@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_keras_file(exported, tmp_path, how):
    out = copy_with(exported, tmp_path, "translator.keras", damaged((exported / "translator.keras").read_bytes(), how))
    with pytest.raises(ValueError, match="Could not load") as info:
        load_model(out / "translator.keras")
    assert_names(info, out / "translator.keras")


def test_keras_file_that_is_missing_or_not_a_kzoo_model(exported, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_model(tmp_path / "missing.keras")
    assert_names(info, tmp_path / "missing.keras")

    stranger = tmp_path / "stranger.keras"  # a zip, but not of a model
    with zipfile.ZipFile(stranger, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(ValueError, match="truncated or corrupt") as info:
        load_model(stranger)
    assert_names(info, stranger)

    unknown = tmp_path / "unknown.keras"  # a model of a class no one registered
    with zipfile.ZipFile(exported / "translator.keras") as source, zipfile.ZipFile(unknown, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                config.update(class_name="NoSuchModel", module="elsewhere", registered_name="elsewhere>NoSuchModel")
                data = json.dumps(config).encode()
            target.writestr(item, data)
    with pytest.raises(ValueError, match="neither Keras nor kzoo registers") as info:
        load_model(unknown)
    assert_names(info, unknown)

    with pytest.raises(ValueError, match="as a Captioner: it holds a Translator") as info:
        load_model(exported / "translator.keras", expected=Captioner)
    assert_names(info, exported / "translator.keras")


# === .tflite and its sidecar ===

@pytest.mark.parametrize("name", ["translator.tflite", "translator.tflite.json"])
@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_tflite_or_sidecar(exported, tmp_path, name, how):
    out = copy_with(exported, tmp_path, name, damaged((exported / name).read_bytes(), how))
    with pytest.raises(ValueError, match="Could not load") as info:
        load_tflite(out / "translator.tflite")
    assert_names(info, out / name)


def test_tflite_without_its_sidecar_or_with_one_missing_fields(exported, tmp_path):
    out = copy_with(exported, tmp_path, "translator.tflite.json", json.dumps({"kind": "translator"}).encode())
    with pytest.raises(ValueError, match="KeyError") as info:
        load_tflite(out / "translator.tflite")
    assert_names(info, out / "translator.tflite.json")
    os.remove(out / "translator.tflite.json")
    with pytest.raises(ValueError, match="no kzoo metadata file") as info:
        load_tflite(out / "translator.tflite")
    assert_names(info, out / "translator.tflite")


# === SavedModel ===

@pytest.mark.parametrize(
    "name, how",
    [("saved_model.pb", how) for how in DAMAGE]
    + [("variables/variables.data-00000-of-00001", "half"), ("variables/variables.data-00000-of-00001", "flipped"),
       ("variables/variables.index", "ten_bytes")],
)
def test_damaged_saved_model(exported, tmp_path, name, how):
    relative = f"saved_model/{name}"
    out = copy_with(exported, tmp_path, relative, damaged((exported / relative).read_bytes(), how))
    with pytest.raises(ValueError, match="Could not load the SavedModel") as info:
        load_signature(out / "saved_model")
    assert_names(info, out / "saved_model")


def test_saved_model_without_its_graph(exported, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(exported / "saved_model", out)
    os.remove(out / "saved_model.pb")
    with pytest.raises(FileNotFoundError, match="saved_model.pb") as info:
        load_saved_model(out)
    assert_names(info, out)
    with pytest.raises(ValueError, match="has no signature 'nope'"):
        load_signature(exported / "saved_model", "nope")


# === Command line ===

@pytest.mark.parametrize(
    "command, name",
    [("translate", "translator.keras"), ("translate", "translator.tflite"), ("translate", "saved_model/saved_model.pb"),
     ("classify", "translator.keras")],
)
def test_command_line_ends_with_one_line_naming_the_file(exported, tmp_path, command, name):
    out = copy_with(exported, tmp_path, name, damaged((exported / name).read_bytes(), "half"))
    model = out / ("saved_model" if name.startswith("saved_model") else name)
    with pytest.raises(SystemExit) as info:
        kzoo_cli.main([command, "--model", str(model), "hola mundo ."])
    message = info.value.code
    assert isinstance(message, str), message  # a str exit code: printed alone on stderr, exit status 1
    assert str(model) in message and "\n" not in message and "Traceback" not in message


@pytest.mark.parametrize("command, expected", [("classify", "as a DocumentClassifier: it holds a Translator"),
                                               ("caption", "holds a Translator, which has no caption()")])
def test_command_line_refuses_another_applications_model(exported, command, expected):
    model = str(exported / "translator.keras")
    with pytest.raises(SystemExit) as info:
        kzoo_cli.main([command, "--model", model, "hola mundo ."])
    assert expected in info.value.code and model in info.value.code
