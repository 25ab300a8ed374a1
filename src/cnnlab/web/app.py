"""The Starlette app behind ``cnnlab serve``: the page, its static files and a JSON API.

Routes (JSON unless said otherwise; every error is ``{"error": message}`` with a 4xx):

==========================  ===========================================================
GET  /                      the page (``static/index.html``)
GET  /static/...            its scripts and style sheet
GET  /api/models            the served model files and the default one
POST /api/models            multipart ``model``: a .keras file, kept in memory
POST /api/predict           a drawing -> top-3, the 28x28 digit, every feature map
POST /api/cell              a drawing and a feature-map cell -> its receptive field and,
                            in the first layer, window, kernel, products and sum
POST /api/conv              the explorer: input, kernel, stride, padding, mode, dilation
GET  /api/kernels           the classic kernels by name
POST /api/filter            multipart: ``photo`` (a file) or ``sample``, ``kernel``,
                            ``model`` -> the filtered channels and the learned filters
POST /api/train             start a training run (409 while one is going)
POST /api/train/stop        stop it
GET  /api/train             the current run's settings and state
GET  /api/train/events      Server-Sent Events of the current run (``?since=N``)
==========================  ===========================================================
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from cnnlab.web import draw, explorer, photos
from cnnlab.web.errors import BadRequestError, integer, read_json
from cnnlab.web.models import ModelFolder
from cnnlab.web.training import Trainer

STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(models: ModelFolder, trainer: Trainer | None = None) -> Starlette:
    """The app serving the models of ``models``.

    Args:
        models: the folder of ``.keras`` files the page may use.
        trainer: the training-run keeper (a new one by default).
    """
    trainer = trainer or Trainer()

    async def index(request: Request):
        return FileResponse(STATIC / "index.html", headers=SECURITY_HEADERS)

    async def list_models(request: Request):
        names = models.names()
        digits = []
        for name in names:
            try:
                if models.get(name).takes_digits():
                    digits.append(name)
            except BadRequestError:
                continue
        return JSONResponse({"models": names, "digit_models": digits, "default": models.default()})

    async def upload_model(request: Request):
        from cnnlab.web.models import MAX_MODEL_BYTES

        form = await _read_form(request, MAX_MODEL_BYTES, "the model file")
        upload = form.get("model")
        if upload is None or isinstance(upload, str):
            raise BadRequestError("send a .keras file as the form field 'model'")
        data = await upload.read(MAX_MODEL_BYTES + 1)
        loaded = await run_in_threadpool(models.add_upload, upload.filename or "", data)
        answer = {"name": loaded.name, "takes_digits": loaded.takes_digits()}
        return JSONResponse(answer, status_code=201)

    async def predict(request: Request):
        data = await read_json(request)
        loaded = models.get_digits(data.get("model"))
        digit = draw.drawing_to_digit(data)
        return JSONResponse(await run_in_threadpool(draw.predict, loaded, digit))

    async def cell(request: Request):
        data = await read_json(request)
        loaded = models.get_digits(data.get("model"))
        digit = draw.drawing_to_digit(data)
        return JSONResponse(await run_in_threadpool(draw.explain_cell, loaded, digit, data))

    async def conv(request: Request):
        data = await read_json(request)
        return JSONResponse(await run_in_threadpool(explorer.explore, data))

    async def kernels(request: Request):
        from cnnlab.kernels import KERNELS

        return JSONResponse(
            [
                {"name": k.name, "values": k.values.tolist(), "description": k.description}
                for k in KERNELS.values()
            ]
        )

    async def filter_photo(request: Request):
        photo = await _read_photo(request)
        form = request.state.form
        kernel = form.get("kernel", "sobel-x")
        result = await run_in_threadpool(photos.filter_photo, photo, kernel)
        name = form.get("model") or None
        if name is not None or models.default() is not None:
            loaded = models.get(name)
            result["learned"] = await run_in_threadpool(photos.learned_filters, loaded.model, photo)
            result["learned"]["model"] = loaded.name
        return JSONResponse(result)

    async def train_start(request: Request):
        data = await read_json(request)
        run = trainer.start(data)
        return JSONResponse(run.summary(), status_code=202)

    async def train_stop(request: Request):
        return JSONResponse(trainer.stop().summary())

    async def train_state(request: Request):
        run = trainer.run
        return JSONResponse(run.summary() if run is not None else {"run": None, "state": "idle"})

    async def train_events(request: Request):
        query = dict(request.query_params)
        query.setdefault("since", request.headers.get("last-event-id", "0"))
        since = integer(query, "since", 0, 10**9)
        run = trainer.run
        if run is None:
            raise BadRequestError("no training run has been started", 404)
        return StreamingResponse(
            _events(run, since, request),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )

    routes = [
        Route("/", index),
        Route("/api/models", list_models),
        Route("/api/models", upload_model, methods=["POST"]),
        Route("/api/predict", predict, methods=["POST"]),
        Route("/api/cell", cell, methods=["POST"]),
        Route("/api/conv", conv, methods=["POST"]),
        Route("/api/kernels", kernels),
        Route("/api/filter", filter_photo, methods=["POST"]),
        Route("/api/train", train_state),
        Route("/api/train", train_start, methods=["POST"]),
        Route("/api/train/stop", train_stop, methods=["POST"]),
        Route("/api/train/events", train_events),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers = {
        BadRequestError: _bad_request,
        HTTPException: _http_error,
        ValueError: _invalid_value,
        TypeError: _invalid_value,
        Exception: _server_error,
    }
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.models = models
    app.state.trainer = trainer
    return app


async def _read_form(request: Request, limit: int, what: str):
    """A multipart form of at most one file, refused early when its declared length
    passes ``limit`` (plus room for the form's other fields)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise BadRequestError(f"{what} is {int(declared):,} bytes; the limit is {limit:,}", 413)
    try:
        return await request.form(max_files=1, max_fields=8)
    except (HTTPException, ValueError, AssertionError) as err:
        raise BadRequestError(f"the request must be a multipart form ({err})") from None


async def _read_photo(request: Request):
    """The ``photo`` file or the ``sample`` name of a multipart form, decoded."""
    form = await _read_form(request, photos.MAX_UPLOAD_BYTES, "the upload")
    request.state.form = form
    upload = form.get("photo")
    if upload is not None and not isinstance(upload, str):
        data = await upload.read(photos.MAX_UPLOAD_BYTES + 1)
        return await run_in_threadpool(photos.decode_photo, data)
    sample = form.get("sample")
    if sample is None:
        raise BadRequestError("send a photo file as 'photo' or a sample name as 'sample'")
    return await run_in_threadpool(photos.sample_photo, sample)


async def _events(run, since: int, request: Request):
    """``data: {...}`` lines for the run's events from number ``since`` on, until its
    ``done`` event (or the browser goes away)."""
    sent = since
    while True:
        events = run.events[sent:]
        for event in events:
            yield f"id: {sent + 1}\ndata: {json.dumps(event)}\n\n"
            sent += 1
        if run.finished.is_set() and sent >= len(run.events):
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(0.2)


async def _bad_request(request: Request, err: BadRequestError):
    return JSONResponse({"error": err.message}, status_code=err.status)


async def _http_error(request: Request, err: HTTPException):
    return JSONResponse({"error": err.detail}, status_code=err.status_code)


async def _invalid_value(request: Request, err: Exception):
    """A value cnnlab itself refused (its messages name the argument)."""
    return JSONResponse({"error": str(err)}, status_code=422)


async def _server_error(request: Request, err: Exception):
    message = f"the server could not answer: {type(err).__name__}"
    return JSONResponse({"error": message}, status_code=500)
