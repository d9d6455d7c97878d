"""The web console: flows, dead letters, audit and referrals, for operators and auditors.

Server-rendered pages (Starlette + Jinja2); the live parts are htmx fragments polled from
``/static/htmx.min.js`` served by the console itself. Operators see every page but the audit
and never an identity code; auditors see the audit and, on an explicit request each time, the
identity codes of a dead letter, each request recorded in the audit log as a disclosure.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from hub.audit.anchors import read_topic_anchors
from hub.audit.disclosures import disclosures_of
from hub.audit.evidence import Evidence
from hub.audit.recorder import AuditRecorder
from hub.audit.records import AuditDraft, AuditRecord, Direction, EventFacts
from hub.audit.signing import PUBLIC_KEY_FILE, load_public_key
from hub.audit.store import AuditStore, RecordQuery
from hub.broker.connection import KafkaConnection
from hub.console.config import ConsoleSettings
from hub.console.deadletter_index import DeadLetterIndex
from hub.console.deadletters import (
    DEADLETTER_CHAIN,
    RESUBMIT_TARGETS,
    DeadLetterFilter,
    DeadLetterId,
    QuarantinedLetter,
    State,
    close,
    dispositions,
    read_dead_letter,
    resubmit,
    state_of,
)
from hub.console.flows import FlowView, flows_from_text, last_error_of, with_last_errors
from hub.console.oidc import OidcSignIn, OidcSignInError
from hub.console.security import SecurityHeaders, csrf_token, csrf_valid, session_key
from hub.console.share import SharePages
from hub.console.users import Role, User, UserStore
from hub.console.verification import Verifications
from hub.core.errors import HubError
from hub.core.logs import get_logger
from hub.core.redaction import identity_codes_in, mask_identity_codes
from hub.core.settings import HubSettings, pseudonym_secret
from hub.referrals.register import ReferralRegister
from schemas.identity_code import IdentityCodeError, validate_identity_code
from schemas.person_ref import person_ref_for

__all__ = ["CONSOLE_CHAIN", "ConsoleContext", "create_app"]

log = get_logger(__name__)

#: The audit chain of what the console showed to whom (disclosures to people).
CONSOLE_CHAIN: Final = "console"
_MAX_UPLOAD: Final = 1024 * 1024
_SESSION_COOKIE: Final = "hub_console"
_SESSION_AGE_S: Final = 8 * 3600
#: The newest checkpoints the audit page lists.
_CHECKPOINTS_SHOWN: Final = 20
#: The newest matching dead letters the dead-letter page lists (the filters narrow it).
_DEAD_LETTERS_SHOWN: Final = 200


@dataclass
class ConsoleContext:
    """What the pages read from and write to."""

    settings: HubSettings
    console: ConsoleSettings
    connection: KafkaConnection
    recorder: AuditRecorder
    users: UserStore
    #: The hub's Prometheus text, or ``None`` when no metrics source is configured.
    metrics_text: Callable[[], Awaitable[str]] | None
    public_key: Ed25519PublicKey | None = None


def _templates() -> Jinja2Templates:
    loader = PackageLoader("hub.console", "templates")
    return Jinja2Templates(env=Environment(loader=loader, autoescape=True))


def _user(request: Request) -> User | None:
    raw = request.session.get("user")
    if not isinstance(raw, dict):
        return None
    try:
        return User(str(raw["name"]), Role(raw["role"]))
    except (KeyError, ValueError):
        return None


def _require(request: Request, *roles: Role) -> User:
    user = _user(request)
    if user is None:
        raise HTTPException(303, headers={"location": "/login"})
    if roles and user.role not in roles:
        raise HTTPException(403, "your role may not see this page")
    return user


async def _form(request: Request) -> FormData:
    form = await request.form(max_part_size=_MAX_UPLOAD)
    submitted = form.get("csrf") or request.headers.get("x-csrf-token")
    if not csrf_valid(request, submitted if isinstance(submitted, str) else None):
        raise HTTPException(403, "the form expired or did not come from this console")
    return form


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _when(text: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _noted(view: FlowView, note: str) -> FlowView:
    """``view`` with ``note`` added to what it says could not be read."""
    view.source_error = note if view.source_error is None else f"{view.source_error}; {note}"
    return view


def _trusted_key(settings: HubSettings) -> Ed25519PublicKey | None:
    if settings.audit_signing_key_file is not None:
        return load_public_key(settings.audit_signing_key_file)
    default = settings.data_dir / PUBLIC_KEY_FILE
    return load_public_key(default) if default.exists() else None


class _Console:
    """The pages, over one self.context."""

    def __init__(self, context: ConsoleContext) -> None:
        self.context = context
        self.templates = _templates()
        self.oidc = OidcSignIn(self.context.console) if self.context.console.oidc else None
        if self.context.public_key is None:
            self.context.public_key = _trusted_key(self.context.settings)
        self._dead_letter_index: DeadLetterIndex | None = None
        self._keeping_current: asyncio.Task[None] | None = None
        self.verifications = Verifications(
            self.context.recorder.store, self.context.public_key, self.gather_anchors
        )

    def page(self, request: Request, name: str, status: int = 200, **values: Any) -> Response:
        values.setdefault("user", _user(request))
        values["csrf"] = csrf_token(request)
        values["refresh_s"] = self.context.console.refresh_s
        return self.templates.TemplateResponse(request, name, values, status_code=status)

    def store_call(self, function: Callable[..., Any], *args: Any) -> Awaitable[Any]:
        return asyncio.to_thread(function, *args)

    async def dead_letter_index(self) -> tuple[DeadLetterIndex, str | None]:
        """The data directory's dead-letter index, brought up to date with the topic (opened
        at the first use: a console that never lists dead letters makes no file), and why not
        if the topic could not be read: the index then answers with what it read before.
        No index at all is a 503."""
        try:
            if self._dead_letter_index is None:
                self._dead_letter_index = DeadLetterIndex.open(self.context.settings.data_dir)
                if self.context.console.index_refresh_s > 0:
                    self._keeping_current = asyncio.create_task(
                        self._keep_index_current(self._dead_letter_index)
                    )
        except HubError as exc:
            raise HTTPException(503, mask_identity_codes(str(exc))) from None
        try:
            await self._dead_letter_index.refresh(self.context.connection)
        except HubError as exc:
            return self._dead_letter_index, mask_identity_codes(str(exc))
        return self._dead_letter_index, None

    async def _keep_index_current(self, index: DeadLetterIndex) -> None:
        """Read the letters new on the topic every ``index_refresh_s``, so that after a burst
        (a bad file of a million lines overnight) the next page does not wait for them.
        A refresh that fails is tried again at the next turn; the pages say why."""
        while True:
            await asyncio.sleep(self.context.console.index_refresh_s)
            try:
                await index.refresh(self.context.connection)
            except HubError:
                pass  # Kafka away: the pages say so when asked
            except Exception as exc:  # noqa: BLE001 - keep refreshing; the type says enough
                # The type only: a message could quote what a letter holds.
                log.warning("dead-letter index refresh failed", error=type(exc).__name__)

    async def stop_keeping_index_current(self) -> None:
        """Stop the background refresh of the dead-letter index, if it runs."""
        if self._keeping_current is not None:
            self._keeping_current.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeping_current
            self._keeping_current = None

    def close(self) -> None:
        """Close the dead-letter index, if it was opened."""
        if self._dead_letter_index is not None:
            self._dead_letter_index.close()
            self._dead_letter_index = None

    # -- signing in ----------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        if request.method == "GET":
            accounts = bool(await self.store_call(self.context.users.names))
            return self.page(
                request, "login.html", oidc=self.oidc is not None, error=None, accounts=accounts
            )
        form = await _form(request)
        user = await self.store_call(
            self.context.users.authenticate, _text(form, "name"), _text(form, "password")
        )
        if user is None:
            return self.page(
                request, "login.html", 401, oidc=self.oidc is not None, error="Sign-in failed."
            )
        return self._signed_in(request, user)

    def _signed_in(self, request: Request, user: User) -> Response:
        request.session.clear()  # a new session on sign-in: no fixation
        request.session["user"] = {"name": user.name, "role": user.role.value}
        csrf_token(request)
        return RedirectResponse("/", 303)

    async def login_oidc(self, request: Request) -> Response:
        if self.oidc is None:
            raise HTTPException(404)
        return await self.oidc.redirect(request, str(request.url_for("oidc_callback")))

    async def oidc_callback(self, request: Request) -> Response:
        if self.oidc is None:
            raise HTTPException(404)
        try:
            user = await self.oidc.user(request)
        except OidcSignInError as exc:
            return self.page(request, "login.html", 403, oidc=True, error=str(exc))
        if user is None:
            return self.page(
                request, "login.html", 403, oidc=True, error="Your account has no console role."
            )
        return self._signed_in(request, user)

    async def logout(self, request: Request) -> Response:
        await _form(request)
        request.session.clear()
        return RedirectResponse("/login", 303)

    async def home(self, request: Request) -> Response:
        _require(request)
        return RedirectResponse("/flows", 303)

    # -- flows ---------------------------------------------------------------------------

    async def flow_view(self) -> FlowView:
        if self.context.metrics_text is None:
            view = FlowView([], [], None, "no metrics source: set HUB_METRICS_PORT on the hub")
        else:
            try:
                view = flows_from_text(await self.context.metrics_text())
            except Exception as exc:  # noqa: BLE001 - the page says why, the console stays up.
                view = FlowView([], [], None, f"metrics not readable: {type(exc).__name__}")
        try:
            index, stale = await self.dead_letter_index()
        except HTTPException as exc:
            return _noted(view, str(exc.detail))
        if stale is not None:
            view = _noted(view, f"last errors as read before: {stale}")
        last = await self.store_call(index.last_by_connector)
        errors = [(name, last_error_of(letter)) for name, letter in last.items()]
        return with_last_errors(view, errors)

    async def flows(self, request: Request) -> Response:
        _require(request)
        return self.page(request, "flows.html", view=await self.flow_view())

    async def flows_table(self, request: Request) -> Response:
        _require(request)
        return self.page(request, "_flows_table.html", view=await self.flow_view())

    # -- dead letters --------------------------------------------------------------------

    async def deadletters(self, request: Request) -> Response:
        _require(request, Role.OPERATOR, Role.AUDITOR)
        query = request.query_params
        state = query.get("state") or None
        wanted = DeadLetterFilter(
            query.get("reason") or None,
            query.get("source_topic") or None,
            _when(query.get("since", "")),
            _when(query.get("until", "")),
            State(state) if state in {s.value for s in State} else None,
        )
        known = await self.store_call(dispositions, self.context.recorder.store)
        index, stale = await self.dead_letter_index()
        listing = await self.store_call(index.listing, known, wanted, _DEAD_LETTERS_SHOWN)
        rows = [(letter, state_of(letter.id, known)) for letter in listing.letters]
        return self.page(
            request,
            "deadletters.html",
            rows=rows,
            matching=listing.matching,
            stale=stale,
            reasons=sorted(listing.reasons),
            topics=sorted(listing.topics),
            query=dict(query),
        )

    async def _letter(self, request: Request) -> QuarantinedLetter:
        try:
            letter_id = DeadLetterId.parse(request.path_params["letter"])
            return await read_dead_letter(self.context.connection, letter_id)
        except HubError as exc:
            raise HTTPException(404, str(exc)) from None

    async def deadletter(self, request: Request) -> Response:
        _require(request, Role.OPERATOR, Role.AUDITOR)
        letter = await self._letter(request)
        known = await self.store_call(dispositions, self.context.recorder.store)
        return self.page(
            request,
            "deadletter.html",
            letter=letter,
            decision=known.get(letter.id),
            message=request.query_params.get("message"),
            error=None,
            targets=RESUBMIT_TARGETS,
        )

    async def deadletter_action(self, request: Request) -> Response:
        user = _require(request, Role.OPERATOR)
        form = await _form(request)
        letter = await self._letter(request)
        action = request.path_params["action"]
        reason = _text(form, "reason")
        try:
            if action == "resubmit":
                upload = form.get("upload")
                payload: bytes | None = None
                if isinstance(upload, UploadFile) and upload.filename:
                    payload = await upload.read()
                elif _text(form, "payload"):
                    payload = _text(form, "payload").replace("\r\n", "\n").encode()
                sent = await resubmit(
                    self.context.connection,
                    self.context.recorder,
                    letter,
                    by=user.name,
                    reason=reason,
                    payload=payload,
                    to_topic=_text(form, "to") or None,
                )
                done = f"Resubmitted to {sent.topic}[{sent.partition}]@{sent.offset}."
            elif action == "close":
                await self.store_call(self._close, letter, user.name, reason)
                done = "Closed."
            else:
                raise HTTPException(404)
        except HubError as exc:
            known = await self.store_call(dispositions, self.context.recorder.store)
            return self.page(
                request,
                "deadletter.html",
                400,
                letter=letter,
                decision=known.get(letter.id),
                message=None,
                error=mask_identity_codes(str(exc)),
                targets=RESUBMIT_TARGETS,
            )
        return RedirectResponse(f"/deadletters/{letter.id}?message={quote(done)}", 303)

    def _close(self, letter: QuarantinedLetter, by: str, reason: str) -> None:
        close(self.context.recorder, letter, by=by, reason=reason)

    async def deadletter_reveal(self, request: Request) -> Response:
        user = _require(request, Role.AUDITOR)
        form = await _form(request)
        why = _text(form, "reason").strip()
        letter = await self._letter(request)
        if not why:
            return self.page(
                request,
                "deadletter.html",
                400,
                letter=letter,
                decision=None,
                message=None,
                error="A reason is required to see identity codes.",
            )
        original = letter.value.decode("utf-8", errors="backslashreplace")
        await self.store_call(self._record_disclosure, user, letter, original, why)
        return self.page(request, "reveal.html", letter=letter, original=original)

    def _record_disclosure(
        self, user: User, letter: QuarantinedLetter, text: str, why: str
    ) -> None:
        secret = pseudonym_secret(self.context.settings)
        drafts = []
        for code in dict.fromkeys(identity_codes_in(text)):
            try:
                person_ref: str | None = person_ref_for(validate_identity_code(code), secret)
            except IdentityCodeError:
                person_ref = None  # shaped like a code, not a valid one: no person to name
            drafts.append(_disclosure_draft(user, person_ref, letter.id.reference, why))
        if not drafts:
            drafts.append(_disclosure_draft(user, None, letter.id.reference, why))
        self.context.recorder.record(CONSOLE_CHAIN, drafts)

    # -- audit ---------------------------------------------------------------------------

    async def audit(self, request: Request) -> Response:
        _require(request, Role.AUDITOR)
        store = self.context.recorder.store
        checkpoints = await self.store_call(store.latest_checkpoints, _CHECKPOINTS_SHOWN)
        checkpoint_count = await self.store_call(store.checkpoint_count)
        count = await self.store_call(store.record_count)
        event_id = request.query_params.get("event_id", "").strip()
        records: list[AuditRecord] = []
        if event_id:
            records = await self.store_call(
                lambda: list(store.select(RecordQuery(event_id=event_id)))
            )
        handled = await self.store_call(_latest, store, DEADLETTER_CHAIN, 20)
        return self.page(
            request,
            "audit.html",
            handled=handled,
            checkpoints=checkpoints,
            checkpoint_count=checkpoint_count,
            record_count=count,
            event_id=event_id,
            records=records,
            disclosures=None,
            person_ref=None,
            **self.verify_values(),
        )

    async def audit_verify(self, request: Request) -> Response:
        """POST: start a verification (or show the one running); GET: how it stands."""
        user = _require(request, Role.AUDITOR)
        if request.method == "POST":
            await _form(request)
            self.verifications.start(user.name)
        return self.verify_fragment(request)

    def verify_fragment(self, request: Request) -> Response:
        """The verification's part of the audit page: a button, a job's progress, or its
        verdict."""
        return self.page(
            request,
            "_verify.html",
            **self.verify_values(),
        )

    def verify_values(self) -> dict[str, Any]:
        """What ``_verify.html`` shows, on the audit page and in its own fragment."""
        return {
            "has_key": self.verifications.has_key,
            "anchor_file": self.context.settings.audit_anchor_file is not None,
            "job": self.verifications.last,
        }

    async def gather_anchors(self, evidence: Evidence) -> None:
        """As `hub audit verify` does: the store is held against the anchors outside the
        database too, or a store rolled back with its newest checkpoints would show as
        holding."""
        store = self.context.recorder.store
        if (anchor_file := self.context.settings.audit_anchor_file) is not None:
            required = bool(await self.store_call(store.latest_checkpoints, 1))
            await self.store_call(
                functools.partial(evidence.add_anchor_file, required=required), anchor_file
            )
        await read_topic_anchors(self.context.connection, evidence.add_anchor)

    async def audit_person(self, request: Request) -> Response:
        user = _require(request, Role.AUDITOR)
        form = await _form(request)
        why = _text(form, "reason").strip()
        code = _text(form, "person").strip()
        error = None
        found = None
        person_ref = None
        if not why:
            error = "A reason is required (a look-up by person is itself a disclosure)."
        else:
            try:
                valid = validate_identity_code(code)
            except IdentityCodeError as exc:
                error = f"Not a valid identity code ({exc.reason})."
            else:
                person_ref = person_ref_for(valid, pseudonym_secret(self.context.settings))
                ref = person_ref
                await self.store_call(
                    self.context.recorder.record,
                    CONSOLE_CHAIN,
                    [_disclosure_draft(user, ref, "look-up by person", why)],
                )
                found = await self.store_call(
                    lambda: list(disclosures_of(self.context.recorder.store, ref))
                )
        return self.page(
            request,
            "_person.html",
            400 if error else 200,
            error=error,
            disclosures=found,
            person_ref=person_ref,
        )

    # -- referrals -----------------------------------------------------------------------

    async def referrals(self, request: Request) -> Response:
        _require(request)
        data_dir = self.context.settings.data_dir
        if not ReferralRegister.exists(data_dir):
            return self.page(request, "referrals.html", referrals=[], chosen=None, history=[])
        register = ReferralRegister.open(data_dir)
        try:
            chosen_id = request.query_params.get("id", "").strip()
            sender = request.query_params.get("from", "").strip()
            listed = await self.store_call(register.recent, 200)
            # Both authorities may use one referral id: without ``from`` the id must name one.
            named = await self.store_call(register.named, chosen_id) if chosen_id else []
            matching = [r for r in named if not sender or r.sender == sender]
            chosen = matching[0] if len(matching) == 1 else None
            if len(matching) > 1:
                listed = matching
            history = await self.store_call(register.history, chosen.key) if chosen else []
        finally:
            register.close()
        return self.page(
            request, "referrals.html", referrals=listed, chosen=chosen, history=history
        )

    async def forbidden(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
        if exc.status_code == 303:
            return RedirectResponse(exc.headers["location"] if exc.headers else "/login", 303)
        return self.page(request, "error.html", exc.status_code, detail=exc.detail)


def create_app(context: ConsoleContext) -> Starlette:
    """The console as an ASGI application."""
    pages = _Console(context)
    share = SharePages(
        context.settings, pages.page, lambda r: _require(r, Role.OPERATOR, Role.AUDITOR)
    )
    static = Path(str(resources.files("hub.console") / "static"))

    return Starlette(
        routes=[
            Route("/", pages.home),
            Route("/login", pages.login, methods=["GET", "POST"]),
            Route("/login/oidc", pages.login_oidc),
            Route("/auth/callback", pages.oidc_callback, name="oidc_callback"),
            Route("/logout", pages.logout, methods=["POST"]),
            Route("/flows", pages.flows),
            Route("/flows/table", pages.flows_table),
            Route("/deadletters", pages.deadletters),
            Route("/deadletters/{letter}", pages.deadletter),
            Route("/deadletters/{letter}/reveal", pages.deadletter_reveal, methods=["POST"]),
            Route("/deadletters/{letter}/{action}", pages.deadletter_action, methods=["POST"]),
            Route("/audit", pages.audit),
            Route("/audit/verify", pages.audit_verify, methods=["GET", "POST"]),
            Route("/audit/person", pages.audit_person, methods=["POST"]),
            Route("/referrals", pages.referrals),
            Route("/favicon.ico", _no_icon),
            *share.routes(),
            Mount("/static", StaticFiles(directory=static), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeaders, tls=context.console.tls),
            Middleware(
                SessionMiddleware,
                secret_key=session_key(context.settings.data_dir),
                session_cookie=_SESSION_COOKIE,
                max_age=_SESSION_AGE_S,
                same_site="lax",
                https_only=context.console.tls,
            ),
        ],
        exception_handlers={HTTPException: pages.forbidden},
        lifespan=functools.partial(_lifespan, pages),
    )


@contextlib.asynccontextmanager
async def _lifespan(pages: _Console, _app: Starlette) -> AsyncIterator[None]:
    """Stop a running verification and the dead-letter index's refresh, and close the index,
    when the console stops."""
    yield
    await pages.verifications.close()
    await pages.stop_keeping_index_current()
    pages.close()


async def _no_icon(_request: Request) -> Response:
    """Browsers ask for ``/favicon.ico`` unprompted; the pages name an empty inline icon."""
    return Response(status_code=204)


def _latest(store: AuditStore, chain: str, count: int) -> list[AuditRecord]:
    """The last ``count`` records of ``chain``, newest first."""
    head = store.heads().get(chain)
    if head is None:
        return []
    return list(reversed(list(store.chain(chain, max(1, head.seq - count + 1), head.seq))))


def _disclosure_draft(user: User, person_ref: str | None, what: str, why: str) -> AuditDraft:
    detail = orjson.dumps({"by": user.name, "what": what, "reason": mask_identity_codes(why)})
    return AuditDraft(
        Direction.DISCLOSED,
        b"",
        None,
        None,
        None,
        EventFacts(
            person_ref=person_ref,
            partner=f"console:{user.name}",
            legal_basis="auditor's request in the console",
            detail=detail.decode(),
        ),
    )
