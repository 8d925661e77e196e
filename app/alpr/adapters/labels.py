"""Words for the device page: what a dropped field is, in the administrator's language."""

from __future__ import annotations

#: The vendors' fields most worth switching off at the source, by their counter names.
FIELD_LABELS = {
    "vehicle.color": "vehicle colour",
    "vehicle.make": "vehicle make",
    "vehicle.make_model": "vehicle make and model",
    "vehicle.body_type": "vehicle body type",
    "vehicle.year": "vehicle year",
    "vehicle.orientation": "vehicle orientation",
    "vehicle_signature": "vehicle re-identification signature",
    "travel_direction": "direction of travel",
    "best_region": "plate state or region",
    "best_plate.region": "plate state or region",
    "license_key": "the agent's licence key",
    "video_streams.url": "camera stream URLs (may hold passwords)",
    "results.region": "plate state or region",
    "results.vehicle.type": "vehicle type",
    "results.vehicle.props": "vehicle make, model, colour and orientation",
    "results.model_make": "vehicle make and model",
    "results.color": "vehicle colour",
    "results.direction": "direction of travel",
    "results.speed": "vehicle speed",
    "plateCountry": "plate country",
    "carMoveDirection": "direction of travel",
    "camera_info.MACAddress": "camera network address",
    "State": "plate state",
    "Attributes.Vehicle Color": "vehicle colour",
    "Attributes.Vehicle Make": "vehicle make",
    "Attributes.Vehicle Model": "vehicle model",
    "Attributes.Vehicle Type": "vehicle type",
    "Attributes.Relative Motion": "direction of travel",
    "data.license_plate_state": "plate state",
    "data.image_url": "picture link (not fetched)",
}


def discard_label(field: str) -> str:
    """The field's meaning when known, else its own name (reasons are already words)."""
    return FIELD_LABELS.get(field, field)
