"""The local storage backend's signed URLs, mounted at /v1/storage/; the upload prefix skips the body-size limit."""

from django.urls import path

from assets.storage_views import storage_download, storage_upload

urlpatterns = [
    path("upload/<str:token>", storage_upload, name="storage-upload"),
    path("download/<str:token>", storage_download, name="storage-download"),
]
