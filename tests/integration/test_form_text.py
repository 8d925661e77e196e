"""Every text field of every form refuses NUL and other control characters, at the field; every
number field refuses numbers no column holds.

PostgreSQL stores no NUL: a text field that let one through answered 500; an integer of 400
digits made WTForms' NumberRange raise OverflowError (a 500 at the approval queue's filter). The
forms walk below finds each form class of the app (every one derives from
:class:`app.core.forms.AppForm`) and posts such values to each of its text and number fields; the
pages then answer with the message at the field.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import timedelta

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import DecimalField, FloatField, IntegerField, StringField
from wtforms.fields.core import UnboundField

import app as app_package
from app.auth.forms import TrainingForm
from app.auth.models import Role
from app.core.forms import CONTROL_MESSAGE, NUMBER_MESSAGE, AppForm
from app.core.timeutil import local_today
from tests import factories
from tests.helpers import authorisation_fields, field_error, form_csrf


def _form_classes() -> list[type[FlaskForm]]:
    """Every FlaskForm subclass the app's modules define."""
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        importlib.import_module(module.name)
    found, todo = [], [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("app."):
                found.append(sub)
    return sorted(set(found), key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


FORMS = _form_classes()
TEXT_FIELDS = [
    (form, name)
    for form in FORMS
    for name, unbound in inspect.getmembers(form, lambda v: isinstance(v, UnboundField))
    if issubclass(unbound.field_class, StringField)
]

NUMBER_FIELDS = [
    (form, name)
    for form in FORMS
    for name, unbound in inspect.getmembers(form, lambda v: isinstance(v, UnboundField))
    if issubclass(unbound.field_class, IntegerField | FloatField | DecimalField)
]


def test_the_walk_finds_the_forms():
    names = {cls.__name__ for cls in FORMS}
    assert {"TrainingForm", "HoldForm", "SearchForm", "DeviceForm"} <= names
    assert len(TEXT_FIELDS) > 50
    assert len(NUMBER_FIELDS) > 10


@pytest.mark.parametrize("form_class", FORMS, ids=lambda cls: cls.__name__)
def test_every_form_derives_from_the_app_form(form_class):
    assert issubclass(form_class, AppForm), f"{form_class.__module__}: derive from AppForm"


@pytest.mark.parametrize("text", ["RF-1\x00 cabinet 3", "a\x07b", "\x1b[31m", "x\x7f"])
@pytest.mark.parametrize(
    ("form_class", "name"), TEXT_FIELDS, ids=[f"{f.__name__}.{n}" for f, n in TEXT_FIELDS]
)
def test_control_characters_are_refused_at_every_text_field(app, form_class, name, text):
    with app.test_request_context(method="POST"):
        form = form_class(formdata=MultiDict({name: text}), meta={"csrf": False})
        field = form[name]
        assert not field.validate(form)
        assert field.errors == [CONTROL_MESSAGE]


@pytest.mark.parametrize(
    "number",
    ["9" * 400, "-" + "9" * 400, "1e309", "-inf", "nan"],
    ids=["400 digits", "-400 digits", "1e309", "-inf", "nan"],
)
@pytest.mark.parametrize(
    ("form_class", "name"), NUMBER_FIELDS, ids=[f"{f.__name__}.{n}" for f, n in NUMBER_FIELDS]
)
def test_numbers_no_column_holds_are_refused_at_every_number_field(app, form_class, name, number):
    with app.test_request_context(method="POST"):
        form = form_class(formdata=MultiDict({name: number}), meta={"csrf": False})
        field = form[name]
        read = field.data  # None when the field could not read it as a number at all
        assert not field.validate(form)
        assert field.errors == [NUMBER_MESSAGE] if read is not None else field.errors


class _DecimalForm(AppForm):
    amount = DecimalField("Amount")


@pytest.mark.parametrize("number", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_a_decimal_field_refuses_what_is_no_number(app, number):
    """No form has a decimal field yet; the base form's check already covers one."""
    with app.test_request_context(method="POST"):
        form = _DecimalForm(formdata=MultiDict({"amount": number}), meta={"csrf": False})
        assert not form.amount.validate(form)
        assert form.amount.errors == [NUMBER_MESSAGE]


@pytest.mark.parametrize(
    "older_than", ["9" * 400, str(2**63), "-1"], ids=["400 digits", "2^63", "-1"]
)
def test_the_approval_queue_filter_refuses_a_number_too_large_at_the_field(
    client, login_as, older_than
):
    login_as(Role.DEPUTY_CHIEF)
    response = client.get("/requests", query_string={"older_than": older_than})
    assert response.status_code < 500
    assert field_error(response.get_data(as_text=True), "older_than")


def test_tabs_and_new_lines_are_typing(app):
    with app.test_request_context(method="POST"):
        text = MultiDict({"course": "ALPR\t101", "notes": "line one\r\nline two"})
        form = TrainingForm(formdata=text, meta={"csrf": False})
        assert form.course.validate(form) and form.notes.validate(form)


@pytest.mark.parametrize("field", ["course", "notes"])
def test_nul_in_training_text_answers_422_at_the_field(client, login_as, field):
    login_as(Role.DESIGNEE)
    user = factories.UserFactory(roles=[Role.OPERATOR])
    path = f"/admin/users/{user.id}"
    today = local_today()
    data = {
        "training-csrf_token": form_csrf(client, path),
        "training-course": "ALPR 101",
        "training-notes": "",
        "training-completed_on": (today - timedelta(days=1)).isoformat(),
        "training-expires_on": (today + timedelta(days=300)).isoformat(),
        **authorisation_fields("training-"),
        f"training-{field}": "ALPR\x00 101",
    }
    response = client.post(f"{path}/training", data=data)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), f"training-{field}") == CONTROL_MESSAGE


def test_nul_in_a_new_investigation_answers_422_at_the_field(client, login_as):
    login_as(Role.OPERATOR)
    data = {
        "csrf_token": form_csrf(client, "/investigations/new"),
        "case_number": "26-1\x00",
        "title": "Burglary\x00 series",
        "opened_on": local_today().isoformat(),
    }
    response = client.post("/investigations/new", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(body, "case_number") == CONTROL_MESSAGE
    assert field_error(body, "title") == CONTROL_MESSAGE
