"""The ``narrascope`` command. Each layer registers its own subcommands; this module only wires them."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from narrascope import __version__


def build_parser() -> argparse.ArgumentParser:
    from narrascope.annotate.cli import register as register_annotate
    from narrascope.batch.cli import register as register_batch
    from narrascope.dataset.cli import register as register_dataset
    from narrascope.report.cli import register as register_report
    from narrascope.serve.cli import register as register_serve
    from narrascope.training.cli import register as register_training

    parser = argparse.ArgumentParser(prog="narrascope", description=__doc__)
    parser.add_argument("--version", action="version", version=f"narrascope {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_dataset(sub)
    register_training(sub)
    register_serve(sub)
    register_batch(sub)
    register_annotate(sub)
    register_report(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # Library chatter (load reports of freshly initialised heads, font caches) hides the progress bars.
        import transformers

        transformers.logging.set_verbosity_error()
        logging.getLogger("matplotlib").setLevel(logging.WARNING)
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (ValueError, FileNotFoundError, FileExistsError, RuntimeError) as exc:
        parser.exit(2, f"narrascope {args.command}: error: {exc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
