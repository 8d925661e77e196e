"""factory-boy factories for the models tests need; later tests reuse them."""

from __future__ import annotations

from datetime import timedelta

import factory
from argon2 import PasswordHasher

from app.auth.models import Agency, Role, TrainingRecord, User, UserRole
from app.core.timeutil import local_today

DEFAULT_PASSWORD = "correct-horse-battery-staple"
#: Hashed once: argon2 is deliberately slow, and tests create many users.
DEFAULT_PASSWORD_HASH = PasswordHasher().hash(DEFAULT_PASSWORD)


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session = None  # bound by the `session` fixture
        sqlalchemy_session_persistence = "commit"


class AgencyFactory(BaseFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Agency {n}")
    ori = factory.Sequence(lambda n: f"MN{n:07d}")


class TrainingRecordFactory(BaseFactory):
    """Current training by default; override the dates for expired or future records."""

    class Meta:
        model = TrainingRecord

    course = "Department ALPR training"
    completed_on = factory.LazyFunction(lambda: local_today() - timedelta(days=10))
    expires_on = factory.LazyFunction(lambda: local_today() + timedelta(days=355))


class UserFactory(BaseFactory):
    """A user: `UserFactory(roles=[Role.OPERATOR], trained=True)`."""

    class Meta:
        model = User
        exclude = ("roles",)

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Sequence(lambda n: f"User {n}")
    password_hash = DEFAULT_PASSWORD_HASH
    roles = (Role.OPERATOR,)
    role_rows = factory.LazyAttribute(lambda o: [UserRole(role=Role(r).value) for r in o.roles])

    @factory.post_generation
    def trained(obj, create, extracted, **kwargs):  # noqa: N805 (factory-boy hook)
        """`trained=True` adds a current department-approved training record."""
        if create and extracted:
            TrainingRecordFactory(user=obj)
