"""Login, logout and the administrators' account pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from app.auth.access import public, require, signed_in
from app.auth.accounts import create_account, set_active, set_roles, sign_out
from app.auth.authorisations import grantable_roles
from app.auth.errors import AccountError
from app.auth.forms import (
    ROLE_CHOICES,
    ActivationForm,
    ChangePasswordForm,
    DeactivateForm,
    LoginForm,
    RolesForm,
    TemporaryPasswordForm,
    TrainingForm,
    UserCreateForm,
)
from app.auth.models import WRITTEN_GRANT_ROLES, Role, User
from app.auth.passwords import change_own_password, set_temporary_password
from app.auth.permissions import ACCOUNT_PERMISSIONS, AccountAction
from app.auth.signin import authenticate
from app.auth.training import record_training
from app.core.pages import acting_user, load_or_404
from app.core.refusal import Refusal, show_refusal
from app.core.timeutil import local_today
from app.db import db_session, utcnow
from app.extensions import limiter

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_key() -> str:
    return "login-account:" + request.form.get("email", "").strip().lower()[:254]


def _safe_next(target: str | None) -> str | None:
    """A `next` that stays on this site, else None.

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, so a tab or a
    backslash after the first slash still leads off-site; a control character in the Location
    header is also a 500, after the login committed.
    """
    if not target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    target = target.replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _home_for(user: User) -> str:
    return url_for("home.home")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_account_key)
def login():
    """The sign-in form; every attempt is audited, repeated failures lock the account."""
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        session = db_session()
        outcome = authenticate(
            session,
            email=form.email.data,
            password=form.password.data,
            address=request.remote_addr or "unknown",
            now=utcnow(),
            lockout_threshold=current_app.config["LOGIN_LOCKOUT_THRESHOLD"],
            lockout_minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"],
        )
        session.commit()
        if outcome.user is not None:
            login_user(outcome.user)
            return redirect(_safe_next(request.args.get("next")) or _home_for(outcome.user))
        flash(outcome.message, "error")
        status = 401
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    """Sign out everywhere (POST with a CSRF token, so no link elsewhere can sign a user out)."""
    session = db_session()
    sign_out(session, acting_user())
    session.commit()
    logout_user()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))


def _may() -> dict[str, bool]:
    """Which account actions the signed-in user may take: the page shows only those forms."""
    actor = acting_user()
    return {action.value: ACCOUNT_PERMISSIONS.allows(actor, action) for action in AccountAction}


@bp.route("/admin/users")
@require(ACCOUNT_PERMISSIONS.roles(AccountAction.VIEW_ACCOUNTS))
def users():
    """Every account, with roles and training status."""
    all_users = db_session().scalars(select(User).order_by(User.email)).all()
    return render_template("admin/users.html", users=all_users, today=local_today(), may=_may())


@bp.route("/admin/users/new", methods=["GET", "POST"])
@require(ACCOUNT_PERMISSIONS.roles(AccountAction.ADMINISTER_ACCOUNTS))
def user_new():
    """Create an account, with the roles its creator may grant (on a written authorisation)."""
    form = UserCreateForm()
    grantable = grantable_roles(acting_user())
    form.roles.choices = [choice for choice in ROLE_CHOICES if Role(choice.value) in grantable]
    if form.validate_on_submit():
        session = db_session()
        try:
            user = create_account(
                session,
                acting_user(),
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                roles=form.roles.data,
                agency_name=form.agency_name.data,
                authorisation=form.authorisation(),
            )
        except AccountError as exc:
            session.rollback()
            show_refusal(form, exc, "email")
        else:
            session.commit()
            flash(f"Created {user.email}.", "success")
            return redirect(url_for("auth.user_detail", user_id=user.id))
    authorising = bool(grantable & WRITTEN_GRANT_ROLES)
    return render_template(
        "admin/user_new.html", form=form, authorising=authorising
    ), 422 if form.errors else 200


def _training_form(**kwargs: object) -> TrainingForm:
    """The training form; its prefix keeps its fields apart from the roles form's."""
    return TrainingForm(prefix="training", **kwargs)


@bp.route("/admin/users/<int:user_id>")
@require(ACCOUNT_PERMISSIONS.roles(AccountAction.VIEW_ACCOUNTS))
def user_detail(user_id: int):
    """One account: roles, training records, written authorisations, activation."""
    user = load_or_404(User, user_id)
    roles_form = RolesForm(roles=[r.value for r in user.roles])
    return render_template(
        "admin/user_detail.html",
        user=user,
        roles_form=roles_form,
        training_form=_training_form(),
        **_activation_forms(),
        password_form=TemporaryPasswordForm(),
        today=local_today(),
        may=_may(),
    )


def _activation_forms() -> dict[str, object]:
    """Reactivating takes a click; deactivating ends sessions at once, so it asks first."""
    return {
        "activation_form": ActivationForm(formdata=None),
        "deactivate_form": DeactivateForm(formdata=None),
    }


