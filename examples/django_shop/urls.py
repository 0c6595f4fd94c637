"""The home page, and the account area at /account/."""

from django.shortcuts import render
from django.urls import include, path

from wsactions.contrib.django.middleware import current_account


def home(request):
    return render(request, "home.html", {"account": current_account(request)})


urlpatterns = [path("", home), path("account/", include("wsactions.contrib.django.urls"))]
