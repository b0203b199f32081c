"""Regenerate enrichment_client/pb from proto/ with grpcio-tools' bundled protoc.

One script, run by `make proto` and by CI's drift check (`make proto-check`). Output:
`*_pb2.py`, `*_pb2_grpc.py` and mypy stubs (`*_pb2.pyi`, `*_pb2_grpc.pyi`) under
`enrichment_client/pb/`, with imports rewritten so the package is importable as
`enrichment_client.pb.enrichment.v1`.
"""

from __future__ import annotations

import re
import shutil
import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
OUT = ROOT / "enrichment_client" / "pb"
# protoc emits `from enrichment.v1 import x_pb2`; the package lives under enrichment_client.pb.
IMPORT_RE = re.compile(r"^from enrichment\.v1 import", re.MULTILINE)


def main() -> int:
    """Generate the code; return protoc's exit status."""
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    well_known = str(resources.files("grpc_tools") / "_proto")
    # mypy-protobuf's plugins sit next to this interpreter (the venv's bin/), which need
    # not be on PATH when the script is run as .venv/bin/python scripts/gen_proto.py.
    bindir = Path(sys.executable).parent
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{well_known}",
            f"--python_out={OUT}",
            f"--grpc_python_out={OUT}",
            f"--plugin=protoc-gen-mypy={bindir / 'protoc-gen-mypy'}",
            f"--plugin=protoc-gen-mypy_grpc={bindir / 'protoc-gen-mypy_grpc'}",
            f"--mypy_out={OUT}",
            f"--mypy_grpc_out={OUT}",
            *protos,
        ]
    )
    if status != 0:
        return int(status)
    for path in OUT.rglob("*.py*"):
        text = path.read_text()
        path.write_text(IMPORT_RE.sub("from enrichment_client.pb.enrichment.v1 import", text))
    for directory in [OUT, *(p for p in OUT.rglob("*") if p.is_dir())]:
        (directory / "__init__.py").write_text('"""Generated protobuf code; do not edit."""\n')
    return 0


if __name__ == "__main__":
    sys.exit(main())