def _render_detail_with_errors(user: User, **forms):
    """The account page again (422), the refused form bound with its errors and input."""
    defaults = {
        "roles_form": RolesForm(formdata=None, roles=[r.value for r in user.roles]),
        "training_form": _training_form(formdata=None),
        **_activation_forms(),
        "password_form": TemporaryPasswordForm(formdata=None),
    }
    defaults.update(forms)
    return (
        render_template(
            "admin/user_detail.html", user=user, today=local_today(), may=_may(), **defaults
        ),
        422,
    )


@bp.route("/admin/users/<int:user_id>/roles", methods=["POST"])
@require(ACCOUNT_PERMISSIONS.roles(AccountAction.GRANT_ACCESS))
def user_roles(user_id: int):
    """Replace a user's roles, on the written authorisation of the change (425.3)."""
    user = load_or_404(User, user_id)
    form = RolesForm()
    if not form.validate_on_submit():
        return _render_detail_with_errors(user, roles_form=form)
    session = db_session()
    try:
        changed = set_roles(session, acting_user(), user, form.roles.data, form.authorisation())
    except AccountError as exc:
        session.rollback()
        show_refusal(form, exc, "roles")
        return _render_detail_with_errors(load_or_404(User, user_id), roles_form=form)
    session.commit()
    if not changed:
        flash(f"No change: {user.email} already holds these roles.", "info")
        return redirect(url_for("auth.user_detail", user_id=user.id))
    if user.id == current_user.id:
        login_user(user)  # the change ended the sessions of the user, this one included
    flash("Roles updated.", "success")
    return redirect(url_for("auth.user_detail", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/training", methods=["POST"])
@require(ACCOUNT_PERMISSIONS.roles(AccountAction.GRANT_ACCESS))
def user_training(user_id: int):
    """Record a department-approved training, on its written authorisation (425.3)."""
    user = load_or_404(User, user_id)
    form = _training_form()
    if not form.validate_on_submit():
        return _render_detail_with_errors(user, training_form=form)
    session = db_session()
    try:
        record_training(
            session,
            acting_user(),
            user,
            course=form.course.data,
            completed_on=form.completed_on.data,
            expires_on=form.expires_on.data,
            notes=form.notes.data or None,
            authorisation=form.authorisation(),
        )
    except AccountError as exc:
        session.rollback()
        show_refusal(form, exc)
        return _render_detail_with_errors(load_or_404(User, user_id), training_form=form)
    session.commit()
    flash("Training recorded.", "success")
    return redirect(url_for("auth.user_detail", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/<any(deactivate, reactivate):change>", methods=["POST"])
@require(ACCOUNT_PERMISSIONS.roles(AccountAction.ADMINISTER_ACCOUNTS))
def user_activation(user_id: int, change: str):
    """Deactivate (confirmed) or reactivate an account (accounts are never deleted)."""
    user = load_or_404(User, user_id)
    form = DeactivateForm() if change == "deactivate" else ActivationForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _render_detail_with_errors(user, deactivate_form=form)
    session = db_session()
    try:
        changed = set_active(session, acting_user(), user, change == "reactivate")
    except AccountError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("auth.user_detail", user_id=user_id))
    session.commit()
    if changed:
        flash(f"{user.email} {change}d.", "success")
    else:
        state = "active" if change == "reactivate" else "deactivated"
        flash(f"No change: {user.email} is already {state}.", "info")
    return redirect(url_for("auth.user_detail", user_id=user.id))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def password():
    """Change one's own password (the current one required); every other session ends."""
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        session = db_session()
        try:
            change_own_password(session, user, form.current_password.data, form.new_password.data)
        except Refusal as exc:
            session.rollback()
            show_refusal(form, exc)
            status = 422
        else:
            session.commit()
            login_user(user)  # this browser continues in the new session generation
            flash("Password changed; you are signed out everywhere else.", "success")
            return redirect(_home_for(user))
    elif request.method == "POST":
        status = 422
    return render_template(
        "auth/password.html", form=form, must_change=user.password_must_change
    ), status


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@require(ACCOUNT_PERMISSIONS.roles(AccountAction.SET_TEMPORARY_PASSWORD))
def user_password(user_id: int):
    """Set a temporary password that its owner must replace at the next sign-in."""
    user = load_or_404(User, user_id)
    form = TemporaryPasswordForm()
    if not form.validate_on_submit():
        return _render_detail_with_errors(user, password_form=form)[0], 422
    session = db_session()
    try:
        set_temporary_password(
            session, current_user._get_current_object(), user, form.password.data
        )
    except Refusal as exc:
        session.rollback()
        show_refusal(form, exc)
        page, _ = _render_detail_with_errors(load_or_404(User, user_id), password_form=form)
        return page, 422
    session.commit()
    flash(f"Temporary password set for {user.email}; they must change it at sign-in.", "success")
    return redirect(url_for("auth.user_detail", user_id=user.id))
