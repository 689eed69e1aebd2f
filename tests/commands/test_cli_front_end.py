"""`kzoo_cli`: `kzoo --help` without TensorFlow, the same commands and arguments as before the move,
dispatch to `kzoo/commands/`, and TensorFlow kept quiet unless `--verbose`."""

import argparse
import json
import logging
import os
import subprocess
import sys

import pytest
from absl import logging as absl_logging

import kzoo.commands.captioner
import kzoo.commands.demo
import kzoo.commands.documents
import kzoo.commands.speech
import kzoo.commands.translator
import kzoo_cli
from kzoo_cli.environment import _CPP_LOG_LINE

# What the parser built from kzoo/commands/*.py offered before the parser moved to kzoo_cli (taken
# from that parser): each command's option strings and positional arguments, `-h` left out.
_BEFORE = {
    "": set(),
    "train": set(),
    "train translator": {"--data", "--epochs", "--out", "--units", "--attention", "--batch-size", "--limit", "--seed"},
    "train captioner": {"--data", "--encoder", "--attention", "--epochs", "--images", "--units", "--out", "--seed"},
    "train speech": {"--data", "--decoder", "--epochs", "--utterances", "--out", "--seed"},
    "train documents": {"--data", "--architecture", "--epochs", "--out", "--units", "--embedding-dim", "--batch-size",
                        "--limit", "--seed"},
    "evaluate": set(),
    "evaluate translator": {"--model", "--data", "--beam-width", "--seed"},
    "evaluate captioner": {"--model", "--data", "--beam-width"},
    "evaluate speech": {"--model", "--data", "--beam-width", "--seed"},
    "evaluate documents": {"--model", "--data", "--seed"},
    "demo": {"--epochs", "--out"},
    "translate": {"--model", "--beam-width", "texts"},
    "caption": {"--model", "--beam-width", "images"},
    "transcribe": {"--model", "--beam-width", "files"},
    "classify": {"--model", "texts"},
}
# Options added after the move: every `train` gained the training options (issue 15).
_TRAINING = {"--strategy", "--workers", "--backup-dir", "--no-backup", "--deterministic"}
_ADDED = {
    "train translator": _TRAINING,
    "train captioner": _TRAINING,
    "train speech": _TRAINING,
    "train documents": {"--embeddings"} | _TRAINING,
    "evaluate speech": {"--language-model", "--lm-weight"},
    "transcribe": {"--language-model", "--lm-weight"},
}

# Runs kzoo_cli.main on each argv of argv[1] (JSON) and prints, as JSON, what each printed and
# exited with and which heavy modules the process imported.
_RUN_MAIN = """
import contextlib, io, json, sys
import kzoo_cli
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = kzoo_cli.main(argv)
        except SystemExit as exit:
            code = exit.code
    results.append({"code": code, "out": out.getvalue(), "err": err.getvalue()})
heavy = sorted(name for name in ("kzoo", "keras", "tensorflow") if name in sys.modules)
print(json.dumps({"results": results, "heavy": heavy}))
"""


def _argv_id(value):
    """A test id for an argv (`train translator`); pytest's own for the other parameters."""
    return (" ".join(value) or "(none)") if isinstance(value, list) else None


def _run_main(*argvs):
    done = subprocess.run([sys.executable, "-c", _RUN_MAIN, json.dumps(argvs)], capture_output=True, text=True,
                          check=True, env={**os.environ, "COLUMNS": "100"})
    return json.loads(done.stdout)


def _commands(parser, path=()):
    """`{"train translator": parser, ...}` for the top-level parser and every subcommand."""
    found = {" ".join(path): parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update(_commands(sub, (*path, name)))
    return found


def _arguments(parser):
    return {option for action in parser._actions if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction))
            for option in (action.option_strings or [action.dest])}


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["train", "translator", "--help"],
                                  ["evaluate", "translator", "--help"], ["translate", "--help"]], ids=_argv_id)
