"""Import every domain's models so the metadata (and Alembic) sees the whole schema."""

from app.alpr import models as alpr_models
from app.audit import models as audit_models
from app.auth import models as auth_models
from app.db import Base
from app.jobs import models as job_models
from app.retention import models as retention_models

__all__ = ["Base", "alpr_models", "audit_models", "auth_models", "job_models", "retention_models"]
