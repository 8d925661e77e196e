"""Import every domain's models so the metadata (and Alembic) sees the whole schema."""

from app.audit import models as audit_models
from app.auth import models as auth_models
from app.bca import models as bca_models
from app.breaches import models as breach_models
from app.db import Base
from app.investigations import models as investigation_models
from app.jobs import models as job_models
from app.reads import models as read_models
from app.requests import models as request_models
from app.retention import models as retention_models

__all__ = [
    "Base",
    "audit_models",
    "auth_models",
    "bca_models",
    "breach_models",
    "investigation_models",
    "job_models",
    "read_models",
    "request_models",
    "retention_models",
]
