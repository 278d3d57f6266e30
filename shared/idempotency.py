"""Idempotency-Key support for POSTs from flaky connections, kept with the write in PostgreSQL.

A phone's outbox resends a batch after a timeout with the same Idempotency-Key; the batch
must be stored once. The key and the answer it got live in the service's own database
(table `idempotency_keys`, `define_idempotency_table`), written in the same transaction
as the events the request appended, so a key is taken exactly when its write commits.
Redis plays no part: losing it, or its stalling, changes nothing here.

How a keyed request runs (`idempotent` on the view, `answer_from` in it, `transaction`
in the handler's unit of work):

1. The key's stored answer is looked up. Same request (fingerprint of method, path and
   body): that answer is replayed, with `Idempotent-Replayed: true`, and nothing runs.
   Another request under the same key: 409.
2. Otherwise the view runs. It names how it answers from its handler's result
   (`answer_from`) before calling the handler, and the handler's transaction
   (`transaction`) first inserts the key's row, then does the work, then builds the
   answer and stores it in the row, and commits all of it at once.
3. A concurrent request with the same key blocks on that row's primary key until the
   first commits, then finds the key taken: its transaction is rolled back (nothing of it
   was written) and it replays the first's answer (or 409 for another body). If the
   first rolled back instead, the second goes ahead as if alone.
4. A 2xx answer whose row was not written by a handler's transaction (a view whose write
   does not go through `transaction`) is stored after the fact, in its own transaction.
   Failed (non-2xx) answers are not remembered, so a corrected retry may reuse the key.

Keys are per scope (the caller's subject), kept for `ttl` (at least 24 h): an older row
is neither replayed nor in the way of a new request, and `prune` deletes such rows,
called by the decorator at most every `prune_every` in each process (no extra job).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import TypeVar

from flask import current_app, jsonify, make_response, request
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Engine,
    MetaData,
    SmallInteger,
    String,
    Table,
    delete,
    func,
    null,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.web import ApiError, json_body

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 200
MIN_TTL = timedelta(hours=24)
TABLE_NAME = "idempotency_keys"

log = logging.getLogger(__name__)
T = TypeVar("T")


def define_idempotency_table(metadata: MetaData) -> Table:
    """The table a service keeps its keys in (see the module docstring).

    `status` and `body` are NULL only inside the transaction that claimed the key: the
    same transaction stores the answer, so a committed row always has one."""
    return Table(
        TABLE_NAME,
        metadata,
        Column("scope", String(200), primary_key=True),  # whose key: the caller's subject
        Column("key", String(MAX_KEY_LENGTH), primary_key=True),
        Column("fingerprint", String(64), nullable=False),  # sha256 of method, path, body
        Column("status", SmallInteger),
        Column("body", JSON(none_as_null=True)),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    )


class IdempotencyConflictError(Exception):
    """The key was used for a different request."""


class KeyAnsweredMeanwhile(Exception):
    """Raised inside a handler's transaction: a concurrent request with the same key
    committed first. The transaction rolls back; the decorator replays that answer."""


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: object
    fingerprint: str = ""


def fingerprint(*parts) -> str:
    """A stable hash of the request: method, path and the body in canonical JSON."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def checked_key(raw: str | None) -> str | None:
    """The request's key (None: no header), or a 400 for an empty or overlong one."""
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ApiError(400, f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters")
    return key


def replay_of(stored: StoredResponse | None, request_hash: str) -> StoredResponse | None:
    """The answer to replay for this request (None: nothing stored), or a conflict when
    the key was used for another request."""
    if stored is None:
        return None
    if stored.fingerprint != request_hash:
        raise IdempotencyConflictError("this Idempotency-Key was used for another request")
    return stored


class IdempotencyStore:
    """The SQL on the `idempotency_keys` table. Every statement is a primary-key access
    except `prune` (by `created_at`, indexed)."""

    def __init__(
        self,
        engine: Engine,
        table: Table,
        ttl: timedelta = MIN_TTL,
        prune_every: timedelta = timedelta(minutes=10),
        prune_batch: int = 10_000,
    ):
        if ttl < MIN_TTL:
            raise ValueError("idempotency keys must be remembered for at least 24 hours")
        self.engine, self.table, self.ttl = engine, table, ttl
        self.prune_every, self.prune_batch = prune_every.total_seconds(), prune_batch
        self._next_prune = time.monotonic()  # the first write of a process prunes
        self._prune_lock = threading.Lock()

    def _where(self, scope: str, key: str):
        return (self.table.c.scope == scope) & (self.table.c.key == key)

    def _expired(self):
        return self.table.c.created_at < func.now() - self.ttl

    def lookup(self, scope: str, key: str, conn: Connection | None = None):
        """The key's committed answer (within `ttl`), or None."""
        t = self.table
        query = select(t.c.status, t.c.body, t.c.fingerprint).where(
            self._where(scope, key), t.c.status.is_not(None), ~self._expired()
        )
        if conn is None:
            with self.engine.connect() as own:
                row = own.execute(query).first()
        else:
            row = conn.execute(query).first()
        return StoredResponse(row.status, row.body, row.fingerprint) if row else None

    def _upsert(self, scope: str, key: str, request_hash: str, status, body):
        """Insert the key's row; a row past `ttl` is taken over, a live one is left alone
        (after waiting for the transaction that holds it). RETURNING tells which."""
        statement = pg_insert(self.table).values(
            scope=scope,
            key=key,
            fingerprint=request_hash,
            status=status,
            body=body,
            created_at=func.now(),
        )
        return statement.on_conflict_do_update(
            index_elements=[self.table.c.scope, self.table.c.key],
            set_={
                name: statement.excluded[name]
                for name in ("fingerprint", "status", "body", "created_at")
            },
            where=self._expired(),
        ).returning(self.table.c.scope)

    def claim(self, conn: Connection, scope: str, key: str, request_hash: str) -> bool:
        """Take the key in `conn`'s transaction (True), or find it taken (False). Blocks
        while another transaction holds the key, until it commits or rolls back."""
        statement = self._upsert(scope, key, request_hash, null(), null())
        return conn.execute(statement).first() is not None

    def complete(self, conn: Connection, scope: str, key: str, answer: StoredResponse) -> None:
        """Store the answer in the row `claim` inserted, in the same transaction."""
        conn.execute(
            update(self.table)
            .where(self._where(scope, key))
            .values(status=answer.status, body=answer.body)
        )

    def record(self, scope: str, key: str, answer: StoredResponse) -> bool:
        """Store an answer after the fact, in its own transaction (False: the key was
        taken meanwhile, and that answer stays)."""
        statement = self._upsert(scope, key, answer.fingerprint, answer.status, answer.body)
        with self.engine.begin() as conn:
            return conn.execute(statement).first() is not None

    def prune(self) -> int:
        """Delete up to `prune_batch` rows older than `ttl`; returns how many."""
        t = self.table
        doomed = select(t.c.scope, t.c.key).where(self._expired()).limit(self.prune_batch)
        with self.engine.begin() as conn:
            return conn.execute(delete(t).where(tuple_(t.c.scope, t.c.key).in_(doomed))).rowcount

    def prune_now_and_then(self) -> None:
        """`prune`, at most every `prune_every` in this process; never fails the caller."""
        now = time.monotonic()
        if now < self._next_prune or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._next_prune = now + self.prune_every
            deleted = self.prune()
            if deleted:
                log.info("pruned %d idempotency keys older than %s", deleted, self.ttl)
        except Exception:  # housekeeping: the next write tries again later
            log.warning("pruning idempotency keys failed", exc_info=True)
        finally:
            self._prune_lock.release()


# --- the request's claim, from the decorator to the handler's transaction ----------


@dataclass
class _Claim:
    store: IdempotencyStore
    scope: str
    key: str
    fingerprint: str
    build: Callable[[object], tuple[object, int]] | None = None  # set by answer_from
    committed: StoredResponse | None = None  # the answer a committed transaction stored

    def answer(self, build, result) -> StoredResponse:
        body, status = build(result)
        return StoredResponse(status, _plain_json(body), self.fingerprint)


_claim: ContextVar[_Claim | None] = ContextVar("kawal_idempotency_claim", default=None)


def _plain_json(body):
    """The body as the response will carry it (dates, UUIDs... as Flask writes them), so
    a replay is byte for byte the first answer."""
    provider = current_app.json
    return provider.loads(provider.dumps(body))


def transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    """`with engine.begin() as conn: return work(conn)`, keeping the request's answer
    with the write: for a keyed request whose view called `answer_from`, the key's row is
    inserted first (waiting for a concurrent request with the key; if that one committed,
    KeyAnsweredMeanwhile rolls this transaction back), then `work` runs, then the answer
    is built from its result and stored, and all of it commits together.

    The unit of work's owner calls this for every attempt (intake's `_retrying`); the
    first transaction of a request that commits keeps the answer, later ones do not."""
    claim = _claim.get()
    if claim is None or claim.build is None or claim.committed is not None:
        with engine.begin() as conn:
            return work(conn)
    with engine.begin() as conn:
        if not claim.store.claim(conn, claim.scope, claim.key, claim.fingerprint):
            raise KeyAnsweredMeanwhile(claim.key)
        result = work(conn)
        answer = claim.answer(claim.build, result)
        claim.store.complete(conn, claim.scope, claim.key, answer)
    claim.committed = answer  # only once the commit went through
    return result


def answer_from(build: Callable[[T], tuple[object, int]]) -> Callable[[T], object]:
    """How a view answers, from its handler's result: `build(result) -> (body, status)`.

    Call it before the handler; return `respond(result)`. With an Idempotency-Key, the
    handler's transaction builds and stores that answer before it commits, and `respond`
    returns the very answer stored."""
    claim = _claim.get()
    if claim is not None:
        claim.build = build

    def respond(result: T):
        if claim is not None and claim.committed is not None:
            answer = claim.committed
        else:
            body, status = build(result)
            answer = StoredResponse(status, body)
        return make_response(jsonify(answer.body), answer.status)

    return respond


def _replayed(stored: StoredResponse):
    response = make_response(jsonify(stored.body), stored.status)
    response.headers[REPLAYED_HEADER] = "true"
    return response


def idempotent(store: Callable[[], IdempotencyStore], scope: Callable[[], str]):
    """Flask view decorator honouring the Idempotency-Key header (place after auth checks).

    `scope` names whose keys these are (e.g. the caller's subject), so callers never collide.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = checked_key(request.headers.get(HEADER))
            if key is None:
                return view(*args, **kwargs)
            try:
                body = json_body()
            except ApiError:
                body = None  # the view answers the 4xx; the raw bytes still fingerprint it
            request_hash = fingerprint(
                request.method, request.full_path, body if body is not None else request.data
            )
            claim = _Claim(store(), scope(), key, request_hash)
            try:
                response = _answered(claim, lambda: view(*args, **kwargs))
            except IdempotencyConflictError as exc:
                raise ApiError(409, str(exc)) from exc
            claim.store.prune_now_and_then()
            return response

        return wrapper

    return decorate


def _answered(claim: _Claim, view: Callable[[], object]):
    """The stored answer, or the view's (kept with its write, or after it as a fallback)."""
    keys, who, key = claim.store, claim.scope, claim.key
    replay = replay_of(keys.lookup(who, key), claim.fingerprint)
    if replay is not None:
        return _replayed(replay)
    token = _claim.set(claim)
    try:
        response = make_response(view())
    except KeyAnsweredMeanwhile:
        replay = replay_of(keys.lookup(who, key), claim.fingerprint)
        if replay is None:  # expired and pruned in between: practically never; retryable
            raise IdempotencyConflictError("this Idempotency-Key changed meanwhile") from None
        return _replayed(replay)
    finally:
        _claim.reset(token)
    if claim.committed is None and 200 <= response.status_code < 300 and response.is_json:
        keys.record(
            who, key, StoredResponse(response.status_code, response.get_json(), claim.fingerprint)
        )
    return response
