"""The OpenAPI 3.1 description of the JSON API, served at ``/api/v1/openapi.json``.

Written by hand next to the routes it describes: a test checks that every API route is here
and nothing else, and schemathesis checks the answers against it, so it cannot drift quietly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, jsonify

from app.alpr.adapters import ADAPTERS
from app.alpr.api import api_bp
from app.auth.access import public

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _refusals(*codes: int) -> dict[str, Any]:
    meanings = {
        "400": "The body is not valid JSON (or nested too deep).",
        "401": "No token, or a token nobody holds.",
        "403": "The token was revoked (or the device posts in another camera format).",
        "404": "No such camera format.",
        "409": "A fixed device with no deployment in force: its location is unknown.",
        "413": "Too many reads, or a picture or body too large.",
        "415": "The body is not of the type this route takes.",
        "422": "A field outside policy 425.4.1(a), a missing field or a bad value: nothing stored.",
        "503": (
            "The database or the image store is unavailable; nothing was stored. "
            "Retry after `Retry-After`."
        ),
    }
    return {str(code): _json(_ref("Refusal"), meanings[str(code)]) for code in codes}


def _read_schema(max_batch: int) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["reads"],
        "properties": {
            "reads": {
                "type": "array",
                "maxItems": max_batch,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["plate", "captured_at", "latitude", "longitude"],
                    "properties": {
                        "plate": {
                            "type": "string",
                            "description": "1-10 of A-Z 0-9 once spaces and dashes are removed",
                        },
                        "captured_at": {
                            "type": "string",
                            "format": "date-time",
                            "description": (
                                "ISO 8601 with a UTC offset; within retention, not in the future"
                            ),
                        },
                        "latitude": {"type": "number", "minimum": -90, "maximum": 90},
                        "longitude": {"type": "number", "minimum": -180, "maximum": 180},
                        "client_read_id": {
                            "type": "string",
                            "maxLength": 64,
                            "pattern": "^[A-Za-z0-9._:-]+$",
                            "description": "The device's own id of the read, for resends",
                        },
                    },
                },
            }
        },
    }


SCHEMAS: dict[str, Any] = {
    "Refusal": {
        "type": "object",
        "required": ["error", "status"],
        "properties": {
            "error": {"type": "string"},
            "status": {"type": "integer"},
            "stored": {"type": "integer", "const": 0},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", "errors"],
                    "properties": {
                        "index": {"type": "integer"},
                        "errors": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "fields": {"type": "array", "items": {"type": "string"}},
            "field": {"type": "string"},
        },
    },
    "BatchResult": {
        "type": "object",
        "required": ["received", "stored", "duplicate", "destroyed_acp", "hits", "results"],
        "properties": {
            "device": {"type": "string", "description": "the device's serial (device API)"},
            "agency": {"type": "string", "description": "the agency's name (agency API)"},
            "received": {"type": "integer", "minimum": 0},
            "stored": {"type": "integer", "minimum": 0},
            "duplicate": {"type": "integer", "minimum": 0},
            "destroyed_acp": {"type": "integer", "minimum": 0},
            "hits": {"type": "integer", "minimum": 0},
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", "outcome"],
                    "properties": {
                        "index": {"type": "integer", "minimum": 0},
                        "outcome": {"enum": ["stored", "duplicate", "destroyed_acp"]},
                        "read_id": {"type": "integer"},
                        "client_read_id": {"type": "string"},
                    },
                },
            },
        },
    },
    "ImageRead": {
        "type": "object",
        "required": ["outcome", "read_id", "ocr_job"],
        "properties": {
            "outcome": {"enum": ["stored", "duplicate", "destroyed_acp"]},
            "read_id": {"type": ["integer", "null"]},
            "ocr_job": {"type": ["integer", "null"]},
            "plate_status": {"type": "string"},
            "images": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["kind", "sha256", "width", "height"],
                    "properties": {
                        "kind": {"enum": ["plate", "vehicle", "overview"]},
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        "width": {"type": "integer", "minimum": 1},
                        "height": {"type": "integer", "minimum": 1},
                    },
                },
            },
        },
    },
    "CameraResult": {
        "type": "object",
        "required": ["stored", "duplicate", "discarded"],
        "properties": {
            "device": {"type": "string"},
            "format": {"type": "string"},
            "ping": {"type": "boolean", "description": "a test ping: nothing stored"},
            "received": {"type": "integer", "minimum": 0},
            "stored": {"type": "integer", "minimum": 0},
            "duplicate": {"type": "integer", "minimum": 0},
            "discarded": {"type": "integer", "minimum": 0},
            "destroyed_acp": {"type": "integer", "minimum": 0},
            "hits": {"type": "integer", "minimum": 0},
            "discard_reasons": {
                "type": "object",
                "additionalProperties": {"type": "integer", "minimum": 0},
                "description": "why reads were not kept, counted (never the values dropped)",
            },
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"enum": ["ok", "unavailable"]},
            "checks": {
                "type": "object",
                "properties": {
                    "database": {"enum": ["ok", "unreachable"]},
                    "queue": {"enum": ["ok", "in-process", "unreachable"]},
                    "audit_unchained": {"type": "string"},
                },
            },
        },
    },
}


def _image_form() -> dict[str, Any]:
    picture = {"type": "string", "contentMediaType": "application/octet-stream"}
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["captured_at", "latitude", "longitude"],
                    "properties": {
                        "captured_at": {"type": "string", "format": "date-time"},
                        "latitude": {"type": "string", "description": "a number, -90 to 90"},
                        "longitude": {"type": "string", "description": "a number, -180 to 180"},
                        "plate": {
                            "type": "string",
                            "description": (
                                "The plate, when the camera read it. The plate crop picture "
                                "is a file part of the same name (`plate`)."
                            ),
                        },
                        "client_read_id": {"type": "string", "maxLength": 64},
                        "vehicle": picture,
                        "overview": picture,
                    },
                }
            }
        },
    }


def openapi_document(config: Mapping[str, Any]) -> dict[str, Any]:
    """The description, with this installation's limits (the batch size) filled in."""
    batch = {
        "required": True,
        "content": {JSON: {"schema": _read_schema(config["INGEST_MAX_BATCH"])}},
    }
    bearer = [{"deviceToken": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ALPR Records API",
            "version": "1",
            "description": (
                "Cameras push reads; other agencies push the reads they share (425.5). Only the "
                "fields policy 425.4.1(a) allows are accepted: any other is refused by name."
            ),
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "deviceToken": {"type": "http", "scheme": "bearer"},
                "agencyToken": {"type": "http", "scheme": "bearer"},
            },
        },
        "paths": {
            "/api/v1/reads": {
                "post": {
                    "operationId": "postReads",
                    "summary": "A device's batch of reads (all or nothing)",
                    "security": bearer,
                    "requestBody": batch,
                    "responses": {
                        "200": _json(_ref("BatchResult"), "Stored, with one result per read."),
                        **_refusals(400, 401, 403, 409, 413, 415, 422, 503),
                    },
                }
            },
            "/api/v1/reads/image": {
                "post": {
                    "operationId": "postImageRead",
                    "summary": "One read with its pictures; without a plate it waits for OCR",
                    "security": bearer,
                    "requestBody": _image_form(),
                    "responses": {
                        "201": _json(_ref("ImageRead"), "Stored."),
                        "200": _json(_ref("ImageRead"), "A resend, or an ACP plate destroyed."),
                        **_refusals(400, 401, 403, 409, 413, 415, 422, 503),
                    },
                }
            },
            "/api/v1/agency-reads": {
                "post": {
                    "operationId": "postAgencyReads",
                    "summary": "Reads another agency shares with the department (425.5)",
                    "security": [{"agencyToken": []}],
                    "requestBody": batch,
                    "responses": {
                        "200": _json(_ref("BatchResult"), "Stored, with one result per read."),
                        **_refusals(400, 401, 403, 413, 415, 422, 503),
                    },
                }
            },
            "/api/v1/cameras/{camera_format}": {
                "post": {
                    "operationId": "postCameraPayload",
                    "summary": "A vendor camera's own webhook payload, minimised at the door",
                    "description": (
                        "The camera's format must be the one the device was registered with. "
                        "Besides the bearer token, the route takes `Authorization: Token`, "
                        "`?token=`, Rekor Scout's `custom_data` and Verkada's signature."
                    ),
                    "security": bearer,
                    "parameters": [
                        {
                            "name": "camera_format",
                            "in": "path",
                            "required": True,
                            "schema": {"enum": sorted(ADAPTERS)},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            JSON: {"schema": {"type": "object"}},
                            "multipart/form-data": {"schema": {"type": "object"}},
                            "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                        },
                    },
                    "responses": {
                        "200": _json(_ref("CameraResult"), "Stored or counted."),
                        **_refusals(400, 401, 403, 404, 409, 413, 415, 422, 503),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenapi",
                    "summary": "This description",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "getHealth",
                    "summary": "The process is up",
                    "security": [],
                    "responses": {"200": _json(_ref("Health"), "Up.")},
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "getReadiness",
                    "summary": "The database and the job queue answer",
                    "security": [],
                    "responses": {
                        "200": _json(_ref("Health"), "Ready."),
                        "503": _json(_ref("Health"), "Not ready: `checks` says what is not."),
                    },
                }
            },
        },
    }


@api_bp.get("/openapi.json")
@public
def openapi_json():
    """The API's description, for client generators and for schemathesis."""
    return jsonify(openapi_document(current_app.config))
