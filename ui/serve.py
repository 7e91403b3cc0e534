"""The web UI server: start loading the models, then serve the page (``kgqa ui`` runs this).

    python -m ui.serve APP [STREAMLIT OPTIONS] -- --kb DIR

The same as ``streamlit run APP [OPTIONS] -- --kb DIR``, in one process with a
warm-up (``ui/warm.py``) started first: the base opens and its models load
while Streamlit starts and the browser connects, and the terminal says when
they are ready.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def kb_argument(argv: Sequence[str]) -> str | None:
    """The ``--kb`` value after ``--`` in the arguments, if any."""
    args = list(argv)
    rest = args[args.index("--") + 1 :] if "--" in args else []
    for i, a in enumerate(rest):
        if a == "--kb" and i + 1 < len(rest):
            return rest[i + 1]
        if a.startswith("--kb="):
            return a.split("=", 1)[1]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    kb = kb_argument(args)
    if kb is not None:
        from ui import warm

        warm.warm(kb, announce=True)
    from streamlit.web import cli

    return int(cli.main(["run", *args], prog_name="streamlit") or 0)


if __name__ == "__main__":
    sys.exit(main())
