"""The local storage backend's signed upload and download URLs: the token in the path is the only credential.

These are plain Django views, outside DRF: no API key, no CSRF (the signature is the credential and
no cookie is involved), and no transaction held while bytes flow (they are exempt from ATOMIC_REQUESTS).
The web server asks `upload_refusal` (headers only, no database) before it reads any of the body; then
the view asks the assets service, in one short query before and one after storing, whether the asset
still accepts the upload: a URL stops working once its asset is deleted, failed or expired, or its
project deleted. The upload streams the body to disk in chunks and never reads `request.body`; the
request-size middleware leaves this path to it.
"""

import functools

from django.db import transaction
from django.http import FileResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from assets.services import asset_accepts_upload, asset_discard_late_upload
from assets.storage import LocalStorage, ObjectExists, ObjectNotFound, UploadSizeMismatch, get_storage
from assets.storage.local import InvalidSignature, SignatureExpired, read_download_token, read_upload_token
from renderowl.api.errors import plain_problem_response


def _signed_url_view(methods):
    """Wrap a view taking (request, storage, token): method check, local backend only, no CSRF, no transaction."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, token):
            if request.method not in methods:
                response = plain_problem_response(
                    405, code="method_not_allowed", detail=f"Use {' or '.join(methods)} on this signed URL."
                )
                response["Allow"] = ", ".join(methods)
                return response
            storage = get_storage()
            if not isinstance(storage, LocalStorage):
                return _not_local()
            return view(request, storage, token)

        return csrf_exempt(transaction.non_atomic_requests(wrapper))

    return decorate


def _not_local():
    return plain_problem_response(
        404, code="not_found", detail="Signed storage URLs are served only by the local storage backend."
    )


def _signature_problem(exc):
    if isinstance(exc, SignatureExpired):
        return plain_problem_response(
            403, code="signed_url_expired", detail="This signed URL has expired; request a new one from the API."
        )
    return plain_problem_response(
        403,
        code="invalid_signature",
        detail="This URL's signature is invalid; use the URL exactly as the API issued it.",
    )


def upload_refusal(request, token):
    """The answer to a signed upload that its headers alone refuse, or None to read and store its body.

    The web server calls it before reading any of the body (renderowl.serving), so a bad signature,
    type or length costs the client one round trip, not an upload.
    """
    if request.method != "PUT":
        response = plain_problem_response(405, code="method_not_allowed", detail="Use PUT on this signed URL.")
        response["Allow"] = "PUT"
        return response
    if not isinstance(get_storage(), LocalStorage):
        return _not_local()
    try:
        grant = read_upload_token(token)
    except InvalidSignature as exc:
        return _signature_problem(exc)

    content_type = request.META.get("CONTENT_TYPE", "")
    # Parameters (`; charset=utf-8`, which many clients add) do not change what the file is; the file is
    # stored with the declared type either way.
    if media_type(content_type) != media_type(grant.content_type):
        return plain_problem_response(
            400,
            code="content_type_mismatch",
            detail=f"Send Content-Type: {grant.content_type}, as signed (got {content_type or 'none'}).",
        )
    raw_length = request.META.get("CONTENT_LENGTH", "")
    if not raw_length:
        return plain_problem_response(
            411, code="length_required", detail=f"Send Content-Length: {grant.size}; chunked uploads are not accepted."
        )
    try:
        length = int(raw_length)
    except ValueError:
        length = -1
    if length < 0:
        return plain_problem_response(400, code="invalid_content_length", detail="Content-Length is not a number.")
    if length > grant.size:
        return _too_large(grant)
    if grant.up_to:
        return None
    if length < grant.size:
        return plain_problem_response(
            400,
            code="content_length_mismatch",
            detail=f"This URL accepts exactly {grant.size} bytes (Content-Length: {length}).",
        )
    return None


@_signed_url_view(["PUT"])
def storage_upload(request, storage, token):
    """Store the body under the signed key if its Content-Type and Content-Length match the signed ones."""
    refusal = upload_refusal(request, token)
    if refusal is not None:
        return refusal
    grant = read_upload_token(token)
    if not asset_accepts_upload(storage_key=grant.key):
        return _revoked()
    # An up-to URL (a render's output) stores exactly the Content-Length that upload_refusal bounded.
    size = int(request.META["CONTENT_LENGTH"]) if grant.up_to else grant.size
    try:
        # The request is itself the stream: under ASGI the body the server spooled (renderowl.serving).
        stored = storage.save(
            key=grant.key, content_type=grant.content_type, stream=request, size=size, replace=False
        )
    except ObjectExists:
        return plain_problem_response(
            409,
            code="already_uploaded",
            detail="This upload URL was already used: the file is stored. Create a new asset to upload another file.",
        )
    except UploadSizeMismatch as exc:
        if exc.more:
            return _too_large(grant)
        return plain_problem_response(
            400,
            code="incomplete_upload",
            detail=f"The body ended after {exc.received} of {size} bytes; nothing was stored. Upload again.",
        )
    # Asked again once the file is visible: a delete that committed meanwhile either is seen here (and the
    # file, new since replace=False, is removed), or commits after this check and deletes the file itself.
    if not asset_accepts_upload(storage_key=grant.key):
        asset_discard_late_upload(storage_key=grant.key)
        return _revoked()
    return JsonResponse({"size": stored.size, "contentType": stored.content_type}, status=201)


storage_upload.refuse_before_body = upload_refusal


@_signed_url_view(["GET", "HEAD"])
def storage_download(request, storage, token):
    """Stream the signed key's file, with its stored Content-Type."""
    try:
        grant = read_download_token(token)
    except InvalidSignature as exc:
        return _signature_problem(exc)
    try:
        file = storage.open(key=grant.key)
    except ObjectNotFound:
        return plain_problem_response(404, code="not_found", detail="Nothing is stored under this URL's key.")
    stored = storage.head(key=grant.key)
    response = FileResponse(
        file,
        content_type=(stored and stored.content_type) or "application/octet-stream",
        as_attachment=bool(grant.filename),
        filename=grant.filename or "",
    )
    if not grant.filename:
        # FileResponse would otherwise name the file after its on-disk path.
        response.headers.pop("Content-Disposition", None)
    # Customer bytes served from the API's origin: never let a browser run them as a page there.
    response["Content-Security-Policy"] = "sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def media_type(content_type):
    """`Application/JSON; charset=utf-8` -> `application/json`."""
    return content_type.split(";", 1)[0].strip().lower()


def _revoked():
    return plain_problem_response(
        403,
        code="upload_url_revoked",
        detail="This upload URL no longer works: its asset was deleted, failed or expired, or its project was "
        "deleted. Nothing was stored; create a new asset.",
    )


def _too_large(grant):
    limit = f"at most {grant.size}" if grant.up_to else f"exactly {grant.size}"
    return plain_problem_response(
        413, code="upload_too_large", detail=f"This URL accepts {limit} bytes; nothing was stored."
    )

