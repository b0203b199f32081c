"""Write the runtime requirements of an image: the ``[project].dependencies`` of the given
pyproject files, less our own distributions (built into the image as wheels, not fetched).

Used by both Dockerfiles' dependency layer: ``python runtime_requirements.py OUT PYPROJECT...``.
It runs in the builder stage with the standard library only.
"""

from __future__ import annotations

import sys
import tomllib

#: Distributions of this repository: the image builds them from source.
OWN = ("enrichment-client",)


def main(out: str, *pyprojects: str) -> None:
    """Collect the dependencies of ``pyprojects`` into ``out``, one per line."""
    deps: list[str] = []
    for path in pyprojects:
        with open(path, "rb") as f:
            deps += tomllib.load(f)["project"]["dependencies"]
    with open(out, "w") as f:
        f.write("".join(f"{d}\n" for d in deps if not d.startswith(OWN)))


if __name__ == "__main__":
    main(*sys.argv[1:])