def test_help_prints_usage_without_importing_kzoo_or_tensorflow(argv):
    found = _run_main(argv)
    (result,) = found["results"]
    assert result["code"] == 0 and result["err"] == ""
    assert result["out"].startswith(f"usage: kzoo {' '.join(argv[:-1])}".rstrip())
    assert found["heavy"] == []


def test_every_command_keeps_its_arguments_and_gains_verbose():
    commands = _commands(kzoo_cli.build_parser())
    assert set(commands) == set(_BEFORE)
    for name, parser in commands.items():
        assert _arguments(parser) == _BEFORE[name] | _ADDED.get(name, set()) | {"--verbose"}, name


def test_every_command_help_lists_its_arguments_without_importing_tensorflow():
    names = sorted(_BEFORE)
    found = _run_main(*[[*name.split(), "--help"] for name in names])
    assert found["heavy"] == []
    for name, result in zip(names, found["results"]):
        assert result["code"] == 0, name
        for argument in _BEFORE[name] | _ADDED.get(name, set()) | {"--verbose"}:
            assert argument in result["out"], (name, argument)


@pytest.mark.parametrize(
    "argv, message",
    [(["train", "nope"], "argument app: invalid choice: 'nope' (choose from 'translator', 'captioner', 'speech', 'documents')"),
     (["evaluate", "demo"], "argument app: invalid choice: 'demo'"),
     (["nope"], "argument verb: invalid choice: 'nope'"),
     ([], "the following arguments are required: verb"),
     (["translate"], "the following arguments are required: texts")],
    ids=_argv_id,
)
def test_a_wrong_command_is_an_argparse_error_without_importing_tensorflow(argv, message):
    found = _run_main(argv)
    (result,) = found["results"]
    assert result["code"] == 2
    assert message in result["err"]
    assert found["heavy"] == []


