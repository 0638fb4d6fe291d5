"""Sign-in, registration, sign-out, password change and one-time reset links."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.config import COOKIE_NAME
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from clanledger.extensions import db, limiter
from clanledger.i18n import current_locale_code, remember_locale, service_message
from clanledger.models import User
from clanledger.security import safe_next_url
from clanledger.services import accounts
from clanledger.services.errors import NotFound, ValidationError
from clanledger.web.forms import form_page_status, show_service_error

bp = Blueprint("auth", __name__, url_prefix="/auth")


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class RegisterForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(min=3, max=32)],
        description=_l("Letters, digits, dots, dashes or underscores. Used to sign in."),
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    display_name = StringField(
        _l("Display name"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("What your clan sees, e.g. your main character's name."),
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=8, max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    next = HiddenField()
    submit = SubmitField(_l("Create account"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=8, max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=8, max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set the new password"))


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _failed(response: Response) -> bool:
    """Only failed attempts count against the limit (a success redirects)."""
    return response.status_code != 302


def _after_login_url(form_next: str | None) -> str:
    return safe_next_url(form_next) or url_for("main.index")


def _sign_in(user: User, remember: bool) -> None:
    login_user(user, remember=remember)
    if user.locale:
        remember_locale(user.locale)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
def login() -> Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(_after_login_url(request.args.get("next")))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.username.data, form.password.data)
        if user is not None:
            _sign_in(user, bool(form.remember.data))
            return redirect(_after_login_url(form.next.data))
        form.form_errors.append(_("Wrong username or password."))
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form), form_page_status(form)


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register() -> Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm(next=request.args.get("next", ""))
    refused = False
    if form.validate_on_submit():
        try:
            user = accounts.register_user(
                db.session,
                form.username.data,
                form.display_name.data,
                form.password.data,
                locale=current_locale_code(),
            )
        except ValidationError as error:
            show_service_error(form, error)
            refused = True
        else:
            _sign_in(user, remember=False)
            flash(_("Welcome! Create a clan or open your clan's invite link."), "success")
            return redirect(_after_login_url(form.next.data))
    return render_template("auth/register.html", form=form), form_page_status(form, refused)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | tuple[str, int]:
    form = ChangePasswordForm()
    refused = False
    if form.validate_on_submit():
        try:
            user = accounts.change_password(
                db.session, current_user.id, form.current_password.data, form.new_password.data
            )
        except ValidationError as error:
            show_service_error(form, error)
            refused = True
        else:
            # Other devices are signed out by the new password; keep this one signed in.
            remembered = (
                current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies
            )
            login_user(user, remember=remembered)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.index"))
    status = form_page_status(form, refused)
    return render_template("auth/change_password.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def reset_password(token: str) -> Response | tuple[str, int]:
    try:
        user = accounts.check_reset_token(db.session, token)
    except NotFound as error:
        return render_template("errors/error.html", status=404, message=service_message(error)), 404
    form = ResetPasswordForm()
    refused = False
    if form.validate_on_submit():
        try:
            accounts.reset_password(db.session, token, form.new_password.data)
        except ValidationError as error:
            show_service_error(form, error)
            refused = True
        except NotFound:
            abort(404)
        else:
            logout_user()
            flash(_("Your password has been reset. Sign in with the new one."), "success")
            return redirect(url_for("auth.login"))
    status = form_page_status(form, refused)
    return render_template("auth/reset_password.html", form=form, user=user), status
