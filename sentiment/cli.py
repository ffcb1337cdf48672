"""Command-line helpers shared by the scripts: config flags made from the dataclass fields."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path

from .config import SECTIONS, Config, field_owner, field_type


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` plus one ``--key value`` flag for every config field (``--num-layers`` or ``--num_layers``)."""
    parser.add_argument("--config", type=Path, help="JSON config file ({\"data\": {...}, \"model\": {...}, \"train\": {...}}); flags override it")
    for section, klass in SECTIONS.items():
        group = parser.add_argument_group(f"{section} config")
        for f in dataclasses.fields(klass):
            kind = field_type(klass, f.name)
            flags = [f"--{f.name.replace('_', '-')}"] + ([f"--{f.name}"] if "_" in f.name else [])
            metavar = {bool: "{true,false}", int: "N", float: "X", str: "NAME"}[kind]
            group.add_argument(
                *flags, dest=f"cfg_{f.name}", default=argparse.SUPPRESS, metavar=metavar,
                help=f"{f.metadata.get('help', '')} (default: {f.default})",
            )


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Config:
    """Defaults, then the ``--config`` file, then the flags; any invalid value is a usage error."""
    try:
        config = Config.from_json(args.config) if args.config else Config()
        overrides = {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_")}
        # "none"/"null" clears a number (e.g. --clipnorm none); for a name such as --teacher none it is the name.
        return config.replace(**{k: (None if v.strip().lower() in ("none", "null") and not is_name(k) else v)
                                 for k, v in overrides.items()})
    except (ValueError, FileNotFoundError) as err:
        parser.error(str(err))


def is_name(key: str) -> bool:
    """Whether a config field holds a name (``teacher``, ``cell``), for which "none" is a value, not None."""
    return field_type(SECTIONS[field_owner(key)], key) is str


def command_line(module: str, argv=None) -> str:
    """The command as typed (``python -m MODULE ARGS``), for ``command.txt`` beside the model."""
    args = sys.argv[1:] if argv is None else list(argv)
    return shlex.join(["python", "-m", module, *args])


def print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)
