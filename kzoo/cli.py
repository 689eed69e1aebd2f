"""The `kzoo` command line: `kzoo train APP`, `kzoo translate|classify ...`, `kzoo evaluate APP`.

Each application's commands live in `kzoo/commands/<app>.py`, a module with:
  - `NAME` (the word after `kzoo train` / `kzoo evaluate`),
  - `add_train_arguments(parser)` and `train(args)`,
  - optionally `add_evaluate_arguments(parser)` and `evaluate(args)`,
  - optionally `add_commands(subparsers)` for its own top-level verbs (e.g. `translate`).
"""

import argparse
import importlib
import sys

__all__ = ["main"]

# Modules in kzoo/commands/ that define commands; a missing module is simply not offered.
_COMMAND_MODULES = ("demo", "translator", "captioner", "speech", "documents")


def _modules():
    found = []
    for name in _COMMAND_MODULES:
        try:
            found.append(importlib.import_module(f"kzoo.commands.{name}"))
        except ModuleNotFoundError as error:
            if error.name != f"kzoo.commands.{name}":
                raise
    return found


def build_parser():
    parser = argparse.ArgumentParser(prog="kzoo", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    train = verbs.add_parser("train", help="train an application and export it")
    train_apps = train.add_subparsers(dest="app", required=True)
    evaluate = verbs.add_parser("evaluate", help="evaluate an exported or saved application")
    evaluate_apps = evaluate.add_subparsers(dest="app", required=True)
    for module in _modules():
        if hasattr(module, "train"):
            sub = train_apps.add_parser(module.NAME, help=f"train the {module.NAME}")
            module.add_train_arguments(sub)
            sub.set_defaults(func=module.train)
        if hasattr(module, "evaluate"):
            sub = evaluate_apps.add_parser(module.NAME, help=f"evaluate the {module.NAME}")
            module.add_evaluate_arguments(sub)
            sub.set_defaults(func=module.evaluate)
        if hasattr(module, "add_commands"):
            module.add_commands(verbs)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