def test_python_dash_m_kzoo_cli_runs_the_command_line():
    done = subprocess.run([sys.executable, "-m", "kzoo_cli", "train", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("usage: kzoo train")


@pytest.mark.parametrize(
    "argv, module, function, expected",
    [
        (["train", "translator", "--epochs", "3"], kzoo.commands.translator, "train",
         {"epochs": 3, "data": "embedded", "out": os.path.join("saved_models", "translator"), "verbose": False}),
        (["train", "speech", "--decoder", "ctc"], kzoo.commands.speech, "train", {"decoder": "ctc", "utterances": None}),
        (["evaluate", "documents", "--seed", "4"], kzoo.commands.documents, "evaluate",
         {"seed": 4, "model": os.path.join("saved_models", "document_classifier")}),
        (["evaluate", "captioner", "--beam-width", "3"], kzoo.commands.captioner, "evaluate", {"beam_width": 3}),
        (["demo", "--epochs", "2"], kzoo.commands.demo, "run", {"epochs": 2, "out": "saved_models"}),
        (["translate", "a b .", "c d ."], kzoo.commands.translator, "translate", {"texts": ["a b .", "c d ."], "beam_width": 1}),
        (["caption", "--beam-width", "2", "x.png"], kzoo.commands.captioner, "caption", {"images": ["x.png"], "beam_width": 2}),
        (["transcribe", "--model", "m.tflite", "x.wav"], kzoo.commands.speech, "transcribe",
         {"files": ["x.wav"], "model": "m.tflite"}),
        (["classify", "great film ."], kzoo.commands.documents, "classify", {"texts": ["great film ."]}),
    ],
    ids=_argv_id,
)
def test_a_command_calls_its_function_in_kzoo_commands_with_the_parsed_arguments(argv, module, function, expected,
                                                                                  monkeypatch):
    received = []
    monkeypatch.setattr(module, function, received.append)
    assert kzoo_cli.main(argv) == 0
    (args,) = received
    assert args.target == f"{module.__name__}:{function}"
    assert {key: getattr(args, key) for key in expected} == expected


def test_the_function_s_return_value_is_the_exit_status(monkeypatch):
    monkeypatch.setattr(kzoo.commands.translator, "translate", lambda args: 3)
    assert kzoo_cli.main(["translate", "x"]) == 3


@pytest.mark.parametrize(
    "argv, verbose",
    [(["translate", "x"], False), (["--verbose", "translate", "x"], True), (["translate", "x", "--verbose"], True),
     (["train", "--verbose", "translator"], True), (["--verbose", "train", "translator", "--seed", "1"], True),
     (["evaluate", "speech", "--verbose"], True)],
    ids=_argv_id,
)
def test_verbose_is_accepted_before_and_after_the_command(argv, verbose):
    assert kzoo_cli.build_parser().parse_args(argv).verbose is verbose


@pytest.fixture
def python_loggers():
    """Restores the absl and tensorflow logger levels that `quiet_tensorflow` changes."""
    absl_level, tf_level = absl_logging.get_verbosity(), logging.getLogger("tensorflow").level
    yield
    absl_logging.set_verbosity(absl_level)
    logging.getLogger("tensorflow").setLevel(tf_level)


def test_quiet_tensorflow_sets_the_cpp_log_level_and_silences_python_warnings(python_loggers):
    environ = {"PATH": os.environ.get("PATH", ""), "TF_CPP_MIN_LOG_LEVEL": "0"}
    kzoo_cli.quiet_tensorflow(environ)
    assert environ == {"PATH": os.environ.get("PATH", ""), "TF_CPP_MIN_LOG_LEVEL": "3"}
    assert absl_logging.get_verbosity() == absl_logging.ERROR
    assert logging.getLogger("tensorflow").getEffectiveLevel() == logging.ERROR


# Prints what the target would see of the environment; load_target is replaced so that nothing
# heavy is imported.
_SHOW_ENVIRONMENT = """
import os, sys
import kzoo_cli.dispatch as dispatch
dispatch.load_target = lambda target, quiet: lambda args: print(target, quiet, os.environ.get("TF_CPP_MIN_LOG_LEVEL"))
dispatch.main(sys.argv[1:])
"""


@pytest.mark.parametrize(
    "argv, printed",
    [(["translate", "x"], "kzoo.commands.translator:translate True 3"),
     (["translate", "x", "--verbose"], "kzoo.commands.translator:translate False None"),
     (["--verbose", "train", "speech"], "kzoo.commands.speech:train False None")],
    ids=_argv_id,
)
def test_main_quiets_tensorflow_unless_verbose(argv, printed):
    environ = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", _SHOW_ENVIRONMENT, *argv], capture_output=True, text=True,
                          check=True, env=environ)
    assert done.stdout.strip() == printed


def test_quiet_stderr_drops_cpp_log_lines_and_keeps_the_rest(capfd):
    with kzoo_cli.quiet_stderr():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        os.write(2, b"I0000 00:00:1796180906.957549   31115 port.cc:153] oneDNN custom operations are on.\n")
        os.write(2, b"W0301 12:30:01.000001    7 tf_tfl_flatbuffer_helpers.cc:365] Ignored output_format.\n")
        os.write(2, b"a line of the program's own\n")
        os.write(2, b"F0000 00:00:1796180906.957549   31115 check.cc:1] fatal: kept\n")
    assert capfd.readouterr().err == (
        "a line of the program's own\nF0000 00:00:1796180906.957549   31115 check.cc:1] fatal: kept\n"
    )


def test_a_real_command_shows_tensorflow_start_up_lines_only_with_verbose():
    # `--model /nonexistent` fails right after TensorFlow is imported, before any model is built.
    command = [sys.executable, "-m", "kzoo_cli", "transcribe", "--model", "/nonexistent", "x.wav"]
    environ = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    quiet = subprocess.run(command, capture_output=True, text=True, env=environ)
    verbose = subprocess.run([*command, "--verbose"], capture_output=True, text=True, env=environ)
    message = "--model must be an export folder, a .keras file, a SavedModel folder or a .tflite file. Received: --model='/nonexistent'\n"
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (1, "", message)
    assert verbose.returncode == 1 and verbose.stderr.endswith(message)
    assert any(_CPP_LOG_LINE.match(line) for line in verbose.stderr.splitlines())
