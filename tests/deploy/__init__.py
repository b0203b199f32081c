"""Checks of the deployment artefacts: Dockerfiles, k8s manifests, compose, monitoring rules."""
