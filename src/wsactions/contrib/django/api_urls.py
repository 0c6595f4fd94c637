"""The headless API (:mod:`wsactions.headless`): include it where ``WSACTIONS["API"]`` says::

    WSACTIONS = {"API": True, ...}                 # or a prefix: "API": "/api/account/"
    urlpatterns = [
        path("_wsa/v1/", include("wsactions.contrib.django.api_urls")),
        ...
    ]

Serve it at the prefix ``WSACTIONS["API"]`` names: the OpenAPI document
(``openapi.json``) gives its paths below that prefix.
"""

from __future__ import annotations

from django.urls import path

from .views import api

app_name = "wsactions_api"

urlpatterns = [path("<path:path>", api, name="api")]
