"""The Deputy Chief controls access (policy 425.3, 425.4(e), Minn. Stat. § 13.824 subd. 7).

Only the Deputy Chief or designee grants or removes department roles and records training,
each on a written authorisation that is kept and audited; the administrator keeps accounts'
technical state; nobody grants themselves a role or records their own training; confidential
hotlist references are shown only to accounts authorised for them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit.actions import AuditAction
from app.audit.services import record
from app.audit.trail import WITHHELD
from app.auth.accounts import create_user, set_roles
from app.auth.authorisations import WrittenAuthorisation
from app.auth.errors import AccountError
from app.auth.models import WRITTEN_GRANT_ROLES, AccessAuthorisation, Role, User
from app.auth.training import record_training
from app.core.timeutil import local_today
from tests.factories import HitFactory, UserFactory
from tests.helpers import (
    AUTHORISATION_OPTIONS,
    authorisation_fields,
    entry_details,
    field_error,
    form_csrf,
    login,
    when_run,
    written_authorisation,
)

HTMX = {"HX-Request": "true"}
NEW_PASSWORD = "my-own-new-password-42"


def fresh_user(session, user_id: int) -> User:
    session.rollback()  # see what the requests committed
    session.expire_all()
    return session.get(User, user_id)


def authorisations(session, user_id: int) -> list[AccessAuthorisation]:
    session.rollback()
    rows = session.scalars(
        select(AccessAuthorisation)
        .where(AccessAuthorisation.user_id == user_id)
        .order_by(AccessAuthorisation.id)
    ).all()
    session.commit()  # release SQLite's write lock for the next request
    return list(rows)


def post_roles(client: FlaskClient, user_id: int, roles: list[str], **fields: str):
    token = form_csrf(client, f"/admin/users/{user_id}")
    data = {"csrf_token": token, "roles": roles, **authorisation_fields(), **fields}
    return client.post(f"/admin/users/{user_id}/roles", data=data)


def post_training(client: FlaskClient, user_id: int, **fields: str):
    path = f"/admin/users/{user_id}"
    today = local_today()
    data = {
        "training-csrf_token": form_csrf(client, path),
        "training-course": "ALPR 101",
        "training-completed_on": (today - timedelta(days=1)).isoformat(),
        "training-expires_on": (today + timedelta(days=364)).isoformat(),
        **authorisation_fields("training-"),
        **fields,
    }
    return client.post(f"{path}/training", data=data)


def train(session, actor, user, authorisation=None):
    today = local_today()
    return record_training(
        session,
        actor,
        user,
        course="ALPR 101",
        completed_on=today - timedelta(days=1),
        expires_on=today + timedelta(days=30),
        authorisation=authorisation or written_authorisation(),
    )


# --- the administrator keeps accounts' technical state, not access ------------------------


@pytest.mark.parametrize("role", sorted(WRITTEN_GRANT_ROLES))
def test_an_administrator_cannot_give_a_role_to_anyone_or_to_themselves(
    client, session, login_as, role
):
    admin = login_as(Role.ADMIN)
    other = UserFactory(roles=[Role.AUDITOR])
    for target, before in ((other, ["auditor"]), (admin, ["admin"])):
        if role.value in before:
            continue
        assert post_roles(client, target.id, [*before, role.value]).status_code == 403
        assert fresh_user(session, target.id).roles == {Role(r) for r in before}
        with pytest.raises(AccountError, match=r"Deputy Chief|your own account"):
            set_roles(session, admin, target, [*before, role.value], written_authorisation())
        session.rollback()
    assert authorisations(session, other.id) == [] and authorisations(session, admin.id) == []
    assert entry_details(session, AuditAction.USER_ROLES_CHANGED) == []


def test_an_administrator_cannot_remove_a_department_role(session):
    admin = UserFactory(roles=[Role.ADMIN])
    other = UserFactory(roles=[Role.OPERATOR, Role.AUDITOR])
    with pytest.raises(AccountError, match="Only the Deputy Chief or designee"):
        set_roles(session, admin, other, ["auditor"], written_authorisation())
    session.rollback()
    assert fresh_user(session, other.id).roles == {Role.OPERATOR, Role.AUDITOR}


def test_an_administrator_cannot_record_training_for_anyone_or_themselves(
    client, session, login_as
):
    admin = login_as(Role.ADMIN, trained=False)
    other = UserFactory(roles=[Role.OPERATOR])
    for target in (other, admin):
        assert post_training(client, target.id).status_code == 403
        with pytest.raises(AccountError, match="Only the Deputy Chief or designee records"):
            train(session, admin, target)
        session.rollback()
        assert fresh_user(session, target.id).training_records == []
    assert entry_details(session, AuditAction.TRAINING_RECORDED) == []


def test_an_administrator_cannot_create_an_account_with_a_department_role(session):
    admin = UserFactory(roles=[Role.ADMIN])
    with pytest.raises(AccountError, match="Only the Deputy Chief or designee") as refused:
        create_user(
            session,
            admin,
            email="officer@example.org",
            name="Officer",
            password="a-long-enough-password",
            roles=["operator"],
            authorisation=written_authorisation(),
        )
    assert refused.value.field == "roles"


def test_the_administrators_account_page_offers_no_grant(client, session, login_as):
    login_as(Role.ADMIN)
    other = UserFactory(roles=[Role.OPERATOR])
    page = client.get(f"/admin/users/{other.id}").get_data(as_text=True)
    assert 'data-testid="roles-form"' not in page and 'data-testid="training-form"' not in page
    assert 'data-testid="grants-elsewhere"' in page
    assert "Deactivate account" in page and "Set a temporary password" in page


def test_the_administrator_creates_an_account_without_a_role_that_can_only_sign_in(
    app, client, session, login_as
):
    login_as(Role.ADMIN)
    token = form_csrf(client, "/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "email": "recruit@example.org",
            "name": "Recruit",
            "password": "a-long-enough-password",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    recruit = session.scalars(select(User).where(User.email == "recruit@example.org")).one()
    assert recruit.roles == set() and recruit.password_must_change
    session.commit()
    theirs = app.test_client()
    assert login(theirs, recruit.email, "a-long-enough-password").status_code == 302
    token = form_csrf(theirs, "/account/password")
    changed = theirs.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "a-long-enough-password",
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    home = theirs.get("/").get_data(as_text=True)
    assert "None yet: the Deputy Chief or designee grants roles" in home
    assert "Audit chain" not in home
    assert theirs.get("/alpr/search").status_code == 403
    assert theirs.get("/admin/users").status_code == 403
    signed_out = theirs.post("/logout", data={"csrf_token": form_csrf(theirs, "/")})
    assert signed_out.status_code == 302


# --- the Deputy Chief or designee grants, on a written authorisation ---------------------


@pytest.mark.parametrize("grantor", [Role.DEPUTY_CHIEF, Role.DESIGNEE])
def test_the_deputy_chief_or_designee_grants_roles_on_a_recorded_authorisation(
    client, session, login_as, grantor
):
    actor = login_as(grantor)
    other = UserFactory(roles=[Role.RECORDS])
    response = post_roles(client, other.id, ["operator", "confidential_data"])
    assert response.status_code == 302, response.get_data(as_text=True)
    assert fresh_user(session, other.id).roles == {Role.OPERATOR, Role.CONFIDENTIAL_DATA}
    (row,) = authorisations(session, other.id)
    assert row.granted_roles == [Role.CONFIDENTIAL_DATA, Role.OPERATOR]
    assert row.removed_roles == [Role.RECORDS]
    assert (row.authorised_by, row.authorised_on, row.document) == (
        "Dana Deputy-Chief",
        local_today(),
        "Memo 2026-014",
    )
    assert row.recorded_by_id == actor.id
    (audited,) = entry_details(session, AuditAction.USER_ROLES_CHANGED)
    assert audited["authorisation"] == {
        "id": row.id,
        "authorised_by": "Dana Deputy-Chief",
        "authorised_on": local_today().isoformat(),
        "document": "Memo 2026-014",
    }
    session.commit()
    page = client.get(f"/admin/users/{other.id}").get_data(as_text=True)
    assert "Memo 2026-014" in page and "Granted " in page and "Removed Records staff" in page


@pytest.mark.parametrize("grantor", [Role.DEPUTY_CHIEF, Role.DESIGNEE])
def test_the_deputy_chief_or_designee_records_training_on_a_recorded_authorisation(
    client, session, login_as, grantor
):
    login_as(grantor)
    other = UserFactory(roles=[Role.OPERATOR])
    response = post_training(client, other.id, **{"training-document": "Certificate C-77"})
    assert response.status_code == 302, response.get_data(as_text=True)
    (training,) = fresh_user(session, other.id).training_records
    (row,) = authorisations(session, other.id)
    assert row.training_record_id == training.id and row.document == "Certificate C-77"
    (audited,) = entry_details(session, AuditAction.TRAINING_RECORDED)
    assert audited["authorisation"]["document"] == "Certificate C-77"
    page = client.get(f"/admin/users/{other.id}").get_data(as_text=True)
    assert "Training: ALPR 101" in page and "Certificate C-77" in page


def test_the_deputy_chief_creates_an_account_with_roles_on_an_authorisation(
    client, session, login_as
):
    login_as(Role.DEPUTY_CHIEF)
    data = {
        "csrf_token": form_csrf(client, "/admin/users/new"),
        "email": "officer@example.org",
        "name": "Officer",
        "password": "a-long-enough-password",
        "roles": ["operator"],
    }
    missing = client.post("/admin/users/new", data=data)
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    for name in ("authorised_by", "authorised_on", "document"):
        assert "written authorisation" in field_error(html, name)
    assert 'value="officer@example.org"' in html  # nothing typed is lost
    session.rollback()
    assert session.scalars(select(User).where(User.email == data["email"])).first() is None
    session.rollback()
    created = client.post("/admin/users/new", data={**data, **authorisation_fields()})
    assert created.status_code == 302
    officer = session.scalars(select(User).where(User.email == data["email"])).one()
    (row,) = authorisations(session, officer.id)
    assert row.granted_roles == [Role.OPERATOR]
    (audited,) = entry_details(session, AuditAction.USER_CREATED)
    assert audited["authorisation"]["id"] == row.id


# --- nobody grants themselves -------------------------------------------------------------


@pytest.mark.parametrize("grantor", [Role.DEPUTY_CHIEF, Role.DESIGNEE])
def test_nobody_grants_themselves_a_role_or_records_their_own_training(session, grantor):
    me = UserFactory(roles=[grantor, Role.ADMIN])
    with pytest.raises(AccountError, match="your own account"):
        set_roles(session, me, me, [grantor.value, "admin", "operator"], written_authorisation())
    session.rollback()
    with pytest.raises(AccountError, match="your own training"):
        train(session, me, me)
    session.rollback()
    assert fresh_user(session, me.id).roles == {grantor, Role.ADMIN}
    assert fresh_user(session, me.id).training_records == []


def test_a_deputy_chiefs_own_page_offers_no_training_form_and_a_post_is_refused(
    client, session, login_as
):
    chief = login_as(Role.DEPUTY_CHIEF, trained=False)
    page = client.get(f"/admin/users/{chief.id}").get_data(as_text=True)
    assert 'data-testid="training-form"' not in page
    assert "Your own training is recorded by another Deputy Chief or designee." in page
    response = post_training(client, chief.id)
    assert response.status_code == 422
    assert "You cannot record your own training" in response.get_data(as_text=True)
    assert fresh_user(session, chief.id).training_records == []


def test_confidential_data_is_not_a_role_on_its_own(session):
    target = UserFactory(roles=[Role.OPERATOR])
    with pytest.raises(AccountError, match="not alone") as refused:
        set_roles(session, "cli:users", target, ["confidential_data"], written_authorisation())
    assert refused.value.field == "roles"


# --- the authorisation itself: every field, at its field -----------------------------------


def test_the_service_refuses_a_grant_without_its_authorisation_whoever_asks(session):
    target = UserFactory(roles=[Role.RECORDS])
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF])
    for actor in ("cli:users", chief):
        with pytest.raises(AccountError, match="Name the person") as refused:
            set_roles(session, actor, target, ["operator"])
        assert refused.value.field == "authorised_by"
        session.rollback()
        with pytest.raises(AccountError, match="Name the person"):
            train(session, actor, target, WrittenAuthorisation("", local_today(), "M-1"))
        session.rollback()
    assert fresh_user(session, target.id).roles == {Role.RECORDS}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("authorised_by", "", "written authorisation"),
        ("authorised_by", "   ", "written authorisation"),
        ("authorised_by", "Dana\x00Chief", "Control characters"),
        ("authorised_by", "x" * 201, "longer than 200"),
        ("document", " \t ", "written authorisation"),
        ("document", "y" * 5000, "longer than 200"),
        ("authorised_on", "", "written authorisation"),
        ("authorised_on", "tomorrow", "Not a valid date"),
        ("authorised_on", "0202-05-01", "check the year"),
        ("authorised_on", "99999-01-01", "Not a valid date"),
        ("authorised_on", lambda: (local_today() + timedelta(days=3)).isoformat(), "in the future"),
    ],
)
@pytest.mark.parametrize("form", ["roles", "training"])
def test_a_bad_authorisation_is_refused_at_its_field_and_nothing_is_saved(
    client, session, login_as, form, field, value, message
):
    value = when_run(value)
    login_as(Role.DESIGNEE)
    other = UserFactory(roles=[Role.RECORDS])
    if form == "roles":
        response = post_roles(client, other.id, ["operator"], **{field: value})
        shown = field
    else:
        response = post_training(client, other.id, **{f"training-{field}": value})
        shown = f"training-{field}"
    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), shown)
    assert error is not None and message.lower() in error.lower(), error
    refreshed = fresh_user(session, other.id)
    assert refreshed.roles == {Role.RECORDS} and refreshed.training_records == []
    assert authorisations(session, other.id) == []


# --- the shell: trusted as to who, but it names the authorisation --------------------------


def test_the_shell_needs_the_authorisation_for_a_department_role_or_training(app, session):
    runner = app.test_cli_runner()
    base = ["users", "create", "--password", "a-long-enough-password"]
    refused = runner.invoke(args=[*base, "--email", "a@example.org", "--role", "operator"])
    assert refused.exit_code == 1 and "--authorised-by:" in refused.output, refused.output
    no_document = runner.invoke(
        args=[*base, "--email", "b@example.org", "--role", "auditor", "--authorised-by", "Dana"]
    )
    assert no_document.exit_code == 1 and "--authorisation:" in no_document.output
    agency = runner.invoke(
        args=[*base, "--email", "c@example.org", "--role", "agency", "--agency", "Sheriff"]
    )
    assert agency.exit_code == 0, agency.output
    until = (local_today() + timedelta(days=300)).isoformat()
    signed = local_today() - timedelta(days=20)
    granted = runner.invoke(
        args=[
            *base,
            "--email",
            "chief@example.org",
            "--role",
            "deputy_chief",
            "--trained-until",
            until,
            *AUTHORISATION_OPTIONS,
            "--authorised-on",
            signed.isoformat(),
        ]
    )
    assert granted.exit_code == 0, granted.output
    session.rollback()
    chief = session.scalars(select(User).where(User.email == "chief@example.org")).one()
    rows = authorisations(session, chief.id)
    assert [row.change for row in rows] == ["roles", "training"]
    assert {(row.authorised_on, row.document, row.recorded_by_id) for row in rows} == {
        (signed, "Memo 2026-014", None)
    }
    assert {u.email for u in session.scalars(select(User))} == {"c@example.org", chief.email}


# --- confidential data (425.4(e)) ----------------------------------------------------------


@pytest.mark.parametrize("authorised", [False, True])
def test_a_hotlist_reference_is_shown_only_to_an_authorised_operator(
    client, session, login_as, authorised
):
    roles = (Role.OPERATOR, Role.CONFIDENTIAL_DATA) if authorised else (Role.OPERATOR,)
    login_as(*roles)
    hit = HitFactory(hotlist_reference="NCIC-V123456")
    for headers in ({}, HTMX):
        page = client.get(f"/alpr/hits/{hit.id}", headers=headers).get_data(as_text=True)
        assert ("NCIC-V123456" in page) is authorised
        assert ('data-testid="reference-withheld"' in page) is not authorised


@pytest.mark.parametrize("authorised", [False, True])
def test_the_audit_trail_withholds_a_hotlist_reference_from_the_unauthorised(
    client, session, login_as, authorised
):
    roles = (Role.AUDITOR, Role.CONFIDENTIAL_DATA) if authorised else (Role.AUDITOR,)
    login_as(*roles)
    hit = HitFactory(hotlist_reference="MNJIS-998877")
    record(
        session,
        "system:ingest",
        AuditAction.HIT_CREATED,
        ("hits", hit.id),
        {
            "read_id": hit.read_id,
            "source": "mn",
            "category": "stolen_vehicle",
            "reference": "MNJIS-998877",
        },
    )
    session.commit()
    page = client.get("/audit/?action=hit.created").get_data(as_text=True)
    assert ("MNJIS-998877" in page) is authorised
    assert (WITHHELD in page) is not authorised
    assert "stolen_vehicle" in page  # only the reference is withheld
