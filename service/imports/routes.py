"""HTTP routes for bulk imports and the jobs that run them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, Response, UploadFile, status
from fastapi.responses import PlainTextResponse

from schemas.common import problem_responses
from schemas.jobs import ImportAccepted, ImportFormat, JobRead
from schemas.limits import MAX_ID
from service import jobs
from service.auth.policy import allow
from service.auth.principal import Principal
from service.db import SessionDep
from service.errors import Conflict, InvalidInput, NotFound
from service.imports import formats, template
from service.models import Job

router = APIRouter(prefix="/api/v1", tags=["imports"])
Importer = Annotated[Principal, allow("advisor", "integration")]
JobId = Annotated[int, Path(ge=1, le=MAX_ID, description="Job id")]


@router.post(
    "/imports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportAccepted,
    responses=problem_responses(413, 422),
    summary="Import organisations from a file",
)
def create_import(
    request: Request,
    session: SessionDep,
    principal: Importer,
    response: Response,
    file: Annotated[UploadFile, File(description="CSV, JSON Lines or EEN profiles JSON")],
    format_: Annotated[
        ImportFormat | None,
        Form(alias="format", description="csv, jsonl or een; by default from the file"),
    ] = None,
) -> ImportAccepted:
    """Queue the file; a background worker stores its rows in batches (upsert by IČO,
    ROR id or external reference, so importing a file again changes nothing). Follow
    the job at ``Location``: progress, counts and per-row errors. An advisor imports
    organisations of its regions; an integration can update only what it registered."""
    content = file.file.read()
    if not content.strip():
        raise InvalidInput.at("#/file", "the file is empty")
    chosen = format_ or formats.detect(file.filename, content)
    job = jobs.enqueue(
        session,
        kind="import",
        content=content,
        created_by_key_id=principal.key_id,
        format=chosen,
        filename=(file.filename or "")[:255] or None,
    )
    session.commit()
    request.app.state.job_worker.wake()
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    assert job.id is not None
    return ImportAccepted(job_id=job.id, status="queued", format=chosen)  # type: ignore[arg-type]


@router.get(
    "/imports/template.csv",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}}}},
    summary="The CSV template",
)
def import_template(_principal: Importer) -> PlainTextResponse:
    """Every column with an example row (UTF-8 with a byte-order mark, ``;``-separated,
    lists inside a cell separated by ``|``)."""
    return PlainTextResponse(
        template.csv_template(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="partnermatch-import.csv"'},
    )


def _visible_job(session: SessionDep, principal: Principal, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or not (principal.is_admin or principal.created(job.created_by_key_id)):
        raise NotFound(f"job {job_id} does not exist")
    return job


@router.get(
    "/jobs/{job_id}",
    response_model=JobRead,
    responses=problem_responses(404),
    summary="A job's progress",
)
def read_job(job_id: JobId, session: SessionDep, principal: Importer) -> JobRead:
    """Status (queued, running, done, failed, cancelled), rows done of total, created /
    updated / unchanged / failed counts and the per-row errors."""
    return JobRead.model_validate(_visible_job(session, principal, job_id), from_attributes=True)


@router.delete(
    "/jobs/{job_id}",
    response_model=JobRead,
    responses=problem_responses(404, 409),
    summary="Cancel a job",
)
def cancel_job(job_id: JobId, session: SessionDep, principal: Importer) -> JobRead:
    """A queued job is cancelled at once; a running one after its current batch (the
    rows stored so far stay). A finished job gives 409."""
    job = _visible_job(session, principal, job_id)
    if job.status in jobs.FINAL:
        raise Conflict(f"job {job_id} is already {job.status}")
    jobs.request_cancel(session, job)
    return JobRead.model_validate(job, from_attributes=True)
