"""The account area: ``path("account/", include("wsactions.contrib.django.urls"))``.

Include it where ``WSACTIONS["URL_PREFIX"]`` says (default ``/account/``):
mailed links land on these pages. URL names: ``wsactions:<page>`` for every
page of :data:`~wsactions.contrib.django.conf.PAGES`, and ``wsactions:static``.
"""

from __future__ import annotations

from django.urls import path

from .conf import PAGES
from .views import page, static_file

app_name = "wsactions"

urlpatterns = [
    *(path(route, page(name), name=name) for name, (route, _) in PAGES.items()),
    path("static/<str:name>", static_file, name="static"),
]
