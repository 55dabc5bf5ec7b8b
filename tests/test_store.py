"""The store: files, keys, documents, the job queue, corpora, and its schema migrations."""

from __future__ import annotations

import io
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from service.annotate.records import AnnotationPassage
from service.errors import Conflict, InvalidInput, InvalidStore, UnknownDocuments, UploadTooLarge
from service.labels import LABEL_IDS
from service.model import DocumentCoverage, LabelCoverage, Passage, Prediction
from service.store import (
    MAX_ATTEMPTS,
    Added,
    DocumentSummary,
    KeyRecord,
    LabelledPassage,
    Store,
    hash_key,
    migrate,
)
from service.store.db import now
from service.store.schema import api_keys, documents, jobs, metadata

T = TypeVar("T")


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on each backend (``db_url``: SQLite and PostgreSQL)."""
    s = Store.open(db_url, tmp_path)
    try:
        yield s
    finally:
        s.close()


def row(value: T | None) -> T:
    assert value is not None
    return value


def add(store: Store, data: bytes, name: str = "a.txt", **meta: Any) -> Added:
    staged = store.files.stage(io.BytesIO(data), 1 << 20)
    fields = {"fmt": "text", "country": None, "doc_type": None, "title": None, "created_by": None}
    return store.add_document(staged, filename=name, **{**fields, **meta})


PASSAGE = Passage(
    id="p", doc_id="d", text="Trafficking in persons is an offence.", page_start=1, page_end=1,
    char_start=0, char_end=38, citation="Section 1",
)  # fmt: skip
PREDICTION = Prediction(
    id="p", labels=["1.1"], scores={x: 0.9 if x == "1.1" else 0.1 for x in LABEL_IDS},
    mentions_trafficking=True, mentions_corruption=False,
)  # fmt: skip


def coverage_of(doc_id: str = "d", title: str = "An Act") -> DocumentCoverage:
    label = LabelCoverage(covered=False, score=0.1, supporting=0)
    return DocumentCoverage(
        path="a.txt", doc_id=doc_id, title=title, doc_type="tip_law", doc_type_source="inferred",
        language="en", pages=3, passages=1, mentions_trafficking=True, mentions_corruption=False,
        labels=dict.fromkeys(LABEL_IDS, label),
    )  # fmt: skip


def finish(
    store: Store, job_id: str, worker: str, coverage: DocumentCoverage | None = None
) -> bool:
    summary = DocumentSummary(
        title="An Act", language="en", page_count=3, inferred_doc_type="tip_law"
    )
    return store.finish_job(
        job_id, worker, model="m-1", passages=[PASSAGE], predictions=[PREDICTION],
        coverage=coverage or coverage_of(), summary=summary,
    )  # fmt: skip


# --- files -----------------------------------------------------------------------


def test_an_upload_is_staged_hashed_and_kept_by_content(store: Store) -> None:
    data = b"Article 1. Trafficking in persons is an offence."
    staged = store.files.stage(io.BytesIO(data), 1000)
    assert staged.size == len(data) and staged.head(7) == b"Article"
    kept = store.files.keep(staged)
    assert kept == store.files.path(staged.sha256) and kept.read_bytes() == data
    assert kept.relative_to(store.files.files).parts[:2] == (staged.sha256[:2], staged.sha256[2:4])
    assert not staged.path.exists() and store.files.stored() == [staged.sha256]

    again = store.files.stage(io.BytesIO(data), 1000)
    assert store.files.keep(again) == kept and not again.path.exists()
    store.files.delete(staged.sha256)
    assert store.files.stored() == []


def test_an_upload_over_the_limit_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(UploadTooLarge):
        store.files.stage(io.BytesIO(b"x" * 2001), 2000)
    assert list(store.files.staging.iterdir()) == []


def test_a_stored_path_is_only_ever_a_hash(store: Store) -> None:
    for bad in ("../../etc/passwd", "A" * 64, "0" * 63):
        with pytest.raises(ValueError):
            store.files.path(bad)


def test_cleaning_staging_drops_only_stale_uploads(store: Store) -> None:
    stale, live = store.files.staging / "old.part", store.files.staging / "new.part"
    stale.write_bytes(b"x")
    live.write_bytes(b"x")
    an_hour_ago = time.time() - 7200
    os.utime(stale, (an_hour_ago, an_hour_ago))
    store.files.clean_staging()
    assert not stale.exists() and live.exists()


# --- keys ------------------------------------------------------------------------


def test_a_key_is_stored_as_its_hash_found_listed_and_revoked(store: Store) -> None:
    made, key = store.create_key("annotator", "analyst")
    key_id = made.id
    assert key.startswith("tsk_") and isinstance(made, KeyRecord)
    with store.db.read() as c:
        stored = c.execute(select(api_keys.c.key_hash)).scalar_one()
    assert stored == hash_key(key) != key
    found = row(store.find_key(key))
    assert (found.id, found.role, found.name) == (key_id, "annotator", "analyst")
    assert found == made and found.created_at.tzinfo is not None
    assert store.find_key(key + "x") is None
    listed = store.list_keys()
    assert [k.id for k in listed] == [key_id] and "key_hash" not in listed[0].model_dump()
    assert store.revoke_key(key_id) and not store.revoke_key(key_id)
    assert store.find_key(key) is None and store.list_keys()[0].revoked_at is not None


def test_a_key_needs_a_known_role(store: Store) -> None:
    with pytest.raises(InvalidInput):
        store.create_key("owner")
    assert store.counts()["api_keys"] == 0


# --- documents -------------------------------------------------------------------


def test_an_upload_becomes_a_document_with_a_queued_job(store: Store) -> None:
    added = add(store, b"one", "one.txt", country="BRB", doc_type="tip_law", created_by="k1")
    doc, job = added.document, added.job
    assert (added.duplicate, added.queued) == (False, True)
    assert doc.status == "queued" and doc.job_id == job.id and doc.country == "BRB"
    assert (job.state, job.attempts, job.document_id) == ("queued", 0, doc.id)
    assert doc.created_at.tzinfo is not None
    assert row(store.get_document(doc.id)).filename == "one.txt"
    assert store.get_result(doc.id) is None


def test_a_duplicate_upload_is_queued_again_only_after_a_failure(store: Store) -> None:
    first = add(store, b"same bytes")
    again = add(store, b"same bytes", "other-name.txt")
    assert (again.duplicate, again.queued) == (True, False)
    assert again.job.id == first.job.id and again.document.filename == "a.txt"

    job = row(store.claim_job("w"))
    assert store.fail_job(job.id, "w", "corrupt-document", "damaged")
    retry = add(store, b"same bytes")
    assert (retry.duplicate, retry.queued) == (True, True) and retry.job.id != job.id
    assert row(store.get_document(first.document.id)).job_id == retry.job.id
    assert store.counts()["jobs"] == 2 and store.counts()["files"] == 1


def test_an_upload_that_keeps_losing_the_insert_race_is_a_conflict(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.store.documents as module

    def lose(*_args: Any) -> Any:
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    monkeypatch.setattr(module, "queue_job", lose)
    with pytest.raises(Conflict):
        add(store, b"raced")


def test_documents_are_listed_newest_first_and_filtered(store: Store) -> None:
    ids = [add(store, f"doc {i}".encode(), country="BRB" if i % 2 else "LKA").document.id
           for i in range(5)]  # fmt: skip
    page, total = store.list_documents(limit=2, offset=0)
    assert total == 5 and [d.id for d in page] == ids[::-1][:2]
    brb, total = store.list_documents(limit=10, offset=0, country="BRB")
    assert total == 2 and {d.id for d in brb} == {ids[1], ids[3]}
    store.claim_job("w")
    running, total = store.list_documents(limit=10, offset=0, status="running")
    assert total == 1 and running[0].id == ids[0]


def test_deleting_a_document_forgets_its_rows_results_and_file(store: Store) -> None:
    doc_id = add(store, b"to delete").document.id
    job = row(store.claim_job("w"))
    assert finish(store, job.id, "w")
    store.create_corpus("c", None, [doc_id], None)
    assert store.delete_document(doc_id)
    counts = store.counts()
    assert counts["documents"] == counts["jobs"] == counts["results"] == counts["files"] == 0
    assert counts["corpus_documents"] == 0 and counts["corpora"] == 1
    assert not store.delete_document(doc_id)


# --- the job queue ---------------------------------------------------------------


def test_jobs_are_claimed_oldest_first_once_each(store: Store) -> None:
    ids = [add(store, f"doc {i}".encode()).job.id for i in range(3)]
    assert store.queued_count() == 3
    claimed = [row(store.claim_job(f"w{i}")) for i in range(3)]
    assert [j.id for j in claimed] == ids
    assert all(j.state == "running" and j.attempts == 1 for j in claimed)
    assert claimed[0].worker == "w0" and claimed[0].started_at is not None
    assert store.claim_job("w9") is None and store.queued_count() == 0
    assert row(store.get_document(claimed[0].document_id)).status == "running"


def test_only_the_claiming_worker_moves_a_job_on(store: Store) -> None:
    doc_id = add(store, b"doc").document.id
    job_id = row(store.claim_job("w1")).id
    store.set_progress(job_id, "w2", 5, 9)
    assert row(store.get_job(job_id)).progress.pages_done == 0
    assert not store.fail_job(job_id, "w2", "internal-error", "no")
    assert not finish(store, job_id, "w2")
    store.set_progress(job_id, "w1", 2, 3)
    assert (
        row(store.get_job(job_id)).progress.pages_done,
        row(store.get_job(job_id)).progress.pages_total,
    ) == (
        2,
        3,
    )
    with pytest.raises(ValueError):  # a prediction for each passage, or nothing is written
        store.finish_job(
            job_id, "w1", model="m-1", passages=[PASSAGE], predictions=[], coverage=coverage_of(),
            summary=DocumentSummary(title="t", language=None, page_count=3, inferred_doc_type=None),
        )  # fmt: skip
    assert row(store.get_job(job_id)).state == "running" and store.get_result(doc_id) is None
    coverage = coverage_of(doc_id, title="doc 1")
    assert finish(store, job_id, "w1", coverage=coverage)
    job = row(store.get_job(job_id))
    assert (job.state, job.progress.pages_done, job.error_code) == ("done", 3, None)
    doc = row(store.get_document(doc_id))
    assert (doc.status, doc.doc_title, doc.page_count) == ("done", "An Act", 3)
    assert (doc.passage_count, doc.language, doc.inferred_doc_type) == (1, "en", "tip_law")
    result = row(store.get_result(doc_id))
    assert result.model == "m-1" and result.coverage == coverage
    assert result.passages == [LabelledPassage(passage=PASSAGE, prediction=PREDICTION)]
    assert not finish(store, job_id, "w1")  # done: no longer running


def test_a_failed_job_keeps_its_code_and_message(store: Store) -> None:
    doc_id = add(store, b"doc").document.id
    job_id = row(store.claim_job("w")).id
    assert store.fail_job(job_id, "w", "encrypted-document", "the PDF needs a password")
    job = store.job_errors([job_id])[job_id]
    assert (job.state, job.error_code, job.error) == (
        "failed",
        "encrypted-document",
        "the PDF needs a password",
    )
    assert job.finished_at is not None
    assert row(store.get_document(doc_id)).status == "failed"


def test_a_job_left_running_is_queued_again_then_failed_past_max_attempts(store: Store) -> None:
    added = add(store, b"doc")
    job_id = added.job.id
    assert row(store.claim_job("w1")).id == job_id
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert row(store.get_job(job_id)).attempts == attempt
        queued, failed = store.recover_jobs()  # the server died while the job ran
        if attempt < MAX_ATTEMPTS:
            assert (queued, failed) == (1, 0)
            job = row(store.get_job(job_id))
            assert (job.state, job.worker) == ("queued", None)
            assert row(store.get_document(added.document.id)).status == "queued"
            assert not finish(store, job_id, "w1")  # the old worker's result is refused
            assert row(store.claim_job(f"w{attempt + 1}")).id == job_id
        else:
            assert (queued, failed) == (0, 1)
    job = row(store.get_job(job_id))
    assert (job.state, job.error_code) == ("failed", "job-interrupted")
    assert row(store.get_document(added.document.id)).status == "failed"
    assert store.recover_jobs() == (0, 0)


def _backdate(store: Store, job_id: str, seconds: float) -> None:
    """Make a running job look unheard of for ``seconds`` (as a dead server's would)."""
    from datetime import timedelta

    with store.db.write() as c:
        c.execute(
            jobs.update()
            .where(jobs.c.id == job_id)
            .values(updated_at=now() - timedelta(seconds=seconds))
        )


def test_a_job_another_live_server_runs_is_left_alone_until_its_lease_runs_out(
    store: Store,
) -> None:
    a, b = add(store, b"doc a"), add(store, b"doc b")
    assert row(store.claim_job("elsewhere:41:aaaaaa:0")).id == a.job.id
    assert row(store.claim_job("elsewhere:42:bbbbbb:0")).id == b.job.id
    # A server starting (or looking for stopped ones) while both run takes neither.
    assert store.recover_jobs(60.0, gone=lambda _w: False) == (0, 0)
    _backdate(store, a.job.id, 90)
    _backdate(store, b.job.id, 90)
    assert store.heartbeat("elsewhere:42:bbbbbb") == 1  # b's server is alive; a's stopped
    assert store.recover_jobs(60.0, gone=lambda _w: False) == (1, 0)
    assert row(store.get_job(a.job.id)).state == "queued"
    job_b = row(store.get_job(b.job.id))
    assert (job_b.state, job_b.worker) == ("running", "elsewhere:42:bbbbbb:0")
    # A server known to be gone loses its job at once, whatever its heartbeat.
    assert store.recover_jobs(60.0, gone=lambda w: w == "elsewhere:42:bbbbbb:0") == (1, 0)
    assert row(store.get_job(b.job.id)).state == "queued"


def test_a_server_knows_which_servers_on_its_host_have_stopped(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    from service.jobs import WorkerPool
    from service.settings import Settings

    pool = WorkerPool(None, None, Settings(data_dir=tmp_path))  # type: ignore[arg-type]
    host = socket.gethostname()
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert pool._gone(f"{host}:{ended.stdout.strip()}:abcdef:0")  # its process is no more
    assert pool._gone(f"{host}:{os.getpid()}:abcdef:1")  # this pid, an earlier server
    assert pool._gone(None)
    assert not pool._gone(f"{pool._id}:0")  # its own
    assert not pool._gone(f"{host}:{os.getppid()}:abcdef:0")  # alive
    assert not pool._gone(f"another-{host}:{ended.stdout.strip()}:abcdef:0")  # not known here


def _claim_and_finish(
    url: str, data_dir: Path, worker: str, start: Any, all_claimed: Any, out: Any
) -> None:
    """One claimer (a process, as a separate server would be): claims and finishes jobs
    until none is left; sends back the ids it claimed, or its error."""
    store = Store(url, data_dir)
    taken: list[str] = []
    try:
        start.wait()
        while (job := store.claim_job(worker)) is not None:
            taken.append(job.id)
            if len(taken) == 1:
                all_claimed.wait()  # every claimer holds a running job before any goes on
            assert finish(store, job.id, worker), job.id
        out.put((worker, taken, None))
    except BaseException as exc:
        out.put((worker, taken, repr(exc)))
    finally:
        store.close()


def test_concurrent_claimers_never_take_the_same_job(db_url: str, tmp_path: Path) -> None:
    """4 processes, each with its own store (as 4 servers would), drain 50 queued jobs:
    each job is claimed once and finished once, and every claimer takes part."""
    first = Store.open(db_url, tmp_path)
    try:
        queued = {add(first, f"doc {i}".encode()).job.id for i in range(50)}
    finally:
        first.close()
    n = 4
    ctx = multiprocessing.get_context("spawn")
    start, all_claimed, out = ctx.Barrier(n), ctx.Barrier(n, timeout=120), ctx.Queue()
    workers = [f"w{i}" for i in range(n)]
    procs = [
        ctx.Process(target=_claim_and_finish, args=(db_url, tmp_path, w, start, all_claimed, out))
        for w in workers
    ]
    for p in procs:
        p.start()
    try:
        reports = [out.get(timeout=300) for _ in procs]
    finally:
        for p in procs:
            p.join(60)
    assert [r for r in reports if r[2] is not None] == []
    taken = {worker: ids for worker, ids, _ in reports}
    claims = Counter(j for ids in taken.values() for j in ids)
    assert set(claims) == queued and set(claims.values()) == {1}
    assert all(taken[w] for w in workers), {w: len(ids) for w, ids in taken.items()}

    check = Store(db_url, tmp_path)
    try:
        for worker, ids in taken.items():
            for j in ids:
                job = row(check.get_job(j))
                assert (job.worker, job.attempts, job.state) == (worker, 1, "done")
        assert check.counts()["results"] == 50 and check.queued_count() == 0
    finally:
        check.close()


# --- corpora ---------------------------------------------------------------------


def test_a_corpus_keeps_its_documents_in_order_with_their_coverage(store: Store) -> None:
    a, b = (add(store, x).document.id for x in (b"a", b"b"))
    job = row(store.claim_job("w"))
    coverage = coverage_of(a)
    assert job.document_id == a and finish(store, job.id, "w", coverage=coverage)
    corpus = store.create_corpus("Barbados", "BRB", [b, a, b], "k1")
    assert corpus.document_ids == [b, a] and corpus.country == "BRB"
    assert row(store.get_corpus(corpus.id)) == corpus
    members = store.corpus_members(corpus.id)
    assert [(m.document.id, m.coverage) for m in members] == [(b, None), (a, coverage)]
    assert "coverage" not in members[0].document.model_dump()


def test_a_corpus_of_unknown_documents_is_refused_whole(store: Store) -> None:
    a = add(store, b"a").document.id
    with pytest.raises(UnknownDocuments, match="0000"):
        store.create_corpus("x", None, [a, "0000"], None)
    assert store.counts()["corpora"] == 0 and store.counts()["corpus_documents"] == 0


def test_corpora_are_listed_newest_first_and_deleted(store: Store) -> None:
    ids = [store.create_corpus(f"c{i}", None, [], None).id for i in range(3)]
    page, total = store.list_corpora(limit=2, offset=1)
    assert total == 3 and [c.id for c in page] == ids[::-1][1:]
    assert store.delete_corpus(ids[0]) and not store.delete_corpus(ids[0])
    assert store.get_corpus(ids[0]) is None and store.list_corpora(limit=9, offset=0)[1] == 2


# --- migrations ------------------------------------------------------------------


def _schema_diff(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return list(compare_metadata(MigrationContext.configure(c), metadata))
    finally:
        engine.dispose()


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return migrate.current(c)
    finally:
        engine.dispose()


def test_a_fresh_database_is_migrated_to_the_schema_the_code_reads(
    db_url: str, tmp_path: Path
) -> None:
    url = db_url
    Store.open(url, tmp_path).close()
    assert _revision(url) == migrate.head()
    assert _schema_diff(url) == []
    Store.open(url, tmp_path).close()  # a second open finds nothing to do
    assert _revision(url) == migrate.head()


def test_foreign_keys_are_enforced_again_after_migrating(store: Store) -> None:
    """Migrations run with SQLite's foreign keys off; the connections used next have them on."""
    for _ in range(3):
        with pytest.raises(IntegrityError), store.db.write() as c:
            c.execute(
                insert(jobs).values(
                    id="j", document_id="nope", state="queued", pages_done=0, attempts=0,
                    created_at=now(), updated_at=now(),
                )
            )  # fmt: skip


def test_a_database_made_before_migrations_is_adopted_with_its_rows(
    db_url: str, tmp_path: Path
) -> None:
    url = db_url
    engine = create_engine(url)
    with engine.begin() as c:
        metadata.create_all(c)  # how the store made its schema before it had migrations
        c.execute(
            insert(api_keys).values(id="k1", key_hash="h" * 64, role="admin", created_at=now())
        )
    engine.dispose()
    assert _revision(url) is None
    store = Store.open(url, tmp_path)
    try:
        assert store.counts()["api_keys"] == 1
    finally:
        store.close()
    assert _revision(url) == migrate.head()
    assert _schema_diff(url) == []


def test_a_database_with_only_some_of_the_tables_is_refused(db_url: str, tmp_path: Path) -> None:
    url = db_url
    engine = create_engine(url)
    with engine.begin() as c:
        documents.create(c)
    engine.dispose()
    with pytest.raises(InvalidStore, match="documents"):
        Store.open(url, tmp_path)
    assert _revision(url) is None


def test_migrations_go_down_to_nothing_and_up_again(db_url: str, tmp_path: Path) -> None:
    url = db_url
    Store.open(url, tmp_path).close()
    config = migrate.alembic_config(url=url)
    command.downgrade(config, "base")
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            assert set(inspect(c).get_table_names()) == {"alembic_version"}
            assert c.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 0
    finally:
        engine.dispose()
    assert _revision(url) is None
    command.upgrade(config, "head")
    assert _revision(url) == migrate.head() and _schema_diff(url) == []
    store = Store.open(url, tmp_path)
    try:
        add(store, b"after the round trip")
        assert store.counts()["documents"] == 1
    finally:
        store.close()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return set(inspect(c).get_table_names())
    finally:
        engine.dispose()


def test_each_migration_goes_up_and_down_one_step(db_url: str) -> None:
    """Every revision upgrades from the one before it and downgrades back, on each backend."""
    config = migrate.alembic_config(url=db_url)
    steps = [r.revision for r in ScriptDirectory.from_config(config).walk_revisions()][::-1]
    assert steps[:3] == ["0001", "0002", "0003"] and steps[-1] == migrate.head()
    tables = [{"alembic_version"}]
    for step in steps:
        command.upgrade(config, step)
        assert _revision(db_url) == step
        tables.append(_tables(db_url))
    assert tables[1] == migrate.INITIAL_TABLES | {"alembic_version"}
    assert tables[-1] == {t.name for t in metadata.sorted_tables} | {"alembic_version"}
    assert _schema_diff(db_url) == []
    for i in range(len(steps) - 1, -1, -1):
        command.downgrade(config, steps[i - 1] if i else "base")
        assert _revision(db_url) == (steps[i - 1] if i else None)
        assert _tables(db_url) == tables[i]


def _passage(pid: str, country: str | None) -> AnnotationPassage:
    return AnnotationPassage(
        id=pid, doc_id="d" * 64, doc="vis-016", doc_title="A Convention", doc_type="treaty",
        page=1, citation="Article 3", heading=["PART I"], text="Article 3. Trafficking in persons",
        position=0, country=country,
    )  # fmt: skip


def test_a_passage_of_an_international_instrument_keeps_its_country(store: Store) -> None:
    """The manifests call treaties' country INTL: four letters, which PostgreSQL holds to the
    column's width."""
    assert store.annotation.add_passages([_passage("p1", "INTL"), _passage("p2", "BRB")]) == 2
    stored = store.annotation.passages()
    assert (stored["p1"].country, stored["p2"].country) == ("INTL", "BRB")


def test_going_below_0003_drops_only_the_countries_too_wide_for_0002(
    db_url: str, tmp_path: Path
) -> None:
    store = Store.open(db_url, tmp_path)
    try:
        store.annotation.add_passages([_passage("p1", "INTL"), _passage("p2", "BRB")])
    finally:
        store.close()
    command.downgrade(migrate.alembic_config(url=db_url), "0002")
    engine = create_engine(db_url)
    try:
        with engine.connect() as c:
            got = dict(c.execute(text("SELECT id, country FROM annotation_passages")).all())
    finally:
        engine.dispose()
    assert got == {"p1": None, "p2": "BRB"}


def test_text_wider_than_its_column_is_refused_alike_on_each_backend(store: Store) -> None:
    """PostgreSQL would refuse it mid-transaction and SQLite keep it: the store refuses it
    first, naming the column, and writes nothing."""
    with pytest.raises(InvalidInput, match="name is at most 200 characters, not 201"):
        store.create_key("reader", "n" * 201)
    with pytest.raises(InvalidInput, match="name is at most 200"):
        store.create_corpus("c" * 201, None, [], None)
    wide = _passage("p2", "BRB").model_copy(update={"citation": "Article " + "9" * 300})
    with pytest.raises(InvalidInput, match="citation is at most 300"):
        store.annotation.add_passages([_passage("p1", "BRB"), wide])
    with pytest.raises(InvalidInput, match="title is at most 300"):
        add(store, b"a document", title="T" * 301)
    counts = store.counts()
    assert counts["api_keys"] == counts["corpora"] == counts["annotation_passages"] == 0
    assert counts["documents"] == counts["jobs"] == 0
    assert row(store.create_key("reader", "n" * 200)[0].name) == "n" * 200  # the width fits


def test_servers_opening_a_new_store_at_once_migrate_it_once(db_url: str, tmp_path: Path) -> None:
    """4 threads open one empty database together (as servers starting at once): one
    migrates it (PostgreSQL: under an advisory lock; SQLite: the write lock), the others
    find it done."""
    n = 4
    start = threading.Barrier(n)
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            start.wait()
            Store.open(db_url, tmp_path).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "the migrations are stuck on each other"
    assert errors == []
    assert _revision(db_url) == migrate.head() and _schema_diff(db_url) == []
