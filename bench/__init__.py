"""Benchmark of the enrichment service against its baselines, in one run.

``python -m bench`` starts the sandbox upstreams (with realistic latencies and the
MusicBrainz imitation's own rate limit), the real server, a bare ``grpc.aio`` echo server
(the ceiling of one Python gRPC process) and a naive inline enricher (the "before"
design), drives them with an async load generator built on ``enrichment_client``, and
writes ``bench/results/latest.json``, ``latest.png`` and a py-spy profile.
"""
