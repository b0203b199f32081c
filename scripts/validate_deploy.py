"""Offline checks of the deployment files (Dockerfiles, Kubernetes manifests, compose.yaml).

Run: ``.venv/bin/python scripts/validate_deploy.py`` (exit 0: every check passed).

First the maintained tools (tests/deploy/tools.py): ``kubectl kustomize`` renders ``k8s/base``
and ``k8s/overlays/*`` from a temporary copy of ``k8s/`` in which each ``secrets/*.example``
stands in for its git-ignored real file (real secret files are never read);
``kubernetes-validate --strict`` checks the schemas for several Kubernetes versions; checkov
(``.venv-tools``, skips and reasons in ``k8s/.checkov.yaml``) the pod security, probe,
resource and image-tag policies; hadolint the Dockerfiles. Then the project's own cross-file
rules (tests/deploy/rules.py): ports, probes and shutdown times against the server's
Settings, variables against Settings and the README's table, one CronJob per spider, selectors
and references, images against their distributions and requirements.lock, compose's wiring.
tests/deploy/test_deploy.py runs the same checks and breaks each one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.deploy import files, rules, tools  # the repository root is on the path now


def main(argv: Sequence[str] | None = None) -> int:
    """Run every check; print what was checked and every problem."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--show-rendered", metavar="KUSTOMIZATION", help="print one rendering")
    args = parser.parse_args(argv)
    missing = tools.tools_missing()
    if missing:
        print("missing tools: " + ", ".join(missing), file=sys.stderr)
        return 3
    rendered = tools.render_all()
    if args.show_rendered:
        print(rendered[args.show_rendered])
        return 0
    problems: list[str] = []

    def report(where: str, what: str, found: Sequence[str]) -> None:
        print(f"{where}: {what}: {'ok' if not found else f'{len(found)} problems'}")
        problems.extend(f"{where}: {what}: {p}" for p in found)

    for name, text in rendered.items():
        where = f"k8s/{name}"
        count = len(files.load_objects(tools.without_custom_resources(text)))
        print(f"{where}: rendered {count} objects (custom resources aside)")
        schemas = tools.validate_schemas(text)
        what = f"kubernetes-validate --strict {', '.join(tools.K8S_VERSIONS)}"
        report(where, f"{what} ({schemas.passed} passed)", schemas.problems)
        policy = tools.policy_findings(text)
        report(where, f"checkov ({policy.passed} checks passed)", policy.problems)
        report(where, "project rules", rules.check_rendered(text))
    for image in files.IMAGES:
        where = str(image.dockerfile.relative_to(files.ROOT))
        report(where, "hadolint", tools.hadolint(image.dockerfile))
        report(where, "project rules", rules.check_dockerfile(image))
    report("compose.yaml", "project rules", rules.check_compose())
    for problem in problems:
        print(f"PROBLEM {problem}")
    print("all deployment checks passed" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
