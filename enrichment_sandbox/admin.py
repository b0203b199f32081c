"""The ``/_sandbox/`` admin routes every imitation serves, editing its :class:`Controls`.

Routes (JSON in and out; admin calls are never counted):

* ``GET /_sandbox/calls[?window_s=1]`` → ``{"calls": {endpoint: n}, "max_in_window": n}``
  (the most requests that arrived within any ``window_s``); ``DELETE`` resets the counts.
* ``GET /_sandbox/faults`` lists active faults; ``POST`` adds one (a :class:`FaultRule`
  object); ``DELETE`` clears them all.
* ``PUT /_sandbox/latency`` ``{"endpoint": "*", "ms": 80}``.
* ``GET /_sandbox/config``; ``PUT`` merges knob values (unknown keys → 400).
* ``POST /_sandbox/reset`` restores the starting state.
"""

from __future__ import annotations

import json

from aiohttp import web

from enrichment_sandbox.controls import ANY_ENDPOINT, Controls, FaultRule
from enrichment_sandbox.middleware import json_response

CONTROLS_KEY = web.AppKey("sandbox_controls", Controls)


def add_admin_routes(app: web.Application, controls: Controls) -> None:
    """Register the ``/_sandbox/`` routes on ``app``, bound to ``controls``."""
    app[CONTROLS_KEY] = controls
    app.router.add_get("/_sandbox/calls", _get_calls)
    app.router.add_delete("/_sandbox/calls", _reset_calls)
    app.router.add_get("/_sandbox/faults", _get_faults)
    app.router.add_post("/_sandbox/faults", _add_fault)
    app.router.add_delete("/_sandbox/faults", _clear_faults)
    app.router.add_get("/_sandbox/latency", _get_latency)
    app.router.add_put("/_sandbox/latency", _put_latency)
    app.router.add_get("/_sandbox/config", _get_config)
    app.router.add_put("/_sandbox/config", _put_config)
    app.router.add_post("/_sandbox/reset", _reset)


def _bad_request(message: str) -> web.Response:
    return json_response({"error": message}, status=400)


async def _read_json(request: web.Request) -> object:
    """The decoded body; ``ValueError`` with a readable message when it is not JSON."""
    try:
        return json.loads(await request.text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"body is not valid JSON: {exc}") from exc


async def _get_calls(request: web.Request) -> web.Response:
    controls = request.app[CONTROLS_KEY]
    try:
        window_s = float(request.query.get("window_s", "1"))
    except ValueError:
        return _bad_request("window_s must be a number of seconds")
    if not window_s > 0:
        return _bad_request("window_s must be positive")
    return json_response(
        {"calls": dict(controls.calls), "max_in_window": controls.max_in_window(window_s)}
    )


async def _reset_calls(request: web.Request) -> web.Response:
    request.app[CONTROLS_KEY].calls.clear()
    request.app[CONTROLS_KEY].arrivals.clear()
    return json_response({"calls": {}})


async def _get_faults(request: web.Request) -> web.Response:
    return json_response({"faults": request.app[CONTROLS_KEY].faults.snapshot()})


async def _add_fault(request: web.Request) -> web.Response:
    controls = request.app[CONTROLS_KEY]
    try:
        rule = FaultRule.from_json(await _read_json(request))
    except ValueError as exc:
        return _bad_request(str(exc))
    controls.faults.add(rule)
    return json_response({"faults": controls.faults.snapshot()}, status=201)


async def _clear_faults(request: web.Request) -> web.Response:
    request.app[CONTROLS_KEY].faults.clear()
    return json_response({"faults": []})


async def _get_latency(request: web.Request) -> web.Response:
    return json_response({"latency_ms": request.app[CONTROLS_KEY].latency_ms})


async def _put_latency(request: web.Request) -> web.Response:
    controls = request.app[CONTROLS_KEY]
    try:
        body = await _read_json(request)
        if not isinstance(body, dict) or set(body) - {"endpoint", "ms"}:
            raise ValueError('expected {"endpoint": <name or "*">, "ms": <number>}')
        endpoint, ms = body.get("endpoint", ANY_ENDPOINT), body.get("ms")
        if not isinstance(endpoint, str) or isinstance(ms, bool) or not isinstance(ms, int | float):
            raise ValueError("'endpoint' must be a string and 'ms' a number")
        controls.set_latency(float(ms), endpoint)
    except ValueError as exc:
        return _bad_request(str(exc))
    return json_response({"latency_ms": controls.latency_ms})


async def _get_config(request: web.Request) -> web.Response:
    return json_response({"config": request.app[CONTROLS_KEY].config})


async def _put_config(request: web.Request) -> web.Response:
    controls = request.app[CONTROLS_KEY]
    try:
        body = await _read_json(request)
        if not isinstance(body, dict):
            raise ValueError("expected a JSON object of config keys")
        controls.update_config(body)
    except ValueError as exc:
        return _bad_request(str(exc))
    return json_response({"config": controls.config})


async def _reset(request: web.Request) -> web.Response:
    request.app[CONTROLS_KEY].reset()
    return json_response({"reset": True})
